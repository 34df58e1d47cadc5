package securitytest

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/internal/scopemodel"
	"github.com/cfissuer/cfissuer/issuer"
)

var scopeSeed = flag.Uint64("scope-seed", 0, "seed of TestScopeProperty (0: from the clock)")

// world is one generated distribution: behaviors, callers, and the service
// and model built for them.
type world struct {
	svc     *service
	model   *scopemodel.Model
	callers []issuer.Caller
	names   []string // signed behavior names
}

var (
	patternPool = []string{"/courses/*", "/courses/free/*", "/ebooks/*", "/ebooks/*.pdf", "*.m3u8", "/live/*", "/public/*",
		"/a?c/*", "/assets/*", "/courses/*/public/*", "/x*", "/ebooks/free/*", "/courses/go-101/*"}
	prefixPool = []string{"/courses/go-101/", "/courses/go", "/ebooks/free/", "/live/", "/a", "/", "/assets/", "/x", "/courses/"}
	segPool    = []string{"courses", "go-101", "go-1010", "go", "ebooks", "free", "paid", "live", "public", "assets", "abc", "a.pdf",
		"index.m3u8", "seg1.ts", "x", "xy", "logo.svg"}
	trickPool = []string{"..", ".", "%2e%2e", "%2E", "", "%2F", "%2f", "%5C", "*", "?", "%2A", "%3F", "\uff43ourses", "c\u043eurses",
		"%C3%A9", "\u00e9", "~", "%7e", "%7E", "COURSES", ";", "%00", "\t", " ", "#x", "?Policy=x", "?Expires=1", "?gid=1", "?a=b",
		"?response-content-disposition=x", "&Signature=1", "a*", "*.m3u8", "?*", "**", "%", "%zz", "\\", "../courses", "free/.."}
	originPool = []string{"https://media.example.test", "https://media.example.test", "https://media.example.test", "http://media.example.test",
		"http*://media.example.test", "https://MEDIA.example.test", "https://media.example.test:443", "https://media.example.test.evil",
		"https://user@media.example.test", "//media.example.test", "https://media.example.tes", "https://evil.test/media.example.test"}
	ipPool = []string{"192.0.2.1", "192.0.2.0/24", "0.0.0.0/0", "10.0.0.1/8", "2001:db8::1", "::ffff:192.0.2.1", "192.0.2.300", "192.0.2.1/33", "1.2.3.4"}
)

// credentialRE finds a signature or policy value (long CloudFront base64).
var credentialRE = regexp.MustCompile(`(Signature|Policy)[=":]+[A-Za-z0-9~_-]{40,}`)

// refusals counts refusal codes (single-goroutine use, for the report).
var refusals = map[string]int{}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

func durPtr(v int64) *int64 { return &v }

// newWorld generates behaviors and callers; it returns nil when the
// behaviors file is one the service refuses to load (a generated list may
// be invalid: that is the loader's business, not this test's).
func newWorld(t testing.TB, r *rand.Rand) *world {
	type beh struct {
		Name          string         `json:"name"`
		PathPattern   string         `json:"path_pattern"`
		Access        string         `json:"access"`
		IPBinding     bool           `json:"ip_binding,omitempty"`
		Policy        string         `json:"policy,omitempty"`
		BrowserMaxAge *int64         `json:"browser_max_age,omitempty"`
		Window        *int64         `json:"window,omitempty"`
		Margin        *int64         `json:"margin,omitempty"`
		MaxLifetime   *int64         `json:"max_lifetime,omitempty"`
		Cookie        map[string]any `json:"cookie,omitempty"`
		CacheQS       []string       `json:"cache_query_strings,omitempty"`
	}
	accesses := []string{"signed-url", "signed-url", "signed-cookie", "signed-cookie", "public"}
	n := 1 + r.IntN(5)
	used := map[string]bool{}
	var list []beh
	for i := 0; len(list) < n && i < 20; i++ {
		p := pick(r, patternPool)
		if used[p] {
			continue
		}
		used[p] = true
		list = append(list, beh{Name: fmt.Sprintf("b%d", len(list)), PathPattern: p, Access: pick(r, accesses)})
	}
	list = append(list, beh{Name: "default", PathPattern: "*", Access: pick(r, accesses)})
	for i := range list {
		b := &list[i]
		if b.Access == "public" {
			continue
		}
		switch r.IntN(3) {
		case 0:
			b.BrowserMaxAge, b.Window, b.Margin, b.MaxLifetime = durPtr(60), durPtr(600), durPtr(300), durPtr(3600)
		case 1:
			b.BrowserMaxAge, b.Window, b.Margin, b.MaxLifetime = durPtr(3600), durPtr(3600), durPtr(300), durPtr(14400)
		}
		b.IPBinding = r.IntN(3) == 0
		if b.Access == "signed-url" && r.IntN(3) == 0 {
			b.Policy = "custom"
		}
		if b.Access == "signed-url" {
			b.CacheQS = []string{"response-content-disposition"}
		}
		if b.Access == "signed-cookie" && r.IntN(2) == 0 {
			b.Cookie = map[string]any{"domain": "example.test"}
		}
	}
	doc, _ := json.Marshal(map[string]any{"viewer_origin": "https://media.example.test", "behaviors": list})
	var names []string
	for _, b := range list {
		if b.Access != "public" {
			names = append(names, b.Name)
		}
	}
	var callers []issuer.Caller
	for i := range 6 {
		c := issuer.Caller{ID: fmt.Sprintf("c%d", i)}
		if len(names) > 0 && r.IntN(2) == 0 {
			for range 1 + r.IntN(2) {
				c.Behaviors = append(c.Behaviors, pick(r, names))
			}
		}
		for range r.IntN(3) {
			c.PathPrefixes = append(c.PathPrefixes, pick(r, prefixPool))
		}
		c.MaxLifetime = pick(r, []time.Duration{0, 0, 10 * time.Minute, 2 * time.Hour, 5 * time.Hour})
		callers = append(callers, c)
	}
	svc, err := tryService(t, string(doc), callers)
	if err != nil {
		return nil
	}
	pub := svc.signer.Public()
	m, err := scopemodel.New(doc, svc.signer.KeyID(), pub)
	if err != nil {
		t.Fatal(err)
	}
	return &world{svc: svc, model: m, callers: callers, names: names}
}

