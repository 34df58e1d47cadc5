package links

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Errors of this package. Test for them with errors.Is; none holds a token
// or a key secret.
var (
	// ErrMalformed: the token does not decode (flipped or missing bytes,
	// wrong alphabet, too long).
	ErrMalformed = errors.New("links: malformed token")
	// ErrUnknownKey: the token names a link key the keyring does not hold
	// (never held, or removed after its links expired).
	ErrUnknownKey = errors.New("links: unknown link key")
	// ErrBadMAC: the token's MAC does not match its content.
	ErrBadMAC = errors.New("links: token MAC does not match")
	// ErrExpired: the link's expiry has passed.
	ErrExpired = errors.New("links: link expired")
	// ErrRevoked: the link was revoked.
	ErrRevoked = errors.New("links: link revoked")
	// ErrNotFound: no such link in the store (or not the caller's).
	ErrNotFound = errors.New("links: no such link")
	// ErrExists: Store.Create was given an ID the store already holds.
	ErrExists = errors.New("links: link ID already exists")
	// ErrStore: the store could not be read or written.
	ErrStore = errors.New("links: store unavailable")
	// ErrExpiry: the requested expiry is in the past or beyond the
	// longest link lifetime.
	ErrExpiry = errors.New("links: bad expiry")
	// ErrTooLong: the link's resource, file name or note is too long.
	ErrTooLong = errors.New("links: too long")
	// ErrKey: a link key or keyring is unusable.
	ErrKey = errors.New("links: bad link key")
)

// MaxNoteLength is the longest note a link may carry, in bytes.
const MaxNoteLength = 512

// A Link is a permanent link as the store keeps it. Nothing in it is a
// secret: the token is never stored.
type Link struct {
	ID       string
	Caller   string
	Resource string // a path ("/ebooks/a.pdf") or a full URL on the viewer origin
	Filename string
	Note     string
	KeyID    string    // the link key that minted its token
	Created  time.Time // seconds
	Expires  time.Time // the link works strictly before this instant
	Revoked  time.Time // zero unless revoked
}

// State is a link's state at some instant.
type State string

// Link states.
const (
	StateActive  State = "active"
	StateExpired State = "expired"
	StateRevoked State = "revoked"
)

// State returns the link's state at now; a revoked link stays revoked after
// it expires.
func (l Link) State(now time.Time) State {
	switch {
	case !l.Revoked.IsZero():
		return StateRevoked
	case !now.Before(l.Expires):
		return StateExpired
	}
	return StateActive
}

// A Store keeps links and their revocations. Implementations must be safe
// for concurrent use, make every successful Create and Revoke durable
// before returning (a restart or another replica sees it), and wrap their
// I/O failures in ErrStore. linkstest.RunConformance checks all of it.
type Store interface {
	// Create stores a new link; ErrExists if its ID is taken.
	Create(ctx context.Context, l Link) error
	// Get returns a link; ErrNotFound if the store does not hold it.
	Get(ctx context.Context, id string) (Link, error)
	// Revoke marks a link revoked at at and returns it. Revoking a revoked
	// link keeps the first revocation time. ErrNotFound if the store does
	// not hold it.
	Revoke(ctx context.Context, id string, at time.Time) (Link, error)
}

// Defaults of Options.
const (
	DefaultTTL    = 90 * 24 * time.Hour
	DefaultMaxTTL = 366 * 24 * time.Hour
)

// Options are a Manager's optional settings; the zero value of each field
// is its documented default.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets one line per mint and revocation (the link ID, never the
	// token); nil means slog.Default().
	Logger *slog.Logger
	// DefaultTTL is the lifetime of a link minted without an expiry; zero
	// means DefaultTTL.
	DefaultTTL time.Duration
	// MaxTTL is the longest lifetime a link may be minted with; zero means
	// DefaultMaxTTL. A retired link key must stay in the keyring for MaxTTL
	// after it stopped minting.
	MaxTTL time.Duration
	// Random fills b with random bytes for link IDs; nil means crypto/rand.
	Random func(b []byte)
}

// Log attribute keys.
const (
	logLinkID  = "link_id"
	logCaller  = "caller"
	logKeyID   = "link_key_id"
	logExpires = "expires"
)

// A Manager mints, follows, shows and revokes permanent links: tokens from
// its Keyring, state in its Store. It knows nothing of scopes or signing:
// the HTTP layer checks the caller's scope when minting and when following.
// A Manager is safe for concurrent use.
type Manager struct {
	ring   *Keyring
	store  Store
	now    func() time.Time
	log    *slog.Logger
	ttl    time.Duration
	maxTTL time.Duration
	random func([]byte)
}

// New returns a Manager.
func New(ring *Keyring, store Store, opts Options) (*Manager, error) {
	if ring == nil || store == nil {
		return nil, errors.New("links: New needs a keyring and a store")
	}
	if opts.DefaultTTL < 0 || opts.MaxTTL < 0 {
		return nil, errors.New("links: negative TTL")
	}
	m := &Manager{ring: ring, store: store, now: opts.Now, log: opts.Logger, ttl: opts.DefaultTTL, maxTTL: opts.MaxTTL, random: opts.Random}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.ttl == 0 {
		m.ttl = DefaultTTL
	}
	if m.maxTTL == 0 {
		m.maxTTL = DefaultMaxTTL
	}
	if m.ttl > m.maxTTL {
		return nil, fmt.Errorf("links: default TTL %s is longer than the longest %s", m.ttl, m.maxTTL)
	}
	if m.random == nil {
		m.random = randRead
	}
	return m, nil
}

