package httpapi

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/keys"
)

// FuzzNoServerErrorForInput: whatever a caller sends to the signing
// endpoints, the answer is never a 500 (bad input is a 4xx that says what
// to fix).
func FuzzNoServerErrorForInput(f *testing.F) {
	for _, s := range []string{
		`{"path": "/ebooks/a.pdf"}`, `{"path": "/ebooks/%zz"}`, `{"resource": "http*://media.example.test/*"}`,
		`{"items": [{"path": "/x"}, {"path": "//"}]}`, `{"path": "/ebooks/a.pdf", "filename": "\u0000"}`,
		`{"path_prefix": "/courses/?/"}`, `{"resource_pattern": "https://media.example.test/courses/**?*"}`,
		`{"url": "https://media.example.test/x?Policy=&Signature=&Key-Pair-Id=KRSA", "cookie": "a=b; ;;"}`,
		`[]`, `null`, `{"not_before": "2026-03-01T12:00:00Z", "path": "/live/a"}`,
	} {
		for _, route := range []string{"/v1/urls", "/v1/cookies", "/v1/explain"} {
			f.Add(route, s)
		}
	}
	fx := newFixture(f, time.Time{})
	f.Fuzz(func(t *testing.T, route, body string) {
		switch route {
		case "/v1/urls", "/v1/cookies", "/v1/explain":
		default:
			route = "/v1/urls"
		}
		fx.clock.Set(t0) // rate limits do not apply to "all"; the clock stays put
		res := fx.do(t, http.MethodPost, route, "all", body)
		if res.status >= 500 {
			t.Fatalf("POST %s %q: %d %s", route, body, res.status, res.body)
		}
		if res.status != 200 && !strings.Contains(string(res.body), `"error"`) {
			t.Fatalf("POST %s %q: %d without a JSON error: %s", route, body, res.status, res.body)
		}
	})
}

// failingSigner stands for a remote key (KMS) whose service is down.
type failingSigner struct{ keys.Signer }

var errDown = errors.New("connection refused")

func (failingSigner) Sign(ctx context.Context, _ []byte, _ crypto.Hash) ([]byte, error) {
	return nil, fmt.Errorf("%w: %w", keys.ErrSource, errDown)
}

func TestKeySourceUnavailable(t *testing.T) {
	f := newFixture(t, time.Time{})
	ring, _ := keys.NewRing([]keys.RingKey{{Signer: failingSigner{f.signer}}}, f.is.Ring().Longest())
	if err := f.is.Update(ring, f.is.Behaviors()); err != nil {
		t.Fatal(err)
	}
	res := f.do(t, http.MethodPost, "/v1/urls", "all", map[string]any{"path": "/ebooks/a.pdf"})
	if res.status != 503 || res.header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q: %s", res.status, res.header.Get("Retry-After"), res.body)
	}
	code, _, msg := res.errorBody(t)
	if code != "key_source_unavailable" || strings.Contains(msg, "connection refused") {
		t.Errorf("error {%s, %q}; want key_source_unavailable with a generic message", code, msg)
	}
	if !strings.Contains(f.log.String(), "connection refused") {
		t.Errorf("the cause is not in the log: %s", f.log.String())
	}
}
