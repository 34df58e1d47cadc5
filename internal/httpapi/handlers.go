package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/cfissuer/cfissuer/docs"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
)

// --- middleware ---

type ctxKey int

const callerKey ctxKey = iota

// authenticate requires "Authorization: Bearer id.secret" and applies the
// caller's rate limit. It wraps each handler rather than a subrouter,
// because gorilla/mux answers a method mismatch inside a nested subrouter
// with 404.
func (s *Server) authenticate(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") { // the scheme is case-insensitive (RFC 9110 §11.1)
			s.writeError(w, r, issuer.ErrUnauthenticated)
			return
		}
		callers := s.callers.Load() // one set for the whole request, across a reload
		c, err := callers.Authenticate(strings.TrimSpace(token))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := callers.Allow(c, s.is.Now()); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey, c)))
	})
}

func callerFrom(r *http.Request) *issuer.Caller {
	c, _ := r.Context().Value(callerKey).(*issuer.Caller)
	return c
}

func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a generic 500 and a log line.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// --- public routes: health, metrics, OpenAPI, keys ---

func (s *Server) registerPublicRoutes(r *mux.Router) {
	r.HandleFunc("/healthz", s.handleHealthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.handleReadyz).Methods(http.MethodGet)
	r.Handle("/metrics", s.metrics.handler()).Methods(http.MethodGet)
	r.HandleFunc("/openapi.json", s.handleOpenAPI).Methods(http.MethodGet)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if err := s.is.Ready(); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(docs.OpenAPI)
}

func (s *Server) registerKeyRoutes(r *mux.Router) {
	r.HandleFunc("/v1/keys", s.handleKeys).Methods(http.MethodGet)
}

type keyJSON struct {
	KeyID       string     `json:"key_id"`
	Algorithm   string     `json:"algorithm"`
	Fingerprint string     `json:"fingerprint"`
	State       keys.State `json:"state"`
	ActivateAt  *time.Time `json:"activate_at,omitempty"`
	RetireAt    *time.Time `json:"retire_at,omitempty"`
	// SigningUntil is retire_at − L: the key stops signing then, so
	// nothing it signed outlives it.
	SigningUntil *time.Time `json:"signing_until,omitempty"`
	// Signing marks the key that signs grants issued now.
	Signing      bool   `json:"signing"`
	Source       string `json:"source,omitempty"` // "kms" for a KMS key; empty for keys held in memory
	PublicKeyPEM string `json:"public_key_pem"`
}

func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	ring := s.is.Ring()
	now := s.is.Now()
	out := struct {
		Now                    time.Time `json:"now"`
		LongestLifetimeSeconds int64     `json:"longest_lifetime_seconds"`
		Keys                   []keyJSON `json:"keys"`
	}{Now: now.UTC().Truncate(time.Second), LongestLifetimeSeconds: int64(ring.Longest() / time.Second), Keys: []keyJSON{}}
	current, hasCurrent := ring.Current(now)
	for _, k := range ring.Keys() {
		fp, err := keys.Fingerprint(k.Signer.Public())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		pem, err := keys.PublicKeyPEM(k.Signer.Public())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		kj := keyJSON{KeyID: k.Signer.KeyID(), Algorithm: string(k.Signer.Algorithm()), Fingerprint: fp,
			State: k.State(now, ring.Longest()), PublicKeyPEM: string(pem)}
		if !k.ActivateAt.IsZero() {
			t := k.ActivateAt.UTC()
			kj.ActivateAt = &t
		}
		if !k.RetireAt.IsZero() {
			t := k.RetireAt.UTC()
			kj.RetireAt = &t
			su := k.SigningUntil(ring.Longest()).UTC()
			kj.SigningUntil = &su
		}
		kj.Signing = hasCurrent && current.Signer.KeyID() == kj.KeyID
		if _, ok := k.Signer.(*keys.KMSSigner); ok {
			kj.Source = "kms"
		}
		out.Keys = append(out.Keys, kj)
	}
	writeJSON(w, http.StatusOK, out)
}

// --- signed URLs ---

func (s *Server) registerURLRoutes(r *mux.Router) {
	r.Handle("/v1/urls", s.authenticate(s.handleURLs)).Methods(http.MethodPost)
	r.Handle("/v1/redirect", s.authenticate(s.handleRedirect)).Methods(http.MethodGet)
}

// urlRequest is one URL request, or a batch of them in Items.
type urlRequest struct {
	Path      string       `json:"path,omitempty"`
	Resource  string       `json:"resource,omitempty"`
	Behavior  string       `json:"behavior,omitempty"`
	Filename  string       `json:"filename,omitempty"`
	ClientIP  string       `json:"client_ip,omitempty"`
	NotBefore string       `json:"not_before,omitempty"`
	Subject   string       `json:"subject,omitempty"`
	Items     []urlRequest `json:"items,omitempty"`
}

