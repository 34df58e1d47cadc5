package lambdahttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cfissuer/cfissuer/docs"
	"github.com/cfissuer/cfissuer/internal/denylist"
	"github.com/cfissuer/cfissuer/internal/httpapi"
	"github.com/cfissuer/cfissuer/internal/lambdahttp"
	"github.com/cfissuer/cfissuer/internal/links"
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
    {"name": "default", "path_pattern": "*", "access": "public"}
  ]
}`

var t0 = time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)

// server is the issuer API as cmd/cfissuer wires it, on a fixed clock.
type server struct {
	h    http.Handler
	keys map[string]string // caller ID → API key
}

func newServer(t *testing.T) *server {
	t.Helper()
	bs, err := policy.ParseBehaviors(strings.NewReader(testBehaviors))
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile("../../testdata/keys/rsa2048.pem")
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.ParsePrivateKey(pem, nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := keys.NewLocal("KRSA", k)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keys.NewRing([]keys.RingKey{{Signer: signer}}, issuer.LongestLifetime(bs))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := func() time.Time { return t0 }
	is, err := issuer.New(ring, bs, issuer.Options{Now: now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{keys: map[string]string{}}
	var list []issuer.Caller
	for _, c := range []issuer.Caller{{ID: "all", Revoke: true}, {ID: "course", Behaviors: []string{"courses"}, PathPrefixes: []string{"/courses/go-101/"}}} {
		key, sum, err := issuer.NewAPIKey(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		c.SecretSHA256 = sum
		s.keys[c.ID] = key
		list = append(list, c)
	}
	callers, err := issuer.NewCallers(list)
	if err != nil {
		t.Fatal(err)
	}
	lk, err := links.NewKey("L1", bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ring2, err := links.NewKeyring(lk)
	if err != nil {
		t.Fatal(err)
	}
	store, err := links.OpenFileStore(t.TempDir(), links.FileOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := links.New(ring2, store, links.Options{Now: now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	deny, err := denylist.New(denylist.NewMemory(), denylist.Options{Now: now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.New(is, callers, httpapi.Options{Logger: logger, MaxBodyBytes: 4 << 10,
		Links: httpapi.LinkOptions{Manager: mgr, Base: "https://issuer.example.test"}, Deny: deny})
	if err != nil {
		t.Fatal(err)
	}
	s.h = srv.Handler()
	return s
}

// exchange is one request of the shared table.
type exchange struct {
	name    string
	method  string
	target  string // path and query, as sent
	caller  string // API key of this caller; empty: none
	headers map[string]string
	cookies []string // Cookie header values, one cookie each (as the Lambda event carries them)
	body    string
	status  int // what the HTTP server answers
}

// table covers every route of docs/openapi.json (checked by coveredRoutes) and the error paths.
var table = []exchange{
	{name: "healthz", status: 200, method: "GET", target: "/healthz"},
	{name: "readyz", status: 200, method: "GET", target: "/readyz"},
	{name: "metrics", status: 200, method: "GET", target: "/metrics"},
	{name: "openapi", status: 200, method: "GET", target: "/openapi.json"},
	{name: "keys", status: 200, method: "GET", target: "/v1/keys"},
	{name: "url", status: 200, method: "POST", target: "/v1/urls", caller: "all", headers: map[string]string{"content-type": "application/json"},
		body: `{"path":"/ebooks/intro.pdf","filename":"Intro (1).pdf"}`},
	{name: "url with an encoded path", status: 200, method: "POST", target: "/v1/urls", caller: "all",
		body: `{"path":"/ebooks/caf%C3%A9-menu.pdf"}`},
	{name: "url bound to the client IP", status: 200, method: "POST", target: "/v1/urls", caller: "all", body: `{"path":"/live/stream.m3u8"}`},
	{name: "batch", status: 200, method: "POST", target: "/v1/urls", caller: "all",
		body: `{"items":[{"path":"/ebooks/a.pdf"},{"path":"/public/x.css"},{"path":"/ebooks/b.pdf"}]}`},
	{name: "url not covered", status: 422, method: "POST", target: "/v1/urls", caller: "all", body: `{"path":"/nowhere/x"}`},
	{name: "url out of scope", status: 403, method: "POST", target: "/v1/urls", caller: "course", body: `{"path":"/ebooks/intro.pdf"}`},
	{name: "url without a key", status: 401, method: "POST", target: "/v1/urls", body: `{"path":"/ebooks/intro.pdf"}`},
	{name: "url with a bad key", status: 401, method: "POST", target: "/v1/urls", headers: map[string]string{"authorization": "Bearer all.bm90LXRoZS1zZWNyZXQ"},
		body: `{"path":"/ebooks/intro.pdf"}`},
	{name: "bad JSON", status: 400, method: "POST", target: "/v1/urls", caller: "all", body: `{"path":`},
	{name: "body too large", status: 413, method: "POST", target: "/v1/urls", caller: "all", body: `{"path":"/ebooks/` + strings.Repeat("a", 5000) + `"}`},
	{name: "cookies (three Set-Cookie)", status: 200, method: "POST", target: "/v1/cookies", caller: "course", body: `{"path_prefix":"/courses/go-101/"}`},
	{name: "cookies sent back", status: 200, method: "POST", target: "/v1/cookies", caller: "course", cookies: []string{"CloudFront-Key-Pair-Id=KRSA", "session=abc"},
		body: `{"path_prefix":"/courses/go-101/"}`},
	{name: "sign-out", status: 200, method: "DELETE", target: "/v1/cookies?path_prefix=/courses/go-101/", caller: "course"},
	{name: "redirect", status: 303, method: "GET", target: "/v1/redirect?path=/ebooks/intro.pdf&filename=Intro.pdf", caller: "all"},
	{name: "redirect with an encoded query", status: 303, method: "GET", target: "/v1/redirect?path=%2Febooks%2Fcaf%25C3%25A9.pdf", caller: "all"},
	{name: "explain a URL", status: 200, method: "POST", target: "/v1/explain", caller: "all",
		body: `{"url":"https://media.example.test/ebooks/intro.pdf?Expires=1772370000&Signature=abc&Key-Pair-Id=KRSA"}`},
	{name: "explain cookies", status: 200, method: "POST", target: "/v1/explain", caller: "all",
		body: `{"url":"https://media.example.test/courses/go-101/index.m3u8","cookie":"CloudFront-Policy=x; CloudFront-Signature=y; CloudFront-Key-Pair-Id=KRSA"}`},
	// {id} and {token} are those of a link minted before the table runs.
	{name: "mint a link", status: 201, method: "POST", target: "/v1/links", caller: "all", body: `{"path":"/ebooks/intro.pdf","note":"chapter 1"}`},
	{name: "show a link", status: 200, method: "GET", target: "/v1/links/{id}", caller: "all"},
	{name: "follow a link", status: 303, method: "GET", target: "/l/{token}"},
	{name: "follow a forged link", status: 404, method: "GET", target: "/l/AAAAforged"},
	{name: "revoke a link", status: 200, method: "DELETE", target: "/v1/links/{id}", caller: "all"},
	{name: "follow a revoked link", status: 410, method: "GET", target: "/l/{token}"},
	{name: "revoke a grant", status: 200, method: "POST", target: "/v1/grants/g0123456789abcdef0123/revoke", caller: "all"},
	{name: "revoke a bad grant ID", status: 400, method: "POST", target: "/v1/grants/nope/revoke", caller: "all"},
	{name: "revoke a subject", status: 200, method: "POST", target: "/v1/subjects/user-42/revoke", caller: "all"},
	{name: "revoke without the right", status: 403, method: "POST", target: "/v1/subjects/user-42/revoke", caller: "course"},
	{name: "unknown route", status: 404, method: "GET", target: "/v2/nothing"},
	{name: "wrong method", status: 405, method: "PUT", target: "/v1/urls", caller: "all"},
}

// coveredRoutes fails the test unless every operation of docs/openapi.json has a row in table.
func coveredRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\\\{[^}]+\\\}`)
	for p, ops := range doc.Paths {
		re := regexp.MustCompile("^" + param.ReplaceAllString(regexp.QuoteMeta(p), "[^/?]+") + `(\?|$)`)
		for op := range ops {
			found := slices.ContainsFunc(table, func(e exchange) bool {
				return strings.EqualFold(e.method, op) && re.MatchString(e.target)
			})
			if !found {
				t.Errorf("%s %s (docs/openapi.json) has no row in the Lambda parity table", strings.ToUpper(op), p)
			}
		}
	}
}

