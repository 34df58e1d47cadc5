// Command bench is make bench: Go micro benchmarks, the fastest peer (the
// npm @aws-sdk/cloudfront-signer) and a load test of the service over
// loopback, each reported as a ratio against a baseline measured in the
// same run, since the machines it runs on are shared and noisy. It prints
// a table and writes bench/results.json; see bench/README.md.
//
//	go run ./bench                     # what make bench runs
//	go run ./bench -soak 60s           # make bench-soak: RSS under a 60 s churn at the cache's full size
//	go test -bench . -benchmem ./bench # the micro benchmarks alone, for benchstat
package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/internal/loadgen"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
)

func main() {
	testing.Init() // the benchmark flags (test.benchtime) that testing.Benchmark reads
	var (
		serve     = flag.String("serve", "", "run one load-test server (issuer, trivial, sign-every) and answer stats on stdin (internal)")
		root      = flag.String("root", ".", "repository root")
		out       = flag.String("out", "bench/results.json", "results file")
		benchtime = flag.Duration("benchtime", 300*time.Millisecond, "time per micro benchmark run")
		rounds    = flag.Int("rounds", 3, "interleaved rounds of each micro benchmark pair")
		phase     = flag.Duration("phase", 6*time.Second, "measured time of each load phase")
		workers   = flag.Int("workers", 8, "load generator connections")
		peerTime  = flag.Duration("peer", 5*time.Second, "time the npm signer signs for")
		soak      = flag.Duration("soak", 0, "run only the RSS soak test for this long (make bench-soak)")
		parts     = flag.String("parts", "micro,peer,load", "what to run (a partial run is for development: its ratios are incomplete)")
	)
	flag.Parse()
	if *serve != "" {
		if err := serveChild(*serve, *root); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	r := &runner{root: *root, phase: *phase, workers: *workers, parts: *parts}
	var err error
	if *soak > 0 {
		err = r.soak(*soak, *out)
	} else {
		flag.Set("test.benchtime", benchtime.String())
		err = r.all(*rounds, *peerTime, *out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type runner struct {
	root    string
	phase   time.Duration
	workers int
	parts   string
}

// path resolves a relative path against the repository root.
func (r *runner) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(r.root, p)
}

func (r *runner) does(part string) bool { return slices.Contains(strings.Split(r.parts, ","), part) }

// Results is bench/results.json.
type Results struct {
	Run     runInfo                `json:"run"`
	Ratios  map[string]float64     `json:"ratios"`
	Targets map[string]float64     `json:"targets"`
	Allocs  map[string]float64     `json:"allocs"`
	Micro   map[string]microResult `json:"micro"`
	Peer    map[string]any         `json:"peer"`
	Load    map[string]loadResult  `json:"load"`
	Cache   map[string]float64     `json:"cache"`
	Notes   map[string]string      `json:"notes"`
	Soak    *soakResult            `json:"soak,omitempty"`
	// Server holds the load ratios per CPU-second of the server process.
	Server map[string]float64 `json:"server_cpu_ratios"`
	// ZipfPerCPUSecond is the issuer's Zipf requests per CPU-second of its
	// process (median of the rounds).
	ZipfPerCPUSecond float64              `json:"zipf_requests_per_server_cpu_second"`
	Pairs            map[string][2]string `json:"pairs"`
	Rounds           map[string][]float64 `json:"ratio_rounds"`
}

type runInfo struct {
	Time       time.Time `json:"time"`
	GoVersion  string    `json:"go_version"`
	GOOS       string    `json:"goos"`
	GOARCH     string    `json:"goarch"`
	CPUs       int       `json:"cpus"`
	CPU        string    `json:"cpu"`
	Commit     string    `json:"commit"`
	Benchtime  string    `json:"benchtime"`
	Rounds     int       `json:"rounds"`
	PhaseSecs  float64   `json:"phase_seconds"`
	Workers    int       `json:"workers"`
	LoadAvgBeg string    `json:"loadavg_start"`
}

type microResult struct {
	CPUNsPerOp  float64   `json:"cpu_ns_per_op"` // median over the rounds: what the ratios use
	NsPerOp     float64   `json:"ns_per_op"`     // wall clock, median over the rounds
	AllocsPerOp int64     `json:"allocs_per_op"`
	BytesPerOp  int64     `json:"bytes_per_op"`
	OpsPerCPUS  float64   `json:"ops_per_cpu_second"`
	RoundsCPUNs []float64 `json:"rounds_cpu_ns_per_op"`
	RoundsNs    []float64 `json:"rounds_ns_per_op"`
}

type loadResult struct {
	loadgen.Result
	Server         string  `json:"server"`
	Workload       string  `json:"workload"`
	CPUSeconds     float64 `json:"server_cpu_seconds"`
	PerCPUSecond   float64 `json:"requests_per_server_cpu_second"`
	AllocsPerReq   float64 `json:"allocs_per_request"`
	CacheHitRatio  float64 `json:"cache_hit_ratio"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`
	PrefillSeconds float64 `json:"prefill_seconds,omitempty"`
}

// The ratios of the issue, each ours over its baseline as throughput
// (higher is better), with their targets.
var targets = map[string]float64{
	"cache_hit_vs_sdk_overhead": 10,
	"zipf_vs_trivial":           0.7,
	"zipf_vs_sign_every":        10,
	"zipf_vs_fastest_peer":      5,
	"cold_rsa_vs_raw":           0.95,
	"cold_ecdsa_vs_raw":         0.7,
	"verify_vs_raw":             0.8,
}

// microPairs are the in-process ratios: baseline, ours.
var microPairs = map[string][2]string{
	"cache_hit_vs_sdk_overhead": {"sdk/noop_signer", "issuer/url_cache_hit"},
	"cold_rsa_vs_raw":           {"rsa/raw_crypto_rsa", "rsa/issuer_cold"},
	"cold_ecdsa_vs_raw":         {"ecdsa/raw_crypto_ecdsa", "ecdsa/issuer_cold"},
	"verify_vs_raw":             {"verify/raw_rsa_verify", "verify/edge_check"},
}

func (r *runner) all(rounds int, peerTime time.Duration, out string) error {
	res := &Results{
		Run: runInfo{Time: time.Now().UTC().Truncate(time.Second), GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
			CPUs: runtime.NumCPU(), CPU: cpuModel(), Commit: gitDescribe(r.root), Benchtime: flag.Lookup("test.benchtime").Value.String(),
			Rounds: rounds, PhaseSecs: r.phase.Seconds(), Workers: r.workers, LoadAvgBeg: loadAvg()},
		Ratios: map[string]float64{}, Targets: targets, Allocs: map[string]float64{}, Micro: map[string]microResult{},
		Load: map[string]loadResult{}, Cache: map[string]float64{}, Pairs: map[string][2]string{}, Rounds: map[string][]float64{},
		Notes: map[string]string{
			"ratios":   "ours / baseline as throughput (operations per second): higher is better",
			"micro":    "each micro benchmark pair runs back to back in every round; a ratio is the median of its rounds' ratios of CPU time per operation (the process's user+system time over the iterations), since wall time on a shared machine counts other processes' time",
			"load":     "server and load generator share the machine's cores over 127.0.0.1; zipf_vs_fastest_peer compares requests per CPU-second of the issuer process with signatures per CPU-second of the npm signer (one core, key parsed once)",
			"zipf":     "the issuer process is kept across the rounds and its Zipf phase starts with its caches holding every resource of the catalogue once (a service that has been up for the window); the hit ratio is of the measured phase",
			"logging":  "the issuer logs one JSON line per issuance, formatted as in production and written to io.Discard",
			"defaults": "run with `go run ./bench -h` for the knobs; make bench uses the defaults",
		},
	}
	for name, p := range microPairs {
		res.Pairs[name] = p
	}

	if r.does("micro") {
		fmt.Fprintln(os.Stderr, "micro benchmarks…")
		if err := r.micro(res, rounds); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "bytes per cache entry…")
		if err := r.cacheEntryBytes(res); err != nil {
			return err
		}
	}
	if r.does("peer") {
		fmt.Fprintln(os.Stderr, "fastest peer (npm @aws-sdk/cloudfront-signer)…")
		peer, err := r.peer(peerTime)
		if err != nil {
			return err
		}
		res.Peer = peer
	}
	if r.does("load") {
		fmt.Fprintln(os.Stderr, "load test over loopback…")
		if err := r.load(res, loadRounds); err != nil {
			return err
		}
	}
	peer := res.Peer
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return round3(a / b)
	}
	peerRate, _ := peer["ops_per_cpu_second"].(float64)
	res.Ratios["zipf_vs_fastest_peer"] = ratio(res.ZipfPerCPUSecond, peerRate)
	res.Pairs["zipf_vs_trivial"] = [2]string{"load.trivial_N req/s", "load.issuer_zipf_N req/s"}
	res.Pairs["zipf_vs_sign_every"] = [2]string{"load.sign_every_zipf_N req/s", "load.issuer_zipf_N req/s"}
	res.Pairs["zipf_vs_fastest_peer"] = [2]string{"npm signer, signatures per CPU-second", "issuer, Zipf requests per server CPU-second"}

	if err := writeJSON(r.path(out), res); err != nil {
		return err
	}
	printTable(os.Stdout, res)
	fmt.Printf("\nwrote %s\n", out)
	return nil
}

// micro runs every micro benchmark once per round, in order, so that each
// pair runs back to back; ratios are the median of the rounds' ratios.
func (r *runner) micro(res *Results, rounds int) error {
	f, err := newFixture(r.root)
	if err != nil {
		return err
	}
	bms, err := f.benchmarks()
	if err != nil {
		return err
	}
	runs := map[string][]testing.BenchmarkResult{}
	cpu := map[string][]float64{} // CPU ns per op
	for round := range rounds {
		for _, bm := range bms {
			runtime.GC()
			c0 := processCPU()
			br := testing.Benchmark(bm.fn)
			c := processCPU() - c0
			if br.N == 0 {
				return fmt.Errorf("micro benchmark %s failed", bm.name)
			}
			runs[bm.name] = append(runs[bm.name], br)
			cpu[bm.name] = append(cpu[bm.name], round3(float64(c)/float64(br.N)))
			fmt.Fprintf(os.Stderr, "  round %d  %-32s %12.0f ns/op %12.0f CPU ns/op %6d allocs/op\n", round+1, bm.name, nsPerOp(br), float64(c)/float64(br.N), br.AllocsPerOp())
		}
	}
	for _, bm := range bms {
		rs := runs[bm.name]
		var ns []float64
		for _, br := range rs {
			ns = append(ns, round3(nsPerOp(br)))
		}
		m := median(cpu[bm.name])
		last := rs[len(rs)-1]
		res.Micro[bm.name] = microResult{CPUNsPerOp: m, NsPerOp: median(ns), AllocsPerOp: last.AllocsPerOp(), BytesPerOp: last.AllocedBytesPerOp(),
			OpsPerCPUS: round3(1e9 / m), RoundsCPUNs: cpu[bm.name], RoundsNs: ns}
	}
	for name, p := range microPairs {
		var rs []float64
		for i := range rounds {
			// Throughput ratio: the baseline's CPU time per operation over ours.
			rs = append(rs, round3(cpu[p[0]][i]/cpu[p[1]][i]))
		}
		res.Rounds[name] = rs
		res.Ratios[name] = median(rs)
	}
	res.Allocs["cache_hit"] = float64(res.Micro["issuer/url_cache_hit"].AllocsPerOp)
	res.Allocs["sdk_noop_signer"] = float64(res.Micro["sdk/noop_signer"].AllocsPerOp)
	return nil
}

// processCPU is the CPU time (user and system) of this process so far, in
// nanoseconds: unlike the wall clock it does not count the time other
// processes of a shared machine take from the benchmark.
func processCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func nsPerOp(br testing.BenchmarkResult) float64 {
	return float64(br.T.Nanoseconds()) / float64(br.N)
}

// fakeRSA signs with a fixed 256-byte value: a stand-in for an RSA key when
// only the size of what the caches keep matters.
type fakeRSA struct{ keys.Signer }

func (f fakeRSA) Sign(_ context.Context, message []byte, _ crypto.Hash) ([]byte, error) {
	s := sha256.Sum256(message)
	out := make([]byte, 0, 256)
	for len(out) < 256 {
		out = append(out, s[:]...)
	}
	return out, nil
}

// cacheEntryBytes fills an issuer's caches with DefaultCacheSize distinct
// URLs (RSA-sized signatures, the ebooks behavior) and reports the heap
// they hold per entry: the front cache's finished URL and the signature
// cache's policy and signature, with the LRUs' own bookkeeping.
func (r *runner) cacheEntryBytes(res *Results) error {
	f, err := newFixture(r.root)
	if err != nil {
		return err
	}
	ring, err := keys.NewRing([]keys.RingKey{{Signer: fakeRSA{f.rsa}}}, issuer.LongestLifetime(f.bs))
	if err != nil {
		return err
	}
	is, err := issuer.New(ring, f.bs, issuer.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	n := issuer.DefaultCacheSize
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("/ebooks/book-%d.pdf", i)
	}
	before := heapAfterGC()
	for _, p := range paths {
		if _, err := is.URL(context.Background(), nil, issuer.URLGrant{Path: p}); err != nil {
			return err
		}
	}
	after := heapAfterGC()
	runtime.KeepAlive(is)
	res.Cache["entries"] = float64(n)
	res.Cache["bytes_per_entry"] = math.Round(float64(after-before) / float64(n))
	res.Cache["mb_at_full_size"] = round3(float64(after-before) / (1 << 20))
	return nil
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func (r *runner) peer(d time.Duration) (map[string]any, error) {
	cmd := exec.Command("node", filepath.Join(r.root, "bench", "peer.js"), filepath.Join(r.root, "testdata", "keys", "rsa2048.pem"),
		fmt.Sprint(d.Seconds()))
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(r.root, "internal", "oracle", "js", "node_modules"))
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("node peer (run make test-deps for the npm signer): %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(outb, &m); err != nil {
		return nil, fmt.Errorf("node peer: %w", err)
	}
	return m, nil
}

// child is one load-test server process.
type child struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	addr string
}

