package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// TestEndToEnd starts the issuer and the local edge on port 0 with the
// example behaviors and one clock, issues a URL and cookies over HTTP,
// fetches through the edge (200), then moves the clock to the expiry (403).
func TestEndToEnd(t *testing.T) {
	for _, k := range []struct{ file, id string }{{"rsa2048.pem", "KRSA"}, {"ec-p256.pem", "KECDSA"}} {
		t.Run(k.id, func(t *testing.T) { endToEnd(t, k.file, k.id) })
	}
}

func endToEnd(t *testing.T, keyFile, keyID string) {
	f, err := os.Open("../../examples/behaviors.json")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := policy.ParseBehaviors(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	clock := &clock{t: time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)}
	s := testSigner(t, keyFile, keyID)
	ring, err := keys.NewRing([]keys.RingKey{{Signer: s}}, issuer.LongestLifetime(bs))
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	is, err := issuer.New(ring, bs, issuer.Options{Now: clock.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	apiKey, sum, _ := issuer.NewAPIKey("app")
	callers, _ := issuer.NewCallers([]issuer.Caller{{ID: "app", SecretSHA256: sum}})
	api, err := New(is, callers, Options{Addr: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Open(); err != nil {
		t.Fatal(err)
	}
	defer api.Close(context.Background())
	v, err := edge.NewVerifier(bs, []edge.Key{{ID: keyID, Public: s.Public()}}, edge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := edge.NewServer("127.0.0.1:0", v, edge.DirOrigin{FS: edge.SampleContent()}, edge.ServerOptions{Now: clock.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := ed.Open(); err != nil {
		t.Fatal(err)
	}
	defer ed.Close()

	post := func(path, body string, out any) http.Header {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+api.Addr()+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, data)
		}
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatal(err)
		}
		return resp.Header
	}
	fetch := func(rawURL, cookie string) (int, string) {
		t.Helper()
		// The edge takes any Host as the viewer origin's.
		u := ed.URL() + strings.TrimPrefix(rawURL, bs.ViewerOrigin)
		req, _ := http.NewRequest("GET", u, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}

	var u struct {
		URL       string `json:"url"`
		ExpiresAt string `json:"expires_at"`
	}
	post("/v1/urls", `{"path": "/ebooks/intro.pdf", "filename": "Introduction to Go.pdf"}`, &u)
	var c struct {
		CookieHeader string `json:"cookie_header"`
		ExpiresAt    string `json:"expires_at"`
	}
	h := post("/v1/cookies", `{"path_prefix": "/courses/go-101/"}`, &c)
	if len(h.Values("Set-Cookie")) == 0 {
		t.Error("no Set-Cookie headers")
	}

	if status, body := fetch(u.URL, ""); status != 200 || !strings.HasPrefix(body, "%PDF") {
		t.Fatalf("signed URL through the edge: %d %s", status, body)
	}
	for _, p := range []string{"/courses/go-101/index.m3u8", "/courses/go-101/seg-000.ts"} {
		if status, body := fetch(bs.ViewerOrigin+p, c.CookieHeader); status != 200 {
			t.Fatalf("%s with cookies: %d %s", p, status, body)
		}
	}
	if status, _ := fetch(bs.ViewerOrigin+"/courses/go-101/index.m3u8", ""); status != 403 {
		t.Errorf("playlist without cookies: %d, want 403", status)
	}

	urlExp, _ := time.Parse(time.RFC3339, u.ExpiresAt)
	cookieExp, _ := time.Parse(time.RFC3339, c.ExpiresAt)
	clock.Set(cookieExp) // the cookies' window (10 min) ends first
	if status, body := fetch(bs.ViewerOrigin+"/courses/go-101/seg-001.ts", c.CookieHeader); status != 403 || !strings.Contains(body, "AccessDenied") {
		t.Errorf("cookies after expiry: %d %s", status, body)
	}
	if status, _ := fetch(u.URL, ""); status != 200 {
		t.Errorf("the URL before its own expiry: %d, want 200", status)
	}
	clock.Set(urlExp)
	if status, body := fetch(u.URL, ""); status != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Errorf("URL after expiry: %d %s", status, body)
	}
}
