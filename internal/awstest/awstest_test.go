package awstest

import (
	"strings"
	"testing"
)

// TestSelfTestCatchesDoubleHashing: with the DIGEST patch switched off,
// the wrapper's self-test sees moto's double hashing and refuses to serve,
// so a moto upgrade that moves the patched functions cannot pass silently.
// With the patch, it serves.
func TestSelfTestCatchesDoubleHashing(t *testing.T) {
	_, err := start(t, "MOTO_KMS_EXT_UNPATCHED=1")
	if err == nil || !strings.Contains(err.Error(), "self-test failed") {
		t.Fatalf("unpatched moto: start = %v, want a self-test failure", err)
	}
	s := Start(t)
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q, want http://127.0.0.1:PORT", s.Endpoint)
	}
}
