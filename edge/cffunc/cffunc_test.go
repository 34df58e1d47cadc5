package cffunc_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/edge/cffunc"
	"github.com/cfissuer/cfissuer/internal/denylist"
	"github.com/cfissuer/cfissuer/policy"
	"github.com/cfissuer/cfissuer/terraform/functions"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// TestSize: CloudFront refuses a function over its size quota.
func TestSize(t *testing.T) {
	if n := len(functions.Deny); n > functions.MaxSize {
		t.Errorf("deny.js is %d bytes, CloudFront's limit is %d", n, functions.MaxSize)
	} else {
		t.Logf("deny.js: %d of %d bytes", n, functions.MaxSize)
	}
}

func newFunction(t *testing.T, entries map[string]string) *cffunc.Function {
	t.Helper()
	store := denylist.NewMemory()
	store.Update(t.Context(), entries, nil)
	f, err := cffunc.New(functions.Deny, store, cffunc.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// policyCookie is a CloudFront-Policy cookie value for a custom policy.
func policyCookie(t *testing.T, notBefore time.Time) string {
	p := policy.Policy{Kind: policy.Custom, Resource: "https://media.example.com/courses/go-101/*", Expires: now.Add(time.Hour), NotBefore: notBefore}
	raw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(policy.AppendBase64(nil, raw))
}

// TestRecordedEvents runs the shipped source on CloudFront Function event
// objects of the documented shape, malformed ones included: it must never
// throw, and deny exactly when a key of the request is in the store and
// not yet past.
func TestRecordedEvents(t *testing.T) {
	until := strconv.FormatInt(now.Add(time.Hour).Unix(), 10)
	past := strconv.FormatInt(now.Unix(), 10) // on the boundary: no longer denies
	grant := policy.URLGrantID("", "https://media.example.com/ebooks/a.pdf", now.Add(time.Hour))
	subject := policy.SubjectKey("user-42")
	sig := "Qm9ndXNTaWduYXR1cmU~"
	store := map[string]string{
		grant:                        until,
		subject:                      until,
		policy.CookieGrantID(sig):    until,
		"g00000000000000000past":     past,
		"g0000000000000000000bad":    "soon",
		policy.SubjectKey("expired"): past,
	}
	f := newFunction(t, store)
	urlReq := func(gid string) string {
		return `{"version":"1.0","context":{"eventType":"viewer-request"},"viewer":{"ip":"192.0.2.1"},
		"request":{"method":"GET","uri":"/ebooks/a.pdf","headers":{"host":{"value":"media.example.com"}},"cookies":{},
		"querystring":{"gid":{"value":"` + gid + `"},"Expires":{"value":"1772370000"},"Signature":{"value":"x"},"Key-Pair-Id":{"value":"K"}}}}`
	}
	cookieReq := func(cookies string) string {
		return `{"version":"1.0","context":{"eventType":"viewer-request"},"viewer":{"ip":"192.0.2.1"},
		"request":{"method":"GET","uri":"/courses/go-101/index.m3u8","headers":{},"querystring":{},"cookies":` + cookies + `}}`
	}
	otherSubject := policyCookie(t, policy.SubjectNotBefore("user-7"))
	for _, tc := range []struct {
		name  string
		event string
		deny  bool
	}{
		{"url, revoked grant", urlReq(grant), true},
		{"url, other grant", urlReq("g11111111111111111111"), false},
		{"url, revoked subject", urlReq("g11111111111111111111." + subject), true},
		{"url, other subject", urlReq("g11111111111111111111." + policy.SubjectKey("user-7")), false},
		{"url, entry past its time", urlReq("g00000000000000000past"), false},
		{"url, subject entry past its time", urlReq("g1." + policy.SubjectKey("expired")), false},
		{"url, entry with no time denies", urlReq("g0000000000000000000bad"), true},
		{"url, gid in multiValue", `{"request":{"uri":"/a","querystring":{"Policy":{"value":"x"},"gid":{"value":"g1","multiValue":[{"value":"g1"},{"value":"` + grant + `"}]}}}}`, true},
		{"url mode ignores cookies", `{"request":{"uri":"/a","querystring":{"Signature":{"value":"x"}},"cookies":{"CloudFront-Signature":{"value":"` + sig + `"}}}}`, false},
		{"unsigned request", `{"request":{"uri":"/a","querystring":{"gid":{"value":"` + grant + `"}}}}`, false},
		{"cookies, revoked grant", cookieReq(`{"CloudFront-Signature":{"value":"` + sig + `"},"CloudFront-Key-Pair-Id":{"value":"K"}}`), true},
		{"cookies, other grant", cookieReq(`{"CloudFront-Signature":{"value":"other"}}`), false},
		{"cookies, revoked subject", cookieReq(`{"CloudFront-Policy":{"value":"` + policyCookie(t, policy.SubjectNotBefore("user-42")) + `"},"CloudFront-Signature":{"value":"s2"}}`), true},
		{"cookies, other subject", cookieReq(`{"CloudFront-Policy":{"value":"` + otherSubject + `"},"CloudFront-Signature":{"value":"s2"}}`), false},
		{"cookies, not-before that is no tag", cookieReq(`{"CloudFront-Policy":{"value":"` + policyCookie(t, now.Add(-time.Minute)) + `"}}`), false},
		{"cookies, two sets, one revoked", cookieReq(`{"CloudFront-Signature":{"value":"a","multiValue":[{"value":"a"},{"value":"` + sig + `"}]}}`), true},
		// Malformed input: never a throw, never a deny.
		{"no request", `{}`, false},
		{"null querystring and cookies", `{"request":{"uri":"/a","querystring":null,"cookies":null}}`, false},
		{"querystring entry without value", `{"request":{"uri":"/a","querystring":{"Expires":{},"gid":{}}}}`, false},
		{"non-string values", `{"request":{"uri":"/a","querystring":{"Expires":{"value":1},"gid":{"value":42,"multiValue":[null,{"value":7}]}},"cookies":{"CloudFront-Signature":{"value":{}}}}}`, false},
		{"gid that is no key", urlReq("G-ABC.!!.' OR 1=1"), false},
		{"gid with many parts", urlReq("g1.g2.g3.g4.g5.g6.g7.g8.g9.g10"), false},
		{"garbage policy cookie", cookieReq(`{"CloudFront-Policy":{"value":"%%%not base64$$$"}}`), false},
		{"policy cookie of another JSON", cookieReq(`{"CloudFront-Policy":{"value":"eyJhIjoxfQ__"}}`), false},
		{"huge cookie", cookieReq(`{"CloudFront-Signature":{"value":"` + string(make([]byte, 0)) + `"}}`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ev map[string]any
			if err := json.Unmarshal([]byte(tc.event), &ev); err != nil {
				t.Fatal(err)
			}
			out, err := f.Run(ev)
			if err != nil {
				t.Fatalf("the function failed: %v", err)
			}
			if out == nil { // returned event.request, which was absent
				if tc.deny {
					t.Fatal("allowed (no request), want 403")
				}
				return
			}
			resp, err := cffunc.Response(out)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp != nil; got != tc.deny {
				t.Fatalf("denied = %v, want %v", got, tc.deny)
			}
			if resp != nil && (resp.Status != 403 || resp.Header.Get("Cache-Control") != "no-store" || len(resp.Body) == 0) {
				t.Errorf("deny response = %d %v %q", resp.Status, resp.Header, resp.Body)
			}
		})
	}
}

func TestExecErrors(t *testing.T) {
	for name, src := range map[string]string{
		"throws":           "function handler(event) { throw new Error('boom'); }",
		"rejects":          "async function handler(event) { throw new Error('boom'); }",
		"returns a number": "function handler(event) { return 3; }",
	} {
		t.Run(name, func(t *testing.T) {
			f, err := cffunc.New(src, nil, cffunc.Options{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.Run(map[string]any{"request": map[string]any{"uri": "/"}})
			if err == nil {
				_, err = cffunc.Response(out)
			}
			var ee *cffunc.ExecError
			if !errors.As(err, &ee) {
				t.Fatalf("err = %v, want an *ExecError", err)
			}
		})
	}
	if _, err := cffunc.New("import x from 'y';\nfunction handler(e) { return e.request; }", nil, cffunc.Options{}); err == nil {
		t.Error("an import other than cloudfront's was accepted")
	}
}
