package httpapi

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/issuer"
)

func (s *Server) registerExplainRoutes(r *mux.Router) {
	r.Handle("/v1/explain", s.authenticate(s.handleExplain)).Methods(http.MethodPost)
}

type explainRequest struct {
	URL      string `json:"url"`
	Cookie   string `json:"cookie,omitempty"`
	ClientIP string `json:"client_ip,omitempty"`
}

type explainPolicy struct {
	Kind      string `json:"kind"`
	Resource  string `json:"resource,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
	NotBefore string `json:"not_before,omitempty"`
	SourceIP  string `json:"source_ip,omitempty"`
}

type explainResponse struct {
	Allowed        bool           `json:"allowed"`
	Status         int            `json:"status"`
	Code           string         `json:"code,omitempty"`
	Message        string         `json:"message,omitempty"`
	Reason         string         `json:"reason,omitempty"`
	Detail         string         `json:"detail,omitempty"`
	Mode           string         `json:"mode"`
	Behavior       string         `json:"behavior,omitempty"`
	KeyID          string         `json:"key_id,omitempty"`
	Hash           string         `json:"hash,omitempty"`
	CookiesIgnored bool           `json:"cookies_ignored,omitempty"`
	Policy         *explainPolicy `json:"policy,omitempty"`
}

// handleExplain runs the edge verifier over a request, with the ring's
// published keys (next, active, retiring: the key group CloudFront holds)
// and the issuer's behaviors and clock. It reports the decoded policy's
// fields, never the Signature or the encoded Policy.
func (s *Server) handleExplain(w http.ResponseWriter, r *http.Request) {
	var req explainRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	er, err := parseExplain(req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.is.Now()
	ring := s.is.Ring()
	var trusted []edge.Key
	for _, k := range ring.Keys() {
		if k.State(now, ring.Longest()).Published() {
			trusted = append(trusted, edge.Key{ID: k.Signer.KeyID(), Public: k.Signer.Public()})
		}
	}
	v, err := edge.NewVerifier(s.is.Behaviors(), trusted, edge.Options{})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d := v.Check(er, now)
	out := explainResponse{Allowed: d.Allowed(), Status: http.StatusOK, Mode: d.Mode.String(), KeyID: d.KeyID, CookiesIgnored: d.CookiesIgnored}
	if d.Behavior != nil {
		out.Behavior = d.Behavior.Name
	}
	if d.KeyID != "" && d.Hash != 0 {
		out.Hash = issuer.HashName(d.Hash)
	}
	if d.Denial != nil {
		out.Status = http.StatusForbidden
		out.Code = string(d.Denial.Code)
		out.Message = d.Denial.Code.Message()
		out.Reason = d.Denial.Err.Error()
		out.Detail = d.Denial.Detail
	}
	if !d.Policy.Expires.IsZero() {
		p := &explainPolicy{Kind: d.Policy.Kind.String(), Resource: d.Policy.Resource, ExpiresAt: d.Policy.Expires.UTC().Format(time.RFC3339)}
		if !d.Policy.NotBefore.IsZero() {
			p.NotBefore = d.Policy.NotBefore.UTC().Format(time.RFC3339)
		}
		if d.Policy.SourceIP.IsValid() {
			p.SourceIP = d.Policy.SourceIP.String()
		}
		out.Policy = p
	}
	writeJSON(w, http.StatusOK, out)
}

// parseExplain splits the URL as the viewer sends it (raw path and query,
// percent-escapes untouched) and parses the Cookie header and client IP.
func parseExplain(req explainRequest) (edge.Request, error) {
	var er edge.Request
	if req.URL == "" {
		return er, &issuer.InputError{Field: "url", Err: errors.New("the request URL is required")}
	}
	scheme, rest, ok := strings.Cut(req.URL, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return er, &issuer.InputError{Field: "url", Err: errors.New("must be an http or https URL")}
	}
	rest, _, _ = strings.Cut(rest, "#")
	host, pathQuery := rest, "/"
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		host, pathQuery = rest[:i], rest[i:]
	}
	if host == "" {
		return er, &issuer.InputError{Field: "url", Err: errors.New("has no host")}
	}
	path, query, _ := strings.Cut(pathQuery, "?")
	if path == "" {
		path = "/"
	}
	er = edge.Request{Method: http.MethodGet, Scheme: scheme, Host: host, RawPath: path, RawQuery: query}
	if req.Cookie != "" {
		hr := http.Request{Header: http.Header{"Cookie": {req.Cookie}}}
		er.Cookies = hr.Cookies()
	}
	if req.ClientIP != "" {
		ip, err := netip.ParseAddr(req.ClientIP)
		if err != nil {
			return er, &issuer.InputError{Field: "client_ip", Err: errors.New("not an IP address")}
		}
		er.ClientIP = ip
	}
	return er, nil
}
