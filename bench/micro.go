package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// Key IDs of the benchmark keys (testdata/keys/rsa2048.pem, ec-p256.pem).
const (
	rsaKeyID = "KBENCHRSA"
	ecKeyID  = "KBENCHECDSA"
)

// fixture holds what the micro benchmarks share: the test keys, the
// behaviors of examples/behaviors.json and one issuer per key type.
type fixture struct {
	root   string
	bs     *policy.Behaviors
	rsa    *keys.Local
	ec     *keys.Local
	rsaKey *rsa.PrivateKey
	ecKey  *ecdsa.PrivateKey
	// exp is an expiry in the ebooks behavior's window, for the baselines.
	exp time.Time
}

// newFixture loads the keys and behaviors from the repository at root.
func newFixture(root string) (*fixture, error) {
	f := &fixture{root: root}
	data, err := os.ReadFile(filepath.Join(root, "examples", "behaviors.json"))
	if err != nil {
		return nil, err
	}
	if f.bs, err = policy.ParseBehaviors(strings.NewReader(string(data))); err != nil {
		return nil, err
	}
	if f.rsa, err = loadLocal(root, "rsa2048.pem", rsaKeyID); err != nil {
		return nil, err
	}
	if f.ec, err = loadLocal(root, "ec-p256.pem", ecKeyID); err != nil {
		return nil, err
	}
	f.rsaKey = f.rsa.CryptoSigner().(*rsa.PrivateKey)
	f.ecKey = f.ec.CryptoSigner().(*ecdsa.PrivateKey)
	f.exp = f.bs.Lookup("ebooks").Expiry(time.Now())
	return f, nil
}

func loadLocal(root, file, id string) (*keys.Local, error) {
	data, err := os.ReadFile(filepath.Join(root, "testdata", "keys", file))
	if err != nil {
		return nil, err
	}
	k, err := keys.ParsePrivateKey(data, nil)
	if err != nil {
		return nil, err
	}
	return keys.NewLocal(id, k)
}

// newIssuer returns an issuer over one key that logs every issuance as a
// JSON line to io.Discard: the line is built as in production, only the
// write is left out.
func (f *fixture) newIssuer(s keys.Signer) (*issuer.Issuer, error) {
	ring, err := keys.NewRing([]keys.RingKey{{Signer: s}}, issuer.LongestLifetime(f.bs))
	if err != nil {
		return nil, err
	}
	return issuer.New(ring, f.bs, issuer.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
}

// resourceURL is the ebook URL the single-URL benchmarks sign.
func (f *fixture) resourceURL(i int) string {
	return fmt.Sprintf("%s/ebooks/book-%d.pdf", f.bs.ViewerOrigin, i)
}

// microBenchmark is one Go benchmark of the run.
type microBenchmark struct {
	name string
	fn   func(b *testing.B)
}

// noopSigner is a crypto.Signer that returns a fixed signature: with it the
// AWS sign package costs only its own work (policy JSON, base64, URL).
type noopSigner struct {
	pub crypto.PublicKey
	sig []byte
}

func (s noopSigner) Public() crypto.PublicKey { return s.pub }
func (s noopSigner) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return s.sig, nil
}

