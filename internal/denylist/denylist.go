package denylist

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/cfissuer/cfissuer/policy"
)

// Errors callers may test for with errors.Is.
var (
	// ErrInvalidKey is returned for a grant ID or subject key the edge
	// function would never look up.
	ErrInvalidKey = errors.New("denylist: not a grant ID")
	// ErrStore wraps a failure to read or write the Store (the
	// KeyValueStore API unreachable, throttling, conflicts past retries).
	ErrStore = errors.New("denylist: store unavailable")
)

// MaxBatch is the most puts and deletes one Store.Update gets: the
// KeyValueStore API's UpdateKeys limit.
const MaxBatch = 50

// A Store holds deny entries: keys and values as the KeyValueStore keeps
// them (the value is a Unix second in decimal).
type Store interface {
	// Entries returns every key and its value.
	Entries(ctx context.Context) (map[string]string, error)
	// Update puts and deletes keys in one atomic write of at most MaxBatch
	// operations.
	Update(ctx context.Context, puts map[string]string, deletes []string) error
}

// Options are List's optional settings; the zero value of each is its
// documented default.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets one line per revocation; nil means slog.Default().
	Logger *slog.Logger
}

// List writes deny entries to a Store.
type List struct {
	store Store
	now   func() time.Time
	log   *slog.Logger
}

// New returns a List over store.
func New(store Store, opts Options) (*List, error) {
	if store == nil {
		return nil, errors.New("denylist: New needs a store")
	}
	l := &List{store: store, now: opts.Now, log: opts.Logger}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	return l, nil
}

// Log attribute keys.
const (
	logKey   = "deny_key"
	logUntil = "until"
	logSwept = "swept"
)

// RevokeGrant denies a grant ID (from an issuance's grant_id) until the
// given time.
func (l *List) RevokeGrant(ctx context.Context, grantID string, until time.Time) error {
	if !policy.IsDenyKey(grantID) || grantID[0] == 's' {
		return fmt.Errorf("%w: %q: a grant ID is g or c and 20 hex digits", ErrInvalidKey, grantID)
	}
	return l.deny(ctx, grantID, until)
}

// RevokeSubject denies everything issued for a subject (a user or session
// ID given at issuance) until the given time, and returns its key. Until
// then new grants for the subject are denied too: use session IDs as
// subjects when a user should be able to sign in again at once.
func (l *List) RevokeSubject(ctx context.Context, subject string, until time.Time) (string, error) {
	if subject == "" {
		return "", fmt.Errorf("%w: empty subject", ErrInvalidKey)
	}
	key := policy.SubjectKey(subject)
	return key, l.deny(ctx, key, until)
}

// deny puts key (keeping a later time already there) and deletes expired
// entries in the same write.
func (l *List) deny(ctx context.Context, key string, until time.Time) error {
	now := l.now()
	if !until.After(now) {
		return fmt.Errorf("denylist: %s: until %s is not in the future", key, until.UTC().Format(time.RFC3339))
	}
	all, err := l.store.Entries(ctx)
	if err != nil {
		return fmt.Errorf("%w: read entries: %w", ErrStore, err)
	}
	if old, ok := all[key]; ok {
		if t, err := strconv.ParseInt(old, 10, 64); err == nil && t > until.Unix() {
			until = time.Unix(t, 0)
		}
	}
	deletes := expired(all, now, MaxBatch-1)
	if err := l.store.Update(ctx, map[string]string{key: strconv.FormatInt(until.Unix(), 10)}, deletes); err != nil {
		return fmt.Errorf("%w: write %s: %w", ErrStore, key, err)
	}
	l.log.LogAttrs(ctx, slog.LevelInfo, "revoked", slog.String(logKey, key), slog.Time(logUntil, until.UTC()), slog.Int(logSwept, len(deletes)))
	return nil
}

// Sweep deletes every entry whose time has passed and returns how many.
func (l *List) Sweep(ctx context.Context) (int, error) {
	all, err := l.store.Entries(ctx)
	if err != nil {
		return 0, fmt.Errorf("%w: read entries: %w", ErrStore, err)
	}
	dels := expired(all, l.now(), -1)
	for i := 0; i < len(dels); i += MaxBatch {
		batch := dels[i:min(i+MaxBatch, len(dels))]
		if err := l.store.Update(ctx, nil, batch); err != nil {
			return i, fmt.Errorf("%w: sweep: %w", ErrStore, err)
		}
	}
	return len(dels), nil
}

// Until returns the time a key denies until, or false when it is absent or
// past.
func (l *List) Until(ctx context.Context, key string) (time.Time, bool, error) {
	all, err := l.store.Entries(ctx)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%w: read entries: %w", ErrStore, err)
	}
	t, err := strconv.ParseInt(all[key], 10, 64)
	if err != nil || t <= l.now().Unix() {
		return time.Time{}, false, nil
	}
	return time.Unix(t, 0).UTC(), true, nil
}

// expired returns up to limit (all when negative) keys whose time is at or
// before now (or that hold no time); keys not of our form are left alone.
func expired(all map[string]string, now time.Time, limit int) []string {
	var out []string
	for k, v := range all {
		if limit >= 0 && len(out) >= limit {
			break
		}
		if !policy.IsDenyKey(k) {
			continue // not ours: the store may hold other keys
		}
		if t, err := strconv.ParseInt(v, 10, 64); err == nil && t > now.Unix() {
			continue
		}
		out = append(out, k)
	}
	return out
}
