package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/cfissuer/cfissuer/policy"
)

// Log attribute keys.
const (
	logMethod   = "method"
	logPath     = "path"
	logStatus   = "status"
	logBehavior = "behavior"
	logCache    = "cache"
	logCode     = "code"
	logReason   = "reason"
	logKeyID    = "key_id"
)

// X-Cache values, as CloudFront writes them.
const (
	cacheHit   = "Hit from cloudfront"
	cacheMiss  = "Miss from cloudfront"
	cacheError = "Error from cloudfront"
)

// ServerOptions are the server's optional knobs; the zero value is the
// documented default of each.
type ServerOptions struct {
	// Logger receives one line per request (method, path without the
	// query, status, behavior, cache, and for a 403 the code and reason);
	// nil means slog.Default(). Queries and cookies are never logged.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ViewerOrigin is the scheme://host viewers request and signed
	// resources name. Empty means the behaviors file's viewer_origin. A
	// request whose Host is the viewer host is checked with it; any other
	// Host (such as 127.0.0.1:port) is taken to mean the viewer origin.
	ViewerOrigin string
	// CacheEntries is the size of the in-memory cache; 0 means 256.
	CacheEntries int
	// ExposeReasons adds the precise reason of a 403 in an
	// X-Cfissuer-Reason header (CloudFront sends no such header; this is a
	// development aid and never holds a credential).
	ExposeReasons bool
	// TrustForwardedFor takes the client IP from the first X-Forwarded-For
	// address, for tests of IP conditions through a proxy.
	TrustForwardedFor bool
	// ViewerRequest, when set, runs on every GET or HEAD to a signed
	// behavior, as a CloudFront Function associated with its viewer-request
	// event (edge/cffunc runs the Terraform module's deny-list function).
	// It runs before the signature check; whether CloudFront runs functions
	// before or after it is unconfirmed, and a function that only denies
	// decides the same either way. A non-nil response is sent as is; an
	// error is a failed function, answered 503 as CloudFront does.
	ViewerRequest func(ctx context.Context, r Request) (*FunctionResponse, error)
}

// FunctionResponse is a response a viewer-request function generated.
type FunctionResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// Server is the dev edge: an http.Handler that routes by behavior,
// verifies, caches and serves from an Origin, and an HTTP server around it
// (Open, Close). It is safe for concurrent use.
type Server struct {
	v      *Verifier
	origin Origin
	log    *slog.Logger
	now    func() time.Time
	opts   ServerOptions
	scheme string
	host   string
	cache  *lru.Cache[string, cacheEntry]

	listen string
	ln     net.Listener
	srv    *http.Server
}

type cacheEntry struct {
	obj    *Object
	stored time.Time
}

// NewServer returns an edge that will listen on addr (host:port; port 0
// picks a free one) once opened.
func NewServer(addr string, v *Verifier, origin Origin, opts ServerOptions) (*Server, error) {
	if v == nil || origin == nil {
		return nil, fmt.Errorf("%w: a verifier and an origin are required", ErrConfig)
	}
	vo := opts.ViewerOrigin
	if vo == "" {
		vo = v.behaviors.ViewerOrigin
	}
	scheme, host, ok := strings.Cut(vo, "://")
	if !ok || (scheme != "https" && scheme != "http") || host == "" {
		return nil, fmt.Errorf("%w: viewer origin %q is not scheme://host", ErrConfig, vo)
	}
	n := opts.CacheEntries
	if n == 0 {
		n = 256
	}
	c, err := lru.New[string, cacheEntry](n)
	if err != nil {
		return nil, fmt.Errorf("%w: cache: %w", ErrConfig, err)
	}
	s := &Server{v: v, origin: origin, log: opts.Logger, now: opts.Now, opts: opts, scheme: scheme, host: host, cache: c, listen: addr}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    20 << 10, // CloudFront's request limit: 20,480 bytes
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Open listens and serves in the background; a bind error comes back here.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return fmt.Errorf("edge: listen: %w", err)
	}
	s.ln = ln
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("edge: serve", "err", err)
		}
	}()
	return nil
}

// Close shuts the server down, letting requests in flight finish for up to
// 5 seconds.
func (s *Server) Close() error {
	if s.ln == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// Addr returns the address the server listens on (after Open).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.listen
	}
	return s.ln.Addr().String()
}

