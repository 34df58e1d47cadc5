package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/cfissuer/cfissuer/internal/denylist"
	"github.com/cfissuer/cfissuer/issuer"
)

// Errors of the revocation routes.
var (
	errRevocationOff = errors.New("revocation is not configured on this issuer (the revocation section of its config)")
	errNoRevoke      = errors.New("this caller may not revoke: its config has no revoke: true")
)

// maxSubject is the longest subject a caller may give: the issuer takes 256
// bytes, and the caller's ID and '/' come first (subjectFor).
const maxSubject = 192

// subjectFor is the issuer's subject for a caller's subject: the caller's
// ID, '/', then the subject. Callers cannot name (or revoke) one another's
// subjects, so "42" of the course site is not "42" of the shop. Caller IDs
// hold no '/', so the mapping is one to one.
func subjectFor(c *issuer.Caller, subject string) (string, error) {
	if subject == "" {
		return "", nil
	}
	if len(subject) > maxSubject {
		return "", &issuer.InputError{Field: "subject", Err: fmt.Errorf("at most %d bytes", maxSubject)}
	}
	for i := 0; i < len(subject); i++ {
		if b := subject[i]; b < 0x21 || b > 0x7e || b == '/' {
			return "", &issuer.InputError{Field: "subject", Err: errors.New("printable ASCII without spaces or '/' only (a user or session ID)")}
		}
	}
	if c == nil {
		return subject, nil
	}
	return c.ID + "/" + subject, nil
}

func (s *Server) registerRevokeRoutes(r *mux.Router) {
	r.Handle("/v1/grants/{id}/revoke", s.authenticate(s.handleRevokeGrant)).Methods(http.MethodPost)
	r.Handle("/v1/subjects/{id}/revoke", s.authenticate(s.handleRevokeSubject)).Methods(http.MethodPost)
}

type revocationJSON struct {
	Key         string `json:"key"`
	Subject     string `json:"subject,omitempty"`
	DeniedUntil string `json:"denied_until"`
}

// revoker returns the deny list when this caller may revoke.
func (s *Server) revoker(r *http.Request) (*denylist.List, error) {
	if s.opts.Deny == nil {
		return nil, errRevocationOff
	}
	if c := callerFrom(r); c == nil || !c.Revoke {
		return nil, errNoRevoke
	}
	return s.opts.Deny, nil
}

// until is when a revocation made now stops denying: now + L, the longest
// lifetime of anything the issuer signs, so every credential it could match
// has expired by then.
func (s *Server) until() time.Time {
	return s.is.Now().Add(s.is.Ring().Longest()).Truncate(time.Second).Add(time.Second)
}

func (s *Server) handleRevokeGrant(w http.ResponseWriter, r *http.Request) {
	deny, err := s.revoker(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := mux.Vars(r)["id"]
	until := s.until()
	if err := deny.RevokeGrant(r.Context(), id, until); err != nil {
		if errors.Is(err, denylist.ErrInvalidKey) {
			err = &issuer.InputError{Field: "id", Err: errors.New("not a grant ID: give the grant_id of an issuance (g or c and 20 hex digits)")}
		}
		s.writeError(w, r, err)
		return
	}
	s.metrics.revocations.WithLabelValues("grant").Inc()
	writeJSON(w, http.StatusOK, revocationJSON{Key: id, DeniedUntil: until.UTC().Format(time.RFC3339)})
}

func (s *Server) handleRevokeSubject(w http.ResponseWriter, r *http.Request) {
	deny, err := s.revoker(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	subject := mux.Vars(r)["id"]
	full, err := subjectFor(callerFrom(r), subject)
	if err == nil && full == "" {
		err = &issuer.InputError{Field: "id", Err: errors.New("the subject is empty")}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	until := s.until()
	key, err := deny.RevokeSubject(r.Context(), full, until)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.revocations.WithLabelValues("subject").Inc()
	writeJSON(w, http.StatusOK, revocationJSON{Key: key, Subject: subject, DeniedUntil: until.UTC().Format(time.RFC3339)})
}
