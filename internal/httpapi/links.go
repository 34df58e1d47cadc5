package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/cfissuer/cfissuer/internal/links"
	"github.com/cfissuer/cfissuer/issuer"
)

// Defaults of LinkOptions.
const (
	DefaultLinkRate    = 2  // follows per second per client IP
	DefaultLinkBurst   = 20 // follows at once per client IP
	DefaultLinkClients = 10000
)

// LinkOptions configure permanent links (POST, GET and DELETE /v1/links,
// GET /l/{token}); the zero value of each field is its documented default.
type LinkOptions struct {
	// Manager mints and follows links; nil turns links off (the routes
	// answer 404).
	Manager *links.Manager
	// Base is what links start with, such as https://issuer.example.com
	// (a link is Base + "/l/" + token); empty means the scheme and Host of
	// the request that mints it. Set it in production: Host is the
	// client's to choose.
	Base string
	// Rate is how many follows per second one client IP may make (IPv6:
	// one /64), and Burst how many at once; zero means DefaultLinkRate and
	// DefaultLinkBurst. Follows need no API key, so this is what stops one
	// client from hammering the issuer through them.
	Rate  float64
	Burst int
	// Clients is how many client IPs' rate limits are remembered (the
	// least recently seen are forgotten); zero means DefaultLinkClients.
	Clients int
	// ClientIPHeader names a header that a trusted proxy in front of the
	// issuer sets to the client's address (X-Forwarded-For: the last
	// address is used, the one the proxy added); empty means the
	// connection's remote address. Never set it without such a proxy: a
	// client could then pick its own rate-limit bucket.
	ClientIPHeader string
}

// errLinksOff answers the /v1/links routes when links are not configured.
var errLinksOff = errors.New("permanent links are not configured on this issuer (links.keys in the config)")

// Log attribute keys of links.
const (
	logLinkID  = "link_id"
	logGrantID = "grant_id"
	logReason  = "reason"
)

// linkMetrics count links minted, followed, revoked and refused.
type linkMetrics struct {
	minted, followed, revoked prometheus.Counter
	refused                   *prometheus.CounterVec
}

