package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// TestKeysRevokeUnderLoad kills the signing key of a running `cfissuer
// serve` while clients issue URLs without pause: `keys revoke` edits the
// config (revoked_at on the killed key, and activate_at now on the next
// key, which is already in the key group), a SIGHUP reloads it, and from
// then on every URL is signed by the next key; no request fails. At the
// edge, a URL the killed key signed verifies while the key group still
// holds it and is refused once the key leaves the trusted list (the
// Terraform change the command prints), while new URLs keep working.
func TestKeysRevokeUnderLoad(t *testing.T) {
	dir := t.TempDir()
	beh := strings.Replace(rotationBehaviors, `"behaviors":`, `"key_ids": ["KKILLED", "KNEXT"], "behaviors":`, 1)
	os.WriteFile(filepath.Join(dir, "behaviors.json"), []byte(beh), 0o600)
	killedPEM, _ := filepath.Abs("../../testdata/keys/rsa2048.pem")
	nextPEM, _ := filepath.Abs("../../testdata/keys/ec-p256.pem")
	t0 := time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)
	clock := &testClock{t: t0}
	keysYAML := fmt.Sprintf("  # the key that leaked\n  - id: KKILLED\n    file: %q\n  - id: KNEXT  # the next rotation\n    file: %q\n    activate_at: %s\n",
		killedPEM, nextPEM, t0.Add(30*24*time.Hour).Format(time.RFC3339))
	cfgFile := writeRotationConfig(t, dir, "", keysYAML)
	s := startServe(t, cfgFile, clock)

	before := s.get(t, "/v1/keys")
	if !strings.Contains(before, `"key_id":"KKILLED"`) {
		t.Fatalf("/v1/keys before: %s", before)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	_, old, err := issueURL(client, s.addr, "/video/a.ts")
	if err != nil || old.KeyID != "KKILLED" {
		t.Fatalf("before the kill: %+v, %v", old, err)
	}

	var total, failed atomic.Int64
	var mu sync.Mutex
	var firstErr error
	byKey := map[string]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code, got, err := issueURL(client, s.addr, fmt.Sprintf("/video/seg-%d.ts", (w+i)%8))
				total.Add(1)
				mu.Lock()
				if code != 200 {
					failed.Add(1)
					if firstErr == nil {
						firstErr = err
					}
				} else {
					byKey[got.KeyID]++
				}
				mu.Unlock()
			}
		})
	}

	// waitFor waits until the load has had n URLs signed by key.
	waitFor := func(key string, n int) {
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(5 * time.Millisecond) { // a hang guard
			mu.Lock()
			got := byKey[key]
			mu.Unlock()
			if got >= n || time.Now().After(deadline) {
				return
			}
		}
	}
	waitFor("KKILLED", 20)
	out, errOut, code := cli(t, "keys", "revoke", "KKILLED", "--config", cfgFile, "--at", t0.Format(time.RFC3339))
	if code != 0 {
		close(stop)
		wg.Wait()
		t.Fatalf("keys revoke exited %d: %s", code, errOut)
	}
	for _, want := range []string{
		"keys[0] KKILLED: revoked_at: 2026-03-01T12:00:07Z",
		"keys[1] KNEXT: activate_at: 2026-03-01T12:00:07Z",
		"New grants are signed by KNEXT.",
		"kill -HUP",
		"~ aws_cloudfront_key_group.this (items loses KKILLED)",
		"select(.value == \"KKILLED\")",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("keys revoke output lacks %q:\n%s", want, out)
		}
	}
	edited, _ := os.ReadFile(cfgFile)
	if !strings.Contains(string(edited), "# the key that leaked") || !strings.Contains(string(edited), "# the next rotation") {
		t.Errorf("the edit lost the config's comments:\n%s", edited)
	}
	if line := s.hup(t); !strings.Contains(line, "reloaded config") {
		close(stop)
		wg.Wait()
		t.Fatalf("reload after keys revoke: %s", line)
	}
	waitFor("KNEXT", 20)
	close(stop)
	wg.Wait()
	t.Logf("%d issuances during the kill: %v, %d failed", total.Load(), byKey, failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d of %d issuances failed during the kill; first: %v", failed.Load(), total.Load(), firstErr)
	}
	if byKey["KNEXT"] == 0 {
		t.Fatalf("no issuance was signed by KNEXT after the reload: %v", byKey)
	}
	// From the reload on, nothing is signed by the killed key.
	for range 5 {
		if _, got, err := issueURL(client, s.addr, "/video/b.ts"); err != nil || got.KeyID != "KNEXT" {
			t.Fatalf("after the kill: %+v, %v", got, err)
		}
	}
	if after := s.get(t, "/v1/keys"); strings.Contains(after, "KKILLED") {
		t.Errorf("/v1/keys still lists the killed key: %s", after)
	}
	_, fresh, _ := issueURL(client, s.addr, "/video/a.ts")

	// The edge before and after Terraform removes the key from the group.
	bs, err := policy.ParseBehaviors(strings.NewReader(beh))
	if err != nil {
		t.Fatal(err)
	}
	pub := func(file string) any {
		k, err := keys.File{Path: file, KeyID: "K"}.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return k.Public()
	}
	check := func(trusted []edge.Key, raw string) *edge.Decision {
		v, err := edge.NewVerifier(bs, trusted, edge.Options{})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(raw)
		return v.Check(edge.Request{Scheme: "https", Host: u.Host, RawPath: u.EscapedPath(), RawQuery: u.RawQuery}, clock.Now())
	}
	group := []edge.Key{{ID: "KKILLED", Public: pub(killedPEM)}, {ID: "KNEXT", Public: pub(nextPEM)}}
	if d := check(group, old.URL); !d.Allowed() {
		t.Errorf("while the key group still holds KKILLED, its URL was refused: %+v", d)
	}
	if d := check(group[1:], old.URL); d.Allowed() || d.Denial.Code != edge.InvalidKey {
		t.Errorf("after KKILLED left the key group, its URL got %+v; want 403 InvalidKey", d)
	}
	if d := check(group[1:], fresh.URL); !d.Allowed() {
		t.Errorf("a URL signed by KNEXT was refused: %+v", d)
	}
}

