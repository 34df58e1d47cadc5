package httpapi

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/cfissuer/cfissuer/docs"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

const testBehaviors = `{
  "viewer_origin": "https://media.example.test",
  "behaviors": [
    {"name": "courses", "path_pattern": "/courses/*", "access": "signed-cookie", "hash": "SHA256",
     "browser_max_age": 60, "window": 600, "margin": 300, "max_lifetime": 3600},
    {"name": "ebooks", "path_pattern": "/ebooks/*", "access": "signed-url",
     "browser_max_age": 3600, "window": 3600, "margin": 300, "max_lifetime": 14400,
     "cache_query_strings": ["response-content-disposition"]},
    {"name": "live", "path_pattern": "/live/*", "access": "signed-url", "policy": "custom", "hash": "SHA256",
     "ip_binding": true, "browser_max_age": 0, "window": 60, "margin": 60, "max_lifetime": 600},
    {"name": "public", "path_pattern": "/public/*", "access": "public"},
    {"name": "default", "path_pattern": "*", "access": "signed-url"}
  ]
}`

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var t0 = time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)

type fixture struct {
	clock  *clock
	is     *issuer.Issuer
	srv    *Server
	h      http.Handler
	keys   map[string]string // caller ID → API key
	signer keys.Signer
	log    *bytes.Buffer
}

