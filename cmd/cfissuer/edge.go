package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/policy"
)

func runEdge(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "edge", "edge --behaviors FILE [--config FILE] [--listen ADDR] [--key-id ID --public-key-file F] [--dir DIR]")
	behaviorsFile := fs.String("behaviors", "", "behaviors file (required)")
	configFile := fs.String("config", "", "edge configuration file (JSON; see edge.Config)")
	listen := fs.String("listen", "", "listen address, overriding the config (default "+edge.DefaultListen+")")
	keyID := fs.String("key-id", "", "a trusted public key ID, added to the config's")
	pubFile := fs.String("public-key-file", "", "its public key PEM")
	dir := fs.String("dir", "", "serve this directory (overrides the config's origin)")
	verbose := fs.Bool("v", false, "log every request, not only denials")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	if *behaviorsFile == "" {
		return fmt.Errorf("%w: --behaviors FILE is required", errUsage)
	}
	if (*keyID == "") != (*pubFile == "") {
		return fmt.Errorf("%w: give --key-id and --public-key-file together", errUsage)
	}
	bf, err := os.Open(*behaviorsFile)
	if err != nil {
		return err
	}
	bs, err := policy.ParseBehaviors(bf)
	bf.Close()
	if err != nil {
		return err
	}
	cfg := &edge.Config{}
	base := ""
	if *configFile != "" {
		f, err := os.Open(*configFile)
		if err != nil {
			return err
		}
		cfg, err = edge.ParseConfig(f)
		f.Close()
		if err != nil {
			return err
		}
		base = filepath.Dir(*configFile)
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *keyID != "" {
		abs, _ := filepath.Abs(*pubFile)
		cfg.TrustedKeys = append(cfg.TrustedKeys, edge.TrustedKey{ID: *keyID, PublicKeyFile: abs})
	}
	if *dir != "" {
		abs, _ := filepath.Abs(*dir)
		cfg.Origin = edge.OriginConfig{Dir: abs}
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if len(cfg.TrustedKeys) == 0 {
		return fmt.Errorf("%w: no trusted keys: give --key-id and --public-key-file, or trusted_keys in --config", errUsage)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	srv, err := cfg.NewServer(bs, base, e.getenv, edge.ServerOptions{Logger: logger, Now: e.now, ExposeReasons: true})
	if err != nil {
		return err
	}
	if err := srv.Open(); err != nil {
		return err
	}
	vo := cfg.ViewerOrigin
	if vo == "" {
		vo = bs.ViewerOrigin
	}
	fmt.Fprintf(e.stdout, "edge listening on %s for viewer origin %s (Ctrl-C to stop)\n", srv.URL(), vo)
	<-ctx.Done()
	return srv.Close()
}