// answer is a response reduced to what a client sees, whatever the transport.
type answer struct {
	status  int
	headers map[string]string // canonical name → values joined with ", "; without Set-Cookie
	cookies []string          // Set-Cookie, in order
	body    []byte
}

// volatile are the headers the transport, not the handler, writes: net/http's server adds Date and
// Content-Length, and Lambda's front end adds its own.
var volatile = map[string]bool{"Date": true, "Content-Length": true}

func fromHTTP(t *testing.T, srv *httptest.Server, s *server, e exchange) answer {
	t.Helper()
	req, err := http.NewRequest(e.method, srv.URL+e.target, strings.NewReader(e.body))
	if err != nil {
		t.Fatal(err)
	}
	if e.body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, v := range e.headers {
		req.Header.Set(k, v)
	}
	if e.caller != "" {
		req.Header.Set("Authorization", "Bearer "+s.keys[e.caller])
	}
	if len(e.cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(e.cookies, "; "))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, headers: map[string]string{}, cookies: resp.Header.Values("Set-Cookie"), body: body}
	for k, vs := range resp.Header {
		if k != "Set-Cookie" && !volatile[k] {
			a.headers[k] = strings.Join(vs, ", ")
		}
	}
	return a
}

// event fills a recorded event with the exchange, as Lambda would deliver it: header names in lower
// case, cookies in their own list, a body in base64 when it is not text (the front ends encode
// binary bodies), and for a named API Gateway stage the stage in front of the raw path.
func event(t *testing.T, file, stage string, s *server, e exchange) events.APIGatewayV2HTTPRequest {
	t.Helper()
	data, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	path, query, _ := strings.Cut(e.target, "?")
	if stage != "" {
		ev.RequestContext.Stage = stage
		if stage != "$default" {
			path = "/" + stage + path
		}
	}
	ev.RawPath, ev.RawQueryString = path, query
	ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = e.method, path
	ev.RequestContext.HTTP.SourceIP = "127.0.0.1" // the address the HTTP server sees, so IP-bound URLs agree
	ev.QueryStringParameters = nil                // derived by Lambda; the adapter reads rawQueryString
	ev.Headers = map[string]string{"host": ev.RequestContext.DomainName, "user-agent": "Go-http-client/1.1"}
	for k, v := range e.headers {
		ev.Headers[strings.ToLower(k)] = v
	}
	if e.caller != "" {
		ev.Headers["authorization"] = "Bearer " + s.keys[e.caller]
	}
	ev.Cookies = e.cookies
	ev.Body, ev.IsBase64Encoded = "", false
	if e.body != "" {
		ev.Headers["content-length"] = strconv.Itoa(len(e.body))
		// Alternate plain and base64 bodies: the adapter must decode the latter.
		if len(e.body)%2 == 0 {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(e.body)), true
		} else {
			ev.Body = e.body
		}
	}
	// Through JSON, as Lambda delivers it.
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var out events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func fromLambda(t *testing.T, h *lambdahttp.Handler, ev events.APIGatewayV2HTTPRequest) answer {
	t.Helper()
	resp, err := h.Invoke(context.Background(), ev)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	// Through JSON, as Lambda reads it.
	raw, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var r events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	a := answer{status: r.StatusCode, headers: map[string]string{}, cookies: r.Cookies, body: []byte(r.Body)}
	if r.IsBase64Encoded {
		if a.body, err = base64.StdEncoding.DecodeString(r.Body); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.MultiValueHeaders) > 0 {
		t.Errorf("multiValueHeaders is not part of payload format 2.0: %v", r.MultiValueHeaders)
	}
	for k, v := range r.Headers {
		if volatile[k] {
			t.Errorf("the adapter wrote %s, which Lambda's front end sets", k)
		}
		a.headers[k] = v
	}
	return a
}

