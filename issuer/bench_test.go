package issuer

import (
	"context"
	"fmt"
	"testing"

	"github.com/cfissuer/cfissuer/keys"
)

// BenchmarkIssueURL compares an issuance answered from the signature cache
// (the same path in one window) with one that signs (a new path each time),
// for RSA and ECDSA keys. The ratio is what the cache saves per request.
func BenchmarkIssueURL(b *testing.B) {
	for _, k := range []struct{ file, id string }{{"rsa2048.pem", "KRSA"}, {"ec-p256.pem", "KECDSA"}} {
		c := &clock{t: t0}
		is := newIssuer(b, c, ring(b, keys.RingKey{Signer: signer(b, k.file, k.id)}), nil)
		ctx := context.Background()
		b.Run(k.id+"/hit", func(b *testing.B) {
			for b.Loop() {
				if _, err := is.URL(ctx, nil, URLGrant{Path: "/ebooks/same.pdf"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(k.id+"/miss", func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				if _, err := is.URL(ctx, nil, URLGrant{Path: fmt.Sprintf("/ebooks/%d.pdf", i)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
