package securitytest

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/internal/httpapi"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// soak switches every test to its long form (make soak).
var soak = flag.Bool("soak", false, "long form: 100,000 scope cases, a 60 s load")

// figures are the numbers the suite reports, printed after the run.
var figures = struct {
	sync.Mutex
	lines map[string]string
}{lines: map[string]string{}}

func report(t testing.TB, name, format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	t.Logf("%s: %s", name, s)
	figures.Lock()
	figures.lines[name] = s
	figures.Unlock()
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	figures.Lock()
	if len(figures.lines) > 0 {
		var names []string
		for n := range figures.lines {
			names = append(names, n)
		}
		sort.Strings(names)
		mode := "short"
		if *soak {
			mode = "soak"
		}
		fmt.Printf("\n== cfissuer security suite figures (%s) ==\n", mode)
		for _, n := range names {
			fmt.Printf("%-14s %s\n", n, figures.lines[n])
		}
	}
	figures.Unlock()
	os.Exit(code)
}

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var t0 = time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)

// serviceBehaviors is the behaviors file of the fixed fixture.
const serviceBehaviors = `{
  "viewer_origin": "https://media.example.test",
  "behaviors": [
    {"name": "courses", "path_pattern": "/courses/*", "access": "signed-cookie",
     "browser_max_age": 60, "window": 600, "margin": 300, "max_lifetime": 3600, "cookie": {"domain": "example.test"}},
    {"name": "ebooks", "path_pattern": "/ebooks/*", "access": "signed-url",
     "browser_max_age": 3600, "window": 3600, "margin": 300, "max_lifetime": 14400,
     "cache_query_strings": ["response-content-disposition"]},
    {"name": "live", "path_pattern": "/live/*", "access": "signed-url", "policy": "custom",
     "ip_binding": true, "browser_max_age": 0, "window": 60, "margin": 60, "max_lifetime": 600},
    {"name": "public", "path_pattern": "/public/*", "access": "public"},
    {"name": "default", "path_pattern": "*", "access": "signed-url"}
  ]
}`

// service is the issuer API built as cmd/cfissuer builds it, with a debug
// logger into a buffer.
type service struct {
	clock   *clock
	is      *issuer.Issuer
	srv     *httpapi.Server
	h       http.Handler
	signer  keys.Signer
	pemKey  []byte
	apiKeys map[string]string // caller ID → API key
	log     *lockedBuffer
	signs   func() uint64
}

type serviceOptions struct {
	behaviors string // "" means serviceBehaviors
	callers   []issuer.Caller
	keyFile   string // under testdata/keys; "" means ec-p256.pem
	signer    keys.Signer
	api       httpapi.Options
	cacheSize int  // zero: the issuer's default
	noLog     bool // discard the log (a long load would grow the buffer)
}

func readKey(t testing.TB, file string) ([]byte, keys.Signer) {
	t.Helper()
	data, err := os.ReadFile("../../testdata/keys/" + file)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.ParsePrivateKey(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := keys.NewLocal("KTEST", k)
	if err != nil {
		t.Fatal(err)
	}
	return data, s
}

// defaultCallers: all (no limits), course (courses, /courses/go-101/),
// books (ebooks, /ebooks/free/), slow (1/s, burst 3).
func defaultCallers() []issuer.Caller {
	return []issuer.Caller{
		{ID: "all"},
		{ID: "course", Behaviors: []string{"courses"}, PathPrefixes: []string{"/courses/go-101/"}},
		{ID: "books", Behaviors: []string{"ebooks"}, PathPrefixes: []string{"/ebooks/free/"}},
		{ID: "slow", Rate: 1, Burst: 3},
	}
}

func newService(t testing.TB, o serviceOptions) *service {
	t.Helper()
	if o.behaviors == "" {
		o.behaviors = serviceBehaviors
	}
	if o.keyFile == "" {
		o.keyFile = "ec-p256.pem"
	}
	if o.callers == nil {
		o.callers = defaultCallers()
	}
	s := &service{clock: &clock{t: t0}, apiKeys: map[string]string{}, log: &lockedBuffer{}}
	s.pemKey, s.signer = readKey(t, o.keyFile)
	if o.signer != nil {
		s.signer = o.signer
	}
	bs, err := policy.ParseBehaviors(strings.NewReader(o.behaviors))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keys.NewRing([]keys.RingKey{{Signer: s.signer}}, issuer.LongestLifetime(bs))
	if err != nil {
		t.Fatal(err)
	}
	var logOut io.Writer = s.log
	if o.noLog {
		logOut = io.Discard
	}
	logger := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := httpapi.NewMetrics()
	s.is, err = issuer.New(ring, bs, issuer.Options{Now: s.clock.Now, Logger: logger, ObserveSign: m.ObserveSign, CacheSize: o.cacheSize})
	if err != nil {
		t.Fatal(err)
	}
	s.signs = func() uint64 { h, m := s.is.CacheStats(); return h + m }
	var callers []issuer.Caller
	for _, c := range o.callers {
		key, sum, err := issuer.NewAPIKey(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		c.SecretSHA256 = sum
		s.apiKeys[c.ID] = key
		callers = append(callers, c)
	}
	cs, err := issuer.NewCallers(callers)
	if err != nil {
		t.Fatal(err)
	}
	o.api.Logger, o.api.Metrics = logger, m
	if o.api.Addr == "" {
		o.api.Addr = "127.0.0.1:0"
	}
	s.srv, err = httpapi.New(s.is, cs, o.api)
	if err != nil {
		t.Fatal(err)
	}
	s.h = s.srv.Handler()
	return s
}

// do serves one request in-process and returns the status, headers and
// body.
func (s *service) do(method, target, apiKey string, body io.Reader) (int, http.Header, []byte) {
	req := httptest.NewRequest(method, target, body)
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}