// benchmarks returns every micro benchmark, in the order they are reported.
func (f *fixture) benchmarks() ([]microBenchmark, error) {
	ctx := context.Background()
	rsaIs, err := f.newIssuer(f.rsa)
	if err != nil {
		return nil, err
	}
	ring, err := keys.NewRing([]keys.RingKey{{Signer: f.rsa}}, issuer.LongestLifetime(f.bs))
	if err != nil {
		return nil, err
	}
	quietIs, err := issuer.New(ring, f.bs, issuer.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	ecIs, err := f.newIssuer(f.ec)
	if err != nil {
		return nil, err
	}
	canned := policy.Policy{Kind: policy.Canned, Resource: f.resourceURL(1), Expires: f.exp}
	custom := policy.Policy{Kind: policy.Custom, Resource: f.bs.ViewerOrigin + "/courses/go-101/*", Expires: f.exp}
	cannedJSON, err := canned.Marshal()
	if err != nil {
		return nil, err
	}
	sdkNoop := sign.NewURLSigner(rsaKeyID, noopSigner{pub: f.rsaKey.Public(), sig: make([]byte, 256)})
	sdkRSA := sign.NewURLSigner(rsaKeyID, f.rsaKey)

	// A signed URL and its request, for the verification benchmarks.
	su, err := issuer.SignURL(ctx, f.rsa, issuer.URLRequest{URL: f.resourceURL(1), Expires: f.exp})
	if err != nil {
		return nil, err
	}
	v, err := edge.NewVerifier(f.bs, []edge.Key{{ID: rsaKeyID, Public: f.rsa.Public()}}, edge.Options{})
	if err != nil {
		return nil, err
	}
	base, query, _ := strings.Cut(su.URL, "?")
	vreq := edge.Request{Method: "GET", Scheme: "https", Host: strings.TrimPrefix(f.bs.ViewerOrigin, "https://"),
		RawPath: strings.TrimPrefix(base, f.bs.ViewerOrigin), RawQuery: query}
	rawSig, err := f.rsa.Sign(ctx, cannedJSON, crypto.SHA1)
	if err != nil {
		return nil, err
	}
	verifyAt := time.Now()
	if d := v.Check(vreq, verifyAt); !d.Allowed() {
		return nil, fmt.Errorf("bench: the edge refuses the benchmark URL: %v", d.Denial)
	}

	// cold issues a new path on every call, so both the URL and the
	// signature caches miss (and, once full, evict).
	cold := func(is *issuer.Issuer, prefix string) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n++
				if _, err := is.URL(ctx, nil, issuer.URLGrant{Path: fmt.Sprintf("/ebooks/%s-%d-%d.pdf", prefix, time.Now().UnixNano(), n)}); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	return []microBenchmark{
		{"policy/canned_marshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := canned.Marshal(); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"policy/custom_marshal_base64", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				raw, err := custom.Marshal()
				if err != nil {
					b.Fatal(err)
				}
				policy.AppendBase64(nil, raw)
			}
		}},
		{"sdk/noop_signer", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sdkNoop.Sign(f.resourceURL(1), f.exp); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"issuer/url_cache_hit", func(b *testing.B) {
			b.ReportAllocs()
			g := issuer.URLGrant{Path: "/ebooks/book-1.pdf"}
			if _, err := rsaIs.URL(ctx, nil, g); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := rsaIs.URL(ctx, nil, g); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"issuer/url_cache_hit_no_log", func(b *testing.B) {
			// Informative: the same hit with the log line turned off, to
			// show what the line costs.
			b.ReportAllocs()
			g := issuer.URLGrant{Path: "/ebooks/book-1.pdf"}
			if _, err := quietIs.URL(ctx, nil, g); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := quietIs.URL(ctx, nil, g); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"issuer/cookies_cache_hit", func(b *testing.B) {
			b.ReportAllocs()
			g := issuer.CookieGrant{PathPrefix: "/courses/go-101/"}
			for b.Loop() {
				if _, err := rsaIs.Cookies(ctx, nil, g); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"rsa/raw_crypto_rsa", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d := sha1.Sum(cannedJSON)
				if _, err := rsa.SignPKCS1v15(nil, f.rsaKey, crypto.SHA1, d[:]); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"rsa/issuer_cold", cold(rsaIs, "rsa")},
		{"rsa/sdk_url_signer", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sdkRSA.Sign(f.resourceURL(1), f.exp); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"rsa/signurl_stateless", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := issuer.SignURL(ctx, f.rsa, issuer.URLRequest{URL: f.resourceURL(1), Expires: f.exp}); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"ecdsa/raw_crypto_ecdsa", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d := sha256.Sum256(cannedJSON)
				// A nil random source: RFC 6979 deterministic nonces, as
				// keys.Local signs.
				if _, err := f.ecKey.Sign(nil, d[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"ecdsa/issuer_cold", cold(ecIs, "ec")},
		{"verify/raw_rsa_verify", func(b *testing.B) {
			b.ReportAllocs()
			pub := &f.rsaKey.PublicKey
			for b.Loop() {
				d := sha1.Sum(cannedJSON)
				if err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, d[:], rawSig); err != nil {
					b.Fatal(err)
				}
			}
		}},
		{"verify/edge_check", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := v.Check(vreq, verifyAt); !d.Allowed() {
					b.Fatal(d.Denial)
				}
			}
		}},
	}, nil
}