func TestKeysRevokeRefuses(t *testing.T) {
	dir := t.TempDir()
	beh := strings.Replace(rotationBehaviors, `"behaviors":`, `"key_ids": ["KA", "KB"], "behaviors":`, 1)
	os.WriteFile(filepath.Join(dir, "behaviors.json"), []byte(beh), 0o600)
	at := "2026-03-01T12:00:00Z"
	for _, tc := range []struct {
		name, keys, revoke, want string
	}{
		{"the only key", "  - {id: KA, file: a.pem}\n", "KA", "no other key can take over"},
		{"the other key retires within L", "  - {id: KA, file: a.pem}\n  - {id: KB, file: b.pem, retire_at: 2026-03-01T12:30:00Z}\n", "KA", "no other key can take over"},
		{"the other key is not in the key group", "  - {id: KA, file: a.pem}\n  - {id: KC, file: c.pem}\n", "KA", "no other key can take over"},
		{"the other key is revoked", "  - {id: KA, file: a.pem}\n  - {id: KB, file: b.pem, revoked_at: 2026-02-01T00:00:00Z}\n", "KA", "no other key can take over"},
		{"unknown key", "  - {id: KA, file: a.pem}\n", "KZ", "not in"},
		{"already revoked", "  - {id: KA, file: a.pem}\n  - {id: KB, file: b.pem, revoked_at: 2026-02-01T00:00:00Z}\n", "KB", "already revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfgFile := filepath.Join(dir, "config.yaml")
			cfg := "behaviors: behaviors.json\nkeys:\n" + tc.keys + "callers: []\n"
			os.WriteFile(cfgFile, []byte(cfg), 0o600)
			_, errOut, code := cli(t, "keys", "revoke", tc.revoke, "--config", cfgFile, "--at", at)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.want)
			}
			if got, _ := os.ReadFile(cfgFile); string(got) != cfg {
				t.Errorf("the config changed although revoke refused:\n%s", got)
			}
		})
	}

	// Another active key takes over as it is; --dry-run writes nothing;
	// --public-key-ids names the Terraform entry.
	cfgFile := filepath.Join(dir, "config.yaml")
	cfg := "behaviors: behaviors.json\nkeys:\n  - {id: KA, file: a.pem}\n  - {id: KB, file: b.pem, activate_at: 2026-02-01T00:00:00Z}\ncallers: []\n"
	os.WriteFile(cfgFile, []byte(cfg), 0o600)
	ids := filepath.Join(dir, "ids.json")
	os.WriteFile(ids, []byte(`{"2026-01": "KA", "2026-02": "KB"}`), 0o600)
	out, errOut, code := cli(t, "keys", "revoke", "KA", "--config", cfgFile, "--at", at, "--dry-run", "--public-key-ids", ids)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if got, _ := os.ReadFile(cfgFile); string(got) != cfg {
		t.Errorf("--dry-run wrote the config:\n%s", got)
	}
	if strings.Contains(out, "activate_at") || !strings.Contains(out, "New grants are signed by KB.") ||
		!strings.Contains(out, `-      "2026-01" = …`) {
		t.Errorf("output:\n%s", out)
	}
	if _, _, code := cli(t, "keys", "revoke", "KA", "--config", cfgFile, "--at", at); code != 0 {
		t.Fatal("revoke failed")
	}
	c, err := ParseServeConfig(bytes.NewReader(mustRead(t, cfgFile)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Keys[0].RevokedAt == nil || c.Keys[0].RevokedAt.Format(time.RFC3339) != at || c.Keys[1].RevokedAt != nil {
		t.Errorf("edited keys: %+v", c.Keys)
	}
	// The service never loads a revoked key: the missing a.pem is not read.
	c.Keys[1].File = "../../testdata/keys/ec-p256.pem"
	bs, _ := policy.ParseBehaviors(strings.NewReader(beh))
	ring, err := c.Ring(context.Background(), "", bs)
	if err != nil {
		t.Fatal(err)
	}
	if got := ring.Keys(); len(got) != 1 || got[0].Signer.KeyID() != "KB" {
		t.Errorf("ring keys = %v, want KB alone", got)
	}
	var ce *ServeConfigError
	c.Keys[1].RevokedAt = c.Keys[0].RevokedAt
	c.SetDefaults()
	if err := c.Validate(); !errors.As(err, &ce) || ce.Field != "keys" {
		t.Errorf("every key revoked: Validate = %v", err)
	}
}

// TestKeysPlanRevoked: keys plan leaves a revoked key out of the schedule
// and warns (failing --strict) while the key group still holds it.
func TestKeysPlanRevoked(t *testing.T) {
	dir := t.TempDir()
	beh := strings.Replace(rotationBehaviors, `"behaviors":`, `"key_ids": ["KA", "KB"], "behaviors":`, 1)
	os.WriteFile(filepath.Join(dir, "behaviors.json"), []byte(beh), 0o600)
	cfgFile := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgFile, []byte("behaviors: behaviors.json\nkeys:\n  - {id: KA, file: a.pem, revoked_at: 2026-03-01T00:00:00Z}\n  - {id: KB, file: b.pem}\ncallers: []\n"), 0o600)
	out, _, code := cli(t, "keys", "plan", "--config", cfgFile, "--at", "2026-03-01T00:00:00Z", "--strict")
	if code != 1 || !strings.Contains(out, "[revoked-in-group] key KA") || strings.Contains(out, "KA               ->") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	os.WriteFile(filepath.Join(dir, "behaviors.json"), []byte(strings.Replace(beh, `"KA", `, "", 1)), 0o600)
	out, _, code = cli(t, "keys", "plan", "--config", cfgFile, "--at", "2026-03-01T00:00:00Z", "--strict")
	if code != 0 || strings.Contains(out, "revoked-in-group") {
		t.Errorf("with KA gone from the key group: exit %d:\n%s", code, out)
	}
}