func newLinkMetrics(reg *prometheus.Registry) *linkMetrics {
	m := &linkMetrics{
		minted:   prometheus.NewCounter(prometheus.CounterOpts{Name: "cfissuer_links_minted_total", Help: "Permanent links minted."}),
		followed: prometheus.NewCounter(prometheus.CounterOpts{Name: "cfissuer_links_followed_total", Help: "Permanent links followed to a signed URL (303)."}),
		revoked:  prometheus.NewCounter(prometheus.CounterOpts{Name: "cfissuer_links_revoked_total", Help: "Permanent link revocations (DELETE /v1/links/{id}), repeats included."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cfissuer_links_refused_total",
			Help: "Follows refused, by reason: malformed, unknown_key, bad_mac, expired, revoked, unknown_link, caller_gone, not_allowed, rate_limited, unavailable, internal.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.minted, m.followed, m.revoked, m.refused)
	return m
}

// refusalReason is the metric label (and log value) for a refused follow.
func refusalReason(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{errCallerGone, "caller_gone"}, // before ErrNotFound, which it wraps
		{links.ErrMalformed, "malformed"}, {links.ErrUnknownKey, "unknown_key"}, {links.ErrBadMAC, "bad_mac"},
		{links.ErrExpired, "expired"}, {links.ErrRevoked, "revoked"}, {links.ErrNotFound, "unknown_link"},
		{issuer.ErrRateLimited, "rate_limited"},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	switch status, _ := classify(err); {
	case status == http.StatusServiceUnavailable:
		return "unavailable"
	case status < 500:
		return "not_allowed"
	}
	return "internal"
}

// errCallerGone: the link's caller is no longer configured, so its links
// lead nowhere.
var errCallerGone = fmt.Errorf("%w: the link's caller is no longer configured", links.ErrNotFound)

func (s *Server) registerLinkRoutes(r *mux.Router) {
	o := &s.opts.Links
	setDefault(&o.Rate, DefaultLinkRate)
	setDefault(&o.Burst, DefaultLinkBurst)
	setDefault(&o.Clients, DefaultLinkClients)
	o.Base = strings.TrimSuffix(o.Base, "/")
	limiter, err := newIPLimiter(o.Rate, o.Burst, o.Clients)
	if err != nil { // only for a negative Clients, which New refuses
		panic(err)
	}
	r.Handle("/v1/links", s.authenticate(s.handleMintLink)).Methods(http.MethodPost)
	r.Handle("/v1/links/{id}", s.authenticate(s.handleGetLink)).Methods(http.MethodGet)
	r.Handle("/v1/links/{id}", s.authenticate(s.handleRevokeLink)).Methods(http.MethodDelete)
	r.Handle("/l/{token}", s.handleFollow(limiter)).Methods(http.MethodGet)
}

type linkRequest struct {
	Path      string `json:"path,omitempty"`
	Resource  string `json:"resource,omitempty"`
	Filename  string `json:"filename,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
	Note      string `json:"note,omitempty"`
}

// linkJSON is a link as the API shows it; Link (the capability) only in
// the answer to the POST that mints it, since it is never stored.
type linkJSON struct {
	ID        string      `json:"id"`
	Link      string      `json:"link,omitempty"`
	State     links.State `json:"state"`
	Path      string      `json:"path,omitempty"`
	Resource  string      `json:"resource,omitempty"`
	Filename  string      `json:"filename,omitempty"`
	Note      string      `json:"note,omitempty"`
	CreatedAt string      `json:"created_at"`
	ExpiresAt string      `json:"expires_at"`
	RevokedAt string      `json:"revoked_at,omitempty"`
}

func (s *Server) linkJSON(l links.Link) linkJSON {
	out := linkJSON{
		ID: l.ID, State: l.State(s.opts.Links.Manager.Now()), Filename: l.Filename, Note: l.Note,
		CreatedAt: l.Created.UTC().Format(time.RFC3339), ExpiresAt: l.Expires.UTC().Format(time.RFC3339),
	}
	if strings.HasPrefix(l.Resource, "/") {
		out.Path = l.Resource
	} else {
		out.Resource = l.Resource
	}
	if !l.Revoked.IsZero() {
		out.RevokedAt = l.Revoked.UTC().Format(time.RFC3339)
	}
	return out
}

// linkGrant is the URL grant a link stands for.
func linkGrant(l links.Link) issuer.URLGrant {
	if strings.HasPrefix(l.Resource, "/") {
		return issuer.URLGrant{Path: l.Resource, Filename: l.Filename}
	}
	return issuer.URLGrant{Resource: l.Resource, Filename: l.Filename}
}

// handleMintLink checks that the caller may be granted the URL now (by
// issuing it once: scope, coverage, file name, lifetime), then mints.
func (s *Server) handleMintLink(w http.ResponseWriter, r *http.Request) {
	m := s.opts.Links.Manager
	if m == nil {
		s.writeError(w, r, errLinksOff)
		return
	}
	var req linkRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var exp time.Time
	if req.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, req.ExpiresAt)
		if err != nil {
			s.writeError(w, r, &issuer.InputError{Field: "expires_at", Err: errors.New("must be an RFC 3339 time such as 2026-06-01T00:00:00Z")})
			return
		}
		exp = t
	}
	c := callerFrom(r)
	g := issuer.URLGrant{Path: req.Path, Resource: req.Resource, Filename: req.Filename}
	if _, err := s.is.URL(r.Context(), c, g); err != nil {
		s.writeError(w, r, err)
		return
	}
	res := req.Path
	if res == "" {
		res = req.Resource
	}
	l, tok, err := m.Mint(r.Context(), links.Request{Caller: c.ID, Resource: res, Filename: req.Filename, Note: req.Note, Expires: exp})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.links.minted.Inc()
	out := s.linkJSON(l)
	out.Link = s.linkBase(r) + "/l/" + tok
	w.Header().Set("Location", "/v1/links/"+l.ID)
	writeJSON(w, http.StatusCreated, out)
}

// linkBase is LinkOptions.Base, or the request's own scheme and host.
func (s *Server) linkBase(r *http.Request) string {
	if s.opts.Links.Base != "" {
		return s.opts.Links.Base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) handleGetLink(w http.ResponseWriter, r *http.Request) {
	m := s.opts.Links.Manager
	if m == nil {
		s.writeError(w, r, errLinksOff)
		return
	}
	l, err := m.Get(r.Context(), callerFrom(r).ID, mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.linkJSON(l))
}

func (s *Server) handleRevokeLink(w http.ResponseWriter, r *http.Request) {
	m := s.opts.Links.Manager
	if m == nil {
		s.writeError(w, r, errLinksOff)
		return
	}
	l, err := m.Revoke(r.Context(), callerFrom(r).ID, mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.links.revoked.Inc()
	writeJSON(w, http.StatusOK, s.linkJSON(l))
}

// handleFollow answers GET /l/{token}: no API key (the token is the
// capability), a rate limit per client IP, then 303 to a freshly issued,
// window-stable signed URL for the link's resource, issued within the
// scope the link's caller has now. The redirect may be cached privately
// until the window changes, and never past the link's expiry: up to then
// every follow gets this same URL (from the signature cache), and it is
// still valid for at least browser_max_age + margin when the cached
// redirect is followed. Refusals are plain pages with no detail: 404 for
// anything that is not a live link, 410 for an expired or revoked one,
// 429 and 503; nothing is signed for them.
func (s *Server) handleFollow(limiter *ipLimiter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := s.opts.Links.Manager
		if m == nil {
			s.refuseFollow(w, r, "", links.ErrNotFound)
			return
		}
		if wait, ok := limiter.allow(s.clientIP(r), s.is.Now()); !ok {
			s.refuseFollow(w, r, "", &issuer.RateLimitError{RetryAfter: wait})
			return
		}
		l, err := m.Follow(r.Context(), mux.Vars(r)["token"])
		if err != nil {
			s.refuseFollow(w, r, l.ID, err)
			return
		}
		c := s.callers.Load().Lookup(l.Caller)
		if c == nil {
			s.refuseFollow(w, r, l.ID, errCallerGone)
			return
		}
		u, err := s.is.URL(r.Context(), c, linkGrant(l))
		if err != nil {
			s.refuseFollow(w, r, l.ID, err)
			return
		}
		s.metrics.issuances.WithLabelValues(u.Behavior, "url", string(u.Algorithm)).Inc()
		s.metrics.links.followed.Inc()
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "link followed", slog.String(logLinkID, l.ID), slog.String(logGrantID, u.ID))
		now := s.is.Now()
		b := s.is.Behaviors().Lookup(u.Behavior)
		until := u.Expires.Add(-b.MinValidity()) // the window changes then
		if l.Expires.Before(until) {
			until = l.Expires
		}
		w.Header().Set("Location", u.URL)
		w.Header().Set("Cache-Control", "private, max-age="+strconv.FormatInt(max(0, secondsUntil(until, now)), 10))
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Robots-Tag", "noindex")
		w.WriteHeader(http.StatusSeeOther)
	})
}

// followPages are the bodies of refused follows: the status and nothing
// else, so a refusal tells a prober nothing about why.
var followPages = map[int]string{
	http.StatusNotFound:            "404 Not Found\n",
	http.StatusGone:                "410 Gone: this link no longer works.\n",
	http.StatusTooManyRequests:     "429 Too Many Requests: try again later.\n",
	http.StatusServiceUnavailable:  "503 Service Unavailable: try again later.\n",
	http.StatusInternalServerError: "500 Internal Server Error\n",
}

// refuseFollow answers a refused follow with a plain page. The status
// comes from errorTable; any other 4xx (the link's caller may no longer be
// granted its resource) is a 404. id is the link's ID when its token
// verified, for the log; the token itself is never logged.
func (s *Server) refuseFollow(w http.ResponseWriter, r *http.Request, id string, err error) {
	status, _ := classify(err)
	switch {
	case status == http.StatusGone, status == http.StatusTooManyRequests, status >= 500:
	default:
		status = http.StatusNotFound
	}
	reason := refusalReason(err)
	s.metrics.links.refused.WithLabelValues(reason).Inc()
	attrs := []slog.Attr{slog.String(logReason, reason)}
	if id != "" {
		attrs = append(attrs, slog.String(logLinkID, id))
	}
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
		attrs = append(attrs, slog.String(logError, err.Error()))
	} else if id != "" {
		level = slog.LevelInfo
	}
	s.log.LogAttrs(r.Context(), level, "link refused", attrs...)
	h := w.Header()
	switch status {
	case http.StatusTooManyRequests:
		secs := 1
		var rl *issuer.RateLimitError
		if errors.As(err, &rl) {
			secs = max(1, int(math.Ceil(rl.RetryAfter.Seconds())))
		}
		h.Set("Retry-After", strconv.Itoa(secs))
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", strconv.Itoa(retryAfterNoKey))
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write([]byte(followPages[status]))
}

// clientIP is the client's address for the follow rate limit: the last
// address of ClientIPHeader when set and parseable, else the connection's.
// IPv6 addresses count per /64, which one client usually holds whole.
func (s *Server) clientIP(r *http.Request) string {
	var addr netip.Addr
	if h := s.opts.Links.ClientIPHeader; h != "" {
		if vs := r.Header.Values(h); len(vs) > 0 {
			parts := strings.Split(vs[len(vs)-1], ",")
			addr, _ = netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1]))
		}
	}
	if !addr.IsValid() {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		addr, _ = netip.ParseAddr(host)
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// ipLimiter holds a token bucket per client IP, for the most recently seen
// clients only, so its memory stays bounded. Safe for concurrent use.
type ipLimiter struct {
	rate    rate.Limit
	burst   int
	buckets *lru.Cache[string, *rate.Limiter]
}

func newIPLimiter(r float64, burst, size int) (*ipLimiter, error) {
	c, err := lru.New[string, *rate.Limiter](size)
	if err != nil {
		return nil, err
	}
	return &ipLimiter{rate: rate.Limit(r), burst: burst, buckets: c}, nil
}

// allow takes one follow from ip's bucket at now, or says how long to wait.
func (l *ipLimiter) allow(ip string, now time.Time) (time.Duration, bool) {
	b, ok := l.buckets.Get(ip)
	if !ok {
		fresh := rate.NewLimiter(l.rate, l.burst)
		if prev, found, _ := l.buckets.PeekOrAdd(ip, fresh); found {
			b = prev
		} else {
			b = fresh
		}
	}
	if b.AllowN(now, 1) {
		return 0, true
	}
	return time.Duration(float64(time.Second) / float64(l.rate)), false
}
