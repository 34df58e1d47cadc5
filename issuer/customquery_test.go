package issuer

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// TestCustomURLQueryStaysInBehavior: in a custom policy the '?' before the
// query is a wildcard too, so https://…/courses/abc/public?gid=… also grants
// /courses/abc/public/gid=…, which CloudFront serves from another behavior.
// The grant ID (and a file name) are added after the coverage check of the
// bare URL; the URL as signed must be checked too. Found by
// internal/securitytest's scope model.
func TestCustomURLQueryStaysInBehavior(t *testing.T) {
	bs, err := policy.ParseBehaviors(strings.NewReader(`{"viewer_origin": "https://media.example.test", "behaviors": [
	  {"name": "lessons", "path_pattern": "/courses/*/public/*", "access": "signed-cookie"},
	  {"name": "default", "path_pattern": "*", "access": "signed-url", "policy": "custom"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := signer(t, "ec-p256.pem", "KECDSA")
	r, err := keys.NewRing([]keys.RingKey{{Signer: s}}, LongestLifetime(bs))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	is := newIssuer(t, &clock{t: t0.Add(5 * time.Second)}, r, &log)
	if err := is.Update(r, bs); err != nil {
		t.Fatal(err)
	}
	_, err = is.URL(context.Background(), nil, URLGrant{Path: "/courses/abc/public"})
	if !errors.Is(err, policy.ErrNotCovered) {
		t.Errorf("URL(/courses/abc/public) = %v, want ErrNotCovered: its custom policy also grants /courses/abc/public/gid=…", err)
	}
	if _, err := is.URL(context.Background(), nil, URLGrant{Path: "/ebooks/a.pdf"}); err != nil {
		t.Errorf("URL(/ebooks/a.pdf) = %v, want a URL", err)
	}
}
