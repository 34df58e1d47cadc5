package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// signalBuffer is a concurrency-safe stdout that closes ready when a
// marker has been written.
type signalBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	ready  chan struct{}
	once   sync.Once
}

func (b *signalBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if strings.Contains(b.buf.String(), b.marker) {
		b.once.Do(func() { close(b.ready) })
	}
	return n, err
}

func (b *signalBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// startDev runs `cfissuer serve --dev` (what `make run` runs) on port 0
// with a temporary state folder, and returns its stdout once it has printed
// its hints, and a stop function that returns its exit code.
func startDev(t *testing.T, state string, clock *testClock) (*signalBuffer, func() int) {
	t.Helper()
	out := &signalBuffer{marker: "Ctrl-C to stop", ready: make(chan struct{})}
	var errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: out, stderr: &errOut, getenv: func(string) string { return "" }, now: clock.Now}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, []string{"serve", "--dev", "--state", state, "--listen", "127.0.0.1:0",
			"--edge", "127.0.0.1:0", "--edge-tomorrow", "127.0.0.1:0", "--behaviors", "../../examples/behaviors.json"})
	}()
	select {
	case <-out.ready:
	case code := <-done:
		cancel()
		t.Fatalf("serve --dev exited %d before serving:\n%s\n%s", code, out.String(), errOut.String())
	case <-time.After(60 * time.Second): // a hang guard, not a timing assertion
		cancel()
		t.Fatalf("serve --dev did not start:\n%s", out.String())
	}
	return out, func() int {
		cancel()
		return <-done
	}
}

var curlRE = regexp.MustCompile(`(?m)^[uc]=\$\(curl .*$`)