// tryService is newService that reports a refused configuration instead of
// failing the test.
func tryService(t testing.TB, behaviors string, callers []issuer.Caller) (s *service, err error) {
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				if v != errFakeFatal {
					panic(v)
				}
			}
		}()
		s = newService(ft, serviceOptions{behaviors: behaviors, callers: callers})
	}()
	<-done
	if ft.failed != "" {
		return nil, errors.New(ft.failed)
	}
	return s, nil
}

var errFakeFatal = errors.New("fatal")

type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatal(args ...any) {
	f.failed = fmt.Sprint(args...)
	panic(errFakeFatal)
}

func randomPath(r *rand.Rand, c issuer.Caller) string {
	var b strings.Builder
	if len(c.PathPrefixes) > 0 && r.IntN(3) > 0 {
		b.WriteString(pick(r, c.PathPrefixes))
	} else {
		b.WriteString("/")
	}
	for i := range 1 + r.IntN(4) {
		if i > 0 || !strings.HasSuffix(b.String(), "/") {
			b.WriteString("/")
		}
		if r.IntN(8) == 0 {
			b.WriteString(pick(r, trickPool))
		} else {
			b.WriteString(pick(r, segPool))
		}
		if r.IntN(10) == 0 {
			b.WriteString("/") // a double slash or a trailing one
		}
	}
	if r.IntN(12) == 0 {
		b.WriteString(pick(r, trickPool))
	}
	return b.String()
}

type scopeCase struct {
	caller   int
	kind     string // url, redirect, cookie
	body     map[string]any
	target   string
	asked    scopemodel.Asked
	describe string
}

func randomCase(r *rand.Rand, w *world) scopeCase {
	ci := r.IntN(len(w.callers))
	c := w.callers[ci]
	sc := scopeCase{caller: ci, body: map[string]any{}}
	p := randomPath(r, c)
	switch r.IntN(7) {
	case 0, 1:
		sc.kind = "url"
		sc.body["path"] = p
	case 2:
		sc.kind = "url"
		sc.body["resource"] = pick(r, originPool) + p
	case 3:
		sc.kind = "redirect"
		q := url.Values{"path": {p}}
		sc.target = "/v1/redirect?" + q.Encode()
	case 4:
		sc.kind = "cookie"
		pp := p
		if r.IntN(2) == 0 && !strings.HasSuffix(pp, "/") {
			pp += "/"
		}
		sc.body["path_prefix"] = pp
	default:
		sc.kind = "cookie"
		res := pick(r, originPool) + p
		switch r.IntN(4) {
		case 0:
			res += "*"
		case 1:
			res += "/*"
		case 2:
			res += "*" + pick(r, segPool)
		}
		sc.body["resource_pattern"] = res
	}
	if sc.kind != "redirect" {
		if r.IntN(6) == 0 && len(w.names) > 0 {
			sc.body["behavior"] = pick(r, append(w.names, "nope"))
		}
		if r.IntN(8) == 0 {
			ip := pick(r, ipPool)
			sc.body["client_ip"] = ip
			sc.asked.ClientIP = ip
		}
		if sc.kind == "url" && r.IntN(8) == 0 {
			nb := t0.Add(time.Duration(r.IntN(7200)-3600) * time.Second)
			sc.body["not_before"] = nb.Format(time.RFC3339)
			sc.asked.NotBefore = nb
		}
		if sc.kind == "url" && r.IntN(8) == 0 {
			sc.body["filename"] = pick(r, []string{"a.pdf", "../x", "é.pdf", "a\"b", "x%y"})
		}
	}
	d, _ := json.Marshal(sc.body)
	sc.describe = fmt.Sprintf("caller %+v %s %s %s", c, sc.kind, sc.target, d)
	return sc
}

