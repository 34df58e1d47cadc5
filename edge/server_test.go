package edge

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cfissuer/cfissuer/issuer"
)

// recordingOrigin counts fetches and remembers the queries it was sent.
type recordingOrigin struct {
	Origin
	mu      sync.Mutex
	fetches []string // path?query
}

func (o *recordingOrigin) Fetch(ctx context.Context, path, query string) (*Object, error) {
	o.mu.Lock()
	o.fetches = append(o.fetches, path+"?"+query)
	o.mu.Unlock()
	return o.Origin.Fetch(ctx, path, query)
}

func (o *recordingOrigin) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.fetches)
}

type edgeTest struct {
	f      *fixture
	srv    *Server
	origin *recordingOrigin
	logs   *bytes.Buffer
	now    time.Time
}

func newEdgeTest(t *testing.T) *edgeTest {
	t.Helper()
	f := newFixture(t)
	files := fstest.MapFS{
		"ebooks/intro.pdf":            {Data: []byte("%PDF-1.4 0123456789 the sample ebook"), ModTime: time.Unix(1_700_000_000, 0)},
		"courses/c1/index.m3u8":       {Data: []byte("#EXTM3U\nseg-000.ts\n")},
		"public/site.css":             {Data: []byte("body{}")},
		"assets/a%b.png":              {Data: []byte("png")},
		"ebooks/with space/intro.pdf": {Data: []byte("spaced")},
	}
	et := &edgeTest{f: f, origin: &recordingOrigin{Origin: DirOrigin{FS: files}}, logs: &bytes.Buffer{}, now: time.Unix(testNow, 0)}
	logger := slog.New(slog.NewTextHandler(et.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := NewServer("127.0.0.1:0", f.v, et.origin, ServerOptions{Logger: logger, Now: func() time.Time { return et.now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	et.srv = srv
	return et
}

// get requests a signed URL (viewer form) from the edge, with Host as the
// edge's own address unless host is given.
func (et *edgeTest) do(t *testing.T, method, viewerURL string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	u := et.srv.URL() + strings.TrimPrefix(viewerURL, viewer)
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (et *edgeTest) sign(t *testing.T, u string, exp int64) string {
	t.Helper()
	su, err := issuer.SignURL(bg, et.f.rsa, issuer.URLRequest{URL: u, Expires: time.Unix(exp, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return su.URL
}

func TestServerSignedURL(t *testing.T) {
	et := newEdgeTest(t)
	u1 := et.sign(t, viewer+"/ebooks/intro.pdf", testNow+600)
	resp, body := et.do(t, http.MethodGet, u1, nil)
	if resp.StatusCode != 200 || body != "%PDF-1.4 0123456789 the sample ebook" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	for k, want := range map[string]string{"X-Cache": "Miss from cloudfront", "Cache-Control": "max-age=3600",
		"Last-Modified": "Tue, 14 Nov 2023 22:13:20 GMT", "Content-Type": "application/pdf"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	etag := resp.Header.Get("ETag")
	if len(etag) != 34 {
		t.Errorf("ETag = %q, want an MD5 in quotes", etag)
	}

	// Another signature for the same object: the cache key has no signing
	// parameters, so it is a hit and the origin is not asked again.
	u2 := et.sign(t, viewer+"/ebooks/intro.pdf", testNow+1200)
	resp, _ = et.do(t, http.MethodGet, u2, nil)
	if got := resp.Header.Get("X-Cache"); resp.StatusCode != 200 || got != "Hit from cloudfront" || et.origin.count() != 1 {
		t.Fatalf("second URL: %d %q, origin fetches %d", resp.StatusCode, got, et.origin.count())
	}
	if f := et.origin.fetches[0]; f != "/ebooks/intro.pdf?" {
		t.Errorf("origin request %q carries a query; signing parameters must never reach the origin", f)
	}

	// Range, HEAD and conditional requests are served from the cached object.
	resp, body = et.do(t, http.MethodGet, u1, map[string]string{"Range": "bytes=9-18"})
	if resp.StatusCode != 206 || body != "0123456789" || resp.Header.Get("Content-Range") != "bytes 9-18/36" {
		t.Errorf("range: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	resp, body = et.do(t, http.MethodHead, u1, nil)
	if resp.StatusCode != 200 || body != "" || resp.Header.Get("Content-Length") != "36" {
		t.Errorf("HEAD: %d %q length %q", resp.StatusCode, body, resp.Header.Get("Content-Length"))
	}
	resp, _ = et.do(t, http.MethodGet, u1, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 304 {
		t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
	}

	// Expiry is checked when a request starts: later requests fail.
	et.now = time.Unix(testNow+600, 0)
	resp, body = et.do(t, http.MethodGet, u1, map[string]string{"Range": "bytes=0-1"})
	if resp.StatusCode != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Errorf("expired range request: %d %q", resp.StatusCode, body)
	}

	// Nothing secret in the logs.
	for _, u := range []string{u1, u2} {
		sig := u[strings.Index(u, "Signature=")+10:]
		sig = sig[:strings.IndexByte(sig, '&')]
		if strings.Contains(et.logs.String(), sig) {
			t.Errorf("the log holds a signature:\n%s", et.logs)
		}
	}
}

func TestServerDenials(t *testing.T) {
	et := newEdgeTest(t)
	tests := []struct {
		name, url string
		hdr       map[string]string
		code      string
		cors      string
	}{
		{"unsigned", viewer + "/ebooks/intro.pdf", nil, "MissingKey", ""},
		{"unknown key", viewer + "/ebooks/intro.pdf?Expires=1900000000&Signature=abcd&Key-Pair-Id=KNOPE", nil, "InvalidKey", ""},
		{"bad signature encoding", viewer + "/ebooks/intro.pdf?Expires=1900000000&Signature=a%2Fb=&Key-Pair-Id=" + keyRSA, nil, "MalformedSignature", ""},
		{"403 carries CORS for an allowed origin", viewer + "/courses/c1/index.m3u8", map[string]string{"Origin": "https://app.example.test"}, "MissingKey", "https://app.example.test"},
		{"no CORS for another origin", viewer + "/courses/c1/index.m3u8", map[string]string{"Origin": "https://evil.example.test"}, "MissingKey", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := et.do(t, http.MethodGet, tt.url, tt.hdr)
			want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + tt.code + "</Code><Message>" + Code(tt.code).Message() + "</Message></Error>"
			if resp.StatusCode != 403 || body != want || resp.Header.Get("Content-Type") != "text/xml" {
				t.Fatalf("got %d %q %q, want 403 %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.cors {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.cors)
			}
			if tt.cors != "" && resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Error("no Access-Control-Allow-Credentials")
			}
		})
	}
	if et.origin.count() != 0 {
		t.Errorf("denied requests reached the origin %d times", et.origin.count())
	}
	// A public behavior serves without a signature; POST is refused.
	if resp, body := et.do(t, http.MethodGet, viewer+"/public/site.css", nil); resp.StatusCode != 200 || body != "body{}" {
		t.Errorf("public: %d %q", resp.StatusCode, body)
	}
	if resp, _ := et.do(t, http.MethodPost, viewer+"/public/site.css", nil); resp.StatusCode != 403 {
		t.Errorf("POST: %d, want 403", resp.StatusCode)
	}
}

func TestServerCookiesCORSAndQueryStrings(t *testing.T) {
	et := newEdgeTest(t)
	sc, err := issuer.SignCookies(bg, et.f.ec, issuer.CookieRequest{Resource: viewer + "/courses/c1/*", Expires: time.Unix(testNow+600, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, c := range sc.Cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	hdr := map[string]string{"Cookie": strings.Join(parts, "; "), "Origin": "https://app.example.test", "Host": "media.example.test"}
	resp, body := et.do(t, http.MethodGet, viewer+"/courses/c1/index.m3u8", hdr)
	if resp.StatusCode != 200 || body != "#EXTM3U\nseg-000.ts\n" {
		t.Fatalf("cookies: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.test" || resp.Header.Get("Cache-Control") != "private, max-age=60" {
		t.Errorf("headers: %v", resp.Header)
	}
	// Preflight from the player's site.
	resp, _ = et.do(t, http.MethodOptions, viewer+"/courses/c1/index.m3u8", map[string]string{"Origin": "https://app.example.test", "Access-Control-Request-Method": "GET"})
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}

	// cache_query_strings: forwarded, in the cache key; other parameters
	// are neither.
	cd := "response-content-disposition=attachment%3B%20filename%3D%22a.pdf%22"
	resp, _ = et.do(t, http.MethodGet, et.sign(t, viewer+"/ebooks/intro.pdf?"+cd+"&utm=1", testNow+600), nil)
	if got := resp.Header.Get("Content-Disposition"); resp.StatusCode != 200 || got != `attachment; filename="a.pdf"` || resp.Header.Get("X-Cache") != "Miss from cloudfront" {
		t.Fatalf("disposition: %d %q %q", resp.StatusCode, got, resp.Header.Get("X-Cache"))
	}
	resp, _ = et.do(t, http.MethodGet, et.sign(t, viewer+"/ebooks/intro.pdf?"+cd+"&utm=2", testNow+600), nil)
	if resp.Header.Get("X-Cache") != "Hit from cloudfront" {
		t.Errorf("a parameter outside cache_query_strings split the cache: %q", resp.Header.Get("X-Cache"))
	}
	resp, _ = et.do(t, http.MethodGet, et.sign(t, viewer+"/ebooks/intro.pdf", testNow+600), nil)
	if resp.Header.Get("X-Cache") != "Miss from cloudfront" || resp.Header.Get("Content-Disposition") != "" {
		t.Errorf("no disposition: %q %q", resp.Header.Get("X-Cache"), resp.Header.Get("Content-Disposition"))
	}
	last := et.origin.fetches[len(et.origin.fetches)-2]
	if last != "/ebooks/intro.pdf?"+cd {
		t.Errorf("origin request %q, want only the cache query string", last)
	}
	// A percent-encoded key.
	if resp, body := et.do(t, http.MethodGet, et.sign(t, viewer+"/ebooks/with%20space/intro.pdf", testNow+600), nil); resp.StatusCode != 200 || body != "spaced" {
		t.Errorf("encoded key: %d %q", resp.StatusCode, body)
	}
}
