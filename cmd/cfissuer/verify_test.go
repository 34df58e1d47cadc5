package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestVerifyCommand signs a URL with `sign url` and checks it with
// `verify` and `explain`: exit 0 and "allowed" while valid, exit 1 with the
// code and the reason once expired or tampered with.
func TestVerifyCommand(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	runCmd := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, now: func() time.Time { return now }}
		code := run(context.Background(), e, args)
		return code, out.String() + errb.String()
	}
	code, signed := runCmd("sign", "url", "https://media.example.test/ebooks/intro.pdf", "--key-file", "../../testdata/keys/rsa2048.pem", "--key-id", "KTEST", "--expires", "1800000600")
	if code != 0 {
		t.Fatalf("sign url: %d %s", code, signed)
	}
	signed = strings.TrimSpace(signed)
	key := []string{"--public-key-file", "../../testdata/keys/rsa2048.pub.pem", "--key-id", "KTEST"}
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"valid", append([]string{"verify", signed}, key...), 0, []string{"allowed"}},
		{"expired", append([]string{"verify", signed, "--now", "1800000600"}, key...), 1, []string{"AccessDenied", "expired at 2027-01-15T08:10:00Z"}},
		{"other path", append([]string{"verify", strings.Replace(signed, "intro", "outro", 1)}, key...), 1, []string{"AccessDenied", "signature does not verify"}},
		{"unknown key", []string{"verify", signed, "--public-key-file", "../../testdata/keys/rsa2048.pub.pem", "--key-id", "KOTHER"}, 1, []string{"InvalidKey"}},
		{"explain expired", append([]string{"explain", signed, "--now", "2027-01-15T09:00:00Z"}, key...), 1, []string{"DENIED", "DateLessThan:    2027-01-15T08:10:00Z (1800000600, 50m0s ago)", "Fix:"}},
		{"explain valid", append([]string{"explain", signed}, key...), 0, []string{"ALLOWED", "in 10m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := runCmd(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.code, out)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			sig := signed[strings.Index(signed, "Signature=")+10:]
			if sig = sig[:strings.IndexByte(sig, '&')]; strings.Contains(out, sig) {
				t.Error("the output holds the signature")
			}
		})
	}
}
