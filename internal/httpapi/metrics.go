package httpapi

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cfissuer/cfissuer/issuer"
)

// Metrics are the issuer's Prometheus metrics, on a registry of their own
// (never the global one). Make one with NewMetrics, give its ObserveSign to
// issuer.Options and the Metrics to Options.
type Metrics struct {
	reg       *prometheus.Registry
	issuances *prometheus.CounterVec
	errors    *prometheus.CounterVec
	requests  *prometheus.CounterVec
	sign      *prometheus.HistogramVec
	links     *linkMetrics
	once      sync.Once

	revocations *prometheus.CounterVec
}

// NewMetrics returns the metrics on a new registry that also holds the Go
// runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		issuances: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cfissuer_issuances_total", Help: "Signed URLs and cookie sets issued, by behavior, kind (url, cookie) and key algorithm.",
		}, []string{"behavior", "kind", "algorithm"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cfissuer_errors_total", Help: "Error answers by code (the code field of the JSON error).",
		}, []string{"code"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cfissuer_http_requests_total", Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		sign: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cfissuer_sign_duration_seconds", Help: "Time to sign a policy on a signature cache miss, by key ID.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"key_id"}),
	}
	m.reg.MustRegister(m.issuances, m.errors, m.requests, m.sign,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.links = newLinkMetrics(m.reg)
	m.revocations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cfissuer_revocations_total", Help: "Deny-list entries written, by kind (grant, subject).",
	}, []string{"kind"})
	m.reg.MustRegister(m.revocations)
	return m
}

// ObserveSign records one signing operation; pass it as
// issuer.Options.ObserveSign.
func (m *Metrics) ObserveSign(keyID string, d time.Duration, err error) {
	if err != nil {
		m.errors.WithLabelValues("sign_failed").Inc()
	}
	m.sign.WithLabelValues(keyID).Observe(d.Seconds())
}

// Registry returns the registry the metrics are on, for other components
// of the same process to add theirs.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// watchIssuer exposes the issuer's cache counters (once per Metrics).
func (m *Metrics) watchIssuer(is *issuer.Issuer) {
	m.once.Do(func() {
		hits := func() float64 { h, _ := is.CacheStats(); return float64(h) }
		misses := func() float64 { _, mi := is.CacheStats(); return float64(mi) }
		m.reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cfissuer_signature_cache_hits_total", Help: "Issuances answered from the signature cache."}, hits),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cfissuer_signature_cache_misses_total", Help: "Issuances that had to sign."}, misses),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cfissuer_signature_cache_hit_ratio", Help: "Hits over lookups since start (0 before the first)."}, func() float64 {
				h, mi := is.CacheStats()
				if h+mi == 0 {
					return 0
				}
				return float64(h) / float64(h+mi)
			}),
		)
	})
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument counts requests by route template (never the raw path, which
// would give unbounded labels).
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.metrics.requests.WithLabelValues(routeName(r), r.Method, statusLabel(sw.status)).Inc()
	})
}

// routeName is the matched route's template, or "unmatched".
func routeName(r *http.Request) string {
	if rt := mux.CurrentRoute(r); rt != nil {
		if t, err := rt.GetPathTemplate(); err == nil {
			return t
		}
	}
	return "unmatched"
}