func testSigner(t testing.TB, file, id string) keys.Signer {
	t.Helper()
	data, err := os.ReadFile("../../testdata/keys/" + file)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.ParsePrivateKey(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := keys.NewLocal(id, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newFixture builds a server whose only key retires at retire (zero:
// never), with these callers:
//
//	all     no limits
//	course  behavior courses, prefix /courses/go-101/
//	books   behavior ebooks, prefix /ebooks/free/
//	short   longest lifetime 10 minutes
//	slow    1 request per second, burst 1
func newFixture(t testing.TB, retire time.Time) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{t: t0}, keys: map[string]string{}, log: &bytes.Buffer{}}
	bs, err := policy.ParseBehaviors(strings.NewReader(testBehaviors))
	if err != nil {
		t.Fatal(err)
	}
	f.signer = testSigner(t, "rsa2048.pem", "KRSA")
	ring, err := keys.NewRing([]keys.RingKey{{Signer: f.signer, RetireAt: retire}}, issuer.LongestLifetime(bs))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	logger := slog.New(slog.NewJSONHandler(f.log, nil))
	f.is, err = issuer.New(ring, bs, issuer.Options{Now: f.clock.Now, Logger: logger, ObserveSign: m.ObserveSign})
	if err != nil {
		t.Fatal(err)
	}
	var callers []issuer.Caller
	for _, c := range []issuer.Caller{
		{ID: "all"},
		{ID: "course", Behaviors: []string{"courses"}, PathPrefixes: []string{"/courses/go-101/"}},
		{ID: "books", Behaviors: []string{"ebooks"}, PathPrefixes: []string{"/ebooks/free/"}},
		{ID: "short", MaxLifetime: 10 * time.Minute},
		{ID: "slow", Rate: 1, Burst: 1},
	} {
		key, sum, err := issuer.NewAPIKey(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		c.SecretSHA256 = sum
		f.keys[c.ID] = key
		callers = append(callers, c)
	}
	cs, err := issuer.NewCallers(callers)
	if err != nil {
		t.Fatal(err)
	}
	f.srv, err = New(f.is, cs, Options{Logger: logger, Metrics: m, MaxBodyBytes: 64 << 10, MaxBatch: 5})
	if err != nil {
		t.Fatal(err)
	}
	f.h = f.srv.Handler()
	return f
}

type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r *response) errorBody(t testing.TB) (code, field, message string) {
	t.Helper()
	e, ok := r.json["error"].(map[string]any)
	if !ok {
		t.Fatalf("no JSON error body: %s", r.body)
	}
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	message, _ = e["message"].(string)
	if len(e) > 3 {
		t.Errorf("error body has extra members: %s", r.body)
	}
	return code, field, message
}

// do sends a request as caller (empty: no Authorization header).
func (f *fixture) do(t testing.TB, method, target, caller string, body any) *response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, target, rd)
	if raw, ok := strings.CutPrefix(caller, "raw:"); ok {
		req.Header.Set("Authorization", raw)
	} else if caller != "" {
		key, ok := f.keys[caller]
		if !ok {
			key = caller // a raw bad key
		}
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	res := &response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && method != http.MethodGet || strings.HasPrefix(target, "/v1/") {
		json.Unmarshal(res.body, &res.json)
	}
	return res
}

func TestEveryRouteIsInOpenAPI(t *testing.T) {
	f := newFixture(t, time.Time{})
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	routed := map[string]bool{}
	err := f.srv.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil // a subrouter's prefix, not an endpoint
		}
		for _, m := range methods {
			op := strings.ToLower(m)
			routed[tmpl+" "+op] = true
			if _, ok := doc.Paths[tmpl][op]; !ok {
				t.Errorf("route %s %s is not in docs/openapi.json", m, tmpl)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, ops := range doc.Paths {
		for op := range ops {
			if !routed[p+" "+op] {
				t.Errorf("docs/openapi.json describes %s %s, which is not routed", strings.ToUpper(op), p)
			}
		}
	}
	if len(routed) < 10 {
		t.Errorf("only %d routes found: %v", len(routed), routed)
	}
	res := f.do(t, http.MethodGet, "/openapi.json", "", nil)
	if res.status != 200 || !bytes.Equal(res.body, docs.OpenAPI) {
		t.Errorf("GET /openapi.json = %d, %d bytes; want the embedded document", res.status, len(res.body))
	}
}

func TestIssueURL(t *testing.T) {
	f := newFixture(t, time.Time{})
	res := f.do(t, http.MethodPost, "/v1/urls", "all", map[string]any{"path": "/ebooks/intro.pdf", "filename": "Intro.pdf"})
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	u := res.json
	// M+m = 3900s from 12:00:07 is 13:05:07, so the window ends at 14:00.
	if u["expires_at"] != "2026-03-01T14:00:00Z" || u["expires_in"] != float64(7193) || u["key_id"] != "KRSA" || u["behavior"] != "ebooks" {
		t.Errorf("response %s", res.body)
	}
	if !strings.HasPrefix(u["url"].(string), "https://media.example.test/ebooks/intro.pdf?response-content-disposition=attachment%3B%20filename%3D%22Intro.pdf%22&gid="+u["grant_id"].(string)+"&Expires=1772373600&Signature=") {
		t.Errorf("url %s", u["url"])
	}
	if id, _ := u["grant_id"].(string); !policy.IsDenyKey(id) || id[0] != 'g' || !strings.Contains(f.log.String(), id) {
		t.Errorf("grant id %q not logged: %s", id, f.log.String())
	}
	if strings.Contains(f.log.String(), "Signature=") || strings.Contains(f.log.String(), f.keys["all"]) {
		t.Errorf("the log holds a credential: %s", f.log.String())
	}
	// Byte-identical in the same window, and a cache hit.
	again := f.do(t, http.MethodPost, "/v1/urls", "all", map[string]any{"path": "/ebooks/intro.pdf", "filename": "Intro.pdf"})
	if again.json["url"] != u["url"] {
		t.Errorf("second URL differs: %s", again.body)
	}
	metrics := f.do(t, http.MethodGet, "/metrics", "", nil)
	for _, want := range []string{
		"cfissuer_signature_cache_hits_total 1",
		"cfissuer_signature_cache_misses_total 1",
		"cfissuer_signature_cache_hit_ratio 0.5",
		`cfissuer_issuances_total{algorithm="RSA",behavior="ebooks",kind="url"} 2`,
		`cfissuer_sign_duration_seconds_count{key_id="KRSA"} 1`,
		`cfissuer_http_requests_total{method="POST",route="/v1/urls",status="200"} 2`,
	} {
		if !strings.Contains(string(metrics.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestBatch(t *testing.T) {
	f := newFixture(t, time.Time{})
	res := f.do(t, http.MethodPost, "/v1/urls", "all", map[string]any{"items": []map[string]any{
		{"path": "/ebooks/a.pdf"}, {"path": "/public/logo.png"}, {"resource": "https://media.example.test/x.css"}, {"path": "/courses/go-101/a.ts"},
	}})
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	items := res.json["items"].([]any)
	want := []struct {
		status float64
		code   string
	}{{200, ""}, {422, "not_covered"}, {200, ""}, {422, "access_mismatch"}}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d", len(items), len(want))
	}
	for i, w := range want {
		it := items[i].(map[string]any)
		if it["status"] != w.status {
			t.Errorf("item %d: status %v, want %v (%v)", i, it["status"], w.status, it)
		}
		if w.code != "" && it["error"].(map[string]any)["code"] != w.code {
			t.Errorf("item %d: %v, want code %s", i, it["error"], w.code)
		}
		if w.code == "" && it["url"] == nil {
			t.Errorf("item %d has no url: %v", i, it)
		}
	}
}

func TestCookiesAndSignOut(t *testing.T) {
	f := newFixture(t, time.Time{})
	res := f.do(t, http.MethodPost, "/v1/cookies", "course", map[string]any{"path_prefix": "/courses/go-101/"})
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	set := res.header.Values("Set-Cookie")
	cookies := res.json["cookies"].([]any)
	if len(set) != 4 || len(cookies) != 4 {
		t.Fatalf("%d Set-Cookie headers and %d JSON cookies, want 4 each", len(set), len(cookies))
	}
	for i, c := range cookies {
		c := c.(map[string]any)
		if c["path"] != "/courses/go-101/" || c["domain"] != "media.example.test" || c["secure"] != true || c["http_only"] != true || c["same_site"] != "Lax" {
			t.Errorf("cookie %v", c)
		}
		if !strings.HasPrefix(set[i], c["name"].(string)+"="+c["value"].(string)+"; Path=/courses/go-101/; Domain=media.example.test; HttpOnly; Secure; SameSite=Lax") {
			t.Errorf("Set-Cookie %q does not match %v", set[i], c)
		}
	}
	// 12:00:07 + 360s → window end 12:10; refresh from 12:04:01.
	if res.json["expires_at"] != "2026-03-01T12:10:00Z" || res.json["refresh_after"] != "2026-03-01T12:04:01Z" || res.json["behavior"] != "courses" {
		t.Errorf("response %s", res.body)
	}

	out := f.do(t, http.MethodDelete, "/v1/cookies?path_prefix=/courses/go-101/", "course", nil)
	if out.status != 200 {
		t.Fatalf("DELETE status %d: %s", out.status, out.body)
	}
	cleared := out.header.Values("Set-Cookie")
	if len(cleared) != 5 {
		t.Fatalf("%d clearing cookies, want 5", len(cleared))
	}
	for _, c := range cleared {
		if !strings.Contains(c, "=; Path=/courses/go-101/; Domain=media.example.test; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0") {
			t.Errorf("clearing Set-Cookie %q", c)
		}
	}
}

func TestRedirect(t *testing.T) {
	f := newFixture(t, time.Time{})
	res := f.do(t, http.MethodGet, "/v1/redirect?path=/ebooks/intro.pdf&filename=Intro.pdf", "all", nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	loc := res.header.Get("Location")
	if !strings.HasPrefix(loc, "https://media.example.test/ebooks/intro.pdf?response-content-disposition=") {
		t.Errorf("Location %s", loc)
	}
	// Expires 14:00; the window changes after 14:00 − 3900s = 12:55:00,
	// 3293s after 12:00:07.
	if cc := res.header.Get("Cache-Control"); cc != "private, max-age=3293" {
		t.Errorf("Cache-Control %q", cc)
	}
	exp, _ := strconv.ParseInt(mustQuery(t, loc).Get("Expires"), 10, 64)
	if left := time.Unix(exp, 0).Sub(t0.Add(3293 * time.Second)); left < 3900*time.Second {
		t.Errorf("a redirect cached to its max-age leads to a URL with only %s left", left)
	}
	// The same URL as POST /v1/urls.
	post := f.do(t, http.MethodPost, "/v1/urls", "all", map[string]any{"path": "/ebooks/intro.pdf", "filename": "Intro.pdf"})
	if post.json["url"] != loc {
		t.Errorf("redirect and POST /v1/urls disagree:\n%s\n%s", loc, post.json["url"])
	}
}

func mustQuery(t testing.TB, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestKeysHealthReady(t *testing.T) {
	retire := t0.Add(30 * time.Hour)
	f := newFixture(t, retire)
	res := f.do(t, http.MethodGet, "/v1/keys", "", nil)
	if res.status != 200 {
		t.Fatalf("status %d", res.status)
	}
	ks := res.json["keys"].([]any)
	k := ks[0].(map[string]any)
	fp, _ := keys.Fingerprint(f.signer.Public())
	if len(ks) != 1 || k["key_id"] != "KRSA" || k["algorithm"] != "RSA" || k["fingerprint"] != fp || k["state"] != "active" ||
		k["retire_at"] != "2026-03-02T18:00:07Z" || !strings.HasPrefix(k["public_key_pem"].(string), "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("keys %s", res.body)
	}
	if strings.Contains(string(res.body), "PRIVATE") {
		t.Error("GET /v1/keys shows a private key")
	}
	if res := f.do(t, http.MethodGet, "/healthz", "", nil); res.status != 200 {
		t.Errorf("healthz %d", res.status)
	}
	if res := f.do(t, http.MethodGet, "/readyz", "", nil); res.status != 200 {
		t.Errorf("readyz %d", res.status)
	}
	// L = 14400s: the key turns retiring 4h before it retires.
	f.clock.Set(retire.Add(-4 * time.Hour))
	res = f.do(t, http.MethodGet, "/readyz", "", nil)
	if res.status != 503 || res.header.Get("Retry-After") == "" {
		t.Errorf("readyz with a retiring key: %d %s", res.status, res.body)
	}
	if res := f.do(t, http.MethodGet, "/v1/keys", "", nil); !strings.Contains(string(res.body), `"state":"retiring"`) {
		t.Errorf("keys after the switch: %s", res.body)
	}
}

// TestErrors covers every error code of the table with its JSON body.
func TestErrors(t *testing.T) {
	retire := t0.Add(30 * time.Hour)
	tests := []struct {
		name           string
		method, target string
		caller         string
		body           any
		at             time.Time // zero: t0
		status         int
		code, field    string
		message        string // a substring of the message
	}{
		{"bad JSON", "POST", "/v1/urls", "all", `{"path": `, time.Time{}, 400, "bad_request", "", "cut short"},
		{"not JSON", "POST", "/v1/urls", "all", `path=/x`, time.Time{}, 400, "bad_request", "", "invalid JSON"},
		{"empty body", "POST", "/v1/urls", "all", ``, time.Time{}, 400, "bad_request", "", "empty"},
		{"unknown field", "POST", "/v1/urls", "all", `{"path": "/x", "expires": 9}`, time.Time{}, 400, "bad_request", "", `unknown field "expires"`},
		{"trailing data", "POST", "/v1/urls", "all", `{"path": "/x"} {}`, time.Time{}, 400, "bad_request", "", "trailing"},
		{"wrong type", "POST", "/v1/urls", "all", `{"path": 7}`, time.Time{}, 400, "bad_request", "path", "must be a JSON string"},
		{"path and resource", "POST", "/v1/urls", "all", map[string]any{"path": "/x", "resource": "https://media.example.test/x"}, time.Time{}, 400, "bad_request", "path", "not both"},
		{"nothing to sign", "POST", "/v1/urls", "all", map[string]any{}, time.Time{}, 400, "bad_request", "path", "required"},
		{"bad not_before", "POST", "/v1/urls", "all", map[string]any{"path": "/x", "not_before": "tomorrow"}, time.Time{}, 400, "bad_request", "not_before", "RFC 3339"},
		{"not_before after expiry", "POST", "/v1/urls", "all", map[string]any{"path": "/x", "not_before": "2027-01-01T00:00:00Z"}, time.Time{}, 400, "bad_request", "not_before", "not-before"},
		{"IP binding off", "POST", "/v1/urls", "all", map[string]any{"path": "/ebooks/a.pdf", "client_ip": "192.0.2.1"}, time.Time{}, 400, "bad_request", "client_ip", "ip_binding"},
		{"IPv6 binding", "POST", "/v1/urls", "all", map[string]any{"path": "/live/a.ts", "client_ip": "2001:db8::1"}, time.Time{}, 400, "bad_request", "client_ip", "IPv4"},
		{"bad filename", "POST", "/v1/urls", "all", map[string]any{"path": "/ebooks/a.pdf", "filename": "../x"}, time.Time{}, 400, "bad_request", "filename", "separator"},
		{"nested batch", "POST", "/v1/urls", "all", map[string]any{"items": []any{map[string]any{"items": []any{}}}}, time.Time{}, 200, "", "", ""},
		{"empty batch", "POST", "/v1/urls", "all", `{"items": []}`, time.Time{}, 400, "bad_request", "items", "at least one"},
		{"redirect without path", "GET", "/v1/redirect", "all", nil, time.Time{}, 400, "bad_request", "path", "required"},
		{"redirect unknown parameter", "GET", "/v1/redirect?path=/x&ttl=9", "all", nil, time.Time{}, 400, "bad_request", "ttl", "unknown query parameter"},
		{"explain without URL", "POST", "/v1/explain", "all", map[string]any{}, time.Time{}, 400, "bad_request", "url", "required"},
		{"delete without prefix", "DELETE", "/v1/cookies", "all", nil, time.Time{}, 400, "bad_request", "path_prefix", "required"},

		{"no API key", "POST", "/v1/urls", "", map[string]any{"path": "/x"}, time.Time{}, 401, "unauthenticated", "", "Bearer"},
		{"wrong API key", "POST", "/v1/urls", "all.c2VjcmV0", map[string]any{"path": "/x"}, time.Time{}, 401, "unauthenticated", "", "Bearer"},
		{"unknown caller", "POST", "/v1/cookies", "nobody.c2VjcmV0", map[string]any{"path_prefix": "/courses/x/"}, time.Time{}, 401, "unauthenticated", "", "Bearer"},
		{"basic auth", "POST", "/v1/urls", "raw:Basic YWxsOnNlY3JldA==", map[string]any{"path": "/x"}, time.Time{}, 401, "unauthenticated", "", "Bearer"},
		{"redirect without key", "GET", "/v1/redirect?path=/x", "", nil, time.Time{}, 401, "unauthenticated", "", ""},
		{"explain without key", "POST", "/v1/explain", "", map[string]any{"url": "https://media.example.test/x"}, time.Time{}, 401, "unauthenticated", "", ""},

		{"out of scope", "POST", "/v1/urls", "books", map[string]any{"path": "/ebooks/paid/a.pdf"}, time.Time{}, 403, "out_of_scope", "", "caller books may not be granted /ebooks/paid/a.pdf"},
		{"lifetime", "POST", "/v1/urls", "short", map[string]any{"path": "/ebooks/a.pdf"}, time.Time{}, 403, "lifetime_exceeded", "", "needs up to 2h5m0s"},

		{"unknown behavior", "POST", "/v1/urls", "all", map[string]any{"path": "/ebooks/a.pdf", "behavior": "videos"}, time.Time{}, 404, "unknown_behavior", "behavior", `"videos"`},
		{"unknown route", "GET", "/v1/nothing", "all", nil, time.Time{}, 404, "not_found", "", "openapi"},
		{"wrong method", "GET", "/v1/urls", "all", nil, time.Time{}, 405, "method_not_allowed", "", ""},

		{"body too large", "POST", "/v1/urls", "all", `{"path": "/` + strings.Repeat("a", 70<<10) + `"}`, time.Time{}, 413, "too_large", "", "65536"},
		{"batch too large", "POST", "/v1/urls", "all", map[string]any{"items": slices.Repeat([]any{map[string]any{"path": "/x"}}, 6)}, time.Time{}, 413, "too_large", "items", "at most 5"},
		{"signed URL too long", "POST", "/v1/urls", "all", map[string]any{"path": "/live/" + strings.Repeat("a", 6000)}, time.Time{}, 413, "too_large", "", "8192"},

		{"public path", "POST", "/v1/urls", "all", map[string]any{"path": "/public/logo.png"}, time.Time{}, 422, "not_covered", "", `public behavior "public"`},
		{"other host", "POST", "/v1/urls", "all", map[string]any{"resource": "https://evil.example/ebooks/a.pdf"}, time.Time{}, 422, "not_covered", "", "viewer origin"},
		{"wildcard over public", "POST", "/v1/cookies", "all", map[string]any{"resource_pattern": "https://media.example.test/*"}, time.Time{}, 422, "not_covered", "", "narrow the resource"},
		{"cookies for a URL behavior", "POST", "/v1/cookies", "all", map[string]any{"path_prefix": "/ebooks/"}, time.Time{}, 422, "access_mismatch", "", "/v1/urls"},
		{"URL for a cookie behavior", "POST", "/v1/urls", "all", map[string]any{"path": "/courses/go-101/a.ts"}, time.Time{}, 422, "access_mismatch", "", "/v1/cookies"},
		{"behavior mismatch", "POST", "/v1/urls", "all", map[string]any{"path": "/ebooks/a.pdf", "behavior": "live"}, time.Time{}, 422, "behavior_mismatch", "behavior", `"ebooks"`},

		{"no key can sign", "POST", "/v1/urls", "all", map[string]any{"path": "/ebooks/a.pdf"}, retire.Add(-3 * time.Hour), 503, "no_key", "", "no active key"},
		{"no key for cookies", "POST", "/v1/cookies", "all", map[string]any{"path_prefix": "/courses/a/"}, retire.Add(-3 * time.Hour), 503, "no_key", "", "no active key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, retire)
			if !tt.at.IsZero() {
				f.clock.Set(tt.at)
			}
			res := f.do(t, tt.method, tt.target, tt.caller, tt.body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.status == 200 {
				// The nested batch: one item, answered as an error.
				it := res.json["items"].([]any)[0].(map[string]any)
				if it["status"] != float64(400) || it["error"].(map[string]any)["field"] != "items" {
					t.Errorf("nested batch item %v", it)
				}
				return
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			code, field, msg := res.errorBody(t)
			if code != tt.code || field != tt.field || !strings.Contains(msg, tt.message) {
				t.Errorf("error = {%s, %q, %q}, want {%s, %q, …%q…}", code, field, msg, tt.code, tt.field, tt.message)
			}
			if (tt.status == 503 || tt.status == 429) != (res.header.Get("Retry-After") != "") {
				t.Errorf("Retry-After %q on a %d", res.header.Get("Retry-After"), tt.status)
			}
			for _, k := range f.keys {
				_, secret, _ := strings.Cut(k, ".")
				if strings.Contains(string(res.body), secret) {
					t.Error("the response holds an API secret")
				}
			}
		})
	}
}

func TestBearerSchemeCaseInsensitive(t *testing.T) {
	f := newFixture(t, time.Time{})
	res := f.do(t, "POST", "/v1/urls", "raw:bearer "+f.keys["all"], map[string]any{"path": "/ebooks/a.pdf"})
	if res.status != 200 {
		t.Errorf("lower-case bearer: %d %s", res.status, res.body)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, time.Time{})
	body := map[string]any{"path": "/ebooks/a.pdf"}
	if res := f.do(t, "POST", "/v1/urls", "slow", body); res.status != 200 {
		t.Fatalf("first request: %d %s", res.status, res.body)
	}
	res := f.do(t, "POST", "/v1/urls", "slow", body)
	if res.status != 429 || res.header.Get("Retry-After") != "1" {
		t.Fatalf("second request: %d, Retry-After %q: %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	if code, _, _ := res.errorBody(t); code != "rate_limited" {
		t.Errorf("code %s", code)
	}
	f.clock.Set(t0.Add(time.Second))
	if res := f.do(t, "POST", "/v1/urls", "slow", body); res.status != 200 {
		t.Errorf("after a second: %d", res.status)
	}
	// Other callers are not affected.
	f.clock.Set(t0.Add(time.Second))
	if res := f.do(t, "POST", "/v1/urls", "all", body); res.status != 200 {
		t.Errorf("another caller: %d", res.status)
	}
}

// TestScope tries to get credentials outside a caller's scope, beyond its
// lifetime, or for unprotected paths: traversal, double slashes, case
// tricks and wildcard injection. Every attempt must fail with the status
// given, and the one control attempt must succeed.
func TestScope(t *testing.T) {
	f := newFixture(t, time.Time{})
	url := func(caller string, body map[string]any) (string, string, map[string]any) {
		return caller, "/v1/urls", body
	}
	cookie := func(caller string, body map[string]any) (string, string, map[string]any) {
		return caller, "/v1/cookies", body
	}
	tests := []struct {
		name   string
		req    func() (string, string, map[string]any)
		status int
	}{
		{"control: books in scope", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "/ebooks/free/a.pdf"})
		}, 200},
		{"control: course in scope", func() (string, string, map[string]any) {
			return cookie("course", map[string]any{"path_prefix": "/courses/go-101/"})
		}, 200},
		{"other prefix", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "/ebooks/paid/a.pdf"})
		}, 403},
		{"raw traversal", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "/ebooks/free/../paid/a.pdf"})
		}, 400},
		{"encoded traversal", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "/ebooks/free/%2e%2e/paid/a.pdf"})
		}, 400},
		{"upper-case encoded traversal", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "/ebooks/free/%2E%2E/paid/a.pdf"})
		}, 400},
		{"mixed traversal", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "/ebooks/free/.%2e/paid/a.pdf"})
		}, 400},
		{"encoded slash", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "/ebooks/free/..%2fpaid/a.pdf"})
		}, 400},
		{"encoded backslash", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "/ebooks/free/..%5Cpaid/a.pdf"})
		}, 400},
		{"double slash inside", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "/ebooks/free//a.pdf"})
		}, 400},
		{"double slash first", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "//ebooks/free/a.pdf"})
		}, 400},
		{"case trick on prefix", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "/ebooks/FREE/a.pdf"})
		}, 403},
		{"case trick on behavior", func() (string, string, map[string]any) {
			return url("books", map[string]any{"path": "/Ebooks/free/a.pdf"})
		}, 403},
		{"wildcard in URL", func() (string, string, map[string]any) { return url("books", map[string]any{"path": "/ebooks/free/*"}) }, 400},
		{"wildcard resource URL", func() (string, string, map[string]any) {
			return url("books", map[string]any{"resource": "https://media.example.test/ebooks/*"})
		}, 400},
		{"other behavior", func() (string, string, map[string]any) { return url("books", map[string]any{"path": "/live/a.ts"}) }, 403},
		{"public path", func() (string, string, map[string]any) { return url("all", map[string]any{"path": "/public/a.png"}) }, 422},
		{"traversal from public into signed", func() (string, string, map[string]any) {
			return url("all", map[string]any{"path": "/public/../ebooks/a.pdf"})
		}, 400},
		{"host case", func() (string, string, map[string]any) {
			return url("books", map[string]any{"resource": "https://MEDIA.example.test/ebooks/paid/a.pdf"})
		}, 403},
		{"other host", func() (string, string, map[string]any) {
			return url("books", map[string]any{"resource": "https://media.example.test.evil/ebooks/free/a.pdf"})
		}, 422},
		{"userinfo host", func() (string, string, map[string]any) {
			return url("books", map[string]any{"resource": "https://media.example.test@evil/ebooks/free/a.pdf"})
		}, 400},
		{"beyond lifetime", func() (string, string, map[string]any) { return url("short", map[string]any{"path": "/ebooks/a.pdf"}) }, 403},
		{"cookie wildcard widening", func() (string, string, map[string]any) {
			return cookie("course", map[string]any{"resource_pattern": "https://media.example.test/courses/*"})
		}, 403},
		{"cookie prefix sibling", func() (string, string, map[string]any) {
			return cookie("course", map[string]any{"resource_pattern": "https://media.example.test/courses/go-101*"})
		}, 403},
		{"cookie '?' widening", func() (string, string, map[string]any) {
			return cookie("course", map[string]any{"resource_pattern": "https://media.example.test/courses/go-10?/*"})
		}, 403},
		{"cookie wildcard host", func() (string, string, map[string]any) {
			return cookie("course", map[string]any{"resource_pattern": "https://*/courses/go-101/*"})
		}, 422},
		{"cookie wildcard scheme and host", func() (string, string, map[string]any) {
			return cookie("course", map[string]any{"resource_pattern": "http*://media.example.test*/courses/go-101/*"})
		}, 422},
		{"cookie traversal", func() (string, string, map[string]any) {
			return cookie("course", map[string]any{"path_prefix": "/courses/go-101/%2e%2e/"})
		}, 400},
		{"cookie wildcard in prefix", func() (string, string, map[string]any) {
			return cookie("course", map[string]any{"path_prefix": "/courses/*"})
		}, 400},
		{"cookie other course", func() (string, string, map[string]any) {
			return cookie("course", map[string]any{"path_prefix": "/courses/go-102/"})
		}, 403},
		{"cookie double slash", func() (string, string, map[string]any) {
			return cookie("course", map[string]any{"path_prefix": "/courses//go-101/"})
		}, 400},
		{"cookie over everything", func() (string, string, map[string]any) {
			return cookie("all", map[string]any{"resource_pattern": "https://media.example.test/*"})
		}, 422},
		{"cookie reaching two behaviors", func() (string, string, map[string]any) {
			return cookie("all", map[string]any{"resource_pattern": "https://media.example.test/c*"})
		}, 422},
		{"cookie for another behavior", func() (string, string, map[string]any) {
			return cookie("course", map[string]any{"path_prefix": "/ebooks/"})
		}, 422},
	}
	refused := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caller, target, body := tt.req()
			res := f.do(t, http.MethodPost, target, caller, body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.status != 200 {
				refused++
				if _, ok := res.json["url"]; ok {
					t.Error("a refused request got a URL")
				}
				if len(res.header.Values("Set-Cookie")) > 0 {
					t.Error("a refused request set cookies")
				}
			}
		})
	}
	if refused < 20 {
		t.Errorf("only %d refused attempts; the issue asks for at least 20", refused)
	}
}

