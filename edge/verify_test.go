package edge

import (
	"crypto"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/policy"
)

func signURL(t *testing.T, f *fixture, r issuer.URLRequest, keyID string) signedReq {
	t.Helper()
	su, err := issuer.SignURL(bg, f.signer(keyID), r)
	if err != nil {
		t.Fatal(err)
	}
	return fromSignedURL(t, su.URL)
}

// TestBoundaries checks the exact edges of the time and IP conditions and
// the clock skew option, as oauth2 tests its expiry delta.
func TestBoundaries(t *testing.T) {
	f := newFixture(t)
	exp, nb := int64(testNow+600), int64(testNow-60)
	base := signURL(t, f, issuer.URLRequest{URL: viewer + "/ebooks/a.pdf", Expires: time.Unix(exp, 0),
		NotBefore: time.Unix(nb, 0), SourceIP: netip.MustParsePrefix("192.0.2.0/24")}, keyRSA)
	skewed, err := NewVerifier(f.bs, f.trusted, Options{ClockSkew: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		v    *Verifier
		now  time.Time
		ip   string
		want error // nil: allowed
	}{
		{"one second before expiry", f.v, time.Unix(exp-1, 0), "192.0.2.1", nil},
		{"sub-second before expiry counts as the whole second", f.v, time.Unix(exp-1, 999e6), "192.0.2.1", nil},
		{"at expiry", f.v, time.Unix(exp, 0), "192.0.2.1", ErrExpired},
		{"one second past expiry", f.v, time.Unix(exp+1, 0), "192.0.2.1", ErrExpired},
		{"at not-before (DateGreaterThan is strict)", f.v, time.Unix(nb, 500e6), "192.0.2.1", ErrNotYetValid},
		{"one second after not-before", f.v, time.Unix(nb+1, 0), "192.0.2.1", nil},
		{"skew: 29 s past expiry", skewed, time.Unix(exp+29, 0), "192.0.2.1", nil},
		{"skew: 30 s past expiry", skewed, time.Unix(exp+30, 0), "192.0.2.1", ErrExpired},
		{"skew: 29 s before not-before", skewed, time.Unix(nb-29, 0), "192.0.2.1", nil},
		{"skew: 30 s before not-before", skewed, time.Unix(nb-30, 0), "192.0.2.1", ErrNotYetValid},
		{"first address of the CIDR", f.v, time.Unix(testNow, 0), "192.0.2.0", nil},
		{"last address of the CIDR", f.v, time.Unix(testNow, 0), "192.0.2.255", nil},
		{"next address after the CIDR", f.v, time.Unix(testNow, 0), "192.0.3.0", ErrIPMismatch},
		{"unconfirmed: IPv4-mapped IPv6 is IPv4", f.v, time.Unix(testNow, 0), "::ffff:192.0.2.9", nil},
		{"IPv6 never matches", f.v, time.Unix(testNow, 0), "2001:db8::1", ErrIPv6Client},
		{"unknown client IP", f.v, time.Unix(testNow, 0), "", ErrIPMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base.clone()
			s.clientIP = tt.ip
			d := tt.v.Check(s.request(), tt.now)
			if tt.want == nil {
				if !d.Allowed() {
					t.Fatalf("got %v, want allowed", d.Denial)
				}
				return
			}
			if d.Allowed() || !errors.Is(d.Denial, tt.want) || d.Denial.Code != AccessDenied {
				t.Fatalf("got %v, want AccessDenied %v", d.Denial, tt.want)
			}
		})
	}
}

// TestUnconfirmedChoices pins each choice made where CloudFront's behavior
// is not documented (CLOUDFRONT.md marks them unconfirmed).
func TestUnconfirmedChoices(t *testing.T) {
	f := newFixture(t)
	exp := time.Unix(testNow+600, 0)
	canned := signURL(t, f, issuer.URLRequest{URL: viewer + "/ebooks/a.pdf?v=1", Expires: exp}, keyRSA)
	sc, err := issuer.SignCookies(bg, f.rsa, issuer.CookieRequest{Resource: viewer + "/courses/c1/*", Expires: exp})
	if err != nil {
		t.Fatal(err)
	}
	cookies := fromCookies(t, viewer+"/courses/c1/index.m3u8", sc.Cookies)
	tests := []struct {
		name     string
		edit     func(s *signedReq)
		from     signedReq
		wantCode Code // "" allowed
		wantErr  error
	}{
		{"Hash-Algorithm alone in the query does not select URL mode", func(s *signedReq) { s.query = "Hash-Algorithm=SHA1" }, cookies, "", nil},
		{"Hash-Algorithm is removed from the URL a canned policy is rebuilt from", func(s *signedReq) { s.set(ParamHash, "SHA1") }, canned, "", nil},
		{"percent-encoded signing values are decoded", func(s *signedReq) {
			v, _ := s.get(ParamKeyPairID)
			s.set(ParamKeyPairID, "%4B"+v[1:])
		}, canned, "", nil},
		{"signing parameter names are case-sensitive", func(s *signedReq) {
			v, _ := s.get(ParamExpires)
			s.del(ParamExpires)
			s.params = append(s.params, kv{"expires", v})
		}, canned, MalformedPolicy, ErrNoPolicy},
		{"Hash-Algorithm values are case-sensitive", func(s *signedReq) { s.set(ParamHash, "sha1") }, canned, AccessDenied, ErrHashAlgorithm},
		{"an empty Hash-Algorithm is not SHA1", func(s *signedReq) { s.set(ParamHash, "") }, canned, AccessDenied, ErrHashAlgorithm},
		{"a duplicated Key-Pair-Id is InvalidKey", func(s *signedReq) { s.params = append(s.params, kv{ParamKeyPairID, keyRSA}) }, canned, InvalidKey, ErrDuplicate},
		{"leading zeros in Expires are the same number", func(s *signedReq) {
			v, _ := s.get(ParamExpires)
			s.set(ParamExpires, "00"+v)
		}, canned, "", nil},
		{"Expires with a sign is malformed", func(s *signedReq) {
			v, _ := s.get(ParamExpires)
			s.set(ParamExpires, "+"+v)
		}, canned, MalformedPolicy, ErrExpiresValue},
		{"an empty Key-Pair-Id is MissingKey", func(s *signedReq) { s.set(ParamKeyPairID, "") }, canned, MissingKey, ErrNoKeyPairID},
		{"Policy wins over Expires", func(s *signedReq) { s.params = append(s.params, kv{ParamExpires, "1"}) }, cookiesAsURL(cookies), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.from.clone()
			tt.edit(&s)
			d := f.v.Check(s.request(), time.Unix(testNow, 0))
			switch {
			case tt.wantCode == "" && !d.Allowed():
				t.Fatalf("got %v, want allowed", d.Denial)
			case tt.wantCode != "" && (d.Allowed() || d.Denial.Code != tt.wantCode || !errors.Is(d.Denial, tt.wantErr)):
				t.Fatalf("got %v, want %s %v", d.Denial, tt.wantCode, tt.wantErr)
			}
		})
	}
}

