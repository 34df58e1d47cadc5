package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"

	"github.com/cfissuer/cfissuer/internal/httpapi"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
)

// The servers of the load test, each run in a child process of its own so
// that its CPU time, allocations and peak RSS are its own:
//
//   - issuer: the real service (internal/httpapi over issuer.Issuer, with
//     its metrics, API keys and one JSON log line per issuance, written to
//     io.Discard);
//   - trivial: a handler that answers fixed JSON (the HTTP floor);
//   - sign-every: a handler that signs every request with the AWS sign
//     package (what users write today), without authentication.
const (
	modeIssuer    = "issuer"
	modeTrivial   = "trivial"
	modeSignEvery = "sign-every"
)

// The load test's API key: caller "bench", secret "bench-secret".
const (
	benchCaller = "bench"
	benchSecret = "bench-secret"
	benchAPIKey = benchCaller + "." + benchSecret
)

// childStats is what a child reports on each "stats" line of its stdin.
type childStats struct {
	CPUNanos   int64  `json:"cpu_ns"`
	Mallocs    uint64 `json:"mallocs"`
	MaxRSSKB   int64  `json:"max_rss_kb"`
	RSSKB      int64  `json:"rss_kb"`
	HeapInuse  uint64 `json:"heap_inuse"`
	CacheHits  uint64 `json:"cache_hits"`
	CacheMiss  uint64 `json:"cache_misses"`
	Goroutines int    `json:"goroutines"`
}

// serveChild runs one server on 127.0.0.1 (a free port), prints its address,
// then answers "stats" lines on stdin until stdin closes.
func serveChild(mode, root string) error {
	f, err := newFixture(root)
	if err != nil {
		return err
	}
	var (
		addr  string
		stats = func() (uint64, uint64) { return 0, 0 }
		stop  func()
	)
	switch mode {
	case modeIssuer:
		ring, err := keys.NewRing([]keys.RingKey{{Signer: f.rsa}}, issuer.LongestLifetime(f.bs))
		if err != nil {
			return err
		}
		logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
		metrics := httpapi.NewMetrics()
		is, err := issuer.New(ring, f.bs, issuer.Options{Logger: logger, ObserveSign: metrics.ObserveSign})
		if err != nil {
			return err
		}
		callers, err := issuer.NewCallers([]issuer.Caller{{ID: benchCaller, SecretSHA256: sha256.Sum256([]byte(benchSecret))}})
		if err != nil {
			return err
		}
		srv, err := httpapi.New(is, callers, httpapi.Options{Addr: "127.0.0.1:0", Logger: logger, Metrics: metrics})
		if err != nil {
			return err
		}
		if err := srv.Open(); err != nil {
			return err
		}
		addr, stats = srv.Addr(), is.CacheStats
		stop = func() { srv.Close(context.Background()) }
	case modeTrivial, modeSignEvery:
		h := trivialHandler()
		if mode == modeSignEvery {
			h = signEveryHandler(f)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: httpapi.DefaultReadHeaderTimeout, ReadTimeout: httpapi.DefaultReadTimeout,
			WriteTimeout: httpapi.DefaultWriteTimeout, IdleTimeout: httpapi.DefaultIdleTimeout}
		go srv.Serve(ln)
		addr = ln.Addr().String()
		stop = func() { srv.Close() }
	default:
		return fmt.Errorf("bench: unknown server mode %q", mode)
	}
	defer stop()
	fmt.Println(addr)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() != "stats" {
			continue
		}
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		hits, misses := stats()
		b, _ := json.Marshal(childStats{
			CPUNanos: ru.Utime.Nano() + ru.Stime.Nano(), Mallocs: ms.Mallocs, MaxRSSKB: procStatusKB("VmHWM:"), RSSKB: procStatusKB("VmRSS:"),
			HeapInuse: ms.HeapInuse, CacheHits: hits, CacheMiss: misses, Goroutines: runtime.NumGoroutine(),
		})
		fmt.Println(string(b))
	}
	return in.Err()
}

// procStatusKB reads a size from /proc/self/status: VmRSS (resident now)
// or VmHWM (peak). getrusage's ru_maxrss would do for the peak, but a
// child started with vfork inherits its parent's.
func procStatusKB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// trivialHandler answers every request with the same JSON, shaped like an
// issued URL.
func trivialHandler() http.Handler {
	body := []byte(`{"url":"https://media.example.test/ebooks/book-1.pdf?Expires=1798765200&Signature=` +
		strings.Repeat("A", 342) + `__&Key-Pair-Id=KBENCHRSA","expires_at":"2027-01-01T01:00:00Z","expires_in":3900,` +
		`"key_id":"KBENCHRSA","behavior":"ebooks","grant_id":"g-AAAAAAAAAAAAAAAA"}` + "\n")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(body)
	})
}

// signEveryHandler signs each request with the AWS SDK's sign package: a
// URL (URLSigner.Sign, canned policy, an hour) or, for a path prefix,
// cookies for a custom wildcard policy (CookieSigner.SignWithPolicy).
func signEveryHandler(f *fixture) http.Handler {
	urls := sign.NewURLSigner(rsaKeyID, f.rsaKey)
	cookies := sign.NewCookieSigner(rsaKeyID, f.rsaKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Path       string `json:"path"`
			PathPrefix string `json:"path_prefix"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		exp := time.Now().Add(time.Hour)
		var out any
		var err error
		switch {
		case req.Path != "":
			var u string
			u, err = urls.Sign(f.bs.ViewerOrigin+req.Path, exp)
			out = map[string]string{"url": u}
		case req.PathPrefix != "":
			p := &sign.Policy{Statements: []sign.Statement{{Resource: f.bs.ViewerOrigin + req.PathPrefix + "*",
				Condition: sign.Condition{DateLessThan: sign.NewAWSEpochTime(exp)}}}}
			var cs []*http.Cookie
			cs, err = cookies.SignWithPolicy(p)
			m := map[string]string{}
			for _, c := range cs {
				m[c.Name] = c.Value
			}
			out = map[string]any{"cookies": m}
		default:
			err = errors.New("path or path_prefix is required")
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(out)
	})
}
