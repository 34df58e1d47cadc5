package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/internal/awstest"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// rotationBehaviors: one signed-URL behavior, L = 1h, no explicit hash (so
// an RSA KMS key must default to SHA-256, the only hash KMS signs).
const rotationBehaviors = `{"viewer_origin": "https://media.example.test",
  "behaviors": [{"name": "video", "path_pattern": "*", "access": "signed-url", "policy": "canned",
    "browser_max_age": 60, "edge_ttl": 3600, "window": 300, "margin": 60, "max_lifetime": 3600}]}`

const (
	loadCallerID     = "load"
	loadCallerSecret = "rotation-under-load-secret"
)

// awsCounter is a reverse proxy in front of moto that counts KMS calls by
// operation (X-Amz-Target), so the test measures what the service really
// sends.
type awsCounter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *awsCounter) count(op string) int { c.mu.Lock(); defer c.mu.Unlock(); return c.calls[op] }

func startAWSCounter(t *testing.T, endpoint string) (*awsCounter, string) {
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c := &awsCounter{calls: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if op := r.Header.Get("X-Amz-Target"); op != "" {
			c.mu.Lock()
			c.calls[op]++
			c.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return c, srv.URL
}

// servedInstance is a `cfissuer serve --config` running in the test.
type servedInstance struct {
	out  *signalBuffer
	addr string
	stop func() int
}

var listenRE = regexp.MustCompile(`"msg":"issuer listening","addr":"([^"]+)"`)

func startServe(t *testing.T, cfgFile string, clock *testClock) *servedInstance {
	t.Helper()
	// The AWS SDK's configuration chain reads the process environment.
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	out := &signalBuffer{marker: "issuer listening", ready: make(chan struct{})}
	e := &env{stdin: strings.NewReader(""), stdout: out, stderr: out, getenv: func(string) string { return "" }, now: clock.Now}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, e, []string{"serve", "--config", cfgFile, "--listen", "127.0.0.1:0"}) }()
	select {
	case <-out.ready:
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d before serving:\n%s", code, out.String())
	case <-time.After(60 * time.Second): // a hang guard, not a timing assertion
		cancel()
		t.Fatalf("serve did not start:\n%s", out.String())
	}
	m := listenRE.FindStringSubmatch(out.String())
	if m == nil {
		cancel()
		t.Fatalf("no listen address in:\n%s", out.String())
	}
	s := &servedInstance{out: out, addr: m[1], stop: func() int { cancel(); return <-done }}
	t.Cleanup(func() { s.stop() })
	return s
}

// hup sends SIGHUP to this process (serve has registered for it before it
// printed its listen line) and waits until the log has one more reload
// line than before.
func (s *servedInstance) hup(t *testing.T) string {
	t.Helper()
	count := func() int {
		o := s.out.String()
		return strings.Count(o, "reloaded config, behaviors and keys") + strings.Count(o, "reload failed")
	}
	before := count()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second) // a hang guard
	for count() == before {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after SIGHUP:\n%s", s.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(s.out.String()), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "reload") {
			return lines[i]
		}
	}
	return ""
}

func (s *servedInstance) get(t *testing.T, path string) string {
	t.Helper()
	res, err := http.Get("http://" + s.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", path, res.StatusCode, b)
	}
	return string(b)
}

type issued struct {
	URL       string `json:"url"`
	KeyID     string `json:"key_id"`
	ExpiresAt string `json:"expires_at"`
}

func issueURL(client *http.Client, addr, path string) (int, issued, error) {
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/urls", strings.NewReader(`{"path":"`+path+`"}`))
	req.Header.Set("Authorization", "Bearer "+loadCallerID+"."+loadCallerSecret)
	res, err := client.Do(req)
	if err != nil {
		return 0, issued{}, err
	}
	defer res.Body.Close()
	var out issued
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode == 200 {
		err = json.Unmarshal(body, &out)
	} else {
		err = fmt.Errorf("%d %s", res.StatusCode, body)
	}
	return res.StatusCode, out, err
}

func writeRotationConfig(t *testing.T, dir, endpoint string, keysYAML string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(loadCallerSecret))
	cfg := fmt.Sprintf(`behaviors: behaviors.json
log: {level: info, format: json}
aws: {region: us-east-1, endpoint: %q}
keys:
%s
callers:
  - id: %s
    secret_sha256: %s
`, endpoint, keysYAML, loadCallerID, hex.EncodeToString(sum[:]))
	path := filepath.Join(dir, "config.yaml")
	if err := writeFileAtomic(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func kmsKey(t *testing.T, c *kms.Client, spec kmstypes.KeySpec) (string, any) {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.KeyMetadata.Arn)
	pk, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return arn, pub
}

