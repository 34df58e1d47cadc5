package oracle

import (
	"path/filepath"
	"testing"
)

// TestOraclesAgree is the oracles' own self-test: for a canned RSA-SHA1 URL
// (the one case every signer shares, with an ASCII path neither re-encodes)
// the npm signer and botocore must produce the same URL, and OpenSSL must
// verify what it signs. If this fails, the cross-checks built on the
// oracles cannot be trusted.
func TestOraclesAgree(t *testing.T) {
	key, err := filepath.Abs("../../testdata/keys/rsa2048.pem")
	if err != nil {
		t.Fatal(err)
	}
	req := []Request{{URL: "https://media.example.test/ebooks/intro.pdf?v=2", Expires: 1800000000, KeyID: "KORACLE", KeyFile: key}}
	js, boto := JS(t, req), Botocore(t, req)
	if js[0].Error != "" || boto[0].Error != "" {
		t.Fatalf("errors: js %q, botocore %q", js[0].Error, boto[0].Error)
	}
	jsBase, jsParams := Split(js[0].URL)
	botoBase, botoParams := Split(boto[0].URL)
	if jsBase != botoBase || len(jsParams) != 3 || len(jsParams) != len(botoParams) {
		t.Fatalf("npm signer and botocore disagree:\n js   %s\n boto %s", js[0].URL, boto[0].URL)
	}
	for k, v := range jsParams {
		if botoParams[k] != v {
			t.Errorf("parameter %s: npm signer %q, botocore %q", k, v, botoParams[k])
		}
	}
	data := []byte("policy bytes")
	sig := OpenSSLSign(t, key, data, "SHA256")
	pub, _ := filepath.Abs("../../testdata/keys/rsa2048.pub.pem")
	if !OpenSSLVerify(t, pub, data, sig, "SHA256") {
		t.Error("openssl does not verify its own signature")
	}
	if OpenSSLVerify(t, pub, []byte("other bytes"), sig, "SHA256") {
		t.Error("openssl verifies a signature over other bytes")
	}
	got := PyVerify(t, pub, []Signature{{data, sig, "SHA256"}, {[]byte("other"), sig, "SHA256"}, {data, sig, "SHA1"}})
	if !got[0] || got[1] || got[2] {
		t.Errorf("PyVerify = %v, want [true false false]", got)
	}
}
