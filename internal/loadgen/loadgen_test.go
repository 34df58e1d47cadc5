package loadgen

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.5, 5}, {0.9, 9}, {0.99, 10}, {1, 10}} {
		if got := Percentile(d, tc.q); got != tc.want {
			t.Errorf("Percentile(1…10, %v) = %d, want %d", tc.q, got, tc.want)
		}
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("Percentile(nil) = %d", got)
	}
}

// TestZipf checks the workload's shape: resource k is drawn about
// (k+1)^-S / H times as often as all of them.
func TestZipf(t *testing.T) {
	z := &Zipf{N: 10000, S: 1.1, Seed: 1}
	next := z.Stream(0)
	const draws = 200000
	counts := map[int]int{}
	for range draws {
		counts[next().Resource]++
	}
	h := 0.0
	for k := 1; k <= z.N; k++ {
		h += math.Pow(float64(k), -z.S)
	}
	for _, k := range []int{0, 1, 9} {
		want := draws * math.Pow(float64(k+1), -z.S) / h
		if got := float64(counts[k]); math.Abs(got-want) > 0.1*want {
			t.Errorf("resource %d drawn %v times, want about %.0f", k, got, want)
		}
	}
	kinds := map[string]bool{}
	for k := range 3 {
		kinds[Resource(k).Path+" "+string(Resource(k).Body)] = true
	}
	if len(kinds) != 3 {
		t.Errorf("the first three resources are not three kinds: %v", kinds)
	}
}

func TestEachAndCold(t *testing.T) {
	seen := map[string]bool{}
	for w := range 3 {
		next := Each{N: 10, Workers: 3}.Stream(w)
		for r := next(); r.Path != ""; r = next() {
			seen[string(r.Body)] = true
		}
	}
	if len(seen) != 10 {
		t.Errorf("Each{10} over 3 workers asked %d distinct resources, want 10", len(seen))
	}
	cold := map[string]bool{}
	c := &Cold{Tag: "x"}
	for w := range 4 { // two runs of two workers
		next := c.Stream(w % 2)
		for range 100 {
			cold[string(next().Body)] = true
		}
	}
	if len(cold) != 400 {
		t.Errorf("Cold asked %d distinct resources in 400 requests", len(cold))
	}
}

func TestRun(t *testing.T) {
	var n, bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" || r.Method != http.MethodPost {
			bad.Add(1)
		}
		if n.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Config{BaseURL: srv.URL, APIKey: "k", Workers: 2, Workload: Each{N: 50, Workers: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 50 || res.Errors != 5 || bad.Load() != 0 || res.FirstError == "" {
		t.Errorf("Run = %+v (bad requests %d); want 50 requests, 5 errors", res, bad.Load())
	}
}
