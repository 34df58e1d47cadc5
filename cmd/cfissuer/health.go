package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultHealthURL is what `cfissuer health` asks: the readiness of an
// issuer listening on port 8080 in the same container.
const DefaultHealthURL = "http://127.0.0.1:8080/readyz"

// runHealth is a container's health check (Dockerfile HEALTHCHECK): images
// without a shell or curl run the binary itself. It exits 0 when the URL
// answers 200 within the timeout, 1 otherwise.
func runHealth(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "health", "health [--url URL] [--timeout DURATION]")
	target := fs.String("url", "", "readiness URL (env CFISSUER_HEALTH_URL; default "+DefaultHealthURL+")")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	if *target == "" {
		*target = e.getenv("CFISSUER_HEALTH_URL")
	}
	setDefaultValue(target, DefaultHealthURL)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return fmt.Errorf("%w: --url: %v", errUsage, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &exitError{code: 1, msg: "not healthy: " + err.Error()}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return &exitError{code: 1, msg: "not healthy: " + resp.Status}
	}
	fmt.Fprintln(e.stdout, "healthy")
	return nil
}
