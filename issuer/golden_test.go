package issuer_test

import (
	"context"
	"crypto"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/internal/oracle"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden")

// Fixed inputs of the golden tests.
var (
	goldenExpires   = time.Unix(1_800_000_000, 0).UTC()
	goldenNotBefore = time.Unix(1_799_990_000, 0).UTC()
	goldenIP        = netip.MustParsePrefix("192.0.2.0/24")
)

const (
	goldenKeyID  = "K2JCJMDEHXQW5F"
	goldenURL    = "https://media.example.test/ebooks/Go%20in%20Action.pdf?response-content-disposition=attachment"
	goldenPrefix = "https://media.example.test/courses/go-101/*"
)

type keyFiles struct{ priv, pub string }

var goldenKeys = map[string]keyFiles{
	"rsa":   {"../testdata/keys/rsa2048.pem", "../testdata/keys/rsa2048.pub.pem"},
	"ecdsa": {"../testdata/keys/ec-p256-sec1.pem", "../testdata/keys/ec-p256.pub.pem"},
}

func loadSigner(t testing.TB, alg string) keys.Signer {
	t.Helper()
	s, err := keys.File{Path: goldenKeys[alg].priv, KeyID: goldenKeyID}.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGolden signs every combination of key (RSA, ECDSA), hash (SHA-1,
// SHA-256), policy (canned, custom) and credential (URL, cookies) with
// fixed inputs and compares with testdata/golden. RSA PKCS#1 v1.5 and
// RFC 6979 ECDSA are deterministic, so the goldens are stable. Every
// signature is also verified by OpenSSL over the exact policy bytes.
func TestGolden(t *testing.T) {
	ctx := context.Background()
	for _, alg := range []string{"rsa", "ecdsa"} {
		s := loadSigner(t, alg)
		for _, hash := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
			for _, kind := range []string{"canned", "custom"} {
				for _, cred := range []string{"url", "cookie"} {
					name := fmt.Sprintf("%s-%s-%s-%s", alg, strings.ToLower(issuer.HashName(hash)), kind, cred)
					t.Run(name, func(t *testing.T) {
						var got string
						var p policy.Policy
						var sig string
						var err error
						if cred == "url" {
							req := issuer.URLRequest{URL: goldenURL, Expires: goldenExpires, Hash: hash}
							if kind == "custom" {
								req.Resource = "https://media.example.test/ebooks/*"
								req.NotBefore, req.SourceIP = goldenNotBefore, goldenIP
							}
							var u *issuer.SignedURL
							if u, err = issuer.SignURL(ctx, s, req); err == nil {
								got, p = u.URL+"\n", u.Policy
								_, params := oracle.Split(u.URL)
								sig = params["Signature"]
							}
						} else {
							req := issuer.CookieRequest{Resource: goldenURL, Expires: goldenExpires, Hash: hash, Domain: "media.example.test", Path: "/ebooks/"}
							if kind == "custom" {
								req = issuer.CookieRequest{Resource: goldenPrefix, Expires: goldenExpires, NotBefore: goldenNotBefore, Hash: hash, Path: "/courses/go-101/"}
							}
							var c *issuer.SignedCookies
							if c, err = issuer.SignCookies(ctx, s, req); err == nil {
								p = c.Policy
								for _, ck := range c.Cookies {
									got += "Set-Cookie: " + ck.String() + "\n"
									if ck.Name == issuer.CookieSignature {
										sig = ck.Value
									}
								}
							}
						}
						if alg == "ecdsa" && hash == crypto.SHA1 {
							if !errors.Is(err, issuer.ErrECDSASHA1) {
								t.Fatalf("ECDSA with SHA1: error = %v, want ErrECDSASHA1", err)
							}
							return
						}
						if err != nil {
							t.Fatal(err)
						}
						if want := map[string]policy.Kind{"canned": policy.Canned, "custom": policy.Custom}[kind]; p.Kind != want {
							t.Errorf("policy kind %v, want %v", p.Kind, want)
						}
						checkGolden(t, name, got)
						raw, _ := p.Marshal()
						rawSig, err := policy.DecodeBase64(sig)
						if err != nil {
							t.Fatal(err)
						}
						if !oracle.OpenSSLVerify(t, goldenKeys[alg].pub, raw, rawSig, issuer.HashName(hash)) {
							t.Errorf("OpenSSL does not verify the signature over %s", raw)
						}
					})
				}
			}
		}
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "testdata", "golden", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./issuer -run TestGolden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\ngot\n%s\nwant\n%s", name, got, want)
	}
}

func TestSignErrors(t *testing.T) {
	ctx := context.Background()
	rsa, ec := loadSigner(t, "rsa"), loadSigner(t, "ecdsa")
	tests := []struct {
		name string
		s    keys.Signer
		req  issuer.URLRequest
		want error
	}{
		{"no signer", nil, issuer.URLRequest{URL: goldenURL, Expires: goldenExpires}, issuer.ErrNoSigner},
		{"no URL", rsa, issuer.URLRequest{Expires: goldenExpires}, issuer.ErrNoURL},
		{"no expiry", rsa, issuer.URLRequest{URL: goldenURL}, policy.ErrNoExpiry},
		{"ECDSA SHA1", ec, issuer.URLRequest{URL: goldenURL, Expires: goldenExpires, Hash: crypto.SHA1}, issuer.ErrECDSASHA1},
		{"MD5", rsa, issuer.URLRequest{URL: goldenURL, Expires: goldenExpires, Hash: crypto.MD5}, keys.ErrUnsupportedHash},
		{"wildcard URL", rsa, issuer.URLRequest{URL: "https://media.example.test/a/*", Expires: goldenExpires}, policy.ErrWildcardInURL},
		{"reserved query", rsa, issuer.URLRequest{URL: "https://media.example.test/a?Signature=x", Expires: goldenExpires}, policy.ErrReservedQuery},
		{"dot segment", rsa, issuer.URLRequest{URL: "https://media.example.test/a/%2e%2e/b", Expires: goldenExpires}, policy.ErrDotSegment},
		{"resource does not match URL", rsa, issuer.URLRequest{URL: goldenURL, Resource: "https://media.example.test/courses/*", Expires: goldenExpires}, issuer.ErrResourceMismatch},
		{"IPv6", rsa, issuer.URLRequest{URL: goldenURL, Expires: goldenExpires, SourceIP: netip.MustParsePrefix("2001:db8::/32")}, policy.ErrIPv6},
		{"milliseconds", rsa, issuer.URLRequest{URL: goldenURL, Expires: time.UnixMilli(1_800_000_000_000).Add(1_800_000_000_000 * time.Millisecond)}, policy.ErrEpochRange},
		{"not-before after expiry", rsa, issuer.URLRequest{URL: goldenURL, Expires: goldenNotBefore, NotBefore: goldenExpires}, policy.ErrNotBeforeAfterEnd},
		{"URL too long", rsa, issuer.URLRequest{URL: "https://media.example.test/" + strings.Repeat("a", 4000), Resource: "https://media.example.test/" + strings.Repeat("a", 4000), Custom: true, Expires: goldenExpires}, policy.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := issuer.SignURL(ctx, tt.s, tt.req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
		})
	}
	cookieTests := []struct {
		name string
		req  issuer.CookieRequest
		want error
	}{
		{"no resource", issuer.CookieRequest{Expires: goldenExpires}, policy.ErrNoResource},
		{"bad resource", issuer.CookieRequest{Resource: "ftp://x/*", Expires: goldenExpires}, policy.ErrScheme},
		{"huge resource", issuer.CookieRequest{Resource: "https://media.example.test/" + strings.Repeat("a", 3000) + "/*", Expires: goldenExpires}, policy.ErrTooLarge},
	}
	for _, tt := range cookieTests {
		t.Run("cookies/"+tt.name, func(t *testing.T) {
			_, err := issuer.SignCookies(ctx, rsa, tt.req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

func Example() {
	signer, err := keys.File{Path: "../testdata/keys/rsa2048.pem", KeyID: "K2JCJMDEHXQW5F"}.Load(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	u, err := issuer.SignURL(context.Background(), signer, issuer.URLRequest{
		URL:     "https://media.example.com/ebooks/intro.pdf",
		Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	base, _, _ := strings.Cut(u.URL, "&Signature=")
	fmt.Println(base, u.Policy.Kind, u.KeyID, issuer.HashName(u.Hash))
	// Output: https://media.example.com/ebooks/intro.pdf?Expires=1798761600 canned K2JCJMDEHXQW5F SHA1
}