// TestRotationUnderLoad drives `cfissuer serve` with concurrent issuance
// while its ring moves from KMS key A (RSA_2048) to KMS key B
// (ECC_NIST_P256): B arrives by reload (a new config and SIGHUP), becomes
// the signing key by the clock passing its activate_at, and A goes
// retiring by the clock passing retire_at − L. Every response must be 200,
// every URL must verify at the edge (edge.Verifier trusting A and B, at the
// issuer's clock), and no URL signed with A may expire after A's
// retire_at. It reports the counts and the KMS calls per issuance, which
// the signature cache keeps far below one.
//
// KMS is moto_server (internal/awstest), patched in-process so that Sign
// honours MessageType=DIGEST (moto 5.2.1 hashes the digest again); the
// service reaches it through a counting proxy via the config's
// aws.endpoint.
func TestRotationUnderLoad(t *testing.T) {
	moto := awstest.Start(t)
	counter, endpoint := startAWSCounter(t, moto.Endpoint)
	km := kms.NewFromConfig(moto.Config())
	arnA, pubA := kmsKey(t, km, kmstypes.KeySpecRsa2048)
	arnB, pubB := kmsKey(t, km, kmstypes.KeySpecEccNistP256)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "behaviors.json"), []byte(rotationBehaviors), 0o600); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := &testClock{t: t0}
	L := time.Hour
	retireA := t0.Add(3 * time.Hour) // A signs until t0+2h
	activateB := t0.Add(90 * time.Minute)
	keyA := fmt.Sprintf("  - id: KROTATEA\n    kms: {key: %q}\n    retire_at: %s\n", arnA, retireA.Format(time.RFC3339))
	keyB := fmt.Sprintf("  - id: KROTATEB\n    kms: {key: %q}\n    activate_at: %s\n", arnB, activateB.Format(time.RFC3339))
	cfgFile := writeRotationConfig(t, dir, endpoint, keyA)
	s := startServe(t, cfgFile, clock)

	bs, err := policy.ParseBehaviors(strings.NewReader(rotationBehaviors))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := edge.NewVerifier(bs, []edge.Key{{ID: "KROTATEA", Public: pubA}, {ID: "KROTATEB", Public: pubB}}, edge.Options{})
	if err != nil {
		t.Fatal(err)
	}

	var (
		total, non200, unverified, outlived atomic.Int64
		mu                                  sync.Mutex
		byKey                               = map[string]int{}
		failures                            []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := fmt.Sprintf("/video/seg-%d.ts", (w+i)%8)
				// The clock only moves forward, and a canned policy has no
				// start: the URL is valid from before the request until it
				// expires, so check it at the clock read before sending
				// (after, the clock may have jumped past its expiry).
				now := clock.Now()
				code, got, err := issueURL(client, s.addr, path)
				total.Add(1)
				if code != 200 {
					non200.Add(1)
					fail("POST /v1/urls %s: %v", path, err)
					continue
				}
				u, err := url.Parse(got.URL)
				if err != nil {
					fail("bad URL: %v", err)
					continue
				}
				d := verifier.Check(edge.Request{Scheme: "https", Host: u.Host, RawPath: u.EscapedPath(), RawQuery: u.RawQuery}, now)
				if !d.Allowed() {
					unverified.Add(1)
					fail("edge refused a URL signed by %s at %s: %v", got.KeyID, now, d.Denial)
				}
				exp, err := time.Parse(time.RFC3339, got.ExpiresAt)
				if err != nil {
					fail("expires_at %q: %v", got.ExpiresAt, err)
				}
				if got.KeyID == "KROTATEA" && exp.After(retireA) {
					outlived.Add(1)
					fail("URL signed with A expires at %s, after A's retire_at %s", exp, retireA)
				}
				mu.Lock()
				byKey[got.KeyID]++
				mu.Unlock()
			}
		})
	}

	// Several seconds of load, across the reload and the clock's moves.
	phase := func(name string, d time.Duration) {
		time.Sleep(d)
		t.Logf("%-32s issued so far %d", name, total.Load())
	}
	phase("A only", 700*time.Millisecond)
	writeRotationConfig(t, dir, endpoint, keyA+keyB)
	if line := s.hup(t); !strings.Contains(line, "reloaded config") {
		t.Fatalf("reload with key B: %s", line)
	}
	keysJSON := s.get(t, "/v1/keys")
	if !strings.Contains(keysJSON, `"key_id":"KROTATEB"`) || !strings.Contains(keysJSON, `"state":"next"`) {
		t.Errorf("GET /v1/keys after the reload: %s", keysJSON)
	}
	phase("B published (next)", 700*time.Millisecond)
	clock.Set(t0.Add(80 * time.Minute))
	phase("A active, t0+80m", 500*time.Millisecond)
	clock.Set(activateB) // by clock: B takes over
	phase("B active, t0+90m", 700*time.Millisecond)
	clock.Set(retireA.Add(-L).Add(-time.Second))
	phase("A one second before retiring", 500*time.Millisecond)
	clock.Set(retireA.Add(-L))
	phase("A retiring, t0+2h", 700*time.Millisecond)
	keysJSON = s.get(t, "/v1/keys")
	clock.Set(retireA.Add(time.Minute))
	phase("A retired, t0+3h1m", 500*time.Millisecond)
	close(stop)
	wg.Wait()

	var kj struct {
		Keys []struct {
			KeyID        string     `json:"key_id"`
			State        string     `json:"state"`
			Signing      bool       `json:"signing"`
			SigningUntil *time.Time `json:"signing_until"`
			Source       string     `json:"source"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(keysJSON), &kj); err != nil || len(kj.Keys) != 2 {
		t.Fatalf("GET /v1/keys at t0+2h: %v %s", err, keysJSON)
	}
	if a, b := kj.Keys[0], kj.Keys[1]; a.State != "retiring" || a.Signing || a.SigningUntil == nil || !a.SigningUntil.Equal(retireA.Add(-L)) ||
		b.State != "active" || !b.Signing || a.Source != "kms" {
		t.Errorf("GET /v1/keys at t0+2h: %+v", kj.Keys)
	}
	metrics := s.get(t, "/metrics")
	for _, want := range []string{"cfissuer_signing_key_retire_seconds +Inf", `cfissuer_reloads_total{result="ok"} 1`, "cfissuer_reload_failing 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// Repeat issuance in one window costs no KMS call: the signature cache
	// answers.
	if code, _, err := issueURL(client, s.addr, "/video/repeat.ts"); code != 200 {
		t.Fatal(err)
	}
	before := counter.count("TrentService.Sign")
	for range 100 {
		if code, _, err := issueURL(client, s.addr, "/video/repeat.ts"); code != 200 {
			t.Fatal(err)
		}
	}
	repeatCalls := counter.count("TrentService.Sign") - before
	t.Logf("100 repeat issuances of one URL in one window: %d KMS Sign calls", repeatCalls)
	if repeatCalls != 0 {
		t.Errorf("repeat issuances made %d KMS Sign calls, want 0 (signature cache)", repeatCalls)
	}

	n := total.Load()
	signs := before
	gets := counter.count("TrentService.GetPublicKey")
	t.Logf("rotation under load: %d issuances (A %d, B %d), %d non-200, %d refused at the edge, %d signed with A expiring after its retire_at",
		n, byKey["KROTATEA"], byKey["KROTATEB"], non200.Load(), unverified.Load(), outlived.Load())
	t.Logf("KMS calls: %d Sign, %d GetPublicKey (one per key per load or reload) for %d issuances: %.4f Sign calls per issuance",
		signs, gets, n, float64(signs)/float64(max(n, 1)))
	for _, f := range failures {
		t.Error(f)
	}
	if non200.Load() != 0 || unverified.Load() != 0 || outlived.Load() != 0 {
		t.Errorf("%d non-200, %d refused at the edge, %d outlived A", non200.Load(), unverified.Load(), outlived.Load())
	}
	if byKey["KROTATEA"] == 0 || byKey["KROTATEB"] == 0 {
		t.Errorf("issuances by key %v: the ring did not move from A to B under load", byKey)
	}
	if n < 100 {
		t.Errorf("only %d issuances: not a load", n)
	}
	// Sign calls are bounded by distinct (path, window, key) and cache
	// purges on reload, not by load: 8 paths, a handful of windows.
	if signs == 0 || int64(signs) >= n {
		t.Errorf("%d KMS Sign calls for %d issuances: the signature cache is not saving calls", signs, n)
	}
}

// TestReloadKeepsServingOnCorruptSecret: the key lives in Secrets Manager;
// the secret is replaced by a damaged PEM and the service reloads on
// SIGHUP: issuance keeps answering 200 with the previous
// key, the log says the reload failed without any key bytes, and the
// error metric rises. A good secret afterwards is picked up.
func TestReloadKeepsServingOnCorruptSecret(t *testing.T) {
	ctx := context.Background()
	moto := awstest.Start(t)
	sm := secretsmanager.NewFromConfig(moto.Config())
	k1, _ := keys.Generate(keys.RSA)
	pem1, _ := k1.MarshalPEM()
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("cf/signing"),
		SecretString: aws.String(fmt.Sprintf(`{"private_key":%q}`, pem1))}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "behaviors.json"), []byte(rotationBehaviors), 0o600)
	cfgFile := writeRotationConfig(t, dir, moto.Endpoint,
		"  - id: KSECRET\n    secretsmanager: {secret_id: cf/signing, json_field: private_key}\n")
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	s := startServe(t, cfgFile, clock)
	client := &http.Client{}
	if code, _, err := issueURL(client, s.addr, "/a.mp4"); code != 200 {
		t.Fatalf("before: %v", err)
	}
	fp1 := k1.Fingerprint()
	if !strings.Contains(s.get(t, "/v1/keys"), fp1) {
		t.Fatal("GET /v1/keys does not show the first key")
	}

	// A damaged PEM: the second half of a new key's body is gone.
	k2, _ := keys.Generate(keys.RSA)
	pem2, _ := k2.MarshalPEM()
	lines := strings.Split(strings.TrimSpace(string(pem2)), "\n")
	body := lines[1 : len(lines)-1]
	broken := lines[0] + "\n" + strings.Join(body[:len(body)/2], "\n") + "\n" + lines[len(lines)-1] + "\n"
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("cf/signing"),
		SecretString: aws.String(fmt.Sprintf(`{"private_key":%q}`, broken))}); err != nil {
		t.Fatal(err)
	}
	line := s.hup(t)
	if !strings.Contains(line, "reload failed") || !strings.Contains(line, "cf/signing") {
		t.Errorf("log line for a corrupt secret: %s", line)
	}
	for _, frag := range append(body[1:4], body[len(body)/2-1]) {
		if strings.Contains(s.out.String(), frag) {
			t.Fatalf("the log holds key bytes: %q", frag)
		}
	}
	for i := range 20 {
		code, got, err := issueURL(client, s.addr, fmt.Sprintf("/after-%d.mp4", i))
		if code != 200 || got.KeyID != "KSECRET" {
			t.Fatalf("after a failed reload: %d %v", code, err)
		}
	}
	if !strings.Contains(s.get(t, "/v1/keys"), fp1) {
		t.Error("the previous key is no longer served after a failed reload")
	}
	m := s.get(t, "/metrics")
	if !strings.Contains(m, `cfissuer_reloads_total{result="error"} 1`) || !strings.Contains(m, "cfissuer_reload_failing 1") {
		t.Errorf("metrics after a failed reload lack the error:\n%s", grepLines(m, "reload"))
	}
	if strings.Contains(m, body[2]) {
		t.Error("metrics hold key bytes")
	}

	// A good secret again: the next reload picks up the new key.
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("cf/signing"),
		SecretString: aws.String(fmt.Sprintf(`{"private_key":%q}`, pem2))}); err != nil {
		t.Fatal(err)
	}
	if line := s.hup(t); !strings.Contains(line, "reloaded config") {
		t.Fatalf("reload with a good secret: %s", line)
	}
	if !strings.Contains(s.get(t, "/v1/keys"), k2.Fingerprint()) {
		t.Error("GET /v1/keys does not show the new key after a good reload")
	}
	if m := s.get(t, "/metrics"); !strings.Contains(m, "cfissuer_reload_failing 0") {
		t.Errorf("reload_failing after a good reload:\n%s", grepLines(m, "reload"))
	}
	if strings.Contains(s.out.String(), "PRIVATE KEY") {
		t.Error("the log mentions a PEM block")
	}
}

// TestReloadOnInterval: with reload_interval set, a key added to the
// config is picked up without a signal.
func TestReloadOnInterval(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "behaviors.json"), []byte(rotationBehaviors), 0o600)
	for _, name := range []string{"a.pem", "b.pem"} {
		k, _ := keys.Generate(keys.ECDSA)
		pem, _ := k.MarshalPEM()
		os.WriteFile(filepath.Join(dir, name), pem, 0o600)
	}
	cfgFile := writeRotationConfig(t, dir, "", "  - id: KFILEA\n    file: a.pem\n")
	withInterval := func() {
		b, _ := os.ReadFile(cfgFile)
		os.WriteFile(cfgFile, append([]byte("reload_interval: 1s\n"), b...), 0o600)
	}
	withInterval()
	s := startServe(t, cfgFile, &testClock{t: time.Now()})
	writeRotationConfig(t, dir, "", "  - id: KFILEA\n    file: a.pem\n  - id: KFILEB\n    file: b.pem\n    activate_at: 2099-01-01T00:00:00Z\n")
	withInterval()
	deadline := time.Now().Add(60 * time.Second) // a hang guard, not a timing assertion
	for !strings.Contains(s.out.String(), `"trigger":"interval"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no reload on the interval:\n%s", s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if line := grepLines(s.out.String(), `"trigger":"interval"`); !strings.Contains(line, "KFILEB=next") {
		t.Errorf("interval reload: %s", line)
	}
	if !strings.Contains(s.get(t, "/v1/keys"), "KFILEB") {
		t.Error("GET /v1/keys lacks the key added by the interval reload")
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