func (u *urlRequest) single() bool {
	return u.Path != "" || u.Resource != "" || u.Behavior != "" || u.Filename != "" || u.ClientIP != "" || u.NotBefore != "" || u.Subject != ""
}

func (u *urlRequest) grant(c *issuer.Caller) (issuer.URLGrant, error) {
	g := issuer.URLGrant{Path: u.Path, Resource: u.Resource, Behavior: u.Behavior, Filename: u.Filename, ClientIP: u.ClientIP}
	var err error
	if g.Subject, err = subjectFor(c, u.Subject); err != nil {
		return g, err
	}
	if u.Items != nil {
		return g, &issuer.InputError{Field: "items", Err: errors.New("batches do not nest")}
	}
	if u.NotBefore != "" {
		t, err := time.Parse(time.RFC3339, u.NotBefore)
		if err != nil {
			return g, &issuer.InputError{Field: "not_before", Err: errors.New("must be an RFC 3339 time such as 2026-03-01T12:00:00Z")}
		}
		if t.Unix() <= 0 { // year 1 is time.Time's zero, which means "none" to the issuer
			return g, &issuer.InputError{Field: "not_before", Err: errors.New("must be after 1970-01-01T00:00:00Z (CloudFront counts seconds from then)")}
		}
		g.NotBefore = t
	}
	return g, nil
}

type urlResponse struct {
	Status    int       `json:"status,omitempty"` // batch items only
	URL       string    `json:"url,omitempty"`
	ExpiresAt string    `json:"expires_at,omitempty"`
	ExpiresIn int64     `json:"expires_in,omitempty"`
	KeyID     string    `json:"key_id,omitempty"`
	Behavior  string    `json:"behavior,omitempty"`
	GrantID   string    `json:"grant_id,omitempty"`
	Error     *apiError `json:"error,omitempty"`
}

func (s *Server) handleURLs(w http.ResponseWriter, r *http.Request) {
	var req urlRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c := callerFrom(r)
	if req.Items == nil {
		g, err := req.grant(c)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		u, err := s.issueURL(r.Context(), c, g)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeURLResponse(w, u)
		return
	}
	switch {
	case req.single():
		s.writeError(w, r, &issuer.InputError{Field: "items", Err: errors.New("give one request or items, not both")})
		return
	case len(req.Items) == 0:
		s.writeError(w, r, &issuer.InputError{Field: "items", Err: errors.New("a batch needs at least one item")})
		return
	case len(req.Items) > s.opts.MaxBatch:
		s.writeError(w, r, fmt.Errorf("%w: a batch holds at most %d items, got %d", errBatchTooLarge, s.opts.MaxBatch, len(req.Items)))
		return
	}
	out := struct {
		Items []urlResponse `json:"items"`
	}{Items: make([]urlResponse, len(req.Items))}
	for i := range req.Items {
		g, err := req.Items[i].grant(c)
		var u *urlResponse
		if err == nil {
			u, err = s.issueURL(r.Context(), c, g)
		}
		if err != nil {
			status, body := classify(err)
			s.metrics.errors.WithLabelValues(body.Code).Inc()
			if status >= 500 {
				s.log.LogAttrs(r.Context(), slog.LevelError, "batch item failed", slog.Int(logStatus, status), slog.String(logError, err.Error()))
			}
			out.Items[i] = urlResponse{Status: status, Error: &body}
			continue
		}
		u.Status = http.StatusOK
		out.Items[i] = *u
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) issueURL(ctx context.Context, c *issuer.Caller, g issuer.URLGrant) (*urlResponse, error) {
	u, err := s.is.URL(ctx, c, g)
	if err != nil {
		return nil, err
	}
	s.metrics.issuances.WithLabelValues(u.Behavior, "url", string(u.Algorithm)).Inc()
	return &urlResponse{
		URL: u.URL, ExpiresAt: u.Expires.UTC().Format(time.RFC3339), ExpiresIn: secondsUntil(u.Expires, s.is.Now()),
		KeyID: u.KeyID, Behavior: u.Behavior, GrantID: u.ID,
	}, nil
}

func secondsUntil(t, now time.Time) int64 {
	return int64(math.Floor(t.Sub(now).Seconds()))
}

// handleRedirect answers 303 to a signed URL. The redirect may be cached
// only until the window changes (expires − browser_max_age − margin): up to
// then every request gets this same URL, and whoever follows the cached
// redirect still gets a URL valid for at least browser_max_age + margin.
func (s *Server) handleRedirect(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for name := range q {
		switch name {
		case "path", "filename", "behavior", "subject":
		default:
			s.writeError(w, r, &issuer.InputError{Field: name, Err: errors.New("unknown query parameter; give path, and optionally filename, behavior and subject")})
			return
		}
	}
	if q.Get("path") == "" {
		s.writeError(w, r, &issuer.InputError{Field: "path", Err: errors.New("the path query parameter is required")})
		return
	}
	subject, err := subjectFor(callerFrom(r), q.Get("subject"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.is.URL(r.Context(), callerFrom(r), issuer.URLGrant{Path: q.Get("path"), Filename: q.Get("filename"), Behavior: q.Get("behavior"), Subject: subject})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.issuances.WithLabelValues(u.Behavior, "url", string(u.Algorithm)).Inc()
	b := s.is.Behaviors().Lookup(u.Behavior)
	maxAge := max(0, secondsUntil(u.Expires.Add(-b.MinValidity()), s.is.Now()))
	w.Header().Set("Location", u.URL)
	w.Header().Set("Cache-Control", "private, max-age="+strconv.FormatInt(maxAge, 10))
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusSeeOther)
}

// --- signed cookies ---

func (s *Server) registerCookieRoutes(r *mux.Router) {
	r.Handle("/v1/cookies", s.authenticate(s.handleCookies)).Methods(http.MethodPost)
	r.Handle("/v1/cookies", s.authenticate(s.handleClearCookies)).Methods(http.MethodDelete)
}

type cookieRequest struct {
	PathPrefix      string `json:"path_prefix,omitempty"`
	ResourcePattern string `json:"resource_pattern,omitempty"`
	Behavior        string `json:"behavior,omitempty"`
	ClientIP        string `json:"client_ip,omitempty"`
	Subject         string `json:"subject,omitempty"`
}

type cookieJSON struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Domain   string `json:"domain,omitempty"`
	Path     string `json:"path"`
	Secure   bool   `json:"secure"`
	HTTPOnly bool   `json:"http_only"`
	SameSite string `json:"same_site"`
}

func cookiesJSON(cs []*http.Cookie) []cookieJSON {
	out := make([]cookieJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, cookieJSON{c.Name, c.Value, c.Domain, c.Path, c.Secure, c.HttpOnly, issuer.SameSiteName(c.SameSite)})
	}
	return out
}

