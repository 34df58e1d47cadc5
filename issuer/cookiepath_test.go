package issuer

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/keys"
)

// TestCookiePathRefusedAsInput: a prefix whose cookie Path browsers cannot
// hold (';' ends the attribute) is bad input naming the field, found before
// anything is signed; it was an unclassified error (a 500) once.
func TestCookiePathRefusedAsInput(t *testing.T) {
	s := signer(t, "ec-p256.pem", "KECDSA")
	var log bytes.Buffer
	is := newIssuer(t, &clock{t: t0.Add(5 * time.Second)}, ring(t, keys.RingKey{Signer: s}), &log)
	for _, prefix := range []string{"/courses/;/a/", "/courses/a;b/"} {
		_, err := is.Cookies(context.Background(), nil, CookieGrant{PathPrefix: prefix})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "path_prefix" {
			t.Errorf("Cookies(%q) = %v, want an *InputError for path_prefix", prefix, err)
		}
		if _, err := is.ClearCookies(nil, prefix); !errors.As(err, &ie) {
			t.Errorf("ClearCookies(%q) = %v, want an *InputError", prefix, err)
		}
	}
	if h, m := is.CacheStats(); h+m != 0 {
		t.Errorf("%d signatures for refused requests", h+m)
	}
}
