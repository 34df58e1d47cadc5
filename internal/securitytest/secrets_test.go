package securitytest

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestNoSecretsInLogs drives every endpoint, successes and refusals, with
// the service logging at debug level, then scans the whole log and every
// error response for secrets: the private key (each line of its PEM body
// and its DER in base64), every API key and its secret half, and every
// Signature, Policy and cookie value the run issued.
func TestNoSecretsInLogs(t *testing.T) {
	s := newService(t, serviceOptions{})
	var secrets []string
	for _, line := range strings.Split(string(s.pemKey), "\n") {
		if len(line) >= 32 && !strings.HasPrefix(line, "-----") {
			secrets = append(secrets, line)
		}
	}
	for _, k := range s.apiKeys {
		_, secret, _ := strings.Cut(k, ".")
		secrets = append(secrets, k, secret)
	}
	var errorBodies []string
	var issued int
	collect := func(status int, body []byte, loc string) {
		if status >= 400 {
			errorBodies = append(errorBodies, string(body))
			return
		}
		var out struct {
			URL     string
			Items   []struct{ URL string }
			Cookies []struct{ Value string }
		}
		json.Unmarshal(body, &out)
		urls := []string{out.URL, loc}
		for _, it := range out.Items {
			urls = append(urls, it.URL)
		}
		for _, u := range urls {
			if p, err := url.Parse(u); err == nil && u != "" {
				for _, name := range []string{"Signature", "Policy"} {
					if v := p.Query().Get(name); v != "" {
						secrets = append(secrets, v)
						issued++
					}
				}
			}
		}
		for _, c := range out.Cookies {
			if len(c.Value) > 16 {
				secrets = append(secrets, c.Value)
				issued++
			}
		}
	}
	all, course := s.apiKeys["all"], s.apiKeys["course"]
	requests := []struct{ method, target, key, body string }{
		{"POST", "/v1/urls", all, `{"path": "/ebooks/a.pdf", "filename": "A.pdf"}`},
		{"POST", "/v1/urls", all, `{"path": "/live/a.ts", "client_ip": "192.0.2.1"}`},
		{"POST", "/v1/urls", all, `{"items": [{"path": "/ebooks/b.pdf"}, {"path": "/public/x"}, {"path": "/live/b.ts", "not_before": "2026-03-01T12:00:00Z"}]}`},
		{"POST", "/v1/cookies", course, `{"path_prefix": "/courses/go-101/"}`},
		{"POST", "/v1/cookies", all, `{"resource_pattern": "https://media.example.test/courses/go-102/*"}`},
		{"DELETE", "/v1/cookies?path_prefix=/courses/go-101/", course, ``},
		{"GET", "/v1/redirect?path=/ebooks/c.pdf", all, ``},
		{"GET", "/v1/keys", "", ``},
		{"GET", "/healthz", "", ``},
		{"GET", "/readyz", "", ``},
		{"GET", "/metrics", "", ``},
		{"GET", "/openapi.json", "", ``},
		// refusals, some carrying secrets in the request itself
		{"POST", "/v1/urls", all + "x", `{"path": "/ebooks/a.pdf"}`},
		{"POST", "/v1/urls", course, `{"path": "/ebooks/a.pdf"}`},
		{"POST", "/v1/urls", all, `{"path": "/public/a"}`},
		{"POST", "/v1/urls", all, `{"path": "/ebooks/a.pdf", "behavior": "nope"}`},
		{"POST", "/v1/urls", all, `{"path": `},
	}
	for _, r := range requests {
		status, hdr, body := s.do(r.method, r.target, r.key, strings.NewReader(r.body))
		if status >= 500 {
			t.Errorf("%s %s: %d %s", r.method, r.target, status, body)
		}
		collect(status, body, hdr.Get("Location"))
	}
	// Send issued credentials back as input: to explain, and as bad input.
	for _, sec := range append([]string(nil), secrets...) {
		for _, r := range []struct{ method, target, body string }{
			{"POST", "/v1/explain", `{"url": "https://media.example.test/ebooks/a.pdf?Policy=` + sec + `&Signature=` + sec + `&Key-Pair-Id=KTEST"}`},
			{"POST", "/v1/urls", `{"path": "/ebooks/a.pdf?x=` + sec + `", "behavior": "nope"}`},
		} {
			status, hdr, body := s.do(r.method, r.target, all, strings.NewReader(r.body))
			if status >= 500 {
				t.Errorf("%s %s: %d %s", r.method, r.target, status, body)
			}
			collect(status, body, hdr.Get("Location"))
		}
	}
	if issued < 8 {
		t.Fatalf("only %d credentials issued: the scan has little to look for", issued)
	}
	log := s.log.String()
	if !strings.Contains(log, `"level":"INFO"`) || !strings.Contains(log, `"msg":"issued"`) {
		t.Fatalf("the debug log is missing the issuance lines:\n%.2000s", log)
	}
	der := base64.StdEncoding.EncodeToString([]byte(s.pemKey))
	secrets = append(secrets, der[:40])
	found := 0
	for _, sec := range secrets {
		for where, text := range map[string]string{"log": log, "error responses": strings.Join(errorBodies, "\n")} {
			if strings.Contains(text, sec) {
				found++
				if found <= 5 {
					t.Errorf("the %s hold a secret %.12s…", where, sec)
				}
			}
		}
	}
	if m := regexp.MustCompile(`PRIVATE KEY|"(Signature|Policy|CloudFront-Signature|CloudFront-Policy)"\s*:`).FindString(log); m != "" {
		t.Errorf("the log names a secret field: %s", m)
	}
	report(t, "secrets", "%d secrets (key lines, API keys, %d signatures/policies/cookie values) searched in %d bytes of debug log and %d error bodies: %d found",
		len(secrets), issued, len(log), len(errorBodies), found)
}