// metricFamilies keeps the # HELP and # TYPE lines of a Prometheus exposition: the samples move with
// every request (counters, latency histograms, series that appear on first use), so /metrics is
// compared by the families it describes.
func metricFamilies(body []byte) []byte {
	var keep []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "# ") {
			keep = append(keep, l)
		}
	}
	return []byte(strings.Join(keep, "\n"))
}

// linkID and linkToken match a freshly minted link's random ID and its token (the "mint a link" row
// mints a new one through each transport).
var (
	linkID    = regexp.MustCompile(`l-[a-zA-Z0-9]{26}`)
	linkToken = regexp.MustCompile(`/l/[A-Za-z0-9_-]+`)
)

func normalize(e exchange, a answer) answer {
	if e.name == "mint a link" {
		a.body = linkToken.ReplaceAll(linkID.ReplaceAll(a.body, []byte("l-ID")), []byte("/l/TOKEN"))
		a.headers["Location"] = linkID.ReplaceAllString(a.headers["Location"], "l-ID")
	}
	if e.target == "/metrics" {
		a.body = metricFamilies(a.body)
	}
	return a
}

func TestParity(t *testing.T) {
	coveredRoutes(t)
	s := newServer(t)
	srv := httptest.NewServer(s.h)
	defer srv.Close()
	h, err := lambdahttp.New(s.h)
	if err != nil {
		t.Fatal(err)
	}
	transports := []struct{ name, file, stage string }{
		{"function URL", "function-url-request.json", ""},
		{"API Gateway $default stage", "apigw-v2-request.json", "$default"},
		{"API Gateway named stage", "apigw-v2-request.json", "prod"},
	}
	id, token := mint(t, s)
	sawCookies := false
	for _, e := range table {
		e.target = strings.NewReplacer("{id}", id, "{token}", token).Replace(e.target)
		t.Run(e.name, func(t *testing.T) {
			want := normalize(e, fromHTTP(t, srv, s, e))
			if want.status != e.status {
				t.Errorf("HTTP server: status %d, want %d (the row no longer tests what it says)", want.status, e.status)
			}
			if len(want.cookies) >= 3 {
				sawCookies = true
			}
			for _, tr := range transports {
				got := normalize(e, fromLambda(t, h, event(t, tr.file, tr.stage, s, e)))
				if got.status != want.status {
					t.Errorf("%s: status %d, HTTP server %d", tr.name, got.status, want.status)
				}
				for k := range mergeKeys(got.headers, want.headers) {
					if got.headers[k] != want.headers[k] {
						t.Errorf("%s: header %s = %q, HTTP server %q", tr.name, k, got.headers[k], want.headers[k])
					}
				}
				if !slices.Equal(got.cookies, want.cookies) {
					t.Errorf("%s: cookies\n got %q\nwant %q", tr.name, got.cookies, want.cookies)
				}
				if !bytes.Equal(got.body, want.body) {
					t.Errorf("%s: body\n got %s\nwant %s", tr.name, got.body, want.body)
				}
			}
		})
	}
	if !sawCookies {
		t.Error("no row answered with several Set-Cookie headers: the cookie path is untested")
	}
}

func mergeKeys(a, b map[string]string) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// mint makes the link that the table's {id} and {token} stand for.
func mint(t *testing.T, s *server) (id, token string) {
	t.Helper()
	req := httptest.NewRequest("POST", "/v1/links", strings.NewReader(`{"path":"/ebooks/linked.pdf","filename":"Linked.pdf"}`))
	req.Header.Set("Authorization", "Bearer "+s.keys["all"])
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	var out struct{ ID, Link string }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusCreated {
		t.Fatalf("mint: %d %s", rec.Code, rec.Body)
	}
	_, token, ok := strings.Cut(out.Link, "/l/")
	if !ok || !linkID.MatchString(out.ID) {
		t.Fatalf("mint: id %q, link %q", out.ID, out.Link)
	}
	return out.ID, token
}
