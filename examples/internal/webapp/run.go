package webapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cfissuer/cfissuer/examples/internal/devstack"
	"github.com/cfissuer/cfissuer/examples/internal/issuerapi"
)

// Env is what an app is built from.
type Env struct {
	Issuer *issuerapi.Client
	// MediaOrigin is the distribution's viewer origin, such as
	// https://media.example.test.
	MediaOrigin string
	Logger      *slog.Logger
}

// Main is the main function of an example app: it parses the flags, builds
// the app with newApp and serves it until SIGINT or SIGTERM.
//
// With -issuer, the app talks to that cfissuer (API key from
// -api-key-file) and serves plain HTTP on -listen, behind the TLS proxy of a
// real deployment. Without it, Main starts a local issuer and edge
// (devstack) in front of the generated content and serves the app over TLS
// as https://app.example.test, and prints how to open it in Chromium.
func Main(name string, newApp func(Env) (http.Handler, error)) {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	issuerURL := fs.String("issuer", "", "cfissuer base URL; empty: start a local issuer and edge (development)")
	apiKeyFile := fs.String("api-key-file", "", "file holding the API key (with -issuer)")
	media := fs.String("media", "", "the distribution's viewer origin (with -issuer), such as https://media.example.com")
	listen := fs.String("listen", "127.0.0.1:8443", "where the app listens")
	edgeListen := fs.String("edge", "127.0.0.1:9443", "development: where the local edge listens with TLS")
	behaviors := fs.String("behaviors", "behaviors.json", "development: the behaviors file")
	cache := fs.String("cache", "../.cache/examples", "development: folder for the generated content and the test CA")
	fs.Parse(os.Args[1:])
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *issuerURL != "" {
		err = runProduction(ctx, logger, newApp, *issuerURL, *apiKeyFile, *media, *listen)
	} else {
		err = runDev(ctx, logger, name, newApp, *listen, *edgeListen, *behaviors, *cache)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

func runProduction(ctx context.Context, logger *slog.Logger, newApp func(Env) (http.Handler, error), issuerURL, keyFile, media, listen string) error {
	if keyFile == "" || media == "" {
		return errors.New("-issuer needs -api-key-file and -media")
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	h, err := newApp(Env{Issuer: &issuerapi.Client{BaseURL: issuerURL, APIKey: strings.TrimSpace(string(key))}, MediaOrigin: media, Logger: logger})
	if err != nil {
		return err
	}
	srv := &http.Server{Addr: listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	logger.Info("listening", "addr", ln.Addr().String())
	go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func runDev(ctx context.Context, logger *slog.Logger, name string, newApp func(Env) (http.Handler, error), listen, edgeListen, behaviors, cache string) error {
	content := filepath.Join(cache, "content")
	if err := devstack.PrepareContent(ctx, content); err != nil {
		return err
	}
	st, err := devstack.Start(devstack.Options{Behaviors: behaviors, Content: content, Logger: logger, EdgeTLSAddr: edgeListen})
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := newApp(Env{Issuer: &issuerapi.Client{BaseURL: st.IssuerURL, APIKey: st.APIKey}, MediaOrigin: st.Behaviors.ViewerOrigin, Logger: logger})
	if err != nil {
		return err
	}
	addr, err := st.ServeTLS(listen, h)
	if err != nil {
		return err
	}
	ca := filepath.Join(cache, "ca.pem")
	if err := st.TLS.WriteCA(ca); err != nil {
		return err
	}
	flags := st.ChromiumFlags(addr)
	fmt.Printf("\nThe %s example is at https://%s/ (app on %s, edge on %s, issuer on %s). Ctrl-C stops it.\n\n", name, devstack.AppHost, addr, st.EdgeTLSAddr, st.IssuerURL)
	fmt.Printf("Open it in Chromium (the test certificate is trusted by its key; a fresh profile):\n  chromium --user-data-dir=\"$(mktemp -d)\" '%s' '%s' https://%s/\n\n", flags[0], flags[1], devstack.AppHost)
	fmt.Printf("Or with curl:\n  curl --cacert %s --connect-to %s:443:%s --connect-to %s:443:%s https://%s/\n\n", ca, devstack.AppHost, addr, devstack.MediaHost, st.EdgeTLSAddr, devstack.AppHost)
	<-ctx.Done()
	return nil
}
