package edge

import (
	"crypto"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/internal/cfref"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/policy"
)

// genCase is one request signed by the issuer, allowed at testNow.
type genCase struct {
	name     string
	req      signedReq
	pol      policy.Policy
	keyID    string
	hash     crypto.Hash
	wildcard bool
}

// pathFor returns a varied, already-encoded path under a behavior.
func pathFor(i int) (path, query string, cookie bool) {
	names := []string{"intro.pdf", "a%20b.pdf", "caf%C3%A9.pdf", "x~y_z-1.pdf", "%28draft%29.pdf", "v1.2.pdf"}
	n := names[i%len(names)]
	switch i % 4 {
	case 0:
		return fmt.Sprintf("/ebooks/b%d/%s", i, n), "", false
	case 1:
		return fmt.Sprintf("/ebooks/%d-%s", i, n), "response-content-disposition=attachment%3B%20filename%3D" + strconv.Itoa(i) + ".pdf", false
	case 2:
		return fmt.Sprintf("/courses/c%d/seg-%03d.ts", i, i), "", true
	default:
		return fmt.Sprintf("/assets/img/%d/logo%d.png", i, i), "v=" + strconv.Itoa(i) + "&w=10", false
	}
}

// generate signs n requests with every key type, hash, policy kind and
// condition, as URLs and as cookies.
func generate(t testing.TB, f *fixture, n int) []genCase {
	t.Helper()
	var out []genCase
	for i := range n {
		path, query, cookie := pathFor(i)
		u := viewer + path
		if query != "" {
			u += "?" + query
		}
		keyID, hash := keyRSA, crypto.SHA1
		switch i % 3 {
		case 1:
			hash = crypto.SHA256
		case 2:
			keyID, hash = keyEC, crypto.SHA256
		}
		exp := time.Unix(testNow+600+int64(i), 0)
		c := genCase{keyID: keyID, hash: hash}
		var nb time.Time
		var ip netip.Prefix
		variant := (i / 3) % 5 // canned, custom exact, custom wildcard, +not-before, +IP
		resource := ""
		switch variant {
		case 2:
			resource = u[:strings.LastIndexByte(u[:len(viewer)+len(path)], '/')+1] + "*"
			c.wildcard = true
		case 3:
			nb = time.Unix(testNow-60, 0)
		case 4:
			ip = netip.MustParsePrefix("192.0.2.0/24")
		}
		custom := variant > 0
		if cookie || i%7 == 0 {
			res := u
			if resource != "" {
				res = resource
			}
			sc, err := issuer.SignCookies(bg, f.signer(keyID), issuer.CookieRequest{
				Resource: res, Expires: exp, NotBefore: nb, SourceIP: ip, Custom: custom, Hash: hash,
			})
			if err != nil {
				t.Fatalf("case %d: SignCookies: %v", i, err)
			}
			c.req, c.pol = fromCookies(t, u, sc.Cookies), sc.Policy
		} else {
			su, err := issuer.SignURL(bg, f.signer(keyID), issuer.URLRequest{
				URL: u, Resource: resource, Expires: exp, NotBefore: nb, SourceIP: ip, Custom: custom, Hash: hash,
			})
			if err != nil {
				t.Fatalf("case %d: SignURL: %v", i, err)
			}
			c.req, c.pol = fromSignedURL(t, su.URL), su.Policy
		}
		c.req.clientIP = "192.0.2.10"
		mode := "url"
		if c.req.cookieMode() {
			mode = "cookie"
		}
		c.name = fmt.Sprintf("%d-%s-%s-%s-%s-v%d", i, mode, keyID, hashName(hash), c.pol.Kind, variant)
		out = append(out, c)
	}
	return out
}

// mutation turns an allowed request into (usually) a denied one.
type mutation struct {
	name string
	fn   func(f *fixture, c genCase, s *signedReq) bool // false: not applicable
}

func editPolicy(s *signedReq, edit func(string) string) bool {
	enc, ok := s.get(ParamPolicy)
	if !ok {
		return false
	}
	raw, err := policy.DecodeBase64(enc)
	if err != nil {
		return false
	}
	s.set(ParamPolicy, policy.EncodeBase64([]byte(edit(string(raw)))))
	return true
}

