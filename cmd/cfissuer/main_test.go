package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/internal/oracle"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

var testNow = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// cli runs a command line as main would, with a fixed clock.
func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: os.Getenv, now: func() time.Time { return testNow }}
	code = run(context.Background(), e, args)
	return out.String(), errOut.String(), code
}

const testKey = "../../testdata/keys/rsa2048.pem"

func TestKeygen(t *testing.T) {
	for _, typ := range []string{"rsa", "ecdsa"} {
		t.Run(typ, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			out, errOut, code := cli(t, "keygen", "--type", typ, "--out", dir)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			st, err := os.Stat(filepath.Join(dir, "private.pem"))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("private.pem mode %v, want 0600", st.Mode().Perm())
			}
			priv, _ := os.ReadFile(filepath.Join(dir, "private.pem"))
			k, err := keys.ParsePrivateKey(priv, nil)
			if err != nil {
				t.Fatal(err)
			}
			pub, _ := os.ReadFile(filepath.Join(dir, "public.pem"))
			pk, err := keys.ParsePublicKeyPEM(pub)
			if err != nil {
				t.Fatal(err)
			}
			if fp, _ := keys.Fingerprint(pk); fp != k.Fingerprint() || !strings.Contains(out, fp) {
				t.Errorf("printed fingerprint does not match the keys:\n%s", out)
			}
			if strings.Contains(out, "PRIVATE KEY") {
				t.Error("keygen printed the private key")
			}

			// Never overwritten without --force, and the files are untouched.
			_, errOut, code = cli(t, "keygen", "--type", typ, "--out", dir)
			if code == 0 || !strings.Contains(errOut, "--force") {
				t.Errorf("second keygen: exit %d, %q", code, errOut)
			}
			if again, _ := os.ReadFile(filepath.Join(dir, "private.pem")); !bytes.Equal(again, priv) {
				t.Error("private.pem changed without --force")
			}
			if _, _, code = cli(t, "keygen", "--type", typ, "--out", dir, "--force"); code != 0 {
				t.Errorf("keygen --force: exit %d", code)
			}
			if again, _ := os.ReadFile(filepath.Join(dir, "private.pem")); bytes.Equal(again, priv) {
				t.Error("--force did not replace the key")
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}

func TestKeysExport(t *testing.T) {
	out, errOut, code := cli(t, "keys", "export", "--key-file", testKey)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want, _ := os.ReadFile("../../testdata/keys/rsa2048.pub.pem")
	if out != string(want) {
		t.Errorf("exported PEM differs from openssl's:\n%s", out)
	}
	if !strings.Contains(errOut, "fingerprint: SHA256:") {
		t.Errorf("no fingerprint on stderr: %q", errOut)
	}
	// An encrypted key with its passphrase from the environment.
	t.Setenv("CFISSUER_TEST_PASS", "correct-horse")
	out2, errOut, code := cli(t, "keys", "export", "--key-file", "../../testdata/keys/rsa2048-encrypted.pem", "--passphrase-env", "CFISSUER_TEST_PASS")
	if code != 0 || out2 != out {
		t.Errorf("encrypted key export: exit %d %s", code, errOut)
	}
}

func TestSignURL(t *testing.T) {
	pub, _ := keys.ParsePublicKeyPEM(mustRead(t, "../../testdata/keys/rsa2048.pub.pem"))
	tests := []struct {
		name   string
		args   []string
		custom bool
		hash   crypto.Hash
	}{
		{"canned ttl", []string{"--ttl", "1h"}, false, crypto.SHA1},
		{"canned expires unix", []string{"--expires", "1800000000"}, false, crypto.SHA1},
		{"canned expires RFC 3339", []string{"--expires", "2027-01-01T00:00:00Z"}, false, crypto.SHA1},
		{"sha256", []string{"--ttl", "1h", "--hash", "sha256"}, false, crypto.SHA256},
		{"--custom", []string{"--ttl", "1h", "--custom"}, true, crypto.SHA1},
		{"--ip", []string{"--ttl", "1h", "--ip", "192.0.2.7"}, true, crypto.SHA1},
		{"--not-before", []string{"--ttl", "1h", "--not-before", "2026-11-22T10:30:00Z"}, true, crypto.SHA1},
		{"--policy-resource", []string{"--ttl", "1h", "--policy-resource", "https://media.example.test/ebooks/*"}, true, crypto.SHA1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Flags after the URL, as in the docs.
			args := append([]string{"sign", "url", "https://media.example.test/ebooks/a%20b.pdf", "--key-file", testKey, "--key-id", "KTEST"}, tt.args...)
			out, errOut, code := cli(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "https://media.example.test/ebooks/a%20b.pdf?") {
				t.Fatalf("stdout is not one signed URL: %q", out)
			}
			base, params := oracle.Split(strings.TrimSpace(out))
			_, isCustom := params["Policy"]
			if isCustom != tt.custom {
				t.Errorf("custom policy = %v, want %v", isCustom, tt.custom)
			}
			if (params["Hash-Algorithm"] == "SHA256") != (tt.hash == crypto.SHA256) {
				t.Errorf("Hash-Algorithm = %q", params["Hash-Algorithm"])
			}
			var raw []byte
			if isCustom {
				raw, _ = policy.DecodeBase64(params["Policy"])
			} else {
				raw = []byte(`{"Statement":[{"Resource":"` + base + `","Condition":{"DateLessThan":{"AWS:EpochTime":` + params["Expires"] + `}}}]}`)
			}
			sig, _ := policy.DecodeBase64(params["Signature"])
			if err := keys.Verify(pub, raw, sig, tt.hash); err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
		})
	}
	// --ttl 1h from the fixed clock.
	out, _, _ := cli(t, "sign", "url", "https://media.example.test/a", "--key-file", testKey, "--key-id", "KTEST", "--ttl", "1h")
	if _, p := oracle.Split(strings.TrimSpace(out)); p["Expires"] != "1795345200" {
		t.Errorf("--ttl 1h at %v gives Expires=%s, want 1795345200", testNow, p["Expires"])
	}
}

func TestSignCookies(t *testing.T) {
	out, errOut, code := cli(t, "sign", "cookies", "https://media.example.test/courses/go-101/*", "--key-file", testKey, "--key-id", "KTEST", "--ttl", "15m", "--domain", "media.example.test")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 Set-Cookie lines, got %q", out)
	}
	for _, l := range lines {
		for _, want := range []string{"Set-Cookie: CloudFront-", "Path=/courses/go-101/", "Domain=media.example.test", "Secure", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(l, want) {
				t.Errorf("%q lacks %q", l, want)
			}
		}
		if strings.Contains(l, "Expires=") || strings.Contains(l, "Max-Age") {
			t.Errorf("session cookie expected, got %q", l)
		}
	}
	out, _, code = cli(t, "sign", "cookies", "https://media.example.test/ebooks/a.pdf", "--key-file", testKey, "--key-id", "KTEST", "--ttl", "15m", "--json", "--hash", "sha256", "--same-site", "None")
	if code != 0 {
		t.Fatal(code)
	}
	var got struct {
		Cookies []struct {
			Name, Value, Path string
			SameSite          string `json:"same_site"`
		}
		ExpiresAt string `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	names := []string{}
	for _, c := range got.Cookies {
		names = append(names, c.Name)
		if c.Path != "/ebooks/" || c.SameSite != "None" {
			t.Errorf("cookie %s: path %q same_site %q", c.Name, c.Path, c.SameSite)
		}
	}
	if strings.Join(names, ",") != "CloudFront-Expires,CloudFront-Signature,CloudFront-Key-Pair-Id,CloudFront-Hash-Algorithm" {
		t.Errorf("cookies %v", names)
	}
	if got.ExpiresAt != "2026-11-22T10:15:00Z" {
		t.Errorf("expires_at %s", got.ExpiresAt)
	}
}

func TestErrors(t *testing.T) {
	key := []string{"--key-file", testKey, "--key-id", "KTEST"}
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"no URL", append([]string{"sign", "url", "--ttl", "1h"}, key...), 2, "exactly one URL"},
		{"two URLs", append([]string{"sign", "url", "https://a.test/1", "https://a.test/2", "--ttl", "1h"}, key...), 2, "exactly one URL"},
		{"no expiry", append([]string{"sign", "url", "https://a.test/1"}, key...), 2, "--expires TIME or --ttl DURATION is required"},
		{"both expiries", append([]string{"sign", "url", "https://a.test/1", "--ttl", "1h", "--expires", "1800000000"}, key...), 2, "not both"},
		{"milliseconds", append([]string{"sign", "url", "https://a.test/1", "--expires", "1800000000000"}, key...), 2, "milliseconds"},
		{"past expiry", append([]string{"sign", "url", "https://a.test/1", "--expires", "1700000000"}, key...), 2, "not in the future"},
		{"bad time", append([]string{"sign", "url", "https://a.test/1", "--expires", "tomorrow"}, key...), 2, "RFC 3339"},
		{"bad hash", append([]string{"sign", "url", "https://a.test/1", "--ttl", "1h", "--hash", "md5"}, key...), 2, "sha1 or sha256"},
		{"IPv6", append([]string{"sign", "url", "https://a.test/1", "--ttl", "1h", "--ip", "2001:db8::1"}, key...), 2, "IPv4"},
		{"no key id", []string{"sign", "url", "https://a.test/1", "--ttl", "1h", "--key-file", testKey}, 2, "--key-id is required"},
		{"bad key id", []string{"sign", "url", "https://a.test/1", "--ttl", "1h", "--key-file", testKey, "--key-id", "k-1"}, 2, "public key ID"},
		{"no key", []string{"sign", "url", "https://a.test/1", "--ttl", "1h", "--key-id", "KTEST"}, 2, "--key-file"},
		{"missing key file", []string{"sign", "url", "https://a.test/1", "--ttl", "1h", "--key-id", "KTEST", "--key-file", "/nonexistent.pem"}, 1, "no such file"},
		{"encrypted key, no passphrase", []string{"sign", "url", "https://a.test/1", "--ttl", "1h", "--key-id", "KTEST", "--key-file", "../../testdata/keys/rsa2048-encrypted.pem"}, 1, "--passphrase-file"},
		{"unsupported key", []string{"sign", "url", "https://a.test/1", "--ttl", "1h", "--key-id", "KTEST", "--key-file", "../../testdata/keys/rsa1024.pem"}, 1, "RSA-2048 and ECDSA P-256"},
		{"ECDSA with sha1", []string{"sign", "url", "https://a.test/1", "--ttl", "1h", "--key-id", "KTEST", "--key-file", "../../testdata/keys/ec-p256.pem", "--hash", "sha1"}, 1, "SHA256"},
		{"wildcard URL", append([]string{"sign", "url", "https://a.test/*", "--ttl", "1h"}, key...), 1, "custom policy"},
		{"reserved query", append([]string{"sign", "url", "https://a.test/a?Expires=5", "--ttl", "1h"}, key...), 1, "reserved"},
		{"space in URL", append([]string{"sign", "url", "https://a.test/a b", "--ttl", "1h"}, key...), 1, "%20"},
		{"resource mismatch", append([]string{"sign", "url", "https://a.test/a", "--ttl", "1h", "--policy-resource", "https://a.test/b/*"}, key...), 1, "does not match"},
		{"bad same-site", append([]string{"sign", "cookies", "https://a.test/*", "--ttl", "1h", "--same-site", "lots"}, key...), 2, "Lax, Strict or None"},
		{"unknown flag", append([]string{"sign", "url", "https://a.test/1", "--ttl", "1h", "--bogus"}, key...), 2, "bogus"},
		{"keygen without out", []string{"keygen"}, 2, "--out DIR is required"},
		{"keygen bad type", []string{"keygen", "--type", "dsa", "--out", "x"}, 2, "rsa or ecdsa"},
		{"version args", []string{"version", "x"}, 2, "no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := cli(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not say %q", errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout should be empty on error, got %q", out)
			}
			if strings.Contains(errOut, "PRIVATE KEY") || strings.Contains(errOut, "Signature=") {
				t.Errorf("stderr leaks a secret: %q", errOut)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	out, _, code := cli(t, "version")
	if code != 0 || out != "cfissuer dev\n" {
		t.Errorf("version: %d %q", code, out)
	}
	out, _, code = cli(t, "help")
	if code != 0 || !strings.Contains(out, "sign url") || !strings.Contains(out, "keygen") {
		t.Errorf("help: %d %q", code, out)
	}
	out, _, code = cli(t, "sign", "url", "-h")
	if code != 0 || !strings.Contains(out, "--policy-resource") && !strings.Contains(out, "-policy-resource") {
		t.Errorf("sign url -h: %d %q", code, out)
	}
}

func TestDefaultCookiePathFromResource(t *testing.T) {
	for in, want := range map[string]string{
		"https://m.test/courses/go-101/*":      "/courses/go-101/",
		"https://m.test/courses/go-101/x*.ts":  "/courses/go-101/",
		"https://m.test/ebooks/a.pdf":          "/ebooks/",
		"https://m.test/a.pdf?x=1/2":           "/",
		"https://m.test":                       "/",
		"https://m.test/c?/x":                  "/",
		"https://m.test/courses/go-101/??/*.m": "/courses/go-101/",
	} {
		if got := defaultCookiePath(in); got != want {
			t.Errorf("defaultCookiePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
