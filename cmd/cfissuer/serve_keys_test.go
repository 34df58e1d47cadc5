package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeysPlan runs `cfissuer keys plan` on a config whose old key retires
// too soon after its successor takes over and whose behaviors file's key
// group lacks the new key; it reads no key source (the KMS key below does
// not exist anywhere).
func TestKeysPlan(t *testing.T) {
	dir := t.TempDir()
	beh := strings.Replace(rotationBehaviors, `"behaviors":`, `"key_ids": ["KOLD"], "behaviors":`, 1)
	os.WriteFile(filepath.Join(dir, "behaviors.json"), []byte(beh), 0o600)
	cfg := `behaviors: behaviors.json
keys:
  - id: KOLD
    file: old.pem
    retire_at: 2026-03-02T01:30:00Z
  - id: KNEW
    kms: {key: alias/does-not-exist}
    activate_at: 2026-03-02T00:00:00Z
callers: []
`
	cfgFile := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgFile, []byte(cfg), 0o600)

	out, errOut, code := cli(t, "keys", "plan", "--config", cfgFile, "--at", "2026-03-01T00:00:00Z")
	if code != 0 {
		t.Fatalf("keys plan exited %d: %s", code, errOut)
	}
	for _, want := range []string{
		"longest lifetime L = 1h0m0s",
		"2026-03-02T00:00:00Z  KNEW             -> active    signing: KNEW",
		"2026-03-02T00:30:00Z  KOLD             -> retiring",
		"2026-03-02T01:30:00Z  KOLD             -> retired",
		"[short-overlap] key KOLD signs until 2026-03-02T00:00:00Z and retires at 2026-03-02T01:30:00Z",
		"[not-in-group] key KNEW is next",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if _, _, code := cli(t, "keys", "plan", "--config", cfgFile, "--at", "2026-03-01T00:00:00Z", "--strict"); code != 1 {
		t.Errorf("--strict with warnings exited %d, want 1", code)
	}
	// A margin of 30m makes the overlap long enough; the key group warning stays.
	out, _, _ = cli(t, "keys", "plan", "--config", cfgFile, "--at", "2026-03-01T00:00:00Z", "--margin", "30m")
	if strings.Contains(out, "short-overlap") || !strings.Contains(out, "not-in-group") {
		t.Errorf("with --margin 30m:\n%s", out)
	}
}
