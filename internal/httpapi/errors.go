package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/cfissuer/cfissuer/internal/denylist"
	"github.com/cfissuer/cfissuer/internal/links"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// Errors of the HTTP layer itself.
var (
	errNotFound         = errors.New("no such endpoint; see /openapi.json")
	errMethodNotAllowed = errors.New("method not allowed on this endpoint; see /openapi.json")
	errBodyTooLarge     = errors.New("request body too large")
	errBatchTooLarge    = errors.New("batch too large")
	errBadJSON          = errors.New("bad JSON")
)

// errorTable maps every error the API answers with to its status and code:
// the one place where statuses are decided. The first match wins.
var errorTable = []struct {
	err    error
	status int
	code   string
	field  string // the request field at fault, when the error implies one
}{
	{issuer.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated", ""},
	{issuer.ErrOutOfScope, http.StatusForbidden, "out_of_scope", ""},
	{issuer.ErrLifetime, http.StatusForbidden, "lifetime_exceeded", ""},
	{issuer.ErrUnknownBehavior, http.StatusNotFound, "unknown_behavior", "behavior"},
	{errNotFound, http.StatusNotFound, "not_found", ""},
	{errMethodNotAllowed, http.StatusMethodNotAllowed, "method_not_allowed", ""},
	{errBodyTooLarge, http.StatusRequestEntityTooLarge, "too_large", ""},
	{errBatchTooLarge, http.StatusRequestEntityTooLarge, "too_large", "items"},
	{policy.ErrTooLarge, http.StatusRequestEntityTooLarge, "too_large", ""},
	{policy.ErrNotCovered, http.StatusUnprocessableEntity, "not_covered", ""},
	{policy.ErrOtherOrigin, http.StatusUnprocessableEntity, "not_covered", ""},
	{policy.ErrTooComplex, http.StatusUnprocessableEntity, "not_covered", ""},
	{issuer.ErrBehaviorMismatch, http.StatusUnprocessableEntity, "behavior_mismatch", "behavior"},
	{issuer.ErrAccessMismatch, http.StatusUnprocessableEntity, "access_mismatch", ""},
	{issuer.ErrRateLimited, http.StatusTooManyRequests, "rate_limited", ""},
	{keys.ErrNoActiveKey, http.StatusServiceUnavailable, "no_key", ""},
	{keys.ErrSource, http.StatusServiceUnavailable, "key_source_unavailable", ""},
	{errBadJSON, http.StatusBadRequest, "bad_request", ""},
	// Permanent links. A follow answers with the status only (a plain
	// page), so a prober cannot tell a forged token from a deleted link.
	{errLinksOff, http.StatusNotFound, "links_off", ""},
	{links.ErrMalformed, http.StatusNotFound, "unknown_link", ""},
	{links.ErrUnknownKey, http.StatusNotFound, "unknown_link", ""},
	{links.ErrBadMAC, http.StatusNotFound, "unknown_link", ""},
	{links.ErrNotFound, http.StatusNotFound, "unknown_link", ""},
	{links.ErrExpired, http.StatusGone, "link_expired", ""},
	{links.ErrRevoked, http.StatusGone, "link_revoked", ""},
	{links.ErrExpiry, http.StatusBadRequest, "bad_request", "expires_at"},
	{links.ErrTooLong, http.StatusRequestEntityTooLarge, "too_large", ""},
	{links.ErrStore, http.StatusServiceUnavailable, "link_store_unavailable", ""},
	// Revocation.
	{errRevocationOff, http.StatusNotFound, "revocation_off", ""},
	{errNoRevoke, http.StatusForbidden, "revoke_not_permitted", ""},
	{denylist.ErrInvalidKey, http.StatusBadRequest, "bad_request", "id"},
	{denylist.ErrStore, http.StatusServiceUnavailable, "deny_list_unavailable", ""},
}

// retryAfterNoKey is the Retry-After of a 503: a key may be published or
// a source come back at any time, so ask for a short wait.
const retryAfterNoKey = 30

// apiError is the JSON error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// classify returns the status and body for an error. Internal errors get a
// generic message: their text is for the log only.
func classify(err error) (int, apiError) {
	var field string
	var ie *issuer.InputError
	if errors.As(err, &ie) {
		field = ie.Field
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			f := field
			if f == "" {
				f = e.field
			}
			msg := err.Error()
			switch e.code {
			case "unauthenticated":
				msg = "missing or invalid API key: send Authorization: Bearer id.secret"
			case "key_source_unavailable":
				msg = "a key source is unreachable; try again later"
			case "link_store_unavailable":
				msg = "the link store is unreachable; try again later"
			case "deny_list_unavailable":
				msg = "the deny list is unreachable; nothing was revoked; try again later"
			}
			return e.status, apiError{Code: e.code, Message: msg, Field: f}
		}
	}
	if ie != nil {
		return http.StatusBadRequest, apiError{Code: "bad_request", Message: err.Error(), Field: field}
	}
	return http.StatusInternalServerError, apiError{Code: "internal", Message: "internal error; the server log has the details"}
}

// writeError answers err as JSON with its status from errorTable, and
// Retry-After where the table's status asks for one.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := classify(err)
	s.metrics.errors.WithLabelValues(body.Code).Inc()
	switch status {
	case http.StatusTooManyRequests:
		secs := 1
		var rl *issuer.RateLimitError
		if errors.As(err, &rl) {
			secs = max(1, int(math.Ceil(rl.RetryAfter.Seconds())))
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterNoKey))
	}
	if status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String(logMethod, r.Method), slog.String(logRoute, routeName(r)),
			slog.Int(logStatus, status), slog.String(logCode, body.Code), slog.String(logError, err.Error()))
	}
	writeJSON(w, status, struct {
		Error apiError `json:"error"`
	}{body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"internal error"}}`, http.StatusInternalServerError)
		return
	}
	setJSONHeaders(w.Header())
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// decodeJSON reads one JSON object into v, refusing unknown fields and
// trailing data. Errors wrap errBadJSON (or errBodyTooLarge) with a message
// that says what to fix.
func decodeJSON(r *http.Request, v any) error {
	d := json.NewDecoder(r.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := d.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return fmt.Errorf("%w: trailing data after the JSON object", errBadJSON)
	}
	return nil
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return fmt.Errorf("%w: at most %d bytes", errBodyTooLarge, mbe.Limit)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: the body is empty; send a JSON object", errBadJSON)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: the JSON object is cut short", errBadJSON)
	case errors.As(err, &se):
		return fmt.Errorf("%w: invalid JSON at byte %d", errBadJSON, se.Offset)
	case errors.As(err, &te):
		return &issuer.InputError{Field: te.Field, Err: fmt.Errorf("%w: must be a JSON %s, not %s", errBadJSON, te.Type.Kind(), te.Value)}
	}
	// Unknown fields come here too: encoding/json has no typed error for
	// them, and its message names the field.
	return fmt.Errorf("%w: %v", errBadJSON, err)
}
