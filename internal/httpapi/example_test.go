package httpapi_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/cfissuer/cfissuer/internal/httpapi"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// A caller posts a path and gets a signed URL whose expiry is the
// behavior's window.
func Example() {
	bs, _ := policy.ParseBehaviors(strings.NewReader(`{"viewer_origin": "https://media.example.com",
		"behaviors": [{"name": "default", "path_pattern": "*", "access": "signed-url"}]}`))
	pem, _ := os.ReadFile("../../testdata/keys/rsa2048.pem")
	key, _ := keys.ParsePrivateKey(pem, nil)
	signer, _ := keys.NewLocal("K2JCJMDEHXQW5F", key)
	ring, _ := keys.NewRing([]keys.RingKey{{Signer: signer}}, issuer.LongestLifetime(bs))
	now := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC) }
	quiet := slog.New(slog.DiscardHandler)
	is, _ := issuer.New(ring, bs, issuer.Options{Now: now, Logger: quiet})
	apiKey, hash, _ := issuer.NewAPIKey("shop")
	callers, _ := issuer.NewCallers([]issuer.Caller{{ID: "shop", SecretSHA256: hash}})
	srv, _ := httpapi.New(is, callers, httpapi.Options{Logger: quiet})

	req := httptest.NewRequest(http.MethodPost, "/v1/urls", strings.NewReader(`{"path": "/ebooks/intro.pdf"}`))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	body := rec.Body.String()
	fmt.Println(rec.Code, strings.Contains(body, `"expires_at":"2026-03-01T14:00:00Z"`), strings.Contains(body, `"url":"https://media.example.com/ebooks/intro.pdf?gid=`))
	// Output: 200 true true
}
