package securitytest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/issuer"
)

// The tests of this file run the real cfissuer binary as a process (real
// signals, real exit codes, real files): each builds it once into its own
// t.TempDir() (the Go build cache makes the later builds a link).

// buildBinary builds ./cmd/cfissuer as it ships (static, -trimpath) and
// returns its path.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cfissuer")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/cfissuer")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/cfissuer: %v\n%s", err, out)
	}
	return bin
}

// proc is one cfissuer process; its stdout and stderr go to out.
type proc struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{} // closed once the process has exited and its output is read
	code int           // exit code, set before done is closed
	addr string        // the issuer's 127.0.0.1:PORT, when waited for
}

// procEnv is the environment of the processes: nothing of the test's own
// environment reaches them, and no AWS chain is consulted.
func procEnv(dir string) []string {
	return []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "TMPDIR=" + dir,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull}
}

// startProc runs bin with args in dir. The process is killed when the test
// ends if it is still running.
func startProc(t *testing.T, bin, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = procEnv(dir)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		err := p.cmd.Wait()
		p.code = 0
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
		case err != nil:
			p.code = -1
		}
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("cfissuer %s output (tail):\n%s", strings.Join(args, " "), tail(p.out.String(), 4000))
		}
	})
	return p
}

var listenLine = regexp.MustCompile(`"msg":"issuer listening","addr":"([^"]+)"`)

// waitListening waits for the issuer's listen line and records its
// address.
func (p *proc) waitListening(t *testing.T) {
	t.Helper()
	p.waitFor(t, func(out string) bool { return listenLine.MatchString(out) }, "the issuer listening")
	p.addr = listenLine.FindStringSubmatch(p.out.String())[1]
}

// waitFor polls the output until cond holds. The 60 s bound is a hang
// guard, not a timing assertion.
func (p *proc) waitFor(t *testing.T, cond func(out string) bool, what string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond(p.out.String()) {
		select {
		case <-p.done:
			if cond(p.out.String()) {
				return
			}
			t.Fatalf("cfissuer exited %d before %s:\n%s", p.code, what, tail(p.out.String(), 4000))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 60s (hang guard):\n%s", what, tail(p.out.String(), 4000))
		}
	}
}

// wait waits for the process to exit (hang guard: limit) and returns its
// exit code.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(limit):
		t.Fatalf("cfissuer still running %v after it was told to stop (hang guard)", limit)
		return -1
	}
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// keyPath is a key of testdata/keys as an absolute path.
func keyPath(t testing.TB, file string) string {
	t.Helper()
	p, err := filepath.Abs("../../testdata/keys/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// serveFiles writes the fixture's behaviors file into dir and makes an API
// key for the caller "app"; it returns the key and the caller's config
// line.
func serveFiles(t *testing.T, dir string) (apiKey, callerYAML string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "behaviors.json"), serviceBehaviors)
	key, sum, err := issuer.NewAPIKey("app")
	if err != nil {
		t.Fatal(err)
	}
	return key, fmt.Sprintf(`callers: [{id: app, secret_sha256: %q}]`, hex.EncodeToString(sum[:]))
}

// post sends one JSON request with the API key and returns the status and
// body.
func post(t *testing.T, c *http.Client, url, apiKey, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, b
}