// run sends a case and checks its answer with the model. It returns
// whether a credential was issued, and an error for a violation.
func (w *world) run(r *rand.Rand, sc scopeCase) (bool, error) {
	s := w.svc
	// Any instant in a month: windows fall anywhere.
	now := t0.Add(time.Duration(r.IntN(30*86400)) * time.Second)
	s.clock.Set(now)
	key := s.apiKeys[w.callers[sc.caller].ID]
	var status int
	var hdr http.Header
	var body []byte
	switch sc.kind {
	case "redirect":
		status, hdr, body = s.do("GET", sc.target, key, nil)
	case "url":
		b, _ := json.Marshal(sc.body)
		status, hdr, body = s.do("POST", "/v1/urls", key, strings.NewReader(string(b)))
	case "cookie":
		b, _ := json.Marshal(sc.body)
		status, hdr, body = s.do("POST", "/v1/cookies", key, strings.NewReader(string(b)))
	}
	switch {
	case status >= 500:
		return false, fmt.Errorf("status %d: %s", status, body)
	case status == 303 && sc.kind == "redirect":
	case status == 200:
	case status >= 400:
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(body, &e) != nil || e.Error.Code == "" || e.Error.Message == "" {
			return false, fmt.Errorf("status %d without a JSON error: %s", status, body)
		}
		refusals[e.Error.Code]++
		if credentialRE.MatchString(string(body)) {
			return false, fmt.Errorf("a refusal carries a credential: %s", body)
		}
		if len(hdr.Values("Set-Cookie")) > 0 {
			return false, fmt.Errorf("a refusal sets cookies: %v", hdr.Values("Set-Cookie"))
		}
		return false, nil
	default:
		return false, fmt.Errorf("unexpected status %d: %s", status, body)
	}
	var g *scopemodel.Grant
	var err error
	switch sc.kind {
	case "redirect":
		g, err = w.model.DecodeURL(hdr.Get("Location"))
	case "url":
		var out struct{ URL string }
		if err := json.Unmarshal(body, &out); err != nil {
			return false, err
		}
		g, err = w.model.DecodeURL(out.URL)
	case "cookie":
		var out struct {
			Cookies []struct {
				Name, Value, Domain, Path string
				Secure                    bool
				HTTPOnly                  bool `json:"http_only"`
			}
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return false, err
		}
		values := map[string]string{}
		var attrs []scopemodel.CookieAttrs
		for _, c := range out.Cookies {
			values[c.Name] = c.Value
			attrs = append(attrs, scopemodel.CookieAttrs{Name: c.Name, Domain: c.Domain, Path: c.Path, Secure: c.Secure, HTTPOnly: c.HTTPOnly})
		}
		if n := len(hdr.Values("Set-Cookie")); n != len(out.Cookies) {
			return false, fmt.Errorf("%d Set-Cookie headers for %d cookies", n, len(out.Cookies))
		}
		g, err = w.model.DecodeCookies(values, attrs)
	}
	if err != nil {
		return true, fmt.Errorf("issued credential does not decode: %v: %s", err, body)
	}
	c := w.callers[sc.caller]
	if err := w.model.Check(g, scopemodel.Caller{Behaviors: c.Behaviors, PathPrefixes: c.PathPrefixes, MaxLifetime: c.MaxLifetime}, sc.asked, now); err != nil {
		return true, fmt.Errorf("%v (resource %s)", err, g.Resource)
	}
	return true, nil
}

// TestScopeProperty generates distributions (behaviors and callers) and
// requests full of encodings, dot segments, double slashes, look-alikes,
// wildcards and query tricks, sends them through the HTTP API, and checks
// every credential that comes back with internal/scopemodel: nothing
// outside the caller's prefixes and behaviors, nothing outside one signed
// behavior of the right kind, the window rule, no condition nobody asked
// for. Short: 3,000 cases; -soak: 100,000.
func TestScopeProperty(t *testing.T) {
	cases := 3000
	if *soak {
		cases = 100000
	}
	seed := *scopeSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-scope-seed to replay)", seed)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var tried, issued, violations, worlds, refusedWorlds int
	var w *world
	for tried < cases {
		if w == nil || tried%200 == 0 {
			w = nil
			for w == nil {
				w = newWorld(t, r)
				worlds++
				if w == nil {
					refusedWorlds++
				}
			}
		}
		sc := randomCase(r, w)
		tried++
		ok, err := w.run(r, sc)
		if ok {
			issued++
		}
		if err != nil {
			violations++
			if violations <= 10 {
				t.Errorf("case %d: %v\n  %s", tried, err, sc.describe)
			}
		}
	}
	t.Logf("refusals: %v", refusals)
	report(t, "scope", "%d cases tried, %d credentials issued, %d violations (%d worlds, %d refused by the loader; seed %d)",
		tried, issued, violations, worlds-refusedWorlds, refusedWorlds, seed)
	// The suite must exercise issuance, not only refusals.
	if issued < tried/100 {
		t.Errorf("only %d of %d cases issued a credential: the generator no longer reaches the signing path", issued, tried)
	}
}
