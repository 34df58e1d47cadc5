package issuer_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// An Issuer applies the behavior's window: two requests twenty minutes
// apart get the same expiry, so the same URL, and the second comes from
// the signature cache.
func ExampleIssuer_URL() {
	bs, _ := policy.ParseBehaviors(strings.NewReader(`{"viewer_origin": "https://media.example.com", "behaviors": [
		{"name": "ebooks", "path_pattern": "/ebooks/*", "access": "signed-url", "window": 3600, "browser_max_age": 3600, "margin": 300, "max_lifetime": 14400},
		{"name": "default", "path_pattern": "*", "access": "signed-url"}]}`))
	pem, _ := os.ReadFile("../testdata/keys/rsa2048.pem")
	key, _ := keys.ParsePrivateKey(pem, nil)
	signer, _ := keys.NewLocal("K2JCJMDEHXQW5F", key)
	ring, _ := keys.NewRing([]keys.RingKey{{Signer: signer}}, issuer.LongestLifetime(bs))

	now := time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)
	is, err := issuer.New(ring, bs, issuer.Options{Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	first, _ := is.URL(context.Background(), nil, issuer.URLGrant{Path: "/ebooks/intro.pdf"})
	now = now.Add(20 * time.Minute)
	second, _ := is.URL(context.Background(), nil, issuer.URLGrant{Path: "/ebooks/intro.pdf"})

	fmt.Println(first.Behavior, first.Kind, first.Expires.Format(time.RFC3339), first.KeyID)
	fmt.Println("same URL:", first.URL == second.URL, "cache hit:", second.CacheHit)
	_, err = is.URL(context.Background(), nil, issuer.URLGrant{Path: "/ebooks/../etc/passwd"})
	fmt.Println(err != nil)
	// Output:
	// ebooks canned 2026-03-01T14:00:00Z K2JCJMDEHXQW5F
	// same URL: true cache hit: true
	// true
}
