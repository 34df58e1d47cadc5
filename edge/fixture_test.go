package edge

import (
	"context"
	"crypto"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cfissuer/cfissuer/internal/cfref"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

const (
	viewer  = "https://media.example.test"
	testNow = 1_800_000_000
	keyRSA  = "KRSATEST"
	keyEC   = "KECDSATEST"
)

// testBehaviors has one behavior of each access, a public prefix, and a
// signed default.
const testBehaviors = `{
  "viewer_origin": "https://media.example.test",
  "key_ids": ["KRSATEST", "KECDSATEST"],
  "behaviors": [
    {"name": "courses", "path_pattern": "/courses/*", "access": "signed-cookie", "hash": "SHA256",
     "browser_max_age": 60, "window": 600, "margin": 300, "max_lifetime": 3600, "cors_origins": ["https://app.example.test"]},
    {"name": "ebooks", "path_pattern": "/ebooks/*", "access": "signed-url", "browser_max_age": 3600,
     "cache_query_strings": ["response-content-disposition"]},
    {"name": "public", "path_pattern": "/public/*", "access": "public"},
    {"name": "default", "path_pattern": "*", "access": "signed-url"}
  ]
}`

type fixture struct {
	bs       *policy.Behaviors
	v        *Verifier
	rsa, ec  *keys.Local
	trusted  []Key
	refKeys  []cfref.Key
	refBehav []cfref.Behavior
	keyFiles map[string]string // key ID → absolute private key path
}

func repoFile(t testing.TB, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadSigner(t testing.TB, file, id string) *keys.Local {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.ParsePrivateKey(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := keys.NewLocal(id, k)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	bs, err := policy.ParseBehaviors(strings.NewReader(testBehaviors))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{bs: bs, keyFiles: map[string]string{
		keyRSA: repoFile(t, "testdata/keys/rsa2048.pem"),
		keyEC:  repoFile(t, "testdata/keys/ec-p256.pem"),
	}}
	f.rsa = loadSigner(t, f.keyFiles[keyRSA], keyRSA)
	f.ec = loadSigner(t, f.keyFiles[keyEC], keyEC)
	f.trusted = []Key{{keyRSA, f.rsa.Public()}, {keyEC, f.ec.Public()}}
	for _, k := range f.trusted {
		f.refKeys = append(f.refKeys, cfref.Key{ID: k.ID, Pub: k.Public})
	}
	for _, b := range bs.List {
		f.refBehav = append(f.refBehav, cfref.Behavior{Pattern: b.PathPattern, Signed: b.Access.Signed()})
	}
	if f.v, err = NewVerifier(bs, f.trusted, Options{}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) signer(id string) *keys.Local {
	if id == keyEC {
		return f.ec
	}
	return f.rsa
}

// kv is one signing parameter or cookie, kept in order.
type kv struct{ k, v string }

// signedReq is a request in a form mutations can edit: the URL parts, the
// caller's own query, and the signing values as query parameters or
// cookies.
type signedReq struct {
	scheme, host, path, query string
	params                    []kv // in the query after the caller's own
	cookies                   []kv
	clientIP                  string
	now                       int64
}

func (s signedReq) clone() signedReq {
	s.params = append([]kv(nil), s.params...)
	s.cookies = append([]kv(nil), s.cookies...)
	return s
}

func (s signedReq) rawQuery() string {
	parts := []string{}
	if s.query != "" {
		parts = append(parts, s.query)
	}
	for _, p := range s.params {
		parts = append(parts, p.k+"="+p.v)
	}
	return strings.Join(parts, "&")
}

func (s signedReq) request() Request {
	r := Request{Method: http.MethodGet, Scheme: s.scheme, Host: s.host, RawPath: s.path, RawQuery: s.rawQuery()}
	for _, c := range s.cookies {
		r.Cookies = append(r.Cookies, &http.Cookie{Name: c.k, Value: c.v})
	}
	if s.clientIP != "" {
		r.ClientIP, _ = netip.ParseAddr(s.clientIP)
	}
	return r
}

func (s signedReq) ref() cfref.Request {
	r := cfref.Request{Scheme: s.scheme, Host: s.host, Path: s.path, Query: s.rawQuery(), ClientIP: s.clientIP, Now: s.now}
	for _, c := range s.cookies {
		r.Cookies = append(r.Cookies, [2]string{c.k, c.v})
	}
	return r
}

// get returns the signing value named (URL name for params, cookie name
// for cookies).
func (s *signedReq) list() *[]kv {
	if len(s.params) > 0 {
		return &s.params
	}
	return &s.cookies
}

func (s *signedReq) cookieMode() bool { return len(s.params) == 0 }

// name maps a URL parameter name to the name in the request's mode.
func (s *signedReq) name(param string) string {
	if s.cookieMode() {
		return "CloudFront-" + param
	}
	return param
}

func (s *signedReq) get(param string) (string, bool) {
	for _, p := range *s.list() {
		if p.k == s.name(param) {
			return p.v, true
		}
	}
	return "", false
}

func (s *signedReq) set(param, v string) {
	l := s.list()
	for i, p := range *l {
		if p.k == s.name(param) {
			(*l)[i].v = v
			return
		}
	}
	*l = append(*l, kv{s.name(param), v})
}

func (s *signedReq) del(param string) {
	l := s.list()
	out := (*l)[:0]
	for _, p := range *l {
		if p.k != s.name(param) {
			out = append(out, p)
		}
	}
	*l = out
}

// fromSignedURL splits a signed URL into a signedReq.
func fromSignedURL(t testing.TB, signed string) signedReq {
	t.Helper()
	scheme, rest, _ := strings.Cut(signed, "://")
	i := strings.IndexByte(rest, '/')
	host, pq := rest[:i], rest[i:]
	path, query, _ := strings.Cut(pq, "?")
	s := signedReq{scheme: scheme, host: host, path: path, now: testNow}
	var own []string
	for seg := range strings.SplitSeq(query, "&") {
		name, val, _ := strings.Cut(seg, "=")
		switch name {
		case ParamExpires, ParamPolicy, ParamSignature, ParamKeyPairID, ParamHash:
			s.params = append(s.params, kv{name, val})
		default:
			own = append(own, seg)
		}
	}
	s.query = strings.Join(own, "&")
	return s
}

// fromCookies makes a cookie-mode signedReq for url.
func fromCookies(t testing.TB, url string, cs []*http.Cookie) signedReq {
	t.Helper()
	s := fromSignedURL(t, url)
	for _, c := range cs {
		s.cookies = append(s.cookies, kv{c.Name, c.Value})
	}
	return s
}

func hashOf(name string) crypto.Hash {
	if name == "SHA256" {
		return crypto.SHA256
	}
	return crypto.SHA1
}

var bg = context.Background()
