package securitytest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBadInput sends malformed requests to a listening server (the real
// net/http stack: body limits, header limits, chunked bodies) and requires
// for each its 4xx with a JSON error whose message names the problem:
// never a 5xx, never a panic, never a credential, nothing signed.
func TestBadInput(t *testing.T) {
	s := newService(t, serviceOptions{})
	if err := s.srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.srv.Close(context.Background()) })
	base := "http://" + s.srv.Addr()
	all := s.apiKeys["all"]

	batch := func(n int) string {
		return `{"items":[` + strings.TrimSuffix(strings.Repeat(`{"path":"/ebooks/a.pdf"},`, n), ",") + `]}`
	}
	tests := []struct {
		name, method, target, body string
		status                     int
		want                       string // a substring of the message (or of the body for plain answers)
	}{
		// JSON itself
		{"invalid JSON", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf"`, 400, "cut short"},
		{"garbage", "POST", "/v1/urls", `<xml/>`, 400, "invalid JSON"},
		{"JSON array", "POST", "/v1/urls", `[{"path": "/ebooks/a.pdf"}]`, 400, "array"},
		{"JSON null", "POST", "/v1/urls", `null`, 400, "path"},
		{"empty body", "POST", "/v1/cookies", ``, 400, "empty"},
		{"trailing object", "POST", "/v1/cookies", `{"path_prefix":"/courses/a/"}{"path_prefix":"/"}`, 400, "trailing"},
		{"invalid UTF-8 in a string", "POST", "/v1/urls", "{\"path\": \"/ebooks/\xff.pdf\"}", 400, "UTF-8"},
		{"deep nesting", "POST", "/v1/urls", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), 400, "JSON"},
		// types and fields
		{"path as number", "POST", "/v1/urls", `{"path": 7}`, 400, "must be a JSON string"},
		{"path as array", "POST", "/v1/urls", `{"path": ["/a"]}`, 400, "must be a JSON string"},
		{"items as object", "POST", "/v1/urls", `{"items": {"path": "/a"}}`, 400, "items"},
		{"client_ip as number", "POST", "/v1/urls", `{"path": "/live/a.ts", "client_ip": 3232235521}`, 400, "client_ip"},
		{"behavior as bool", "POST", "/v1/cookies", `{"path_prefix": "/courses/a/", "behavior": true}`, 400, "behavior"},
		{"unknown field", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "expires": 4102444800}`, 400, `unknown field "expires"`},
		{"unknown field in an item", "POST", "/v1/urls", `{"items": [{"path": "/ebooks/a.pdf", "ttl": 9}]}`, 400, `unknown field "ttl"`},
		{"unknown cookie field", "POST", "/v1/cookies", `{"path_prefix": "/courses/a/", "max_age": 1}`, 400, `unknown field "max_age"`},
		// not_before
		{"not_before not a time", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "not_before": "tomorrow"}`, 400, "RFC 3339"},
		{"not_before as epoch", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "not_before": 1767225600}`, 400, "not_before"},
		{"not_before month 13", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "not_before": "2026-13-01T00:00:00Z"}`, 400, "RFC 3339"},
		{"not_before year 9999", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "not_before": "9999-12-31T23:59:59Z"}`, 400, "not_before"},
		{"not_before year 1", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "not_before": "0001-01-01T00:00:00Z"}`, 400, "not_before"},
		{"not_before after expiry", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "not_before": "2026-03-02T00:00:00Z"}`, 400, "not-before"},
		// filename
		{"filename traversal", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "filename": "../../etc/passwd"}`, 400, "separator"},
		{"filename backslash", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "filename": "..\\a.pdf"}`, 400, "separator"},
		{"filename CRLF", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "filename": "a\r\nSet-Cookie: x=1"}`, 400, "control"},
		{"filename NUL", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "filename": "a\u0000.pdf"}`, 400, "control"},
		{"filename dot-dot", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "filename": ".."}`, 400, "not a file name"},
		{"filename 300 bytes", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "filename": "` + strings.Repeat("a", 300) + `"}`, 400, "255"},
		{"filename on a behavior without it", "POST", "/v1/urls", `{"path": "/live/a.ts", "filename": "a.ts"}`, 400, "cache_query_strings"},
		// IP conditions
		{"IPv6 client_ip", "POST", "/v1/urls", `{"path": "/live/a.ts", "client_ip": "2001:db8::1"}`, 400, "IPv4"},
		{"IPv4-mapped IPv6", "POST", "/v1/urls", `{"path": "/live/a.ts", "client_ip": "::ffff:192.0.2.1"}`, 400, "client_ip"},
		{"bad CIDR", "POST", "/v1/urls", `{"path": "/live/a.ts", "client_ip": "192.0.2.1/33"}`, 400, "client_ip"},
		{"octet 300", "POST", "/v1/urls", `{"path": "/live/a.ts", "client_ip": "192.0.2.300"}`, 400, "client_ip"},
		{"IP without binding", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "client_ip": "192.0.2.1"}`, 400, "ip_binding"},
		// behaviors
		{"unknown behavior", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "behavior": "videos"}`, 404, `"videos"`},
		{"behavior mismatch", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf", "behavior": "live"}`, 422, `"ebooks"`},
		{"public path", "POST", "/v1/urls", `{"path": "/public/logo.png"}`, 422, "public"},
		// paths and resources
		{"reserved query Signature", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf?Signature=x"}`, 400, "Signature"},
		{"reserved query Policy", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf?a=1&Policy=x"}`, 400, "Policy"},
		{"reserved query Key-Pair-Id", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf?Key-Pair-Id=K"}`, 400, "Key-Pair-Id"},
		{"grant ID query", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf?gid=x"}`, 400, "gid"},
		{"control character in path", "POST", "/v1/urls", `{"path": "/ebooks/a\u0001.pdf"}`, 400, "path"},
		{"tab in cookie prefix", "POST", "/v1/cookies", `{"path_prefix": "/courses/a\tb/"}`, 400, "path_prefix"},
		{"semicolon in cookie prefix", "POST", "/v1/cookies", `{"path_prefix": "/courses/a;b/"}`, 400, "cookie Path"},
		{"dot segment", "POST", "/v1/urls", `{"path": "/ebooks/../paid/a.pdf"}`, 400, "path"},
		{"encoded slash", "POST", "/v1/urls", `{"path": "/ebooks/a%2Fb.pdf"}`, 400, "encoded"},
		{"double slash", "POST", "/v1/urls", `{"path": "/ebooks//a.pdf"}`, 400, "//"},
		{"fragment", "POST", "/v1/urls", `{"path": "/ebooks/a.pdf#x"}`, 400, "path"},
		{"relative path", "POST", "/v1/urls", `{"path": "ebooks/a.pdf"}`, 400, "must start with '/'"},
		{"wildcard in a URL", "POST", "/v1/urls", `{"path": "/ebooks/*"}`, 400, "cookies"},
		{"resource on another host", "POST", "/v1/urls", `{"resource": "https://evil.example/ebooks/a.pdf"}`, 422, "viewer origin"},
		{"resource with userinfo", "POST", "/v1/urls", `{"resource": "https://user@media.example.test/ebooks/a.pdf"}`, 400, "resource"},
		{"ftp resource", "POST", "/v1/urls", `{"resource": "ftp://media.example.test/ebooks/a.pdf"}`, 400, "http"},
		{"wildcard prefix", "POST", "/v1/cookies", `{"path_prefix": "/courses/*/"}`, 400, "resource_pattern"},
		{"10 MB resource", "POST", "/v1/urls", `{"resource": "https://media.example.test/ebooks/` + strings.Repeat("a", 10<<20) + `"}`, 413, "at most"},
		{"10,000-item batch", "POST", "/v1/urls", batch(10000), 413, "at most 1000"},
		{"URL over 8,192 bytes", "POST", "/v1/urls", `{"path": "/ebooks/` + strings.Repeat("a", 9000) + `"}`, 413, "8192"},
		// queries and methods
		{"redirect control char", "GET", "/v1/redirect?path=%2Febooks%2Fa%0D%0ALocation:%20x", "", 400, "path"},
		{"redirect unknown parameter", "GET", "/v1/redirect?path=/ebooks/a.pdf&expires=9", "", 400, "unknown query parameter"},
		{"clear cookies without prefix", "DELETE", "/v1/cookies", "", 400, "path_prefix"},
		{"wrong method", "PUT", "/v1/urls", `{}`, 405, "method"},
		{"no such endpoint", "POST", "/v1/url", `{}`, 404, "openapi"},
	}
	if len(tests) < 40 {
		t.Fatalf("only %d cases", len(tests))
	}
	client := &http.Client{}
	signsBefore := s.signs()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.signs()
			defer func() {
				// Only the length of a signed URL is known after signing.
				if n := s.signs() - before; n != 0 && tt.name != "URL over 8,192 bytes" {
					t.Errorf("%d signing operations for bad input", n)
				}
			}()
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, base+tt.target, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+all)
			res, err := client.Do(req)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.300s", res.StatusCode, tt.status, got)
			}
			var e struct {
				Error struct{ Code, Message, Field string }
			}
			if err := json.Unmarshal(got, &e); err != nil || e.Error.Code == "" {
				t.Fatalf("not a JSON error: %.300s", got)
			}
			if !strings.Contains(e.Error.Message+" "+e.Error.Field, tt.want) {
				t.Errorf("message %q (field %q) does not name %q", e.Error.Message, e.Error.Field, tt.want)
			}
			if len(got) > 16<<10 {
				t.Errorf("a %d-byte error body echoes the input", len(got))
			}
			if credentialRE.Match(got) || len(res.Header.Values("Set-Cookie")) > 0 || res.Header.Get("Location") != "" {
				t.Errorf("a refusal carries a credential: %.300s %v", got, res.Header)
			}
		})
	}
	if strings.Contains(s.log.String(), "panic") {
		t.Errorf("the log has a panic:\n%s", s.log.String())
	}
	// Past the body: a header block over the server's limit, and a body
	// that never ends, are 4xx too.
	req, _ := http.NewRequest("POST", base+"/v1/urls", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+all)
	req.Header.Set("X-Big", strings.Repeat("a", 200<<10))
	if res, err := client.Do(req); err != nil || res.StatusCode < 400 || res.StatusCode >= 500 {
		t.Errorf("200 KiB header: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"path":"/ebooks/`))
		chunk := []byte(strings.Repeat("a", 64<<10))
		for range 40 { // 2.5 MiB, chunked, no Content-Length
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ = http.NewRequest("POST", base+"/v1/urls", pr)
	req.Header.Set("Authorization", "Bearer "+all)
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("chunked body: %v", err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	pr.Close()
	if res.StatusCode != 413 {
		t.Errorf("chunked 2.5 MiB body: %d %s", res.StatusCode, got)
	}
	report(t, "bad input", "%d malformed requests: every one a 4xx naming the problem, %d signatures (the URL over 8,192 bytes)", len(tests)+2, s.signs()-signsBefore)
	_ = fmt.Sprint
}
