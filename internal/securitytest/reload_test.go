package securitytest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadInvalidConfig runs the real binary, then overwrites its config
// file with broken ones and sends SIGHUP after each: invalid YAML, invalid
// JSON, valid files with an invalid field, and a private key pasted where a
// file name belongs. Each time the previous state keeps serving (issuance
// still 200, signed by the old key), the error is logged with the field or
// line at fault and without secrets (key material, API key), and the
// reload-failure metrics say so. Fixing the file (with a new key) and
// sending SIGHUP again recovers: the new key signs and the metric clears.
func TestReloadInvalidConfig(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	apiKey, callers := serveFiles(t, dir)
	cfgPath := filepath.Join(dir, "config.yaml")
	good := func(id, key string) string {
		return fmt.Sprintf("behaviors: behaviors.json\nlog: {level: debug, format: json}\nkeys: [{id: %s, file: %q}]\n%s\n", id, keyPath(t, key), callers)
	}
	writeFile(t, cfgPath, good("KOLD", "ec-p256.pem"))
	p := startProc(t, bin, dir, "serve", "--config", "config.yaml", "--listen", "127.0.0.1:0")
	p.waitListening(t)
	base := "http://" + p.addr
	client := &http.Client{}
	defer client.CloseIdleConnections()

	// Secrets the log must never hold: both keys' PEM bodies and the API
	// key.
	var secrets []string
	pemOf := map[string]string{}
	for _, f := range []string{"ec-p256.pem", "rsa2048.pem"} {
		data, err := os.ReadFile(keyPath(t, f))
		if err != nil {
			t.Fatal(err)
		}
		pemOf[f] = string(data)
		for _, line := range strings.Split(string(data), "\n") {
			if len(line) >= 32 && !strings.HasPrefix(line, "-----") {
				secrets = append(secrets, line)
			}
		}
	}
	_, apiSecret, _ := strings.Cut(apiKey, ".")
	secrets = append(secrets, apiKey, apiSecret, "PRIVATE KEY")

	issue := func(wantKey string) {
		t.Helper()
		status, body := post(t, client, base+"/v1/urls", apiKey, `{"path": "/ebooks/a.pdf"}`)
		var out struct {
			URL   string
			KeyID string `json:"key_id"`
		}
		json.Unmarshal(body, &out)
		if status != http.StatusOK || out.KeyID != wantKey || !strings.Contains(out.URL, "Key-Pair-Id="+wantKey) {
			t.Fatalf("issuance: %d key %q %s; want 200 signed by %s", status, out.KeyID, body, wantKey)
		}
	}
	metric := func(name string) float64 {
		t.Helper()
		resp, err := client.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("metric %s: %q", name, v)
				}
				io.Copy(io.Discard, resp.Body)
				return f
			}
		}
		t.Fatalf("no metric %s at /metrics", name)
		return 0
	}
	// hup sends SIGHUP and waits for one more line holding marker, and
	// returns it.
	hup := func(marker string) string {
		t.Helper()
		before := strings.Count(p.out.String(), marker)
		p.signal(t, syscall.SIGHUP)
		p.waitFor(t, func(out string) bool { return strings.Count(out, marker) > before }, "log line "+marker)
		lines := strings.Split(p.out.String(), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if strings.Contains(lines[i], marker) {
				return lines[i]
			}
		}
		return ""
	}

	issue("KOLD")
	indent := func(s string) string { return "      " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n      ") }
	cases := []struct {
		name, config, want string
	}{
		{"invalid YAML", "behaviors: behaviors.json\nkeys: [ {id: KNEW, file: \n", "yaml: line"},
		{"invalid JSON", `{"behaviors": "behaviors.json", "keys": [{"id": "KNEW", "file": "new.pem"}],`, "config: yaml"},
		{"empty file", "", "keys"},
		{"unknown field", strings.Replace(good("KNEW", "rsa2048.pem"), "keys:", "kyes:", 1), "field kyes not found"},
		{"invalid secret_sha256", strings.Replace(good("KNEW", "rsa2048.pem"), "secret_sha256: \"", "secret_sha256: \"zz", 1), "callers[0].secret_sha256"},
		{"invalid log.level", strings.Replace(good("KNEW", "rsa2048.pem"), "level: debug", "level: loud", 1), "log.level"},
		{"invalid key id", good("k-new", "rsa2048.pem"), "keys[0].id"},
		{"key file missing", good("KNEW", "no-such-key.pem"), "keys[0] (KNEW)"},
		{"private key pasted into keys[0].file", "behaviors: behaviors.json\n" + callers + "\nkeys:\n  - id: KNEW\n    file: |\n" + indent(pemOf["rsa2048.pem"]) + "\n", "keys[0].file"},
		{"private key pasted into keys[0].env", "behaviors: behaviors.json\n" + callers + "\nkeys:\n  - id: KNEW\n    env: |\n" + indent(pemOf["rsa2048.pem"]) + "\n", "keys[0].env"},
	}
	for i, c := range cases {
		writeFile(t, cfgPath, c.config)
		line := hup("reload failed")
		if !strings.Contains(line, c.want) {
			t.Errorf("%s: the reload error %s does not name %q", c.name, line, c.want)
		}
		issue("KOLD")
		if v := metric("cfissuer_reload_failing"); v != 1 {
			t.Errorf("%s: cfissuer_reload_failing %v, want 1", c.name, v)
		}
		if v := metric(`cfissuer_reloads_total{result="error"}`); v != float64(i+1) {
			t.Errorf("%s: cfissuer_reloads_total{result=\"error\"} %v, want %d", c.name, v, i+1)
		}
	}
	out, leaks := p.out.String(), 0
	for _, s := range secrets {
		if strings.Contains(out, s) {
			leaks++
			t.Errorf("the log holds a secret: %.24s…", s)
		}
	}

	// Fixed, with a new key: the reload swaps it in and the metric clears.
	writeFile(t, cfgPath, good("KNEW", "rsa2048.pem"))
	hup("reloaded config, behaviors and keys")
	issue("KNEW")
	if v := metric("cfissuer_reload_failing"); v != 0 {
		t.Errorf("after the fix: cfissuer_reload_failing %v, want 0", v)
	}
	if v := metric(`cfissuer_reloads_total{result="ok"}`); v != 1 {
		t.Errorf("after the fix: cfissuer_reloads_total{result=\"ok\"} %v, want 1", v)
	}
	report(t, "reload", "%d broken configs sent by SIGHUP: old key kept signing, reload_failing=1, error named the fault; %d secrets in the log; fixed file: new key signs, reload_failing=0", len(cases), leaks)
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
}