var mutations = []mutation{
	{"flipped signature byte", func(_ *fixture, _ genCase, s *signedReq) bool {
		enc, _ := s.get(ParamSignature)
		sig, err := policy.DecodeBase64(enc)
		if err != nil {
			return false
		}
		sig[len(sig)/2] ^= 0x01
		s.set(ParamSignature, policy.EncodeBase64(sig))
		return true
	}},
	{"signature in standard base64", func(_ *fixture, _ genCase, s *signedReq) bool {
		enc, _ := s.get(ParamSignature)
		s.set(ParamSignature, enc+"=")
		return true
	}},
	{"no signature", func(_ *fixture, _ genCase, s *signedReq) bool { s.del(ParamSignature); return true }},
	{"swapped key ID", func(_ *fixture, c genCase, s *signedReq) bool {
		other := keyEC
		if c.keyID == keyEC {
			other = keyRSA
		}
		s.set(ParamKeyPairID, other)
		return true
	}},
	{"unknown key ID", func(_ *fixture, _ genCase, s *signedReq) bool { s.set(ParamKeyPairID, "KUNKNOWN"); return true }},
	{"no key ID", func(_ *fixture, _ genCase, s *signedReq) bool { s.del(ParamKeyPairID); return true }},
	{"key ID name lower-cased", func(_ *fixture, _ genCase, s *signedReq) bool {
		v, _ := s.get(ParamKeyPairID)
		s.del(ParamKeyPairID)
		*s.list() = append(*s.list(), kv{strings.ToLower(s.name(ParamKeyPairID)), v})
		return true
	}},
	{"expired (now = DateLessThan)", func(_ *fixture, c genCase, s *signedReq) bool { s.now = c.pol.Expires.Unix(); return true }},
	{"not yet valid (now = DateGreaterThan)", func(_ *fixture, c genCase, s *signedReq) bool {
		if c.pol.NotBefore.IsZero() {
			return false
		}
		s.now = c.pol.NotBefore.Unix()
		return true
	}},
	{"other path (another directory)", func(_ *fixture, _ genCase, s *signedReq) bool {
		i := strings.LastIndexByte(s.path, '/')
		s.path = s.path[:i] + "x" + s.path[i:]
		return true
	}},
	{"other query value", func(_ *fixture, _ genCase, s *signedReq) bool {
		if s.query == "" {
			return false
		}
		s.query = strings.Replace(s.query, "=", "=x", 1)
		return true
	}},
	{"extra query parameter", func(_ *fixture, _ genCase, s *signedReq) bool {
		if s.query == "" {
			s.query = "extra=1"
		} else {
			s.query += "&extra=1"
		}
		return true
	}},
	{"other host", func(_ *fixture, _ genCase, s *signedReq) bool { s.host = "other.example.test"; return true }},
	{"http instead of https", func(_ *fixture, _ genCase, s *signedReq) bool { s.scheme = "http"; return true }},
	{"IPv6 client with an IP condition", func(_ *fixture, c genCase, s *signedReq) bool {
		s.clientIP = "2001:db8::1"
		return c.pol.SourceIP.IsValid()
	}},
	{"client outside the CIDR", func(_ *fixture, c genCase, s *signedReq) bool {
		s.clientIP = "198.51.100.7"
		return c.pol.SourceIP.IsValid()
	}},
	{"declared hash flipped", func(_ *fixture, c genCase, s *signedReq) bool {
		if c.hash == crypto.SHA256 {
			s.del(ParamHash)
		} else {
			s.set(ParamHash, "SHA256")
		}
		return true
	}},
	{"unknown Hash-Algorithm", func(_ *fixture, _ genCase, s *signedReq) bool { s.set(ParamHash, "MD5"); return true }},
	{"lower-case sha256", func(_ *fixture, _ genCase, s *signedReq) bool { s.set(ParamHash, "sha256"); return true }},
	{"policy whitespace changed", func(_ *fixture, _ genCase, s *signedReq) bool {
		return editPolicy(s, func(p string) string { return strings.Replace(p, `{"Statement"`, `{ "Statement"`, 1) })
	}},
	{"epoch in milliseconds", func(_ *fixture, c genCase, s *signedReq) bool {
		ms := strconv.FormatInt(c.pol.Expires.Unix()*1000, 10)
		if _, ok := s.get(ParamExpires); ok {
			s.set(ParamExpires, ms)
			return true
		}
		return editPolicy(s, func(p string) string {
			return strings.Replace(p, strconv.FormatInt(c.pol.Expires.Unix(), 10), ms, 1)
		})
	}},
	{"expiry edited", func(_ *fixture, c genCase, s *signedReq) bool {
		later := strconv.FormatInt(c.pol.Expires.Unix()+3600, 10)
		if _, ok := s.get(ParamExpires); ok {
			s.set(ParamExpires, later)
			return true
		}
		return editPolicy(s, func(p string) string {
			return strings.Replace(p, strconv.FormatInt(c.pol.Expires.Unix(), 10), later, 1)
		})
	}},
	{"policy truncated", func(_ *fixture, _ genCase, s *signedReq) bool {
		enc, ok := s.get(ParamPolicy)
		if !ok {
			return false
		}
		s.set(ParamPolicy, enc[:len(enc)-5])
		return true
	}},
	{"two statements", func(_ *fixture, _ genCase, s *signedReq) bool {
		return editPolicy(s, func(p string) string {
			st := strings.TrimSuffix(strings.TrimPrefix(p, `{"Statement":[`), `]}`)
			return `{"Statement":[` + st + "," + st + `]}`
		})
	}},
	{"neither Policy nor Expires", func(_ *fixture, _ genCase, s *signedReq) bool {
		s.del(ParamPolicy)
		s.del(ParamExpires)
		return true
	}},
	{"duplicate Signature", func(_ *fixture, _ genCase, s *signedReq) bool {
		if s.cookieMode() {
			return false
		}
		enc, _ := s.get(ParamSignature)
		s.params = append(s.params, kv{ParamSignature, enc})
		return true
	}},
	{"canned policy signed with a wildcard", func(f *fixture, c genCase, s *signedReq) bool {
		if c.pol.Kind != policy.Canned {
			return false
		}
		res := s.scheme + "://" + s.host + s.path[:strings.LastIndexByte(s.path, '/')+1] + "*"
		p := policy.Policy{Kind: policy.Canned, Resource: res, Expires: c.pol.Expires}
		sig, err := f.signer(c.keyID).Sign(bg, p.AppendJSON(nil), c.hash)
		if err != nil {
			panic(err)
		}
		s.set(ParamSignature, policy.EncodeBase64(sig))
		return true
	}},
	{"URL params plus valid cookies", func(_ *fixture, _ genCase, s *signedReq) bool {
		if !s.cookieMode() {
			// Move the valid credentials into cookies.
			for _, p := range s.params {
				s.cookies = append(s.cookies, kv{"CloudFront-" + p.k, p.v})
			}
		}
		s.params = []kv{{ParamExpires, "1"}}
		return true
	}},
}