// TestMakeRun runs the entry point of `make run` with a temporary state
// folder, then runs the three curl commands it prints (when curl is
// installed) and checks their answers; it checks that the API key is never
// printed, that a second start reuses the dev key and API key, and that
// the edge answers 403 once the clock passes the expiry.
func TestMakeRun(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	out, stop := startDev(t, state, clock)
	stdout := out.String()

	apiKey, err := os.ReadFile(filepath.Join(state, "dev-api-key"))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(apiKey))
	_, secret, _ := strings.Cut(key, ".")
	if strings.Contains(stdout, secret) {
		t.Fatal("stdout holds the dev API key")
	}
	if !strings.Contains(stdout, filepath.Join(state, "dev-api-key")) {
		t.Errorf("stdout does not say where the API key is:\n%s", stdout)
	}
	if st, _ := os.Stat(filepath.Join(state, "dev-api-key")); st.Mode().Perm() != 0o600 {
		t.Errorf("dev-api-key mode %v", st.Mode().Perm())
	}
	cmds := curlRE.FindAllString(stdout, -1)
	if len(cmds) != 3 {
		t.Fatalf("%d curl commands printed, want 3:\n%s", len(cmds), stdout)
	}
	want := []string{"HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 403"}
	if _, err := exec.LookPath("curl"); err == nil {
		for i, c := range cmds {
			got, err := exec.Command("bash", "-c", c).CombinedOutput()
			if err != nil {
				t.Fatalf("command %d: %v\n%s", i+1, err, got)
			}
			if !strings.HasPrefix(string(got), want[i]) {
				t.Errorf("command %d answered:\n%s\nwant %s", i+1, got, want[i])
			}
			if i == 2 && !strings.Contains(string(got), "<Code>AccessDenied</Code>") {
				t.Errorf("command 3 is not CloudFront's AccessDenied:\n%s", got)
			}
		}
	} else {
		t.Log("curl is not installed: the printed commands are checked through Go below only")
	}

	// The same flow in Go, with the clock moved past the expiry.
	addrs := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindAllString(stdout, -1)
	api, edgeURL := addrs[0], ""
	for _, a := range addrs {
		if strings.Contains(cmds[0], a+"$u") {
			edgeURL = a
		}
	}
	if edgeURL == "" {
		t.Fatalf("no edge address in %s", cmds[0])
	}
	req, _ := http.NewRequest("POST", api+"/v1/urls", strings.NewReader(`{"path":"/ebooks/intro.pdf"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`"url":"https://media\.example\.test([^"]*)","expires_at":"([^"]*)"`).FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("POST /v1/urls: %s", body)
	}
	get := func() int {
		r, err := http.Get(edgeURL + m[1])
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if s := get(); s != 200 {
		t.Errorf("through the edge: %d, want 200", s)
	}
	exp, _ := time.Parse(time.RFC3339, m[2])
	clock.Set(exp.Add(-time.Second))
	if s := get(); s != 200 {
		t.Errorf("a second before expiry: %d, want 200", s)
	}
	clock.Set(exp)
	if s := get(); s != 403 {
		t.Errorf("at expiry: %d, want 403", s)
	}

	if code := stop(); code != 0 {
		t.Fatalf("serve exited %d on shutdown:\n%s", code, out.String())
	}

	// A second start reuses the key and the API key.
	clock.Set(time.Now())
	priv, _ := os.ReadFile(filepath.Join(state, "dev-key", "private.pem"))
	_, stop = startDev(t, state, clock)
	again, _ := os.ReadFile(filepath.Join(state, "dev-api-key"))
	priv2, _ := os.ReadFile(filepath.Join(state, "dev-key", "private.pem"))
	if !bytes.Equal(again, apiKey) || !bytes.Equal(priv, priv2) {
		t.Error("the second start made a new dev key or API key")
	}
	if code := stop(); code != 0 {
		t.Errorf("second serve exited %d", code)
	}
}

func TestServeConfig(t *testing.T) {
	const hash = "d0f8cddd42ff7be0ee157d947ae0282232f1fd898b9b3d228f69fa095a7ddd38"
	yamlCfg := `
listen: 127.0.0.1:9000
behaviors: behaviors.json
keys:
  - id: KAAA
    file: a.pem
    retire_at: 2026-06-01T00:00:00Z
callers:
  - id: shop
    secret_sha256: ` + hash + `
    max_lifetime: 2h
    rate: 5
limits:
  read_timeout: 20
`
	jsonCfg := `{"behaviors": "behaviors.json", "keys": [{"id": "KAAA", "env": "CF_KEY"}],
  "callers": [{"id": "shop", "secret_sha256": "` + hash + `", "max_lifetime": "90m"}]}`
	for name, src := range map[string]string{"yaml": yamlCfg, "json": jsonCfg} {
		t.Run(name, func(t *testing.T) {
			c, err := ParseServeConfig(strings.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			c.SetDefaults()
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if c.Log.Level != "info" || c.Log.Format != "json" || time.Duration(c.Limits.ShutdownTimeout) != 30*time.Second {
				t.Errorf("defaults: %+v", c)
			}
			if name == "yaml" {
				if c.Listen != "127.0.0.1:9000" || time.Duration(c.Callers[0].MaxLifetime) != 2*time.Hour ||
					time.Duration(c.Limits.ReadTimeout) != 20*time.Second || c.Keys[0].RetireAt == nil {
					t.Errorf("parsed %+v", c)
				}
			} else if c.Listen != DefaultServeListen || time.Duration(c.Callers[0].MaxLifetime) != 90*time.Minute {
				t.Errorf("parsed %+v", c)
			}
			c.ApplyEnv(func(k string) string {
				return map[string]string{"CFISSUER_LISTEN": "127.0.0.1:7000", "CFISSUER_LOG_LEVEL": "debug"}[k]
			})
			if c.Listen != "127.0.0.1:7000" || c.Log.Level != "debug" {
				t.Errorf("env overrides: %+v", c)
			}
		})
	}

	base := func() *ServeConfig {
		c, err := ParseServeConfig(strings.NewReader(yamlCfg))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDefaults()
		return c
	}
	tests := []struct {
		field  string
		change func(c *ServeConfig)
	}{
		{"listen", func(c *ServeConfig) { c.Listen = "8080" }},
		{"behaviors", func(c *ServeConfig) { c.Behaviors = "" }},
		{"log.level", func(c *ServeConfig) { c.Log.Level = "loud" }},
		{"log.format", func(c *ServeConfig) { c.Log.Format = "xml" }},
		{"cache_size", func(c *ServeConfig) { c.CacheSize = -1 }},
		{"limits.max_batch", func(c *ServeConfig) { c.Limits.MaxBatch = -1 }},
		{"limits.shutdown_timeout", func(c *ServeConfig) { c.Limits.ShutdownTimeout = -1 }},
		{"keys", func(c *ServeConfig) { c.Keys = nil }},
		{"keys[0].id", func(c *ServeConfig) { c.Keys[0].ID = "lower" }},
		{"keys[0]", func(c *ServeConfig) { c.Keys[0].Env = "X" }},
		{"keys[1].id", func(c *ServeConfig) { c.Keys = append(c.Keys, c.Keys[0]) }},
		{"keys[0].retire_at", func(c *ServeConfig) { t := *c.Keys[0].RetireAt; c.Keys[0].ActivateAt = &t }},
		{"callers[0].secret_sha256", func(c *ServeConfig) { c.Callers[0].SecretSHA256 = "abc" }},
		{"callers[0].path_prefixes[0]", func(c *ServeConfig) { c.Callers[0].PathPrefixes = []string{"/courses/*"} }},
		{"callers[1].id", func(c *ServeConfig) { c.Callers = append(c.Callers, c.Callers[0]) }},
		{"callers[0]", func(c *ServeConfig) { c.Callers[0].Rate = -1 }},
	}
	for _, tt := range tests {
		c := base()
		tt.change(c)
		err := c.Validate()
		var ce *ServeConfigError
		if !errors.As(err, &ce) || ce.Field != tt.field {
			t.Errorf("%s: Validate = %v, want an error naming %s", tt.field, err, tt.field)
		}
	}
	for _, bad := range []string{"listen: [1, 2]\n", "unknown_field: 1\n", "callers:\n  - max_lifetime: soon\n"} {
		if _, err := ParseServeConfig(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseServeConfig(%q) accepted it", bad)
		}
	}
}

func TestServeRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const hash = "d0f8cddd42ff7be0ee157d947ae0282232f1fd898b9b3d228f69fa095a7ddd38"
	keyFile, _ := filepath.Abs("../../testdata/keys/ec-p256.pem")
	examples, _ := filepath.Abs("../../examples/behaviors.json")
	sha1Behaviors := write("sha1.json", `{"viewer_origin": "https://media.example.test", "behaviors": [{"name": "default", "path_pattern": "*", "access": "signed-url", "hash": "SHA1"}]}`)
	tests := []struct {
		name, cfg, want string
	}{
		{"SHA-1 behavior with an ECDSA key", "behaviors: " + sha1Behaviors + "\nkeys: [{id: KEC, file: " + keyFile + "}]\n", "behaviors[0].hash"},
		{"unknown behavior for a caller", "behaviors: " + examples + "\nkeys: [{id: KEC, file: " + keyFile + "}]\ncallers: [{id: a, secret_sha256: " + hash + ", behaviors: [videos]}]\n", "callers[0].behaviors[0]"},
		{"missing key file", "behaviors: " + sha1Behaviors + "\nkeys: [{id: KEC, file: /nonexistent.pem}]\n", "keys[0] (KEC)"},
		{"key retires too soon", "behaviors: " + examples + "\nkeys: [{id: KEC, file: " + keyFile + ", retire_at: 2026-11-23T00:00:00Z}]\n", "no key can sign"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgFile := write("c.yaml", tt.cfg)
			_, errOut, code := cli(t, "serve", "--config", cfgFile, "--listen", "127.0.0.1:0")
			if code == 0 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want an error naming %s", code, errOut, tt.want)
			}
			if strings.Contains(errOut, "PRIVATE KEY") {
				t.Error("the error shows key material")
			}
		})
	}
}
