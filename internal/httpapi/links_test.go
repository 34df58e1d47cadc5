package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/internal/awstest"
	"github.com/cfissuer/cfissuer/internal/links"
	"github.com/cfissuer/cfissuer/issuer"
)

var (
	linkSecret1 = bytes.Repeat([]byte("k1-secret-"), 4)
	linkSecret2 = bytes.Repeat([]byte("k2-secret-"), 4)
)

func linkKey(t testing.TB, id string, secret []byte) links.Key {
	t.Helper()
	k, err := links.NewKey(id, secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// linkFixture is the fixture's issuer and callers behind a server with
// permanent links on a store.
type linkFixture struct {
	*fixture
	store links.Store
	mgr   *links.Manager
}

// withLinks returns a server for f's issuer and callers with links on
// store, minting with the first of ks.
func withLinks(t testing.TB, f *fixture, store links.Store, opts LinkOptions, ks ...links.Key) *linkFixture {
	t.Helper()
	if len(ks) == 0 {
		ks = []links.Key{linkKey(t, "k1", linkSecret1)}
	}
	ring, err := links.NewKeyring(ks...)
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := links.New(ring, store, links.Options{Now: f.clock.Now, Logger: f.srv.log})
	if err != nil {
		t.Fatal(err)
	}
	opts.Manager = mgr
	srv, err := New(f.is, f.srv.callers.Load(), Options{Logger: f.srv.log, Metrics: f.srv.metrics, Links: opts})
	if err != nil {
		t.Fatal(err)
	}
	g := *f
	g.srv, g.h = srv, srv.Handler()
	return &linkFixture{fixture: &g, store: store, mgr: mgr}
}

func openFileStore(t testing.TB, dir string, now func() time.Time) *links.FileStore {
	t.Helper()
	s, err := links.OpenFileStore(dir, links.FileOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mint mints a link as caller and returns its ID and token.
func (f *linkFixture) mint(t testing.TB, caller string, body map[string]any) (id, token string) {
	t.Helper()
	res := f.do(t, "POST", "/v1/links", caller, body)
	if res.status != http.StatusCreated {
		t.Fatalf("mint %v: %d %s", body, res.status, res.body)
	}
	link, _ := res.json["link"].(string)
	base, tok, ok := strings.Cut(link, "/l/")
	if !ok || base != "http://example.com" {
		t.Fatalf("link %q is not http://example.com/l/{token}", link)
	}
	if loc := res.header.Get("Location"); loc != "/v1/links/"+res.json["id"].(string) {
		t.Errorf("Location %q", loc)
	}
	return res.json["id"].(string), tok
}

// follow follows a token from a client address (empty: httptest's).
func (f *linkFixture) follow(t testing.TB, token, remote string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", "/l/"+token, nil)
	if remote != "" {
		req.RemoteAddr = remote
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// edgeAllows checks a signed URL with the CloudFront-faithful verifier.
func (f *fixture) edgeAllows(t testing.TB, signed string) {
	t.Helper()
	v, err := edge.NewVerifier(f.is.Behaviors(), []edge.Key{{ID: f.signer.KeyID(), Public: f.signer.Public()}}, edge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	d := v.Check(edge.Request{Method: "GET", Scheme: u.Scheme, Host: u.Host, RawPath: u.EscapedPath(), RawQuery: u.RawQuery}, f.clock.Now())
	if d.Denial != nil {
		t.Fatalf("the edge refuses the followed link's URL: %v", d.Denial)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func signs(f *fixture) uint64 { h, m := f.is.CacheStats(); return h + m }

func refused(f *fixture, reason string) float64 {
	return counterValue(f.srv.metrics.links.refused.WithLabelValues(reason))
}

// TestLinkRoundTrip: mint → follow → 303 to a URL the edge allows, with a
// private max-age within its validity; the same URL from the cache on a
// second follow; revoke → 410, also after a restart of the service on the
// same file store, while another link survives the restart.
func TestLinkRoundTrip(t *testing.T) {
	base := newFixture(t, time.Time{})
	dir := t.TempDir()
	f := withLinks(t, base, openFileStore(t, dir, base.clock.Now), LinkOptions{})

	id, tok := f.mint(t, "books", map[string]any{"path": "/ebooks/free/intro.pdf", "filename": "Intro.pdf", "note": "newsletter"})
	keepID, keepTok := f.mint(t, "books", map[string]any{"path": "/ebooks/free/other.pdf"})
	if counterValue(f.srv.metrics.links.minted) != 2 {
		t.Error("cfissuer_links_minted_total is not 2")
	}

	rec := f.follow(t, tok, "")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("follow: %d %s", rec.Code, rec.Body)
	}
	loc := rec.Header().Get("Location")
	f.edgeAllows(t, loc)
	if !strings.HasPrefix(loc, "https://media.example.test/ebooks/free/intro.pdf?response-content-disposition=") {
		t.Errorf("Location %s", loc)
	}
	exp, _ := strconv.ParseInt(mustQuery(t, loc).Get("Expires"), 10, 64)
	// ebooks: browser_max_age 3600 + margin 300, window 3600. At 12:00:07
	// the URL expires at 14:00:00 and the window changes at 12:55:00.
	if want := time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC).Unix(); exp != want {
		t.Errorf("Expires %d, want %d", exp, want)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "private, max-age=3293" {
		t.Errorf("Cache-Control %q, want private, max-age=3293 (until the window changes)", cc)
	}
	if rp := rec.Header().Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("Referrer-Policy %q", rp)
	}
	hits, _ := f.is.CacheStats()
	f.clock.Set(t0.Add(20 * time.Minute))
	again := f.follow(t, tok, "")
	if again.Code != http.StatusSeeOther || again.Header().Get("Location") != loc {
		t.Errorf("second follow in the window: %d, a different URL", again.Code)
	}
	if h, _ := f.is.CacheStats(); h != hits+1 {
		t.Errorf("second follow: cache hits %d → %d; want it answered from the signature cache", hits, h)
	}
	if counterValue(f.srv.metrics.links.followed) != 2 {
		t.Error("cfissuer_links_followed_total is not 2")
	}

	res := f.do(t, "GET", "/v1/links/"+id, "books", nil)
	if res.status != 200 || res.json["state"] != "active" || res.json["path"] != "/ebooks/free/intro.pdf" || res.json["note"] != "newsletter" || res.json["link"] != nil {
		t.Errorf("GET: %d %s", res.status, res.body)
	}
	res = f.do(t, "DELETE", "/v1/links/"+id, "books", nil)
	if res.status != 200 || res.json["state"] != "revoked" || res.json["revoked_at"] != "2026-03-01T12:20:07Z" {
		t.Fatalf("DELETE: %d %s", res.status, res.body)
	}
	if rec := f.follow(t, tok, ""); rec.Code != http.StatusGone || rec.Body.String() != "410 Gone: this link no longer works.\n" {
		t.Errorf("follow after revoke: %d %q", rec.Code, rec.Body)
	}

	// Restart: a new store on the same folder, a new server.
	f = withLinks(t, base, openFileStore(t, dir, base.clock.Now), LinkOptions{})
	if rec := f.follow(t, tok, ""); rec.Code != http.StatusGone {
		t.Errorf("follow after revoke and restart: %d", rec.Code)
	}
	if res := f.do(t, "GET", "/v1/links/"+id, "books", nil); res.json["state"] != "revoked" {
		t.Errorf("GET after restart: %s", res.body)
	}
	if rec := f.follow(t, keepTok, ""); rec.Code != http.StatusSeeOther {
		t.Errorf("the other link after restart: %d", rec.Code)
	}
	f.edgeAllows(t, f.follow(t, keepTok, "").Header().Get("Location"))
	_ = keepID

	// A link that expires before the window changes caps the max-age.
	_, short := f.mint(t, "books", map[string]any{"path": "/ebooks/free/intro.pdf", "expires_at": "2026-03-01T12:30:07Z"})
	if cc := f.follow(t, short, "").Header().Get("Cache-Control"); cc != "private, max-age=600" {
		t.Errorf("Cache-Control of a link expiring in 10 minutes: %q, want private, max-age=600", cc)
	}

	if bytes.Contains(f.log.Bytes(), []byte(tok)) || bytes.Contains(f.log.Bytes(), []byte(keepTok)) {
		t.Error("a token appears in the log")
	}
	if !bytes.Contains(f.log.Bytes(), []byte(id)) {
		t.Error("the log does not name the link by its ID")
	}
}

// retoken decodes a token, lets edit change its bytes, and encodes it.
func retoken(t testing.TB, tok string, edit func([]byte) []byte) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(edit(append([]byte(nil), b...)))
}

// TestLinkRefusals: each tampered, expired, revoked or otherwise dead
// token is refused with a plain 404 or 410 that says nothing more, and
// nothing is signed for any of them.
func TestLinkRefusals(t *testing.T) {
	base := newFixture(t, time.Time{})
	store := openFileStore(t, t.TempDir(), base.clock.Now)
	f := withLinks(t, base, store, LinkOptions{Rate: 1e6, Burst: 1e6})
	_, tok := f.mint(t, "books", map[string]any{"path": "/ebooks/free/intro.pdf", "expires_at": "2026-03-02T12:00:00Z"})
	revokedID, revoked := f.mint(t, "books", map[string]any{"path": "/ebooks/free/gone.pdf"})
	if res := f.do(t, "DELETE", "/v1/links/"+revokedID, "books", nil); res.status != 200 {
		t.Fatal(res.status)
	}
	// A token minted with a key this issuer does not hold (k2).
	other := withLinks(t, base, store, LinkOptions{}, linkKey(t, "k2", linkSecret2), linkKey(t, "k1", linkSecret1))
	_, unknownKey := other.mint(t, "books", map[string]any{"path": "/ebooks/free/intro.pdf"})
	// A token forged with the right key ID but a wrong secret.
	forger := withLinks(t, base, store, LinkOptions{}, linkKey(t, "k1", linkSecret2))
	_, forged := forger.mint(t, "books", map[string]any{"path": "/ebooks/free/intro.pdf"})
	// The caller whose links stop working once it leaves the config, and
	// one whose scope no longer covers its link.
	_, gone := f.mint(t, "slow", map[string]any{"path": "/ebooks/intro.pdf"})
	_, narrowed := f.mint(t, "all", map[string]any{"path": "/ebooks/intro.pdf"})

	if rec := f.follow(t, tok, ""); rec.Code != http.StatusSeeOther {
		t.Fatalf("the untouched token: %d", rec.Code)
	}
	cs, err := issuer.NewCallers([]issuer.Caller{
		{ID: "books", SecretSHA256: [32]byte{1}, Behaviors: []string{"ebooks"}, PathPrefixes: []string{"/ebooks/free/"}},
		{ID: "all", SecretSHA256: [32]byte{2}, PathPrefixes: []string{"/courses/"}}, // narrowed
	}) // and "slow" is gone
	if err != nil {
		t.Fatal(err)
	}
	f.srv.SetCallers(cs)

	swapCaller := retoken(t, tok, func(b []byte) []byte { return bytes.Replace(b, []byte("books"), []byte("short"), 1) })
	for _, c := range []struct {
		name, token string
		status      int
		reason      string
		at          time.Time
	}{
		{"flipped byte", retoken(t, tok, func(b []byte) []byte { b[len(b)/2] ^= 1; return b }), 404, "", time.Time{}},
		{"flipped MAC byte", retoken(t, tok, func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }), 404, "bad_mac", time.Time{}},
		{"flipped character", tok[:10] + string(tok[10]^1) + tok[11:], 404, "", time.Time{}},
		{"truncated", tok[:len(tok)-4], 404, "", time.Time{}},
		{"one byte short", retoken(t, tok, func(b []byte) []byte { return b[:len(b)-1] }), 404, "", time.Time{}},
		{"empty-ish", "x", 404, "malformed", time.Time{}},
		{"other caller's token", swapCaller, 404, "bad_mac", time.Time{}},
		{"expired", tok, 410, "expired", time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)},
		{"revoked", revoked, 410, "revoked", time.Time{}},
		{"unknown key ID", unknownKey, 404, "unknown_key", time.Time{}},
		{"wrong secret", forged, 404, "bad_mac", time.Time{}},
		{"oversized", strings.Repeat("A", links.MaxTokenLength+1), 404, "malformed", time.Time{}},
		{"newline inside", tok[:20] + "%0A" + tok[20:], 404, "malformed", time.Time{}},
		{"caller no longer configured", gone, 404, "caller_gone", time.Time{}},
		{"caller's scope narrowed", narrowed, 404, "not_allowed", time.Time{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !c.at.IsZero() {
				f.clock.Set(c.at)
				defer f.clock.Set(t0)
			}
			before, logBefore := signs(f.fixture), f.log.Len()
			var reasonBefore float64
			if c.reason != "" {
				reasonBefore = refused(f.fixture, c.reason)
			}
			rec := f.follow(t, c.token, "")
			if rec.Code != c.status {
				t.Errorf("status %d, want %d", rec.Code, c.status)
			}
			if want := followPages[c.status]; rec.Body.String() != want {
				t.Errorf("body %q, want the plain %q", rec.Body, want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" || rec.Header().Get("Location") != "" || rec.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", rec.Header())
			}
			if c.reason != "caller_gone" && c.reason != "not_allowed" {
				if signs(f.fixture) != before || bytes.Contains(f.log.Bytes()[logBefore:], []byte(`"msg":"issued"`)) {
					t.Error("something was signed for a refused token")
				}
			}
			if c.reason != "" && refused(f.fixture, c.reason) != reasonBefore+1 {
				t.Errorf("cfissuer_links_refused_total{reason=%q} did not count it", c.reason)
			}
			if bytes.Contains(f.log.Bytes()[logBefore:], []byte(c.token)) {
				t.Error("the token is in the log")
			}
		})
	}
	f.clock.Set(time.Date(2026, 3, 2, 11, 59, 59, 0, time.UTC))
	if rec := f.follow(t, tok, ""); rec.Code != http.StatusSeeOther || rec.Header().Get("Cache-Control") != "private, max-age=1" {
		t.Errorf("one second before the link expires: %d %q; want 303, max-age=1", rec.Code, rec.Header().Get("Cache-Control"))
	}
	f.clock.Set(t0)
}

// TestLinkAPIErrors: minting follows the caller's scope and the behaviors,
// and a caller sees and revokes only its own links.
func TestLinkAPIErrors(t *testing.T) {
	base := newFixture(t, time.Time{})
	f := withLinks(t, base, openFileStore(t, t.TempDir(), base.clock.Now), LinkOptions{Base: "https://issuer.example.test/"})
	res := f.do(t, "POST", "/v1/links", "books", map[string]any{"path": "/ebooks/free/a.pdf"})
	if link, _ := res.json["link"].(string); !strings.HasPrefix(link, "https://issuer.example.test/l/") {
		t.Errorf("link %q does not start with the configured base", link)
	}
	id := res.json["id"].(string)
	for _, c := range []struct {
		name, method, target, caller string
		body                         any
		status                       int
		code, field                  string
	}{
		{"no API key", "POST", "/v1/links", "", map[string]any{"path": "/ebooks/free/a.pdf"}, 401, "unauthenticated", ""},
		{"out of scope", "POST", "/v1/links", "books", map[string]any{"path": "/ebooks/paid/a.pdf"}, 403, "out_of_scope", ""},
		{"not covered", "POST", "/v1/links", "all", map[string]any{"path": "/public/a.png"}, 422, "not_covered", ""},
		{"cookie behavior", "POST", "/v1/links", "all", map[string]any{"path": "/courses/go-101/index.m3u8"}, 422, "access_mismatch", ""},
		{"no path", "POST", "/v1/links", "all", map[string]any{"note": "x"}, 400, "bad_request", "path"},
		{"past expiry", "POST", "/v1/links", "all", map[string]any{"path": "/ebooks/a.pdf", "expires_at": "2026-03-01T12:00:00Z"}, 400, "bad_request", "expires_at"},
		{"expiry too far", "POST", "/v1/links", "all", map[string]any{"path": "/ebooks/a.pdf", "expires_at": "2028-03-01T12:00:00Z"}, 400, "bad_request", "expires_at"},
		{"bad expiry", "POST", "/v1/links", "all", map[string]any{"path": "/ebooks/a.pdf", "expires_at": "tomorrow"}, 400, "bad_request", "expires_at"},
		{"long note", "POST", "/v1/links", "all", map[string]any{"path": "/ebooks/a.pdf", "note": strings.Repeat("n", 513)}, 413, "too_large", ""},
		{"long path", "POST", "/v1/links", "all", map[string]any{"path": "/ebooks/" + strings.Repeat("p", 1600)}, 413, "too_large", ""},
		{"unknown field", "POST", "/v1/links", "all", map[string]any{"path": "/ebooks/a.pdf", "token": "x"}, 400, "bad_request", ""},
		{"another caller's link", "GET", "/v1/links/" + id, "all", nil, 404, "unknown_link", ""},
		{"revoke another caller's link", "DELETE", "/v1/links/" + id, "all", nil, 404, "unknown_link", ""},
		{"unknown link", "GET", "/v1/links/l-AAAAAAAAAAAAAAAAAAAAAAAAAA", "books", nil, 404, "unknown_link", ""},
		{"not a link ID", "DELETE", "/v1/links/nope", "books", nil, 404, "unknown_link", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := f.do(t, c.method, c.target, c.caller, c.body)
			code, field, _ := res.errorBody(t)
			if res.status != c.status || code != c.code || field != c.field {
				t.Errorf("%d %s %s; want %d %s %s (%s)", res.status, code, field, c.status, c.code, c.field, res.body)
			}
		})
	}
	if res := f.do(t, "GET", "/v1/links/"+id, "books", nil); res.json["state"] != "active" {
		t.Errorf("another caller's DELETE revoked the link: %s", res.body)
	}

	// Without links configured: JSON 404 links_off on the API, the plain
	// 404 on /l/.
	res = base.do(t, "POST", "/v1/links", "all", map[string]any{"path": "/ebooks/a.pdf"})
	if code, _, _ := res.errorBody(t); res.status != 404 || code != "links_off" {
		t.Errorf("links off: %d %s", res.status, res.body)
	}
	rec := httptest.NewRecorder()
	base.h.ServeHTTP(rec, httptest.NewRequest("GET", "/l/abc", nil))
	if rec.Code != 404 || rec.Body.String() != followPages[404] {
		t.Errorf("follow with links off: %d %q", rec.Code, rec.Body)
	}
}

// TestLinkRateLimit: follows are limited per client IP (IPv6 per /64), and
// through a trusted proxy per the address it adds.
func TestLinkRateLimit(t *testing.T) {
	base := newFixture(t, time.Time{})
	f := withLinks(t, base, openFileStore(t, t.TempDir(), base.clock.Now), LinkOptions{Rate: 1, Burst: 2})
	_, tok := f.mint(t, "books", map[string]any{"path": "/ebooks/free/a.pdf"})
	for i, c := range []struct {
		remote string
		want   int
	}{
		{"192.0.2.1:1000", 303}, {"192.0.2.1:1001", 303}, {"192.0.2.1:1002", 429},
		{"192.0.2.2:1000", 303},
		{"[2001:db8::1]:1000", 303}, {"[2001:db8::2]:1000", 303}, {"[2001:db8::3]:1000", 429},
		{"[2001:db8:0:1::1]:1000", 303},
	} {
		rec := f.follow(t, tok, c.remote)
		if rec.Code != c.want {
			t.Errorf("follow %d from %s: %d, want %d", i, c.remote, rec.Code, c.want)
		}
		if c.want == 429 && (rec.Header().Get("Retry-After") != "1" || rec.Body.String() != followPages[429]) {
			t.Errorf("429 headers %v body %q", rec.Header(), rec.Body)
		}
	}
	f.clock.Set(t0.Add(time.Second)) // one token back
	if rec := f.follow(t, tok, "192.0.2.1:1000"); rec.Code != 303 {
		t.Errorf("a second later: %d", rec.Code)
	}
	if refused(f.fixture, "rate_limited") != 2 {
		t.Errorf("rate_limited refusals %v, want 2", refused(f.fixture, "rate_limited"))
	}

	p := withLinks(t, base, openFileStore(t, t.TempDir(), base.clock.Now), LinkOptions{Rate: 1, Burst: 1, ClientIPHeader: "X-Forwarded-For"})
	_, tok = p.mint(t, "books", map[string]any{"path": "/ebooks/free/a.pdf"})
	follow := func(xff string) int {
		req := httptest.NewRequest("GET", "/l/"+tok, nil)
		req.RemoteAddr = "10.0.0.1:5000" // the proxy
		req.Header.Set("X-Forwarded-For", xff)
		rec := httptest.NewRecorder()
		p.h.ServeHTTP(rec, req)
		return rec.Code
	}
	if a, b, c := follow("198.51.100.7"), follow("203.0.113.9, 198.51.100.8"), follow("203.0.113.9, 198.51.100.7"); a != 303 || b != 303 || c != 429 {
		t.Errorf("behind a proxy: %d %d %d, want 303 303 429 (the last address counts)", a, b, c)
	}
}

// TestLinkConcurrentRevokeFollow (run it with -race): revocations racing
// follows lose none; after them every link answers 410, also after a
// restart.
func TestLinkConcurrentRevokeFollow(t *testing.T) {
	base := newFixture(t, time.Time{})
	dir := t.TempDir()
	f := withLinks(t, base, openFileStore(t, dir, base.clock.Now), LinkOptions{Rate: 1e6, Burst: 1e6})
	concurrentRevokeFollow(t, []*linkFixture{f}, func() *linkFixture {
		return withLinks(t, base, openFileStore(t, dir, base.clock.Now), LinkOptions{Rate: 1e6, Burst: 1e6})
	})
}

func concurrentRevokeFollow(t *testing.T, replicas []*linkFixture, restart func() *linkFixture) {
	const n = 24
	ids, toks := make([]string, n), make([]string, n)
	for i := range n {
		ids[i], toks[i] = replicas[i%len(replicas)].mint(t, "books", map[string]any{"path": fmt.Sprintf("/ebooks/free/%d.pdf", i)})
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			if res := replicas[i%len(replicas)].do(t, "DELETE", "/v1/links/"+ids[i], "books", nil); res.status != 200 {
				t.Errorf("DELETE %d: %d %s", i, res.status, res.body)
			}
		}()
		for j := range 2 {
			go func() {
				defer wg.Done()
				if rec := replicas[(i+j+1)%len(replicas)].follow(t, toks[i], fmt.Sprintf("192.0.2.%d:1", i)); rec.Code != 303 && rec.Code != 410 {
					t.Errorf("follow %d during revocation: %d", i, rec.Code)
				}
			}()
		}
	}
	wg.Wait()
	check := func(what string, f *linkFixture) {
		for i := range n {
			if rec := f.follow(t, toks[i], "198.51.100.1:1"); rec.Code != http.StatusGone {
				t.Errorf("%s: link %d after its revocation: %d", what, i, rec.Code)
			}
		}
	}
	for i, r := range replicas {
		check(fmt.Sprintf("replica %d", i), r)
	}
	check("after a restart", restart())
}

// TestLinksAcrossReplicasDynamoDB: two issuer instances that share only a
// DynamoDB table (moto): a link minted on one is followed on the other,
// revoked there, and refused on the first; concurrent revocations and
// follows across both lose none.
func TestLinksAcrossReplicasDynamoDB(t *testing.T) {
	srv := awstest.Start(t)
	ctx := context.Background()
	if err := links.CreateDynamoDBTable(ctx, dynamodb.NewFromConfig(srv.Config()), "cfissuer-links"); err != nil {
		t.Fatal(err)
	}
	replica := func() *linkFixture {
		base := newFixture(t, time.Time{})
		store, err := links.NewDynamoDBStore(dynamodb.NewFromConfig(srv.Config()), "cfissuer-links", links.DynamoDBOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return withLinks(t, base, store, LinkOptions{Rate: 1e6, Burst: 1e6})
	}
	a, b := replica(), replica()
	// The two replicas have their own callers' API keys in this fixture:
	// give b a's, as one deployment's config would.
	b.keys = a.keys
	b.srv.SetCallers(a.srv.callers.Load())

	id, tok := a.mint(t, "books", map[string]any{"path": "/ebooks/free/intro.pdf"})
	rec := b.follow(t, tok, "")
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("follow on the other replica: %d %s", rec.Code, rec.Body)
	}
	b.edgeAllows(t, rec.Header().Get("Location"))
	if la, lb := a.follow(t, tok, "").Header().Get("Location"), rec.Header().Get("Location"); la != lb {
		t.Errorf("the replicas redirect to different URLs:\n%s\n%s", la, lb)
	}
	if res := b.do(t, "DELETE", "/v1/links/"+id, "books", nil); res.status != 200 {
		t.Fatalf("revoke on b: %d %s", res.status, res.body)
	}
	if rec := a.follow(t, tok, ""); rec.Code != http.StatusGone {
		t.Errorf("follow on a after revocation on b: %d", rec.Code)
	}
	if res := a.do(t, "GET", "/v1/links/"+id, "books", nil); res.json["state"] != "revoked" {
		t.Errorf("GET on a: %s", res.body)
	}
	concurrentRevokeFollow(t, []*linkFixture{a, b}, func() *linkFixture {
		c := replica()
		c.keys = a.keys
		c.srv.SetCallers(a.srv.callers.Load())
		return c
	})
}