// A Request asks for a new link.
type Request struct {
	Caller   string
	Resource string // a path or full URL, as the HTTP layer checked it
	Filename string
	Note     string
	// Expires is when the link stops working; zero means now + DefaultTTL.
	// It is truncated to the second.
	Expires time.Time
}

// Mint stores a new link and returns it with its token, a bearer
// capability: hand it out, never log it.
func (m *Manager) Mint(ctx context.Context, req Request) (Link, string, error) {
	now := m.now().Truncate(time.Second)
	exp := req.Expires
	if exp.IsZero() {
		exp = now.Add(m.ttl)
	}
	exp = exp.Truncate(time.Second).UTC()
	switch {
	case !exp.After(now):
		return Link{}, "", fmt.Errorf("%w: %s is not in the future", ErrExpiry, exp.Format(time.RFC3339))
	case exp.Sub(now) > m.maxTTL:
		return Link{}, "", fmt.Errorf("%w: %s is more than %s away; links live at most that long", ErrExpiry, exp.Format(time.RFC3339), m.maxTTL)
	case len(req.Note) > MaxNoteLength:
		return Link{}, "", fmt.Errorf("%w: the note has %d bytes, at most %d", ErrTooLong, len(req.Note), MaxNoteLength)
	}
	k := m.ring.keys[0]
	l := Link{
		ID: newID(m.random), Caller: req.Caller, Resource: req.Resource, Filename: req.Filename, Note: req.Note,
		KeyID: k.id, Created: now.UTC(), Expires: exp,
	}
	tok, err := encode(k, l.claims())
	if err != nil {
		return Link{}, "", err
	}
	if err := m.store.Create(ctx, l); err != nil {
		return Link{}, "", fmt.Errorf("links: mint: %w", err)
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "link minted", slog.String(logLinkID, l.ID), slog.String(logCaller, l.Caller),
		slog.String(logKeyID, l.KeyID), slog.Time(logExpires, l.Expires))
	return l, tok, nil
}

func (l Link) claims() Claims {
	return Claims{ID: l.ID, KeyID: l.KeyID, Caller: l.Caller, Resource: l.Resource, Filename: l.Filename, Expires: l.Expires}
}

// Follow checks a token and returns its link if the link may be followed
// now. In order: the token must decode (ErrMalformed), name a key of the
// keyring (ErrUnknownKey), carry a matching MAC (ErrBadMAC), not be
// expired (ErrExpired), be known to the store with the same content
// (ErrNotFound) and not revoked (ErrRevoked). A store failure wraps
// ErrStore: the link is refused rather than followed unchecked.
func (m *Manager) Follow(ctx context.Context, tok string) (Link, error) {
	c, err := m.ring.Verify(tok)
	if err != nil {
		return Link{}, err
	}
	if !m.now().Before(c.Expires) {
		return Link{}, ErrExpired
	}
	l, err := m.store.Get(ctx, c.ID)
	if err != nil {
		return Link{}, err
	}
	if lc := l.claims(); lc.ID != c.ID || lc.KeyID != c.KeyID || lc.Caller != c.Caller || lc.Resource != c.Resource ||
		lc.Filename != c.Filename || !lc.Expires.Equal(c.Expires) {
		// Not the link this token was minted for: the store lost it and
		// the ID was reused, or the store belongs to other keys.
		return Link{}, fmt.Errorf("%w: the store's link differs from the token's", ErrNotFound)
	}
	if !l.Revoked.IsZero() {
		return l, ErrRevoked
	}
	return l, nil
}

// Get returns the caller's link id; another caller's link is ErrNotFound.
func (m *Manager) Get(ctx context.Context, caller, id string) (Link, error) {
	if !ValidID(id) {
		return Link{}, fmt.Errorf("%w: %q is not a link ID", ErrNotFound, id)
	}
	l, err := m.store.Get(ctx, id)
	if err != nil {
		return Link{}, err
	}
	if l.Caller != caller {
		return Link{}, ErrNotFound
	}
	return l, nil
}

// Revoke revokes the caller's link id for good and returns it; revoking it
// again is harmless and keeps the first time. Another caller's link is
// ErrNotFound.
func (m *Manager) Revoke(ctx context.Context, caller, id string) (Link, error) {
	if _, err := m.Get(ctx, caller, id); err != nil {
		return Link{}, err
	}
	l, err := m.store.Revoke(ctx, id, m.now().Truncate(time.Second).UTC())
	if err != nil {
		return Link{}, fmt.Errorf("links: revoke: %w", err)
	}
	m.log.LogAttrs(ctx, slog.LevelInfo, "link revoked", slog.String(logLinkID, l.ID), slog.String(logCaller, l.Caller))
	return l, nil
}

func randRead(b []byte) { rand.Read(b) } // never fails (crypto/rand)

// Now returns the manager's clock reading.
func (m *Manager) Now() time.Time { return m.now() }
