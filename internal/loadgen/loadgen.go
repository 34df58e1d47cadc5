// Package loadgen drives an HTTP issuer with a workload for a bounded time
// and reports throughput and latency. It is the load generator of make
// bench: the workloads are the issuer API's requests (POST /v1/urls with a
// path, POST /v1/cookies with a path prefix) over the three journeys of
// examples/behaviors.json.
//
// A Workload is safe for concurrent use when each goroutine draws from its
// own Stream; Run does that.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A Request is one API call of a workload.
type Request struct {
	Path string // "/v1/urls" or "/v1/cookies"
	Body []byte // the JSON body
	// Resource is the index of the resource asked for, or -1 for a
	// resource never asked before (cold).
	Resource int
}

// Resource returns the request for resource i of a catalogue: ebooks,
// assets and course cookie grants in turn (i mod 3), so every behavior of
// examples/behaviors.json gets a third of the resources.
func Resource(i int) Request {
	return Request{Path: pathOf(i), Body: bodyOf(i, strconv.Itoa(i)), Resource: i}
}

func pathOf(i int) string {
	if i%3 == 2 {
		return "/v1/cookies"
	}
	return "/v1/urls"
}

func bodyOf(i int, name string) []byte {
	switch i % 3 {
	case 0:
		return []byte(`{"path":"/ebooks/book-` + name + `.pdf"}`)
	case 1:
		return []byte(`{"path":"/assets/img-` + name + `.png"}`)
	default:
		return []byte(`{"path_prefix":"/courses/c-` + name + `/"}`)
	}
}

// A Workload gives each worker a Stream of requests.
type Workload interface {
	Stream(worker int) func() Request
}

// Zipf is a Zipf-distributed workload over N resources: resource k is asked
// with probability proportional to (k+1)^-S. The requests are built once.
type Zipf struct {
	N    int
	S    float64
	Seed uint64
	reqs []Request
	once sync.Once
}

// Stream returns worker's own sequence (its own random source).
func (z *Zipf) Stream(worker int) func() Request {
	z.once.Do(func() {
		z.reqs = make([]Request, z.N)
		for i := range z.reqs {
			z.reqs[i] = Resource(i)
		}
	})
	r := rand.New(rand.NewPCG(z.Seed, uint64(worker)))
	zipf := rand.NewZipf(r, z.S, 1, uint64(z.N-1))
	return func() Request { return z.reqs[zipf.Uint64()] }
}

// Cold is a workload in which every request asks for a resource never asked
// before (unique per Tag, stream and sequence number), in the same three
// kinds as Resource. Use one *Cold for all the runs against one server.
type Cold struct {
	Tag     string
	streams atomic.Uint64
}

// Stream returns a sequence of its own: a later Run's streams never repeat
// an earlier one's resources.
func (c *Cold) Stream(worker int) func() Request {
	id := strconv.FormatUint(c.streams.Add(1), 10)
	n := 0
	return func() Request {
		n++
		name := c.Tag + "-" + id + "-" + strconv.Itoa(n)
		return Request{Path: pathOf(n), Body: bodyOf(n, name), Resource: -1}
	}
}

// Each is a workload that asks for resources 0 … N-1 once each, spread
// over the workers (to fill a cache).
type Each struct {
	N       int
	Workers int
}

// Stream returns worker's share; it returns a Request with an empty Path
// once the share is done.
func (e Each) Stream(worker int) func() Request {
	i := worker
	return func() Request {
		if i >= e.N {
			return Request{}
		}
		r := Resource(i)
		i += e.Workers
		return r
	}
}

// Config is a load run.
type Config struct {
	BaseURL  string // such as http://127.0.0.1:8080
	APIKey   string // sent as "Authorization: Bearer …"; empty for none
	Workers  int    // concurrent connections; zero means 8
	Duration time.Duration
	Workload Workload
}

// Result is what a run measured.
type Result struct {
	Requests int64         `json:"requests"`
	Errors   int64         `json:"errors"` // transport errors and non-200 answers
	Elapsed  time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
	RPS      float64       `json:"requests_per_second"`
	P50      float64       `json:"p50_ms"`
	P99      float64       `json:"p99_ms"`
	// FirstError describes the first error, if any.
	FirstError string `json:"first_error,omitempty"`
}

// Run sends requests from cfg.Workers connections until cfg.Duration has
// passed (or, for a workload whose stream ends, until every stream has),
// or ctx ends.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Workload == nil || cfg.BaseURL == "" {
		return Result{}, errors.New("loadgen: Run needs a base URL and a workload")
	}
	workers := cfg.Workers
	if workers == 0 {
		workers = 8
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        workers,
		MaxIdleConnsPerHost: workers,
		MaxConnsPerHost:     workers,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	type local struct {
		lat      []time.Duration
		errs     int64
		firstErr error
	}
	locals := make([]local, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &locals[w]
			l.lat = make([]time.Duration, 0, 1<<14)
			next := cfg.Workload.Stream(w)
			for ctx.Err() == nil {
				req := next()
				if req.Path == "" {
					return
				}
				t := time.Now()
				err := do(ctx, client, cfg, req)
				if ctx.Err() != nil {
					return // cut off at the deadline: not counted
				}
				l.lat = append(l.lat, time.Since(t))
				if err != nil {
					l.errs++
					if l.firstErr == nil {
						l.firstErr = err
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	res := Result{Elapsed: elapsed, Seconds: elapsed.Seconds()}
	for _, l := range locals {
		all = append(all, l.lat...)
		res.Errors += l.errs
		if l.firstErr != nil && res.FirstError == "" {
			res.FirstError = l.firstErr.Error()
		}
	}
	res.Requests = int64(len(all))
	res.RPS = float64(res.Requests) / elapsed.Seconds()
	slices.Sort(all)
	res.P50 = ms(Percentile(all, 0.50))
	res.P99 = ms(Percentile(all, 0.99))
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted durations, by
// the nearest-rank method; zero for none.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func do(ctx context.Context, client *http.Client, cfg Config, r Request) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.BaseURL+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.APIKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("loadgen: %s %s: status %d", http.MethodPost, r.Path, resp.StatusCode)
	}
	return nil
}
