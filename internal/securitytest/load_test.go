package securitytest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestLoad runs concurrent callers at a steady rate against a listening
// server over 127.0.0.1: 3 s in make test, 60 s with -soak. Every request
// must succeed; p50/p99 are reported (not asserted); goroutines and heap
// are compared between the start (after a warm-up that fills the caches)
// and the end.
func TestLoad(t *testing.T) {
	dur, rate := 3*time.Second, 300
	if *soak {
		dur = 60 * time.Second
	}
	// Caches smaller than the request set, so that the warm-up fills them
	// and the run churns them: growth after the warm-up is a leak, not a
	// cache filling up.
	s := newService(t, serviceOptions{cacheSize: 1000, noLog: true})
	s.clock.Set(time.Now()) // real time: windows turn over during a soak
	// The real clock, read through the test's: windows move during a soak.
	stop := make(chan struct{})
	var tick sync.WaitGroup
	tick.Add(1)
	go func() {
		defer tick.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				s.clock.Set(time.Now())
			}
		}
	}()
	defer func() { close(stop); tick.Wait() }()
	if err := s.srv.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.srv.Close(context.Background())
	base := "http://" + s.srv.Addr()
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	callers := []string{s.apiKeys["all"], s.apiKeys["course"], s.apiKeys["books"]}
	reqFor := func(i int) (*http.Request, error) {
		var target, body string
		key := callers[i%3]
		n := i % 2000 // a bounded set of paths: the caches reach their steady size
		switch i % 3 {
		case 0:
			target, body = "/v1/urls", fmt.Sprintf(`{"path": "/ebooks/%d.pdf"}`, n)
		case 1:
			target, body = "/v1/cookies", fmt.Sprintf(`{"path_prefix": "/courses/go-101/%d/"}`, n)
		case 2:
			target, body = "/v1/urls", fmt.Sprintf(`{"items": [{"path": "/ebooks/free/%d.pdf"}, {"path": "/ebooks/free/%d.pdf", "filename": "f.pdf"}]}`, n, n+1)
		}
		req, err := http.NewRequest("POST", base+target, strings.NewReader(body))
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		return req, err
	}
	var errs atomic.Int64
	var firstErr atomic.Value
	send := func(i int) time.Duration {
		req, _ := reqFor(i)
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			errs.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
			return 0
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || strings.Contains(string(b), `"error"`) {
			errs.Add(1)
			firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", res.StatusCode, b))
		}
		return time.Since(start)
	}
	for i := range 4000 { // warm-up: every path once, caches full
		send(i)
	}
	tr.CloseIdleConnections()
	g0, h0 := runtime.NumGoroutine(), heapInUse()

	const workers = 8
	total := int(dur.Seconds()) * rate               // bounded in count…
	deadline := time.Now().Add(dur + 30*time.Second) // …and in time
	jobs := make(chan int)
	lat := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				lat[w] = append(lat[w], send(i))
			}
		}()
	}
	interval := time.Second / time.Duration(rate)
	next := time.Now()
	sent := 0
	for ; sent < total && time.Now().Before(deadline); sent++ {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(interval)
		jobs <- sent
	}
	close(jobs)
	wg.Wait()
	tr.CloseIdleConnections()
	// Idle server connections close once the client's are gone; give the
	// runtime a moment to retire their goroutines (bounded wait, no
	// assertion on time).
	var g1 int
	for range 50 {
		if g1 = runtime.NumGoroutine(); g1 <= g0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	h1 := heapInUse()
	all := slices.Concat(lat...)
	slices.Sort(all)
	p := func(q float64) time.Duration {
		return all[min(len(all)-1, int(q*float64(len(all))))].Round(10 * time.Microsecond)
	}
	report(t, "load", "%d requests in %s at %d/s by %d workers over 127.0.0.1: %d errors, p50 %s, p99 %s, max %s; goroutines %d → %d; heap in use %.1f → %.1f MiB",
		sent, dur, rate, workers, errs.Load(), p(0.5), p(0.99), all[len(all)-1].Round(10*time.Microsecond), g0, g1, float64(h0)/(1<<20), float64(h1)/(1<<20))
	if n := errs.Load(); n != 0 {
		t.Errorf("%d errors under load; first: %v", n, firstErr.Load())
	}
	if sent != total {
		t.Errorf("sent %d of %d requests before the deadline", sent, total)
	}
	if g1 > g0+2 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	if h1 > h0+h0/2+8<<20 {
		t.Errorf("heap in use grew from %d to %d bytes", h0, h1)
	}
}

// TestAbuse: a burst from one caller over its rate gets 429 with
// Retry-After while its burst allowance succeeds and other callers are
// untouched; a flood without a valid API key gets 401 and costs no
// signing at all.
func TestAbuse(t *testing.T) {
	s := newService(t, serviceOptions{})
	if err := s.srv.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.srv.Close(context.Background())
	base := "http://" + s.srv.Addr()
	client := &http.Client{}
	post := func(key, body string) (int, http.Header) {
		req, _ := http.NewRequest("POST", base+"/v1/urls", strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", key)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, res.Header
	}
	// slow: 1/s, burst 3; the test clock does not move, so the bucket
	// does not refill during the burst.
	var ok, limited, other atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, h := post("Bearer "+s.apiKeys["slow"], fmt.Sprintf(`{"path": "/ebooks/%d.pdf"}`, i))
			switch status {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
				if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 {
					t.Errorf("429 with Retry-After %q", h.Get("Retry-After"))
				}
			default:
				other.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 3 || limited.Load() != 57 || other.Load() != 0 {
		t.Errorf("burst of 60 at burst 3: %d ok, %d limited, %d other; want 3, 57, 0", ok.Load(), limited.Load(), other.Load())
	}
	if status, _ := post("Bearer "+s.apiKeys["all"], `{"path": "/ebooks/x.pdf"}`); status != 200 {
		t.Errorf("another caller during the burst: %d", status)
	}
	s.clock.Set(t0.Add(2 * time.Second))
	if status, _ := post("Bearer "+s.apiKeys["slow"], `{"path": "/ebooks/y.pdf"}`); status != 200 {
		t.Errorf("after the refill: %d", status)
	}

	before := s.signs()
	bad := []string{"", "Bearer", "Bearer " + s.apiKeys["all"] + "x", "Bearer all.", "Bearer all", "Bearer nobody.c2VjcmV0",
		"Basic " + s.apiKeys["all"], "Bearer " + strings.Repeat("a", 4000) + "." + strings.Repeat("b", 4000)}
	var unauth atomic.Int64
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, _ := post(bad[i%len(bad)], `{"path": "/ebooks/a.pdf"}`); status == 401 {
				unauth.Add(1)
			}
		}()
		if i%50 == 49 {
			wg.Wait()
		}
	}
	wg.Wait()
	if unauth.Load() != 400 {
		t.Errorf("%d of 400 unauthenticated requests got 401", unauth.Load())
	}
	if n := s.signs() - before; n != 0 {
		t.Errorf("unauthenticated requests cost %d signing operations", n)
	}
	report(t, "abuse", "burst of 60 at burst 3: %d ok, %d 429 with Retry-After; %d unauthenticated: %d 401, %d signatures",
		ok.Load(), limited.Load(), 400, unauth.Load(), s.signs()-before)
}
