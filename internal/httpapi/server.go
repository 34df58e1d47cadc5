package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/cfissuer/cfissuer/internal/denylist"
	"github.com/cfissuer/cfissuer/issuer"
)

// Defaults of Options.
const (
	DefaultAddr              = "127.0.0.1:8080"
	DefaultMaxBodyBytes      = 1 << 20
	DefaultMaxBatch          = 1000
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 15 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// Options are the server's optional settings; the zero value of each field
// is its documented default.
type Options struct {
	// Addr is the listen address; empty means DefaultAddr.
	Addr string
	// Logger receives errors and lifecycle lines; nil means slog.Default().
	Logger *slog.Logger
	// Metrics records Prometheus metrics served at /metrics; nil means a
	// new NewMetrics().
	Metrics *Metrics
	// MaxBodyBytes limits request bodies; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxBatch is the most items one POST /v1/urls may hold; zero means
	// DefaultMaxBatch.
	MaxBatch int
	// Timeouts of the http.Server; zero means the Default… value.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// Links configures permanent links; the zero value turns them off.
	Links LinkOptions
	// Deny is the grant deny-list that POST /v1/grants/{id}/revoke and
	// /v1/subjects/{id}/revoke write to (callers with Revoke only); nil
	// turns revocation off (404 revocation_off).
	Deny *denylist.List
}

// Server serves the issuer API.
type Server struct {
	is      *issuer.Issuer
	callers atomic.Pointer[issuer.Callers] // swapped whole by SetCallers
	log     *slog.Logger
	metrics *Metrics
	opts    Options
	router  *mux.Router
	handler http.Handler

	mu  sync.Mutex
	srv *http.Server
	ln  net.Listener
}

// New returns a Server for an issuer and its callers.
func New(is *issuer.Issuer, callers *issuer.Callers, opts Options) (*Server, error) {
	if is == nil || callers == nil {
		return nil, errors.New("httpapi: New needs an issuer and callers")
	}
	if opts.MaxBodyBytes < 0 || opts.MaxBatch < 0 || opts.Links.Rate < 0 || opts.Links.Burst < 0 || opts.Links.Clients < 0 {
		return nil, errors.New("httpapi: negative limit")
	}
	setDefault(&opts.Addr, DefaultAddr)
	setDefault(&opts.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&opts.MaxBatch, DefaultMaxBatch)
	setDefault(&opts.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setDefault(&opts.ReadTimeout, DefaultReadTimeout)
	setDefault(&opts.WriteTimeout, DefaultWriteTimeout)
	setDefault(&opts.IdleTimeout, DefaultIdleTimeout)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	s := &Server{is: is, log: opts.Logger, metrics: opts.Metrics, opts: opts}
	s.callers.Store(callers)
	s.metrics.watchIssuer(is)
	// One flat router: gorilla/mux v1.8.1 answers a wrong method with 404
	// instead of 405 inside a subrouter when a later route of it accepts the
	// method, so the /v1 routes are registered with their full paths.
	s.router = mux.NewRouter()
	s.router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errNotFound)
	})
	s.router.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errMethodNotAllowed)
	})
	s.router.Use(s.recoverer, s.instrument, s.limitBody)
	s.registerPublicRoutes(s.router)
	s.registerKeyRoutes(s.router)
	s.registerURLRoutes(s.router)
	s.registerCookieRoutes(s.router)
	s.registerExplainRoutes(s.router)
	s.registerLinkRoutes(s.router)
	s.registerRevokeRoutes(s.router)
	s.handler = s.router
	return s, nil
}

// SetCallers replaces the API callers (a configuration reload); requests
// already authenticated finish with the callers they started with. Rate
// limits start afresh with the new callers.
func (s *Server) SetCallers(callers *issuer.Callers) error {
	if callers == nil {
		return errors.New("httpapi: SetCallers: nil callers")
	}
	s.callers.Store(callers)
	return nil
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// Handler returns the API's http.Handler (for httptest and for embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// Open listens on the configured address and serves in the background
// until Close. A bind error is returned here.
func (s *Server) Open() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("httpapi: already open")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("httpapi: listen: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	srv := s.srv
	go func() {
		// Serve returns http.ErrServerClosed once Close shuts it down.
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("issuer server stopped", slog.String(logError, err.Error()))
		}
	}()
	s.log.Info("issuer listening", slog.String(logAddr, ln.Addr().String()))
	return nil
}

// Addr returns the address the server listens on (with the real port when
// Options.Addr had port 0), or "" before Open.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops accepting connections and waits for in-flight requests to
// finish, or for ctx to end.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// Log attribute keys.
const (
	logError  = "error"
	logAddr   = "addr"
	logRoute  = "route"
	logMethod = "method"
	logStatus = "status"
	logCode   = "code"
)
