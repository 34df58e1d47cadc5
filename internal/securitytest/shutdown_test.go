package securitytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// shutdownResult is what the client saw of one request.
type shutdownResult struct {
	sent       bool
	start, end time.Time
	status     int   // 0: no response
	err        error // transport error (no response), or a body that did not arrive whole
	complete   bool  // 200 with every URL of the request in the body
	sigSeen    bool  // the signal had been sent when the request ended
}

// TestShutdownUnderLoad runs the real binary, drives concurrent issuance
// (single URLs and batches of RSA signatures, so that requests are in
// flight at any moment), sends a real SIGTERM mid-load, and checks:
//
//   - zero dropped: every request the server accepted (read and began to
//     serve, known from its "issued" log lines, one per URL, each URL
//     unique to its request) reached the client as a 200 with every URL
//     of the request in the body;
//   - no HTTP error at all: during the shutdown a request either completes
//     with 200 or is never read by the server, in which case the client
//     sees a connection error (a refused dial once the listener is closed,
//     or an idle keep-alive connection the server closed before reading
//     the request); a connection error for a request the server accepted
//     is a drop;
//   - some requests were in flight when the signal was sent (started
//     before it, answered after it), so the test tested something;
//   - the process exits 0: serve returns an error (exit 1) if the requests
//     in flight do not finish within shutdown_timeout.
//
// The load is bounded (at most 4,000 requests, each worker stops at its
// first connection error after the signal).
func TestShutdownUnderLoad(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	apiKey, callers := serveFiles(t, dir)
	writeFile(t, filepath.Join(dir, "config.yaml"), fmt.Sprintf(`behaviors: behaviors.json
log: {level: info, format: json}
limits: {shutdown_timeout: 30s}
keys: [{id: KLOAD, file: %q}]
%s
`, keyPath(t, "rsa2048.pem"), callers))
	p := startProc(t, bin, dir, "serve", "--config", "config.yaml", "--listen", "127.0.0.1:0")
	p.waitListening(t)

	const (
		workers     = 6
		maxRequests = 4000
		batchSize   = 40 // RSA-2048 signatures per batch: tens of ms per request on 2 cores
		signalAfter = 150
	)
	url := "http://" + p.addr + "/v1/urls"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true}}
	defer client.CloseIdleConnections()
	results := make([]shutdownResult, maxRequests)
	var next, ok200 atomic.Int64
	var signalled atomic.Bool
	paths := func(n int) []string {
		if n%3 != 0 {
			return []string{fmt.Sprintf("/ebooks/load/r%d.pdf", n)}
		}
		var ps []string
		for i := range batchSize {
			ps = append(ps, fmt.Sprintf("/ebooks/load/r%d-%d.pdf", n, i))
		}
		return ps
	}
	do := func(n int) shutdownResult {
		ps := paths(n)
		var body string
		if len(ps) == 1 {
			body = fmt.Sprintf(`{"path": %q}`, ps[0])
		} else {
			var items []string
			for _, p := range ps {
				items = append(items, fmt.Sprintf(`{"path": %q}`, p))
			}
			body = `{"items": [` + strings.Join(items, ",") + `]}`
		}
		r := shutdownResult{sent: true}
		req, err := http.NewRequest("POST", url, strings.NewReader(body))
		if err != nil {
			r.err = err
			return r
		}
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		r.start = time.Now()
		resp, err := client.Do(req)
		if err != nil {
			r.end, r.err = time.Now(), err
			return r
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.end, r.status = time.Now(), resp.StatusCode
		if err != nil {
			r.err = fmt.Errorf("body cut short: %w", err)
			return r
		}
		if r.status == http.StatusOK {
			r.complete = completeURLs(b, ps)
		}
		return r
	}

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1))
				if n > maxRequests {
					return
				}
				r := do(n)
				r.sigSeen = signalled.Load()
				results[n-1] = r
				if r.complete {
					ok200.Add(1)
				}
				if r.err != nil || r.status != http.StatusOK {
					return // before the signal an error ends the run (and fails it below); after it, this worker is done
				}
			}
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()

	// The signal goes when enough requests have succeeded (a count, not a
	// time); the 60 s bound is a hang guard.
	deadline := time.Now().Add(60 * time.Second)
	for ok200.Load() < signalAfter {
		select {
		case <-allDone:
			t.Fatalf("the load ended before the signal: %d of %d requests succeeded", ok200.Load(), signalAfter)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests succeeded in 60s (hang guard)", ok200.Load())
		}
	}
	sigAt := time.Now()
	signalled.Store(true)
	p.signal(t, syscall.SIGTERM)
	code := p.wait(t, 90*time.Second) // hang guard above the 30 s shutdown_timeout
	select {
	case <-allDone:
	case <-time.After(60 * time.Second):
		t.Fatal("the load did not end after the process exited (hang guard)")
	}

	// The server's record: the requests it accepted.
	issued := regexp.MustCompile(`"msg":"issued".*?"resource":"[^"]*/ebooks/load/r(\d+)(?:-\d+)?\.pdf`)
	accepted := map[int]bool{}
	for _, line := range strings.Split(p.out.String(), "\n") {
		if m := issued.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			accepted[n] = true
		}
	}

	var sent, ok, httpErr, incomplete, refused, closedUnread, beforeSignal, inFlight, errBeforeSignal int
	var dropped, unexpected []string
	for i, r := range results {
		n := i + 1
		if !r.sent {
			continue
		}
		sent++
		before := r.start.Before(sigAt)
		if before {
			beforeSignal++
		}
		switch {
		case r.complete:
			ok++
			if before && r.end.After(sigAt) {
				inFlight++
			}
		case r.status != 0:
			httpErr++
			unexpected = append(unexpected, fmt.Sprintf("request %d: HTTP %d (err %v)", n, r.status, r.err))
		case r.err != nil:
			if before {
				errBeforeSignal++
			}
			if isDialError(r.err) {
				refused++
			} else {
				closedUnread++
			}
			if !r.sigSeen {
				unexpected = append(unexpected, fmt.Sprintf("request %d: %v", n, r.err))
			}
		}
		if accepted[n] && !r.complete {
			dropped = append(dropped, fmt.Sprintf("request %d: accepted by the server, client saw status %d err %v", n, r.status, r.err))
		}
		if r.status == http.StatusOK && !r.complete {
			incomplete++
			unexpected = append(unexpected, fmt.Sprintf("request %d: 200 without all its URLs", n))
		}
	}
	report(t, "shutdown", "%d requests sent (%d before SIGTERM, %d in flight at it), %d accepted by the server, %d answered 200, "+
		"%d dropped, %d HTTP errors; not accepted: %d refused (listener closed), %d on a keep-alive connection closed unread (%d of these sent before SIGTERM); exit %d",
		sent, beforeSignal, inFlight, len(accepted), ok, len(dropped), httpErr, refused, closedUnread, errBeforeSignal, code)

	if code != 0 {
		t.Errorf("cfissuer exited %d after SIGTERM, want 0 (requests finished within shutdown_timeout)", code)
	}
	if !strings.Contains(p.out.String(), "shutting down: finishing requests in flight") {
		t.Error("no shutdown line in the log: the SIGTERM was not handled as a graceful shutdown")
	}
	for _, d := range dropped {
		t.Errorf("dropped: %s", d)
	}
	for _, u := range unexpected {
		t.Errorf("unexpected: %s", u)
	}
	for n := range accepted {
		if n < 1 || n > maxRequests || !results[n-1].sent {
			t.Errorf("the server logged request %d, which the client never sent", n)
		}
	}
	if ok != len(accepted) {
		t.Errorf("%d requests accepted by the server, %d complete 200s at the client: want equal", len(accepted), ok)
	}
	if inFlight == 0 {
		t.Error("no request was in flight when SIGTERM was sent: the test did not exercise a shutdown under load")
	}
}

// completeURLs reports whether body is the answer to a request for paths:
// one signed URL per path, in order.
func completeURLs(body []byte, paths []string) bool {
	var single struct{ URL string }
	var batch struct {
		Items []struct {
			Status int
			URL    string
		}
	}
	if len(paths) == 1 {
		if json.Unmarshal(body, &single) != nil {
			return false
		}
		return strings.Contains(single.URL, paths[0]+"?") && strings.Contains(single.URL, "Signature=")
	}
	if json.Unmarshal(body, &batch) != nil || len(batch.Items) != len(paths) {
		return false
	}
	for i, it := range batch.Items {
		if it.Status != http.StatusOK || !strings.Contains(it.URL, paths[i]+"?") || !strings.Contains(it.URL, "Signature=") {
			return false
		}
	}
	return true
}

// isDialError reports a connection that was never made (the listener is
// closed or the process gone).
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
