package issuer

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// A Caller is a client of the issuer (a course site, an ebook store, a page
// renderer): who it is, how it proves it, and what it may be granted.
type Caller struct {
	// ID is the public half of the caller's API key "id.secret".
	ID string
	// SecretSHA256 is the SHA-256 of the secret half. The secret is
	// high-entropy (NewAPIKey makes 256 bits), so a fast hash is enough
	// and no slow password hash sits on the hot path.
	SecretSHA256 [sha256.Size]byte
	// Behaviors limits the caller to these behavior names; empty means
	// any signed behavior.
	Behaviors []string
	// PathPrefixes limits the caller to request paths starting with one
	// of these (case-sensitive, percent-encoded as viewers send them);
	// empty means any path. A wildcard resource must have one of them as
	// its literal prefix, so a wildcard never widens a grant beyond it.
	PathPrefixes []string
	// MaxLifetime is the longest validity the caller may be granted; zero
	// means no limit beyond the behaviors' own. A behavior whose window
	// needs more (browser_max_age + margin + window) is refused with
	// ErrLifetime.
	MaxLifetime time.Duration
	// Rate is the caller's sustained request rate per second, and Burst
	// the requests it may make at once; zero Rate means unlimited.
	Rate  float64
	Burst int
	// Revoke lets the caller revoke grants before they expire (the HTTP
	// API's /v1/grants/{id}/revoke and /v1/subjects/{id}/revoke); false
	// means it may only issue. A revocation denies a credential to every
	// viewer holding it, so grant it to the callers that need it.
	Revoke bool

	limiter *rate.Limiter
}

var callerIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Errors about callers. Test for them with errors.Is.
var (
	ErrUnauthenticated = errors.New("issuer: missing or invalid API key")
	ErrRateLimited     = errors.New("issuer: rate limited")
)

// RateLimitError is returned by Callers.Allow: the caller may retry after
// RetryAfter.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("issuer: rate limited; retry after %s", e.RetryAfter.Round(time.Second))
}

// Unwrap returns ErrRateLimited.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// Callers authenticates API keys and applies each caller's rate limit. It
// is safe for concurrent use.
type Callers struct {
	byID map[string]*Caller
	mu   sync.Mutex // serialises the limiters' reservations with cancellation
}

// NewCallers checks the callers (unique IDs of lower-case letters, digits
// and '-'; non-negative limits) and returns them ready to authenticate.
func NewCallers(cs []Caller) (*Callers, error) {
	out := &Callers{byID: map[string]*Caller{}}
	for i := range cs {
		c := cs[i]
		if !callerIDRE.MatchString(c.ID) {
			return nil, fmt.Errorf("issuer: caller %d: id %q must be 1-63 lower-case letters, digits and '-'", i, c.ID)
		}
		if _, dup := out.byID[c.ID]; dup {
			return nil, fmt.Errorf("issuer: caller id %q appears twice", c.ID)
		}
		if c.SecretSHA256 == ([sha256.Size]byte{}) {
			return nil, fmt.Errorf("issuer: caller %q has no secret hash", c.ID)
		}
		if c.Rate < 0 || c.Burst < 0 || c.MaxLifetime < 0 {
			return nil, fmt.Errorf("issuer: caller %q: rate, burst and max lifetime must not be negative", c.ID)
		}
		c.Behaviors = slices.Clone(c.Behaviors)
		c.PathPrefixes = slices.Clone(c.PathPrefixes)
		if c.Rate > 0 {
			c.limiter = rate.NewLimiter(rate.Limit(c.Rate), max(c.Burst, 1))
		}
		out.byID[c.ID] = &c
	}
	return out, nil
}

// dummyHash is compared against when the key's ID is unknown, so that an
// unknown ID costs the same as a wrong secret.
var dummyHash = sha256.Sum256([]byte("cfissuer: no such caller"))

// Authenticate checks an API key "id.secret" and returns its caller, or an
// error wrapping ErrUnauthenticated that never holds the key.
func (cs *Callers) Authenticate(apiKey string) (*Caller, error) {
	id, secret, ok := strings.Cut(apiKey, ".")
	sum := sha256.Sum256([]byte(secret))
	c := cs.byID[id]
	want := dummyHash
	if c != nil {
		want = c.SecretSHA256
	}
	if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || c == nil || !ok || secret == "" {
		return nil, ErrUnauthenticated
	}
	return c, nil
}

// Lookup returns the caller with this ID, or nil. A permanent link minted
// by a caller is followed with the scope that caller has now.
func (cs *Callers) Lookup(id string) *Caller { return cs.byID[id] }

// Allow takes one request from the caller's token bucket at now. It returns
// a *RateLimitError when the bucket is empty.
func (cs *Callers) Allow(c *Caller, now time.Time) error {
	if c == nil || c.limiter == nil {
		return nil
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	r := c.limiter.ReserveN(now, 1)
	if !r.OK() {
		return &RateLimitError{RetryAfter: time.Second}
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &RateLimitError{RetryAfter: d}
	}
	return nil
}

// NewAPIKey returns a new API key "id.secret" with a 256-bit random secret,
// and the SHA-256 of the secret to put in the issuer's config. The key is
// a bearer credential: hand it to the caller and keep only the hash.
func NewAPIKey(id string) (apiKey string, secretSHA256 [sha256.Size]byte, err error) {
	if !callerIDRE.MatchString(id) {
		return "", secretSHA256, fmt.Errorf("issuer: caller id %q must be 1-63 lower-case letters, digits and '-'", id)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", secretSHA256, fmt.Errorf("issuer: random: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	return id + "." + secret, sha256.Sum256([]byte(secret)), nil
}

// allowsBehavior reports whether the caller may be granted behavior name.
func (c *Caller) allowsBehavior(name string) bool {
	return c == nil || len(c.Behaviors) == 0 || slices.Contains(c.Behaviors, name)
}

// allowsPath reports whether a literal path prefix (the whole path of a
// URL, or the part of a wildcard resource's path before its first
// wildcard) lies within one of the caller's prefixes.
func (c *Caller) allowsPath(literal string) bool {
	if c == nil || len(c.PathPrefixes) == 0 {
		return true
	}
	for _, p := range c.PathPrefixes {
		if strings.HasPrefix(literal, p) {
			return true
		}
	}
	return false
}

func (c *Caller) name() string {
	if c == nil {
		return ""
	}
	return c.ID
}
