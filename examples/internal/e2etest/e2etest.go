// Package e2etest starts what the journey tests need: the local issuer and
// edge on a clock the test moves (devstack), the generated content, and
// headless Chromium driven over the DevTools protocol. A missing tool fails
// the test with the command that installs it; nothing is skipped.
package e2etest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cfissuer/cfissuer/examples/internal/devstack"
)

// Cache is the git-ignored folder for generated content and artifacts,
// relative to an example's folder.
const Cache = "../../.cache/examples"

// Clock is the issuer's and the edge's clock; the test moves it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// Need fails the test unless the command is on PATH.
func Need(t testing.TB, command string) string {
	t.Helper()
	p, err := exec.LookPath(command)
	if err != nil {
		t.Fatalf("%s is required by the journey tests: run `make e2e-deps` (apt-get install chromium ffmpeg curl; npm ci in examples/web)", command)
	}
	return p
}

// Start prepares the content and starts the issuer and the edge on a clock
// that starts now, truncated to the second.
func Start(t testing.TB) (*devstack.Stack, *Clock) {
	t.Helper()
	Need(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := devstack.PrepareContent(ctx, filepath.Join(Cache, "content")); err != nil {
		t.Fatal(err)
	}
	clock := &Clock{t: time.Now().Truncate(time.Second)}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	st, err := devstack.Start(devstack.Options{Behaviors: "../behaviors.json", Content: filepath.Join(Cache, "content"), Now: clock.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, clock
}

// Content is the path of a file the edge serves.
func Content(path string) string { return filepath.Join(Cache, "content", filepath.FromSlash(path)) }

// Artifacts is the folder for screenshots, created on demand.
func Artifacts(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Cache, "artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Browser starts headless Chromium with a fresh profile that reaches the app
// at appAddr and the edge under their real names, and returns a chromedp
// context for one tab. It stops when the test ends.
func Browser(t testing.TB, st *devstack.Stack, appAddr string) context.Context {
	t.Helper()
	bin := Need(t, "chromium")
	// Not t.TempDir: Chromium may still be writing its profile when the
	// test's cleanup runs.
	profile, err := os.MkdirTemp("", "cfissuer-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(900, 640),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
	for _, f := range st.ChromiumFlags(appAddr) {
		name, value, _ := cut(f[len("--"):], '=')
		opts = append(opts, chromedp.Flag(name, value))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Run(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		os.RemoveAll(profile)
	})
	return ctx
}

// Step runs actions with a deadline, so a hung browser fails the test
// rather than the test binary.
func Step(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
