package keys

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const testKeys = "../testdata/keys/"

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testKeys + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePrivateKey(t *testing.T) {
	tests := []struct {
		file string
		pass string
		alg  Algorithm
		pub  string // public key file whose key must match
	}{
		{"rsa2048.pem", "", RSA, "rsa2048.pub.pem"},
		{"rsa2048-pkcs1.pem", "", RSA, "rsa2048.pub.pem"},
		{"rsa2048-encrypted.pem", "correct-horse", RSA, "rsa2048.pub.pem"},
		{"ec-p256-sec1.pem", "", ECDSA, "ec-p256.pub.pem"},
		{"ec-p256.pem", "", ECDSA, "ec-p256.pub.pem"},
		{"ec-p256-encrypted.pem", "correct-horse", ECDSA, "ec-p256.pub.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var pass []byte
			if tt.pass != "" {
				pass = []byte(tt.pass)
			}
			k, err := ParsePrivateKey(read(t, tt.file), pass)
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm() != tt.alg {
				t.Errorf("algorithm = %s, want %s", k.Algorithm(), tt.alg)
			}
			want, err := ParsePublicKeyPEM(read(t, tt.pub))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := Fingerprint(k.Public())
			wantFP, _ := Fingerprint(want)
			if got != wantFP {
				t.Errorf("public key fingerprint %s, want %s (from %s)", got, wantFP, tt.pub)
			}
		})
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		pass string
		want error
	}{
		{"RSA-1024", read(t, "rsa1024.pem"), "", ErrUnsupportedKey},
		{"P-384", read(t, "ec-p384.pem"), "", ErrUnsupportedKey},
		{"Ed25519", read(t, "ed25519.pem"), "", ErrUnsupportedKey},
		{"encrypted without passphrase", read(t, "rsa2048-encrypted.pem"), "", ErrPassphraseRequired},
		{"wrong passphrase", read(t, "rsa2048-encrypted.pem"), "hunter2x", ErrBadPassphrase},
		{"wrong passphrase EC", read(t, "ec-p256-encrypted.pem"), "correct-horsE", ErrBadPassphrase},
		{"legacy encryption", read(t, "rsa-legacy-encrypted.pem"), "x", ErrLegacyEncryption},
		{"public key", read(t, "rsa2048.pub.pem"), "", ErrNoPEM},
		{"empty", nil, "", ErrNoPEM},
		{"garbage", []byte("not a key"), "", ErrNoPEM},
		{"EC parameters only", []byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"), "", ErrNoPEM},
		{"damaged PKCS#8", []byte("-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n"), "", ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pass []byte
			if tt.pass != "" {
				pass = []byte(tt.pass)
			}
			_, err := ParsePrivateKey(tt.data, pass)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			if tt.pass != "" && strings.Contains(err.Error(), tt.pass) {
				t.Errorf("error %q holds the passphrase", err)
			}
		})
	}
}

// TestRedaction: no way of printing a key shows its material.
func TestRedaction(t *testing.T) {
	k, err := ParsePrivateKey(read(t, "rsa2048.pem"), nil)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := k.MarshalPEM()
	block := strings.Split(string(der), "\n")[5] // a line of key material
	l, _ := NewLocal("KTEST", k)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("key", "key", k, "signer", l)
	js, _ := json.Marshal(struct{ K *PrivateKey }{k})
	outputs := []string{
		fmt.Sprintf("%v", k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), fmt.Sprintf("%s", k),
		fmt.Sprintf("%x", k), fmt.Sprintf("%d", k), fmt.Sprintf("%v", *k), fmt.Sprintf("%+v", l), fmt.Sprintf("%#v", l),
		logs.String(), string(js),
	}
	for _, out := range outputs {
		if !strings.Contains(out, "REDACTED") || strings.Contains(out, block) || strings.Contains(out, "Primes") || strings.Contains(out, "D:") {
			t.Errorf("key printed with material or without redaction: %.200s", out)
		}
	}
}