// cookiesAsURL moves cookie credentials into the query.
func cookiesAsURL(s signedReq) signedReq {
	s = s.clone()
	for _, c := range s.cookies {
		s.params = append(s.params, kv{c.k[len("CloudFront-"):], c.v})
	}
	s.cookies = nil
	return s
}

// TestPublicAndDecision checks routing to a public behavior, the query left
// for the origin, and what a Decision reports.
func TestPublicAndDecision(t *testing.T) {
	f := newFixture(t)
	d := f.v.Check(Request{Scheme: "https", Host: "media.example.test", RawPath: "/public/a.css", RawQuery: "Signature=x&v=1"}, time.Unix(testNow, 0))
	if !d.Allowed() || d.Mode != ModePublic || d.Behavior.Name != "public" || d.Query != "Signature=x&v=1" {
		t.Fatalf("public: got %+v", d)
	}
	s := signURL(t, f, issuer.URLRequest{URL: viewer + "/ebooks/a.pdf?v=1&response-content-disposition=inline", Expires: time.Unix(testNow+60, 0), Hash: crypto.SHA256}, keyRSA)
	d = f.v.Check(s.request(), time.Unix(testNow, 0))
	if !d.Allowed() {
		t.Fatal(d.Denial)
	}
	if d.Mode != ModeURL || d.KeyID != keyRSA || d.Hash != crypto.SHA256 || d.Policy.Kind != policy.Canned || d.Behavior.Name != "ebooks" {
		t.Errorf("got mode %v key %s hash %v kind %v behavior %s", d.Mode, d.KeyID, d.Hash, d.Policy.Kind, d.Behavior.Name)
	}
	if want := "v=1&response-content-disposition=inline"; d.Query != want {
		t.Errorf("Query = %q, want %q", d.Query, want)
	}
	if want := viewer + "/ebooks/a.pdf?v=1&response-content-disposition=inline"; d.URL != want {
		t.Errorf("URL = %q, want %q", d.URL, want)
	}
	// Host case and default port do not matter.
	r := s.request()
	r.Host = "MEDIA.example.test:443"
	if d := f.v.Check(r, time.Unix(testNow, 0)); !d.Allowed() {
		t.Errorf("upper-case host with :443: %v", d.Denial)
	}
}

// TestTwoCourses: two courses' cookie sets, each scoped to its course's
// Path, live in one cookie jar, and each opens only its own course.
func TestTwoCourses(t *testing.T) {
	f := newFixture(t)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	site, _ := url.Parse(viewer + "/")
	for _, course := range []string{"a", "b"} {
		sc, err := issuer.SignCookies(bg, f.ec, issuer.CookieRequest{
			Resource: viewer + "/courses/" + course + "/*", Expires: time.Unix(testNow+600, 0),
			Path: "/courses/" + course + "/",
		})
		if err != nil {
			t.Fatal(err)
		}
		jar.SetCookies(site, sc.Cookies)
	}
	tests := []struct {
		path    string
		allowed bool
		err     error
	}{
		{"/courses/a/index.m3u8", true, nil},
		{"/courses/a/seg-001.ts", true, nil},
		{"/courses/b/index.m3u8", true, nil},
		{"/courses/c/index.m3u8", false, ErrNoKeyPairID}, // no cookie has this path
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			u, _ := url.Parse(viewer + tt.path)
			cs := jar.Cookies(u)
			d := f.v.Check(Request{Method: http.MethodGet, Scheme: "https", Host: u.Host, RawPath: u.EscapedPath(), Cookies: cs}, time.Unix(testNow, 0))
			if d.Allowed() != tt.allowed || (!tt.allowed && !errors.Is(d.Denial, tt.err)) {
				t.Fatalf("allowed %v (%v), want %v %v", d.Allowed(), d.Denial, tt.allowed, tt.err)
			}
		})
	}
	// Course a's cookies presented for course b are refused: each set
	// opens only its own course.
	ua, _ := url.Parse(viewer + "/courses/a/x.ts")
	d := f.v.Check(Request{Scheme: "https", Host: ua.Host, RawPath: "/courses/b/x.ts", Cookies: jar.Cookies(ua)}, time.Unix(testNow, 0))
	if d.Allowed() || !errors.Is(d.Denial, ErrResource) {
		t.Fatalf("course a's cookies on course b: %v, want %v", d.Denial, ErrResource)
	}
}
