package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/internal/denylist"
	"github.com/cfissuer/cfissuer/internal/httpapi"
	"github.com/cfissuer/cfissuer/internal/lambdahttp"
	"github.com/cfissuer/cfissuer/issuer"
)

// Dev mode defaults (make run).
const (
	devKeyID          = "KDEVELOPMENT"
	devCallerID       = "dev"
	devStateDir       = ".cfissuer"
	devEdgeListen     = "127.0.0.1:8081"
	devTomorrowListen = "127.0.0.1:8082"
)

// Log attribute keys of the serve command.
const (
	logKeyAddr  = "addr"
	logKeyPath  = "path"
	logKeyError = "error"
	logKeyWhat  = "what"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "serve --config FILE [--behaviors FILE] [--listen ADDR] [--edge ADDR]\n       cfissuer serve --dev [--state DIR] [--behaviors FILE] [--listen ADDR] [--edge ADDR] [--edge-tomorrow ADDR]")
	configFile := fs.String("config", "", "operator config, YAML or JSON (env CFISSUER_CONFIG); see `cfissuer serve -h` and README")
	behaviorsFile := fs.String("behaviors", "", "behaviors file, such as Terraform's issuer_config output (env CFISSUER_BEHAVIORS)")
	listen := fs.String("listen", "", "listen address (env CFISSUER_LISTEN; default "+DefaultServeListen+")")
	dev := fs.Bool("dev", false, "development mode: generate a dev key and API key under --state, and run the local edge")
	state := fs.String("state", devStateDir, "dev mode: state folder for the dev key, API key and generated config")
	edgeListen := fs.String("edge", "", "also run the local edge on this address (dev default "+devEdgeListen+"; \"off\" for none)")
	tomorrow := fs.String("edge-tomorrow", "", "dev mode: a second edge whose clock runs a day ahead, to see a 403 after expiry (default "+devTomorrowListen+"; \"off\" for none)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	if lambdahttp.Runtime(e.getenv) { // config and behaviors may be SSM parameters (lambda.go)
		dir, err := lambdaDir()
		if err != nil {
			return err
		}
		if e, err = lambdaEnv(ctx, e, os.Environ(), dir); err != nil {
			return err
		}
	}
	if *configFile == "" {
		*configFile = e.getenv("CFISSUER_CONFIG")
	}

	var cfg *ServeConfig
	base := ""
	switch {
	case *dev && *configFile != "":
		return fmt.Errorf("%w: --dev writes its own config; give --dev or --config, not both", errUsage)
	case *dev:
		if cfg, err = devConfig(*state, e); err != nil {
			return err
		}
		setDefaultValue(edgeListen, devEdgeListen)
		setDefaultValue(tomorrow, devTomorrowListen)
	case *configFile != "":
		f, err := os.Open(*configFile)
		if err != nil {
			return err
		}
		cfg, err = ParseServeConfig(f)
		f.Close()
		if err != nil {
			return err
		}
		base = filepath.Dir(*configFile)
	default:
		return fmt.Errorf("%w: --config FILE is required (or --dev for a local development setup)", errUsage)
	}
	// finish applies defaults, the environment and the flags, and
	// validates: at start and again on every reload of the config file.
	finish := func(cfg *ServeConfig, base string) error {
		cfg.SetDefaults()
		cfg.ApplyEnv(e.getenv)
		if *behaviorsFile != "" {
			cfg.Behaviors = *behaviorsFile
		} else if cfg.Behaviors != "" && e.getenv("CFISSUER_BEHAVIORS") == "" {
			cfg.Behaviors = resolvePath(base, cfg.Behaviors)
		}
		if *listen != "" {
			cfg.Listen = *listen
		}
		if *dev && cfg.Behaviors == "" {
			cfg.Behaviors = filepath.Join("examples", "behaviors.json")
		}
		return cfg.Validate()
	}
	if err := finish(cfg, base); err != nil {
		return err
	}
	var reread func() (*ServeConfig, string, error) // nil in dev mode: its config is not a file
	if *configFile != "" {
		path := *configFile
		reread = func() (*ServeConfig, string, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, "", err
			}
			defer f.Close()
			cfg, err := ParseServeConfig(f)
			if err != nil {
				return nil, "", err
			}
			base := filepath.Dir(path)
			return cfg, base, finish(cfg, base)
		}
	}
	if *dev {
		if abs, err := filepath.Abs(cfg.Behaviors); err == nil {
			cfg.Behaviors = abs
		}
		if err := writeDevConfig(*state, cfg); err != nil {
			return err
		}
	}
	logger, err := newLogger(e.stdout, cfg.Log)
	if err != nil {
		return err
	}
	return serve(ctx, e, cfg, base, reread, logger, *edgeListen, *tomorrow, *dev, *state)
}