func (r *runner) start(mode string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", mode, "-root", r.root)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewScanner(outp)}
	if !c.out.Scan() {
		c.stop()
		return nil, fmt.Errorf("server %s did not start", mode)
	}
	c.addr = c.out.Text()
	return c, nil
}

func (c *child) stats() (childStats, error) {
	var s childStats
	if _, err := io.WriteString(c.in, "stats\n"); err != nil {
		return s, err
	}
	if !c.out.Scan() {
		return s, errors.New("server stopped")
	}
	return s, json.Unmarshal(c.out.Bytes(), &s)
}

func (c *child) stop() {
	c.in.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// phase runs one server with one workload: an optional prefill, a
// one-second warm-up, then the measured run between two stats readings.
func (r *runner) phaseRun(c *child, mode, workload string, w loadgen.Workload, prefill bool) (loadResult, error) {
	if c == nil {
		var err error
		if c, err = r.start(mode); err != nil {
			return loadResult{}, err
		}
		defer c.stop()
	}
	ctx := context.Background()
	base := "http://" + c.addr
	lr := loadResult{Server: mode, Workload: workload}
	if prefill {
		t := time.Now()
		pre, err := loadgen.Run(ctx, loadgen.Config{BaseURL: base, APIKey: benchAPIKey, Workers: r.workers,
			Workload: loadgen.Each{N: zipfN, Workers: r.workers}})
		if err != nil {
			return lr, err
		}
		if pre.Errors > 0 {
			return lr, fmt.Errorf("prefill of %s: %d errors, first: %s", mode, pre.Errors, pre.FirstError)
		}
		lr.PrefillSeconds = round3(time.Since(t).Seconds())
	}
	if _, err := loadgen.Run(ctx, loadgen.Config{BaseURL: base, APIKey: benchAPIKey, Workers: r.workers, Duration: time.Second, Workload: w}); err != nil {
		return lr, err
	}
	before, err := c.stats()
	if err != nil {
		return lr, err
	}
	got, err := loadgen.Run(ctx, loadgen.Config{BaseURL: base, APIKey: benchAPIKey, Workers: r.workers, Duration: r.phase, Workload: w})
	if err != nil {
		return lr, err
	}
	after, err := c.stats()
	if err != nil {
		return lr, err
	}
	if got.Errors > 0 {
		return lr, fmt.Errorf("%s %s: %d of %d requests failed, first: %s", mode, workload, got.Errors, got.Requests, got.FirstError)
	}
	lr.Result = got
	lr.RPS, lr.P50, lr.P99, lr.Seconds = round3(got.RPS), round3(got.P50), round3(got.P99), round3(got.Seconds)
	lr.CPUSeconds = round3(float64(after.CPUNanos-before.CPUNanos) / 1e9)
	if lr.CPUSeconds > 0 {
		lr.PerCPUSecond = round3(float64(got.Requests) / lr.CPUSeconds)
	}
	if got.Requests > 0 {
		// Less the two stats readings' own few allocations.
		lr.AllocsPerReq = round3(float64(after.Mallocs-before.Mallocs) / float64(got.Requests))
	}
	if h, m := after.CacheHits-before.CacheHits, after.CacheMiss-before.CacheMiss; h+m > 0 {
		lr.CacheHitRatio = round3(float64(h) / float64(h+m))
	}
	lr.PeakRSSMB = round3(float64(after.MaxRSSKB) / 1024)
	fmt.Fprintf(os.Stderr, "  %-10s %-5s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %7.0f req/CPU-s  hit %.3f  %5.1f allocs/req  peak RSS %.1f MB\n",
		mode, workload, lr.RPS, lr.P50, lr.P99, lr.PerCPUSecond, lr.CacheHitRatio, lr.AllocsPerReq, lr.PeakRSSMB)
	return lr, nil
}

// loadRounds is how many times the trivial / issuer / sign-every phases
// run, back to back.
const loadRounds = 2

// The catalogue of the Zipf workload.
const (
	zipfN = 10000
	zipfS = 1.1
)

// load runs the load phases: rounds of trivial, issuer (Zipf) and
// sign-every back to back, the issuer process kept across rounds (its
// caches filled once, before the first), then the issuer on a cold
// workload in a process of its own. A ratio is the median of its rounds'.
func (r *runner) load(res *Results, rounds int) error {
	zipf := func() loadgen.Workload { return &loadgen.Zipf{N: zipfN, S: zipfS, Seed: 1} }
	is, err := r.start(modeIssuer)
	if err != nil {
		return err
	}
	defer is.stop()
	var vsTrivial, vsSignEvery, cpuTrivial, cpuSignEvery, perCPU []float64
	for round := range rounds {
		tr, err := r.phaseRun(nil, modeTrivial, "zipf", zipf(), false)
		if err != nil {
			return fmt.Errorf("load: trivial: %w", err)
		}
		z, err := r.phaseRun(is, modeIssuer, "zipf", zipf(), round == 0)
		if err != nil {
			return fmt.Errorf("load: issuer: %w", err)
		}
		se, err := r.phaseRun(nil, modeSignEvery, "zipf", zipf(), false)
		if err != nil {
			return fmt.Errorf("load: sign-every: %w", err)
		}
		vsTrivial = append(vsTrivial, round3(z.RPS/tr.RPS))
		vsSignEvery = append(vsSignEvery, round3(z.RPS/se.RPS))
		// The same comparisons per CPU-second of the server process: what
		// a request costs the server, whatever else the machine runs.
		cpuTrivial = append(cpuTrivial, round3(z.PerCPUSecond/tr.PerCPUSecond))
		cpuSignEvery = append(cpuSignEvery, round3(z.PerCPUSecond/se.PerCPUSecond))
		perCPU = append(perCPU, z.PerCPUSecond)
		n := fmt.Sprint(round + 1)
		res.Load["trivial_"+n], res.Load["issuer_zipf_"+n], res.Load["sign_every_zipf_"+n] = tr, z, se
	}
	cold, err := r.phaseRun(nil, modeIssuer, "cold", &loadgen.Cold{Tag: "cold"}, false)
	if err != nil {
		return fmt.Errorf("load: issuer cold: %w", err)
	}
	res.Load["issuer_cold"] = cold
	res.Rounds["zipf_vs_trivial"], res.Rounds["zipf_vs_sign_every"] = vsTrivial, vsSignEvery
	res.Ratios["zipf_vs_trivial"], res.Ratios["zipf_vs_sign_every"] = median(vsTrivial), median(vsSignEvery)
	res.Server = map[string]float64{"zipf_vs_trivial_per_cpu_second": median(cpuTrivial), "zipf_vs_sign_every_per_cpu_second": median(cpuSignEvery)}
	res.ZipfPerCPUSecond = median(perCPU)
	return nil
}

// soakResult is the RSS of the issuer under a churn at the cache's full
// size, sampled every interval.
type soakResult struct {
	Seconds         float64   `json:"seconds"`
	Requests        int64     `json:"requests"`
	CacheEntries    int       `json:"cache_entries"`
	RSSMBSamples    []float64 `json:"rss_mb_samples"`
	HeapMBSamples   []float64 `json:"heap_inuse_mb_samples"`
	GrowthMB        float64   `json:"growth_mb_after_first_sample"`
	PeakRSSMB       float64   `json:"peak_rss_mb"`
	GrowthPerMinute float64   `json:"growth_mb_per_minute_second_half"`
}

// soak fills the issuer's caches, then asks for new resources (every one a
// miss, so every one evicts) and mixes in the Zipf workload, sampling RSS.
func (r *runner) soak(d time.Duration, out string) error {
	c, err := r.start(modeIssuer)
	if err != nil {
		return err
	}
	defer c.stop()
	ctx := context.Background()
	base := "http://" + c.addr
	if _, err := loadgen.Run(ctx, loadgen.Config{BaseURL: base, APIKey: benchAPIKey, Workers: r.workers, Workload: loadgen.Each{N: zipfN, Workers: r.workers}}); err != nil {
		return err
	}
	sr := &soakResult{CacheEntries: issuer.DefaultCacheSize}
	const interval = 5 * time.Second
	start := time.Now()
	for i := 0; time.Since(start) < d; i++ {
		var w loadgen.Workload = &loadgen.Cold{Tag: fmt.Sprintf("soak%d", i)}
		got, err := loadgen.Run(ctx, loadgen.Config{BaseURL: base, APIKey: benchAPIKey, Workers: r.workers, Duration: interval, Workload: w})
		if err != nil {
			return err
		}
		if got.Errors > 0 {
			return fmt.Errorf("soak: %d errors, first: %s", got.Errors, got.FirstError)
		}
		sr.Requests += got.Requests
		st, err := c.stats()
		if err != nil {
			return err
		}
		sr.RSSMBSamples = append(sr.RSSMBSamples, round3(float64(st.RSSKB)/1024))
		sr.HeapMBSamples = append(sr.HeapMBSamples, round3(float64(st.HeapInuse)/(1<<20)))
		sr.PeakRSSMB = round3(float64(st.MaxRSSKB) / 1024)
		fmt.Fprintf(os.Stderr, "  %5.0fs  RSS %.1f MB  heap in use %.1f MB  (%d requests)\n", time.Since(start).Seconds(), float64(st.RSSKB)/1024, float64(st.HeapInuse)/(1<<20), sr.Requests)
	}
	sr.Seconds = round3(time.Since(start).Seconds())
	s := sr.RSSMBSamples
	sr.GrowthMB = round3(s[len(s)-1] - s[0])
	if h := len(s) / 2; len(s) >= 4 {
		sr.GrowthPerMinute = round3((s[len(s)-1] - s[h]) / (float64(len(s)-1-h) * interval.Seconds() / 60))
	}
	// Merge into the results file when there is one.
	path := r.path(out)
	res := map[string]any{}
	if data, err := os.ReadFile(path); err == nil {
		json.Unmarshal(data, &res)
	}
	res["soak"] = sr
	if err := writeJSON(path, res); err != nil {
		return err
	}
	fmt.Printf("soak: %d requests in %.0fs at %d cached entries; RSS %v MB; growth %.1f MB (%.2f MB/min over the second half); peak %.1f MB\n",
		sr.Requests, sr.Seconds, sr.CacheEntries, s, sr.GrowthMB, sr.GrowthPerMinute, sr.PeakRSSMB)
	return nil
}

func printTable(w io.Writer, res *Results) {
	fmt.Fprintf(w, "\n%-27s %9s %8s  %-6s %s\n", "ratio (ours/baseline)", "measured", "target", "", "baseline → ours")
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, n)
	}
	order := []string{"cache_hit_vs_sdk_overhead", "zipf_vs_trivial", "zipf_vs_sign_every", "zipf_vs_fastest_peer", "cold_rsa_vs_raw", "cold_ecdsa_vs_raw", "verify_vs_raw"}
	slices.SortFunc(names, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	for _, n := range names {
		v, t := res.Ratios[n], targets[n]
		mark := "ok"
		if v < t {
			mark = "MISSED"
		}
		p := res.Pairs[n]
		fmt.Fprintf(w, "%-27s %9.3f %8s  %-6s %s → %s\n", n, v, "≥ "+trimFloat(t), mark, p[0], p[1])
	}
	fmt.Fprintf(w, "\n%-27s %9.0f (≤ 3; the AWS sign package: %.0f)\n", "allocs per URL cache hit", res.Allocs["cache_hit"], res.Allocs["sdk_noop_signer"])
	fmt.Fprintf(w, "%-27s %9.0f (%.1f MB at %0.f entries)\n", "bytes per cached URL", res.Cache["bytes_per_entry"], res.Cache["mb_at_full_size"], res.Cache["entries"])
	for _, n := range []string{"zipf_vs_trivial_per_cpu_second", "zipf_vs_sign_every_per_cpu_second"} {
		fmt.Fprintf(w, "%-34s %9.3f (per CPU-second of the server process; informative)\n", n, res.Server[n])
	}

	fmt.Fprintf(w, "\n%-32s %12s %12s %10s %10s\n", "micro benchmark", "CPU ns/op", "wall ns/op", "allocs/op", "B/op")
	mnames := make([]string, 0, len(res.Micro))
	for n := range res.Micro {
		mnames = append(mnames, n)
	}
	slices.Sort(mnames)
	for _, n := range mnames {
		m := res.Micro[n]
		fmt.Fprintf(w, "%-32s %12.0f %12.0f %10d %10d\n", n, m.CPUNsPerOp, m.NsPerOp, m.AllocsPerOp, m.BytesPerOp)
	}
	fmt.Fprintf(w, "\n%-16s %-5s %9s %8s %8s %10s %6s %11s %9s\n", "load phase", "work", "req/s", "p50 ms", "p99 ms", "req/CPU-s", "hit", "allocs/req", "peak RSS")
	lnames := make([]string, 0, len(res.Load))
	for n := range res.Load {
		lnames = append(lnames, n)
	}
	slices.Sort(lnames)
	for _, n := range lnames {
		l := res.Load[n]
		fmt.Fprintf(w, "%-16s %-5s %9.0f %8.2f %8.2f %10.0f %6.3f %11.1f %7.1fMB\n", n, l.Workload, l.RPS, l.P50, l.P99, l.PerCPUSecond, l.CacheHitRatio, l.AllocsPerReq, l.PeakRSSMB)
	}
	if p := res.Peer; p != nil {
		fmt.Fprintf(w, "%-16s %-5s %9.0f %8s %8s %10.0f   (%v, %v)\n", "npm peer", "zipf", p["ops_per_second"], "", "", p["ops_per_cpu_second"], p["signer"], p["node"])
	}
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return round3((s[len(s)/2-1] + s[len(s)/2]) / 2)
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func trimFloat(x float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", x), "0"), ".")
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return ""
}

func loadAvg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(data))
}

func gitDescribe(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