// URL returns http://Addr.
func (s *Server) URL() string { return "http://" + s.Addr() }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := s.request(r)
	b := s.v.behaviors.Match(req.RawPath)
	s.cors(w, r, b)
	log := s.log.With(logMethod, r.Method, logPath, req.RawPath)
	if b != nil {
		log = log.With(logBehavior, b.Name)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		if w.Header().Get("Access-Control-Allow-Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			// A CORS preflight carries no credentials; the response
			// headers policy answers it (unconfirmed whether CloudFront
			// checks signatures first; browsers send none, so it cannot).
			w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Range")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		fallthrough
	default:
		s.writeError(w, r, http.StatusForbidden, "MethodNotAllowed", "This distribution is not configured to allow the HTTP request method that was used for this request.")
		log.Info("edge: method not allowed", logStatus, http.StatusForbidden)
		return
	}

	if s.opts.ViewerRequest != nil && b != nil && b.Access.Signed() {
		resp, err := s.opts.ViewerRequest(r.Context(), req)
		if err != nil {
			log.Error("edge: viewer-request function failed", "err", err)
			s.writeError(w, r, http.StatusServiceUnavailable, "FunctionExecutionError", "The CloudFront function associated with the request failed.")
			return
		}
		if resp != nil {
			h := w.Header()
			for k, v := range resp.Header {
				h[k] = slices.Clone(v)
			}
			h.Set("X-Cache", cacheError)
			h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
			w.WriteHeader(resp.Status)
			if r.Method != http.MethodHead {
				w.Write(resp.Body)
			}
			log.Info("edge: answered by the viewer-request function", logStatus, resp.Status)
			return
		}
	}

	d := s.v.Check(req, s.now())
	if !d.Allowed() {
		if s.opts.ExposeReasons {
			w.Header().Set("X-Cfissuer-Reason", d.Denial.Error())
		}
		s.writeError(w, r, http.StatusForbidden, string(d.Denial.Code), d.Denial.Code.Message())
		log.Info("edge: denied", logStatus, http.StatusForbidden, logCode, string(d.Denial.Code), logReason, d.Denial.Error(), logKeyID, d.KeyID)
		return
	}

	fwd := forwardQuery(d.Query, b)
	key := req.RawPath
	if fwd != "" {
		key += "?" + fwd
	}
	now := s.now()
	xcache := cacheHit
	e, ok := s.cache.Get(key)
	if !ok || now.Sub(e.stored) >= b.EdgeTTL {
		xcache = cacheMiss
		obj, err := s.origin.Fetch(r.Context(), req.RawPath, fwd)
		if err != nil {
			log.Error("edge: origin", "err", err)
			w.Header().Set("X-Cache", cacheError)
			http.Error(w, "502 Bad Gateway: the origin could not be reached", http.StatusBadGateway)
			return
		}
		e = cacheEntry{obj: obj, stored: now}
		if obj.Status == http.StatusOK && b.EdgeTTL > 0 {
			s.cache.Add(key, e)
		}
	}
	obj := e.obj
	h := w.Header()
	for k, v := range obj.Header {
		h[k] = slices.Clone(v)
	}
	if obj.Status != http.StatusOK {
		h.Set("X-Cache", cacheError)
		h.Set("Content-Length", strconv.Itoa(len(obj.Body)))
		w.WriteHeader(obj.Status)
		if r.Method != http.MethodHead {
			w.Write(obj.Body)
		}
		log.Info("edge: origin error", logStatus, obj.Status)
		return
	}
	h.Set("X-Cache", xcache)
	// The response headers policy's Cache-Control for viewers.
	h.Set("Cache-Control", b.CacheControl())
	var mod time.Time
	if lm := obj.Header.Get("Last-Modified"); lm != "" {
		mod, _ = http.ParseTime(lm)
	}
	http.ServeContent(w, r, "", mod, bytes.NewReader(obj.Body))
	log.Debug("edge: served", logCache, xcache)
}

// request builds the verifier's view of r.
func (s *Server) request(r *http.Request) Request {
	host := s.host
	if strings.EqualFold(r.Host, s.host) {
		host = r.Host
	}
	rawPath, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	if !strings.HasPrefix(rawPath, "/") {
		rawPath = r.URL.EscapedPath() // absolute-form or "*"
	}
	var ip netip.Addr
	if s.opts.TrustForwardedFor {
		first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-For"), ",")
		ip, _ = netip.ParseAddr(strings.TrimSpace(first))
	}
	if !ip.IsValid() {
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			ip = ap.Addr()
		}
	}
	return Request{Method: r.Method, Scheme: s.scheme, Host: host, RawPath: rawPath, RawQuery: rawQuery, Cookies: r.Cookies(), ClientIP: ip}
}

// forwardQuery keeps the query strings the behavior puts in the cache key
// and forwards (cache_query_strings), sorted so that their order in the
// request does not split the cache. The signing parameters are already
// gone; any other parameter is neither cached on nor forwarded, as with a
// cache policy that lists query strings.
func forwardQuery(query string, b *policy.Behavior) string {
	if query == "" || len(b.CacheQueryStrings) == 0 {
		return ""
	}
	var kept []string
	for seg := range strings.SplitSeq(query, "&") {
		name, _, _ := strings.Cut(seg, "=")
		if slices.Contains(b.CacheQueryStrings, name) {
			kept = append(kept, seg)
		}
	}
	slices.Sort(kept)
	return strings.Join(kept, "&")
}

// cors adds the behavior's CORS headers (a response headers policy) when
// the request's Origin is one of its cors_origins, on every response,
// 403s included.
func (s *Server) cors(w http.ResponseWriter, r *http.Request, b *policy.Behavior) {
	o := r.Header.Get("Origin")
	if b == nil || o == "" || !slices.Contains(b.CORSOrigins, o) {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, ETag")
	h.Add("Vary", "Origin")
}

// writeError writes CloudFront's XML error body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	body := `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + html.EscapeString(code) + "</Code><Message>" + html.EscapeString(msg) + "</Message></Error>"
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Cache", cacheError)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write([]byte(body))
	}
}