// cookieHeader is the Cookie request header that carries cs, for clients
// that send cookies themselves (a native player, a test, curl).
func cookieHeader(cs []*http.Cookie) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

func (s *Server) handleCookies(w http.ResponseWriter, r *http.Request) {
	var req cookieRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	subject, err := subjectFor(callerFrom(r), req.Subject)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	got, err := s.is.Cookies(r.Context(), callerFrom(r), issuer.CookieGrant{
		PathPrefix: req.PathPrefix, ResourcePattern: req.ResourcePattern, Behavior: req.Behavior, ClientIP: req.ClientIP,
		Subject: subject,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.issuances.WithLabelValues(got.Behavior, "cookie", string(got.Algorithm)).Inc()
	for _, c := range got.Cookies {
		http.SetCookie(w, c)
	}
	writeJSON(w, http.StatusOK, struct {
		Cookies      []cookieJSON `json:"cookies"`
		ExpiresAt    string       `json:"expires_at"`
		ExpiresIn    int64        `json:"expires_in"`
		RefreshAfter string       `json:"refresh_after"`
		CookieHeader string       `json:"cookie_header"`
		KeyID        string       `json:"key_id"`
		Behavior     string       `json:"behavior"`
		GrantID      string       `json:"grant_id"`
	}{
		Cookies: cookiesJSON(got.Cookies), ExpiresAt: got.Expires.UTC().Format(time.RFC3339),
		ExpiresIn: secondsUntil(got.Expires, s.is.Now()), RefreshAfter: got.RefreshAfter.UTC().Format(time.RFC3339),
		CookieHeader: cookieHeader(got.Cookies), KeyID: got.KeyID, Behavior: got.Behavior, GrantID: got.ID,
	})
}

func (s *Server) handleClearCookies(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("path_prefix")
	if prefix == "" {
		s.writeError(w, r, &issuer.InputError{Field: "path_prefix", Err: errors.New("the path_prefix query parameter is required")})
		return
	}
	cs, err := s.is.ClearCookies(callerFrom(r), prefix)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, c := range cs {
		http.SetCookie(w, c)
	}
	writeJSON(w, http.StatusOK, struct {
		Cookies []cookieJSON `json:"cookies"`
	}{cookiesJSON(cs)})
}