// serve wires the issuer, its HTTP server and the optional edges, and runs
// until ctx ends (SIGINT or SIGTERM), then shuts down gracefully.
func serve(ctx context.Context, e *env, cfg *ServeConfig, base string, reread func() (*ServeConfig, string, error), logger *slog.Logger, edgeListen, tomorrow string, dev bool, state string) error {
	// SIGHUP reloads; registered before anything loads so that an early
	// one is queued for the reloader rather than ending the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	st, err := loadState(ctx, cfg, base)
	if err != nil {
		return err
	}
	bs, ring, callers := st.bs, st.ring, st.callers
	metrics := httpapi.NewMetrics()
	is, err := issuer.New(ring, bs, issuer.Options{Now: e.now, Logger: logger, CacheSize: cfg.CacheSize, ObserveSign: metrics.ObserveSign})
	if err != nil {
		return err
	}
	linkOpts, err := cfg.linkOptions(ctx, base, e.now, logger)
	if err != nil {
		return err
	}
	deny, denyMem, err := cfg.denyList(ctx, e.now, logger)
	if err != nil {
		return err
	}
	l := cfg.Limits
	srv, err := httpapi.New(is, callers, httpapi.Options{Links: linkOpts, Deny: deny,
		Addr: cfg.Listen, Logger: logger, Metrics: metrics, MaxBodyBytes: l.MaxBodyBytes, MaxBatch: l.MaxBatch,
		ReadHeaderTimeout: time.Duration(l.ReadHeaderTimeout), ReadTimeout: time.Duration(l.ReadTimeout),
		WriteTimeout: time.Duration(l.WriteTimeout), IdleTimeout: time.Duration(l.IdleTimeout),
	})
	if err != nil {
		return err
	}
	if lambdahttp.Runtime(e.getenv) {
		return serveLambda(ctx, srv, logger)
	}
	if err := srv.Open(); err != nil {
		return err
	}
	rl := newReloader(reread, st, is, srv, logger, metrics.Registry(), e.now)
	rctx, stopReload := context.WithCancel(ctx)
	reloadDone := make(chan struct{})
	go func() { defer close(reloadDone); rl.run(rctx, time.Duration(cfg.ReloadInterval), hup) }()
	defer func() { stopReload(); <-reloadDone }()
	var edges []*edge.Server
	defer func() {
		for _, s := range edges {
			s.Close()
		}
	}()
	startEdge := func(addr string, now func() time.Time, what string) (*edge.Server, error) {
		if addr == "" || addr == "off" {
			return nil, nil
		}
		s, err := newDevEdge(is, addr, now, logger.With(slog.String(logKeyWhat, what)), denyMem)
		if err != nil {
			return nil, err
		}
		if err := s.Open(); err != nil {
			return nil, err
		}
		edges = append(edges, s)
		logger.Info(what+" listening", slog.String(logKeyAddr, s.Addr()))
		return s, nil
	}
	ed, err := startEdge(edgeListen, e.now, "edge")
	if err != nil {
		srv.Close(context.Background())
		return err
	}
	var late *edge.Server
	if dev {
		late, err = startEdge(tomorrow, func() time.Time { return e.now().Add(24 * time.Hour) }, "edge a day ahead")
		if err != nil {
			srv.Close(context.Background())
			return err
		}
		// One write, so the block is never interleaved with log lines
		// (and a reader that waits for its first line sees all of it).
		var hints bytes.Buffer
		printDevHints(&hints, state, srv.Addr(), ed, late, linkOpts.Manager != nil)
		e.stdout.Write(hints.Bytes())
	}

	<-ctx.Done()
	logger.Info("shutting down: finishing requests in flight", slog.Duration("timeout", time.Duration(cfg.Limits.ShutdownTimeout)))
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.Limits.ShutdownTimeout))
	defer cancel()
	if err := srv.Close(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newDevEdge runs the local edge in front of the embedded sample content,
// trusting the ring's published keys (the key group CloudFront would hold),
// and running the deny-list function over deny when it is not nil.
func newDevEdge(is *issuer.Issuer, addr string, now func() time.Time, logger *slog.Logger, deny *denylist.Memory) (*edge.Server, error) {
	ring := is.Ring()
	var trusted []edge.Key
	for _, k := range ring.Keys() {
		if k.State(now(), ring.Longest()).Published() {
			trusted = append(trusted, edge.Key{ID: k.Signer.KeyID(), Public: k.Signer.Public()})
		}
	}
	v, err := edge.NewVerifier(is.Behaviors(), trusted, edge.Options{})
	if err != nil {
		return nil, err
	}
	hook, err := denyFunction(deny, now)
	if err != nil {
		return nil, err
	}
	return edge.NewServer(addr, v, edge.DirOrigin{FS: edge.SampleContent()}, edge.ServerOptions{Logger: logger, Now: now, ExposeReasons: true, ViewerRequest: hook})
}

func newLogger(w io.Writer, c LogConfig) (*slog.Logger, error) {
	level, err := logLevel(c.Level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

func logLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("must be debug, info, warn or error, not %q", s)
	}
	return l, nil
}

// devConfig prepares the dev state folder: an RSA dev key and a dev API key,
// each made once and reused on later runs, and returns the config that uses
// them. The API key is written to state/dev-api-key (0600) and never
// printed.
func devConfig(state string, e *env) (*ServeConfig, error) {
	if err := writableDir(state); err != nil {
		return nil, fmt.Errorf("state folder %s (--state): %w; give --state a folder this user can create and write", state, err)
	}
	keyDir := filepath.Join(state, "dev-key")
	privPath := filepath.Join(keyDir, "private.pem")
	if _, err := os.Stat(privPath); errors.Is(err, os.ErrNotExist) {
		if err := runKeygen(context.Background(), &env{stdout: io.Discard, stderr: e.stderr, getenv: e.getenv, now: e.now},
			[]string{"--type", "rsa", "--out", keyDir}); err != nil {
			return nil, fmt.Errorf("dev key: %w", err)
		}
	}
	apiKeyPath := filepath.Join(state, "dev-api-key")
	data, err := os.ReadFile(apiKeyPath)
	if errors.Is(err, os.ErrNotExist) {
		key, _, err := issuer.NewAPIKey(devCallerID)
		if err != nil {
			return nil, err
		}
		data = []byte(key + "\n")
		if err := writeFileAtomic(apiKeyPath, data, 0o600); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	id, secret, ok := strings.Cut(strings.TrimSpace(string(data)), ".")
	if !ok || id == "" || secret == "" {
		return nil, fmt.Errorf("%s is not an API key (id.secret); delete it to make a new one", apiKeyPath)
	}
	sum := sha256.Sum256([]byte(secret))
	abs, err := filepath.Abs(privPath)
	if err != nil {
		return nil, err
	}
	lc, err := devLinks(state)
	if err != nil {
		return nil, err
	}
	return &ServeConfig{
		Log:        LogConfig{Level: "info", Format: "text"},
		Keys:       []KeyConfig{{ID: devKeyID, File: abs}},
		Callers:    []CallerConfig{{ID: id, SecretSHA256: hex.EncodeToString(sum[:]), Revoke: true}},
		Links:      lc,
		Revocation: RevocationConfig{Store: denyStoreMemory},
	}, nil
}

// writableDir creates dir (0700) if needed and checks that a file can be
// made in it, so that an unwritable state folder stops the start before
// anything is written, rather than half-way through.
func writableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create it: %w", err)
	}
	f, err := os.CreateTemp(dir, ".cfissuer-probe-*")
	if err != nil {
		return fmt.Errorf("not writable: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// writeDevConfig writes the config dev mode runs with to state/config.yaml,
// as a starting point for a real one.
func writeDevConfig(state string, cfg *ServeConfig) error {
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	header := "# Written by `cfissuer serve --dev` on every start: the config it runs with.\n" +
		"# Copy it to start a real one (keys from your own sources, callers with their own secrets).\n"
	return writeFileAtomic(filepath.Join(state, "config.yaml"), append([]byte(header), out...), 0o600)
}

// printDevHints prints where the API key is (never the key) and three
// copy-paste curl commands. They read the key from its file, and use only
// curl and sed.
func printDevHints(w io.Writer, state, issuerAddr string, ed, late *edge.Server, withLinks bool) {
	keyFile := filepath.Join(state, "dev-api-key")
	auth := fmt.Sprintf(`-H "Authorization: Bearer $(cat %s)"`, keyFile)
	api := "http://" + issuerAddr
	fmt.Fprintf(w, "\ncfissuer is running (Ctrl-C to stop). The dev API key is in %s (not printed).\n", keyFile)
	fmt.Fprintf(w, "API: %s (description at %s/openapi.json, metrics at %s/metrics)\n", api, api, api)
	if ed == nil {
		return
	}
	edgeURL := ed.URL()
	fmt.Fprintf(w, "\n# 1. Sign an ebook URL and fetch it through the local edge (200):\n")
	fmt.Fprintf(w, "u=$(curl -s %s -d '{\"path\":\"/ebooks/intro.pdf\"}' %s/v1/urls | sed -E 's|.*\"url\":\"https?://[^/]*([^\"]*)\".*|\\1|'); curl -si \"%s$u\" | head -n 12\n", auth, api, edgeURL)
	fmt.Fprintf(w, "\n# 2. Get signed cookies for a course and fetch its HLS playlist with them (200):\n")
	fmt.Fprintf(w, "c=$(curl -s %s -d '{\"path_prefix\":\"/courses/go-101/\"}' %s/v1/cookies | sed -E 's|.*\"cookie_header\":\"([^\"]*)\".*|\\1|'); curl -si -H \"Cookie: $c\" %s/courses/go-101/index.m3u8\n", auth, api, edgeURL)
	if late != nil {
		fmt.Fprintf(w, "\n# 3. The same kind of URL after it expires: a second edge whose clock runs a day ahead answers 403 AccessDenied:\n")
		fmt.Fprintf(w, "u=$(curl -s %s -d '{\"path\":\"/ebooks/intro.pdf\"}' %s/v1/urls | sed -E 's|.*\"url\":\"https?://[^/]*([^\"]*)\".*|\\1|'); curl -si \"%s$u\" | head -n 12\n", auth, api, late.URL())
	}
	if withLinks {
		printLinkHints(w, auth, api)
	}
	printRevokeHints(w, auth, api, edgeURL)
	fmt.Fprintln(w)
}