func TestGracefulClose(t *testing.T) {
	f := newFixture(t, time.Time{})
	srv, err := New(f.is, mustCallers(t), Options{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz %d", resp.StatusCode)
	}
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + srv.Addr() + "/healthz"); err == nil {
		t.Error("the server still answers after Close")
	}
	// A second server on the same port fails at Open, synchronously.
	other, _ := New(f.is, mustCallers(t), Options{Addr: srv.Addr()})
	busy, _ := New(f.is, mustCallers(t), Options{Addr: "127.0.0.1:0"})
	if err := busy.Open(); err != nil {
		t.Fatal(err)
	}
	defer busy.Close(context.Background())
	other.opts.Addr = busy.Addr()
	if err := other.Open(); err == nil {
		t.Error("Open on a busy port succeeded")
	}
}

func mustCallers(t testing.TB) *issuer.Callers {
	cs, err := issuer.NewCallers(nil)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestExplain(t *testing.T) {
	f := newFixture(t, time.Time{})
	issued := f.do(t, "POST", "/v1/urls", "all", map[string]any{"path": "/ebooks/intro.pdf"})
	signed := issued.json["url"].(string)
	sig := mustQuery(t, signed).Get("Signature")

	res := f.do(t, "POST", "/v1/explain", "all", map[string]any{"url": signed})
	if res.status != 200 || res.json["allowed"] != true || res.json["status"] != float64(200) || res.json["behavior"] != "ebooks" || res.json["key_id"] != "KRSA" || res.json["hash"] != "SHA1" {
		t.Fatalf("explain a fresh URL: %d %s", res.status, res.body)
	}
	if p := res.json["policy"].(map[string]any); p["kind"] != "canned" || p["expires_at"] != issued.json["expires_at"] {
		t.Errorf("policy %v", p)
	}

	// After the expiry, CloudFront's AccessDenied with the precise reason.
	exp, _ := time.Parse(time.RFC3339, issued.json["expires_at"].(string))
	f.clock.Set(exp)
	res = f.do(t, "POST", "/v1/explain", "all", map[string]any{"url": signed})
	if res.json["allowed"] != false || res.json["status"] != float64(403) || res.json["code"] != "AccessDenied" || !strings.Contains(res.json["reason"].(string), "expired") {
		t.Errorf("explain an expired URL: %s", res.body)
	}
	// A tampered path.
	f.clock.Set(t0)
	res = f.do(t, "POST", "/v1/explain", "all", map[string]any{"url": strings.Replace(signed, "intro", "other", 1)})
	if res.json["allowed"] != false || res.json["code"] != "AccessDenied" {
		t.Errorf("explain a tampered URL: %s", res.body)
	}
	if strings.Contains(string(res.body), sig) {
		t.Error("explain repeats the Signature")
	}

	// Cookies: allowed for a segment under the prefix, not for another course.
	ck := f.do(t, "POST", "/v1/cookies", "all", map[string]any{"path_prefix": "/courses/go-101/"})
	var header []string
	for _, c := range ck.json["cookies"].([]any) {
		c := c.(map[string]any)
		header = append(header, c["name"].(string)+"="+c["value"].(string))
	}
	cookie := strings.Join(header, "; ")
	res = f.do(t, "POST", "/v1/explain", "all", map[string]any{"url": "https://media.example.test/courses/go-101/seg-001.ts", "cookie": cookie})
	if res.json["allowed"] != true || res.json["mode"] != "signed cookies" || res.json["hash"] != "SHA256" {
		t.Errorf("explain cookies: %s", res.body)
	}
	res = f.do(t, "POST", "/v1/explain", "all", map[string]any{"url": "https://media.example.test/courses/go-102/seg-001.ts", "cookie": cookie})
	if res.json["allowed"] != false || res.json["code"] != "AccessDenied" {
		t.Errorf("explain cookies for another course: %s", res.body)
	}
	for _, h := range header {
		if _, v, _ := strings.Cut(h, "="); len(v) > 20 && strings.Contains(string(res.body), v) {
			t.Error("explain repeats a cookie value")
		}
	}
}

// blockingSigner holds every Sign until released, so a test can have a
// request in flight for certain.
type blockingSigner struct {
	keys.Signer
	entered chan struct{}
	release chan struct{}
}

func (b *blockingSigner) Sign(ctx context.Context, msg []byte, h crypto.Hash) ([]byte, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.Signer.Sign(ctx, msg, h)
}

// TestCloseFinishesInFlight: Close (what SIGTERM triggers) stops accepting
// connections but lets a request that is being served finish with 200.
func TestCloseFinishesInFlight(t *testing.T) {
	bs, _ := policy.ParseBehaviors(strings.NewReader(testBehaviors))
	bsig := &blockingSigner{Signer: testSigner(t, "rsa2048.pem", "KRSA"), entered: make(chan struct{}), release: make(chan struct{})}
	ring, _ := keys.NewRing([]keys.RingKey{{Signer: bsig}}, issuer.LongestLifetime(bs))
	quiet := slog.New(slog.DiscardHandler)
	is, err := issuer.New(ring, bs, issuer.Options{Now: func() time.Time { return t0 }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	key, sum, _ := issuer.NewAPIKey("app")
	cs, _ := issuer.NewCallers([]issuer.Caller{{ID: "app", SecretSHA256: sum}})
	srv, _ := New(is, cs, Options{Addr: "127.0.0.1:0", Logger: quiet})
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+srv.Addr()+"/v1/urls", strings.NewReader(`{"path":"/ebooks/a.pdf"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	<-bsig.entered // the request is being served
	closed := make(chan error, 1)
	go func() { closed <- srv.Close(context.Background()) }()
	// New connections are refused once Close has begun; wait for that
	// by retrying (each try is a connection attempt, not a timer).
	for {
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			break
		}
		c.Close()
		runtime.Gosched()
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a request was in flight", err)
	default:
	}
	close(bsig.release)
	if r := <-done; r.err != nil || r.status != 200 {
		t.Fatalf("in-flight request: %d, %v", r.status, r.err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
}