// reasonName maps the edge's sentinels to the reference's reason names.
var reasonName = map[error]string{
	ErrNoKeyPairID: "missing-key", ErrUnknownKey: "unknown-key", ErrDuplicate: "duplicate",
	ErrHashAlgorithm: "hash-algorithm", ErrNoSignature: "no-signature", ErrSignatureEncoding: "signature-encoding",
	ErrNoPolicy: "no-policy", ErrPolicyMalformed: "policy-malformed", ErrExpiresValue: "expires-value",
	ErrSignature: "signature", ErrWrongHash: "wrong-hash", ErrWrongKey: "wrong-key", ErrCannedWildcard: "canned-wildcard",
	ErrExpired: "expired", ErrNotYetValid: "not-yet-valid", ErrIPv6Client: "ipv6-client", ErrIPMismatch: "ip-mismatch",
	ErrResource: "resource",
}

func verdictOf(d *Decision) cfref.Verdict {
	if d.Allowed() {
		return cfref.Verdict{}
	}
	for err, name := range reasonName {
		if errors.Is(d.Denial, err) {
			return cfref.Verdict{Code: string(d.Denial.Code), Reason: name}
		}
	}
	return cfref.Verdict{Code: string(d.Denial.Code), Reason: "unmapped: " + d.Denial.Err.Error()}
}

func check(f *fixture, s signedReq) (got, want cfref.Verdict, d *Decision) {
	d = f.v.Check(s.request(), time.Unix(s.now, 0))
	return verdictOf(d), cfref.Decide(s.ref(), f.refBehav, f.refKeys, 0), d
}

// TestMutations signs 240 requests (RSA-SHA1, RSA-SHA256, ECDSA-SHA256;
// canned and custom; URLs and cookies; wildcards, not-before and IP
// conditions), checks that the edge and the independent reference both
// allow each, then applies every mutation: each must be denied by both with
// the same CloudFront code and the same precise reason, and each request
// must get at least 15 denying mutations.
func TestMutations(t *testing.T) {
	f := newFixture(t)
	cases := generate(t, f, 240)
	seen := map[string]int{}
	for _, c := range cases {
		got, want, _ := check(f, c.req)
		if !want.Allowed() {
			t.Fatalf("%s: the reference denies the unmutated request: %+v", c.name, want)
		}
		if !got.Allowed() {
			t.Fatalf("%s: the edge denies the unmutated request: %+v", c.name, got)
		}
		denied := 0
		for _, m := range mutations {
			s := c.req.clone()
			if !m.fn(f, c, &s) {
				continue
			}
			got, want, d := check(f, s)
			if got != want {
				t.Errorf("%s / %s: edge %+v, reference %+v (detail: %v)", c.name, m.name, got, want, d.Denial)
				continue
			}
			if want.Allowed() {
				continue // e.g. an extra parameter under a wildcard resource
			}
			denied++
			seen[want.Reason]++
			if m.name == "URL params plus valid cookies" && !d.CookiesIgnored {
				t.Errorf("%s / %s: CookiesIgnored not set", c.name, m.name)
			}
			for _, secret := range []string{"Signature", "Policy"} {
				if v, ok := s.get(secret); ok && len(v) > 8 && strings.Contains(d.Denial.Error(), v) {
					t.Errorf("%s / %s: the denial holds the %s value", c.name, m.name, secret)
				}
			}
		}
		if denied < 15 {
			t.Errorf("%s: only %d denying mutations, want at least 15", c.name, denied)
		}
	}
	for _, r := range []string{"missing-key", "unknown-key", "duplicate", "hash-algorithm", "no-signature", "signature-encoding",
		"no-policy", "policy-malformed", "expires-value", "signature", "wrong-hash", "wrong-key", "canned-wildcard",
		"expired", "not-yet-valid", "ipv6-client", "ip-mismatch", "resource"} {
		if seen[r] == 0 {
			t.Errorf("no mutation produced reason %q", r)
		}
	}
	t.Logf("%d requests; denials by reason: %v", len(cases), seen)
}