func TestSignDeterministicAndVerifies(t *testing.T) {
	msg := []byte(`{"Statement":[{"Resource":"https://a/b","Condition":{"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`)
	for _, file := range []string{"rsa2048.pem", "ec-p256-sec1.pem"} {
		for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
			t.Run(fmt.Sprintf("%s/%v", file, h), func(t *testing.T) {
				k, err := ParsePrivateKey(read(t, file), nil)
				if err != nil {
					t.Fatal(err)
				}
				s, _ := NewLocal("K1", k)
				a, err := s.Sign(context.Background(), msg, h)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := s.Sign(context.Background(), msg, h)
				if !bytes.Equal(a, b) {
					t.Error("two signatures of the same message differ: not deterministic")
				}
				if err := Verify(s.Public(), msg, a, h); err != nil {
					t.Errorf("Verify: %v", err)
				}
				if err := Verify(s.Public(), append(msg, ' '), a, h); err == nil {
					t.Error("Verify accepts a signature over other bytes")
				}
				other := crypto.SHA1
				if h == crypto.SHA1 {
					other = crypto.SHA256
				}
				if err := Verify(s.Public(), msg, a, other); err == nil {
					t.Errorf("Verify accepts a %v signature as %v", h, other)
				}
			})
		}
	}
}

