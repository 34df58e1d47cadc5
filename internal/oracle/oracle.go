// Package oracle runs independent CloudFront signers for cross-checks in
// tests: the npm @aws-sdk/cloudfront-signer (JS), botocore's
// CloudFrontSigner (Botocore) and OpenSSL (OpenSSLSign, OpenSSLVerify).
// None of them shares code with cfissuer, so a bug in cfissuer cannot agree
// with itself through them.
//
// The JS signer is installed by `make test-deps` (npm ci in
// internal/oracle/js); botocore and OpenSSL come with the machine. A missing
// oracle fails the test with what to install: it is never skipped, because
// a cross-check that silently does not run proves nothing.
//
// Each call runs one process for a whole batch of requests, so hundreds of
// cross-checks cost one process start.
package oracle

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Request is one signing request for an oracle.
type Request struct {
	URL       string `json:"url"`                  // the URL to sign, as the viewer requests it
	Resource  string `json:"resource,omitempty"`   // custom-policy resource (wildcards); empty: none
	Expires   int64  `json:"expires"`              // DateLessThan, Unix seconds
	NotBefore int64  `json:"not_before,omitempty"` // DateGreaterThan, Unix seconds
	IP        string `json:"ip,omitempty"`         // IpAddress condition
	KeyID     string `json:"key_id"`
	KeyFile   string `json:"key_file"`          // PEM private key (absolute path)
	Hash      string `json:"hash,omitempty"`    // SHA1 (default) or SHA256
	Cookies   bool   `json:"cookies,omitempty"` // sign cookies instead of a URL
}

// Result is one oracle's answer to one Request.
type Result struct {
	URL     string            `json:"url,omitempty"`
	Cookies map[string]string `json:"cookies,omitempty"` // cookie name → value
	Policy  string            `json:"policy,omitempty"`  // the custom policy signed, when the oracle reports it
	Error   string            `json:"error,omitempty"`
}

// dir is this package's directory, where the scripts live.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// JS signs the requests with the npm @aws-sdk/cloudfront-signer.
func JS(t testing.TB, reqs []Request) []Result {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir(), "js", "node_modules", "@aws-sdk", "cloudfront-signer")); err != nil {
		t.Fatalf("oracle: the npm @aws-sdk/cloudfront-signer is not installed; run `make test-deps` (npm ci in internal/oracle/js)")
	}
	return batch(t, reqs, "node", filepath.Join(dir(), "js", "sign.js"))
}

// Botocore signs the requests with botocore's CloudFrontSigner (RSA-SHA1
// URLs only; other requests come back with an "unsupported" error).
func Botocore(t testing.TB, reqs []Request) []Result {
	t.Helper()
	return batch(t, reqs, "python3", filepath.Join(dir(), "botocore_sign.py"))
}

func batch(t testing.TB, reqs []Request, prog string, args ...string) []Result {
	t.Helper()
	if _, err := exec.LookPath(prog); err != nil {
		t.Fatalf("oracle: %s is not installed (needed for cross-checks against independent signers)", prog)
	}
	in, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prog, args...)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %s %v: %v\n%s", prog, args, err, stderr.String())
	}
	var res []Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("oracle: %s: bad output: %v", prog, err)
	}
	if len(res) != len(reqs) {
		t.Fatalf("oracle: %s answered %d of %d requests", prog, len(res), len(reqs))
	}
	return res
}

// OpenSSLSign signs data with `openssl dgst -sha1|-sha256 -sign keyFile`
// and returns the raw signature (PKCS#1 v1.5 for RSA, DER for ECDSA).
func OpenSSLSign(t testing.TB, keyFile string, data []byte, hash string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", "dgst", digestFlag(t, hash), "-sign", keyFile)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: openssl dgst -sign: %v\n%s", err, stderr.String())
	}
	return out
}

// OpenSSLVerify reports whether `openssl dgst -verify pubFile` accepts sig
// over data.
func OpenSSLVerify(t testing.TB, pubFile string, data, sig []byte, hash string) bool {
	t.Helper()
	sigFile := filepath.Join(t.TempDir(), "sig")
	if err := os.WriteFile(sigFile, sig, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("openssl", "dgst", digestFlag(t, hash), "-verify", pubFile, "-signature", sigFile)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); ok {
			return false
		}
		t.Fatalf("oracle: openssl dgst -verify: %v\n%s", err, out)
	}
	return bytes.Contains(out, []byte("Verified OK"))
}

func digestFlag(t testing.TB, hash string) string {
	switch hash {
	case "", "SHA1":
		return "-sha1"
	case "SHA256":
		return "-sha256"
	}
	t.Fatalf("oracle: unknown hash %q", hash)
	return ""
}

// Signature is one signature to verify in a batch.
type Signature struct {
	Data []byte `json:"data"` // the signed bytes
	Sig  []byte `json:"sig"`  // the raw signature
	Hash string `json:"hash"` // SHA1 or SHA256
}

// PyVerify verifies a batch of signatures with the public key in pubFile,
// using Python's `cryptography` package in one process (OpenSSLVerify costs
// a process per signature). It returns one result per signature.
func PyVerify(t testing.TB, pubFile string, sigs []Signature) []bool {
	t.Helper()
	if len(sigs) == 0 {
		return nil
	}
	abs, err := filepath.Abs(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(struct {
		PublicKey string      `json:"public_key"`
		Items     []Signature `json:"items"`
	}{abs, sigs})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", filepath.Join(dir(), "verify.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: verify.py: %v\n%s", err, stderr.String())
	}
	var res []bool
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(sigs) {
		t.Fatalf("oracle: verify.py: bad output (%v)", err)
	}
	return res
}