func TestSignErrors(t *testing.T) {
	k, _ := ParsePrivateKey(read(t, "rsa2048.pem"), nil)
	s, _ := NewLocal("K1", k)
	if _, err := s.Sign(context.Background(), []byte("x"), crypto.MD5); !errors.Is(err, ErrUnsupportedHash) {
		t.Errorf("MD5: error = %v, want ErrUnsupportedHash", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Sign(ctx, []byte("x"), crypto.SHA1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error = %v", err)
	}
	for _, id := range []string{"", "k1", "K-1", strings.Repeat("K", 129)} {
		if _, err := NewLocal(id, k); !errors.Is(err, ErrKeyID) {
			t.Errorf("NewLocal(%q) error = %v, want ErrKeyID", id, err)
		}
	}
}

// TestFingerprintMatchesOpenSSL: the documented openssl pipeline gives the
// same fingerprint.
func TestFingerprintMatchesOpenSSL(t *testing.T) {
	for _, f := range []string{"rsa2048.pub.pem", "ec-p256.pub.pem"} {
		out, err := exec.Command("sh", "-c", "openssl pkey -pubin -in "+testKeys+f+" -outform DER | openssl dgst -sha256 -binary | base64").Output()
		if err != nil {
			t.Fatalf("openssl: %v", err)
		}
		pub, err := ParsePublicKeyPEM(read(t, f))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := Fingerprint(pub)
		want := "SHA256:" + strings.TrimRight(strings.TrimSpace(string(out)), "=")
		if got != want {
			t.Errorf("%s: fingerprint %s, openssl says %s", f, got, want)
		}
	}
	// PEM whitespace does not change the fingerprint.
	messy := strings.ReplaceAll(string(read(t, "rsa2048.pub.pem")), "\n", "\r\n") + "\n\n"
	a, _ := ParsePublicKeyPEM([]byte(messy))
	b, _ := ParsePublicKeyPEM(read(t, "rsa2048.pub.pem"))
	fa, _ := Fingerprint(a)
	fb, _ := Fingerprint(b)
	if fa != fb {
		t.Error("PEM whitespace changed the fingerprint")
	}
}

func TestPublicKeyPEMRoundTrip(t *testing.T) {
	for _, alg := range []Algorithm{RSA, ECDSA} {
		k, err := Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		p, err := PublicKeyPEM(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		pub, err := ParsePublicKeyPEM(p)
		if err != nil {
			t.Fatal(err)
		}
		if AlgorithmOf(pub) != alg {
			t.Errorf("%s: round trip gives %s", alg, AlgorithmOf(pub))
		}
		priv, _ := k.MarshalPEM()
		k2, err := ParsePrivateKey(priv, nil)
		if err != nil || k2.Fingerprint() != k.Fingerprint() {
			t.Errorf("%s: private key PEM round trip: %v", alg, err)
		}
	}
	if _, err := Generate("DSA"); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("Generate(DSA) error = %v", err)
	}
	if _, err := ParsePublicKeyPEM([]byte("nothing")); !errors.Is(err, ErrNoPublicPEM) {
		t.Errorf("ParsePublicKeyPEM(garbage) error = %v, want ErrNoPublicPEM", err)
	}
}

func TestSources(t *testing.T) {
	ctx := context.Background()
	pem := read(t, "rsa2048.pem")
	want, _ := ParsePrivateKey(pem, nil)
	check := func(t *testing.T, s Signer, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if fp, _ := Fingerprint(s.Public()); fp != want.Fingerprint() || s.KeyID() != "KSRC" {
			t.Errorf("loaded %s %s", s.KeyID(), fp)
		}
	}
	t.Run("file", func(t *testing.T) {
		s, err := File{Path: testKeys + "rsa2048.pem", KeyID: "KSRC"}.Load(ctx)
		check(t, s, err)
	})
	t.Run("file encrypted, passphrase file", func(t *testing.T) {
		pf := t.TempDir() + "/pass"
		os.WriteFile(pf, []byte("correct-horse\n"), 0o600)
		s, err := File{Path: testKeys + "rsa2048-encrypted.pem", KeyID: "KSRC", Passphrase: PassphraseFile(pf)}.Load(ctx)
		check(t, s, err)
	})
	t.Run("file encrypted, passphrase env", func(t *testing.T) {
		t.Setenv("CFISSUER_TEST_PASS", "correct-horse")
		s, err := File{Path: testKeys + "rsa2048-encrypted.pem", KeyID: "KSRC", Passphrase: PassphraseEnv("CFISSUER_TEST_PASS")}.Load(ctx)
		check(t, s, err)
	})
	t.Run("env PEM", func(t *testing.T) {
		t.Setenv("CFISSUER_TEST_KEY", string(pem))
		s, err := Env{Name: "CFISSUER_TEST_KEY", KeyID: "KSRC"}.Load(ctx)
		check(t, s, err)
	})
	t.Run(`env PEM with \n`, func(t *testing.T) {
		t.Setenv("CFISSUER_TEST_KEY", strings.ReplaceAll(string(pem), "\n", `\n`))
		s, err := Env{Name: "CFISSUER_TEST_KEY", KeyID: "KSRC"}.Load(ctx)
		check(t, s, err)
	})
	t.Run("env base64", func(t *testing.T) {
		t.Setenv("CFISSUER_TEST_KEY", base64.StdEncoding.EncodeToString(pem))
		s, err := Env{Name: "CFISSUER_TEST_KEY", KeyID: "KSRC"}.Load(ctx)
		check(t, s, err)
	})
	t.Run("errors", func(t *testing.T) {
		if _, err := (File{Path: "/nonexistent/key.pem", KeyID: "KSRC"}).Load(ctx); !errors.Is(err, ErrSource) || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("missing file: %v", err)
		}
		if _, err := (Env{Name: "CFISSUER_TEST_UNSET", KeyID: "KSRC"}).Load(ctx); !errors.Is(err, ErrSource) {
			t.Errorf("unset env: %v", err)
		}
		if _, err := (File{Path: testKeys + "rsa2048-encrypted.pem", KeyID: "KSRC"}).Load(ctx); !errors.Is(err, ErrPassphraseRequired) {
			t.Errorf("no passphrase: %v", err)
		}
		if _, err := (File{Path: testKeys + "rsa2048.pem", KeyID: "bad id"}).Load(ctx); !errors.Is(err, ErrKeyID) {
			t.Errorf("bad key id: %v", err)
		}
	})
}

// FuzzParsePrivateKey: never panics, and never errs with key material.
func FuzzParsePrivateKey(f *testing.F) {
	for _, name := range []string{"rsa2048.pem", "ec-p256-sec1.pem", "rsa2048-encrypted.pem", "rsa-legacy-encrypted.pem"} {
		b, err := os.ReadFile(testKeys + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, []byte("correct-horse"))
	}
	f.Fuzz(func(t *testing.T, data, pass []byte) {
		k, err := ParsePrivateKey(data, pass)
		if err == nil {
			if a := k.Algorithm(); a != RSA && a != ECDSA {
				t.Fatalf("accepted a %s key", a)
			}
			return
		}
		if len(pass) > 3 && strings.Contains(err.Error(), string(pass)) {
			t.Fatalf("error holds the passphrase: %v", err)
		}
	})
}
