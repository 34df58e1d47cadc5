package keys

import (
	"crypto"
	"errors"
	"fmt"
	"slices"
	"time"
)

// State is where a key of a Ring stands in its rotation. States are derived
// from the key's times, the clock and the ring's longest lifetime; they are
// never stored.
type State string

// The four states of a key. With L the longest lifetime of any grant:
//
//	next      now < activate_at                      published, not signing
//	active    activate_at ≤ now < retire_at − L      signing
//	retiring  retire_at − L ≤ now < retire_at        still trusted by CloudFront, not signing
//	retired   retire_at ≤ now                        gone from the key group
//
// The key group CloudFront needs at any moment is next + active + retiring.
const (
	StateNext     State = "next"
	StateActive   State = "active"
	StateRetiring State = "retiring"
	StateRetired  State = "retired"
)

// Published reports whether a key in this state belongs in the
// distribution's trusted key group.
func (s State) Published() bool { return s != StateRetired }

// A RingKey is one key of a Ring: its signer and the times that place it in
// its rotation. A zero ActivateAt means active since forever; a zero
// RetireAt means it never retires.
type RingKey struct {
	Signer     Signer
	ActivateAt time.Time
	RetireAt   time.Time
}

// State returns the key's state at now for a ring whose longest lifetime is
// longest.
func (k RingKey) State(now time.Time, longest time.Duration) State {
	switch {
	case !k.ActivateAt.IsZero() && now.Before(k.ActivateAt):
		return StateNext
	case k.RetireAt.IsZero():
		return StateActive
	case !now.Before(k.RetireAt):
		return StateRetired
	case !now.Before(k.RetireAt.Add(-longest)):
		return StateRetiring
	default:
		return StateActive
	}
}

// outlives reports whether a grant that expires at expires is still inside
// the key's trusted period.
func (k RingKey) outlives(expires time.Time) bool {
	return k.RetireAt.IsZero() || k.RetireAt.After(expires)
}

// Errors returned by NewRing and Ring.Pick. Test for them with errors.Is.
var (
	// ErrNoActiveKey: no key of the ring is active now, outlives the
	// grant's expiry and can sign with the hash asked for. A service
	// answers 503: the operator must publish or activate a key.
	ErrNoActiveKey = errors.New("keys: no active key can sign this grant")
	// ErrRing: the ring's configuration is inconsistent.
	ErrRing = errors.New("keys: invalid key ring")
)

// HashSupporter is implemented by signers that can sign with only some
// hashes (an AWS KMS key signs SHA-256 only). Signers that do not implement
// it are taken to support what their algorithm allows (see CanSign).
type HashSupporter interface {
	SupportsHash(crypto.Hash) bool
}

// CanSign reports whether s can sign with hash: RSA keys sign SHA-1 and
// SHA-256, ECDSA keys SHA-256 only (CLOUDFRONT.md §3), and a HashSupporter
// may narrow that further.
func CanSign(s Signer, hash crypto.Hash) bool {
	if hs, ok := s.(HashSupporter); ok && !hs.SupportsHash(hash) {
		return false
	}
	switch hash {
	case crypto.SHA256:
		return true
	case crypto.SHA1:
		return s.Algorithm() == RSA
	default:
		return false
	}
}

// A Ring holds several signing keys with activation and retirement times,
// and picks the one to sign each grant with. It is immutable and safe for
// concurrent use; a reload builds a new Ring and swaps it in whole.
type Ring struct {
	keys    []RingKey
	longest time.Duration
}

// NewRing returns a ring of keys. longest is L, the longest lifetime of any
// grant the ring signs for (the largest max_lifetime of the signed
// behaviors): a key stops signing L before it retires, so nothing it signed
// outlives it. Key IDs must be unique and ActivateAt must come before
// RetireAt when both are set; errors wrap ErrRing.
func NewRing(ks []RingKey, longest time.Duration) (*Ring, error) {
	if len(ks) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrRing)
	}
	if longest < 0 {
		return nil, fmt.Errorf("%w: negative longest lifetime", ErrRing)
	}
	seen := map[string]bool{}
	for i, k := range ks {
		if k.Signer == nil {
			return nil, fmt.Errorf("%w: key %d has no signer", ErrRing, i)
		}
		id := k.Signer.KeyID()
		if seen[id] {
			return nil, fmt.Errorf("%w: key ID %s appears twice", ErrRing, id)
		}
		seen[id] = true
		if !k.ActivateAt.IsZero() && !k.RetireAt.IsZero() && !k.ActivateAt.Before(k.RetireAt) {
			return nil, fmt.Errorf("%w: key %s: activate_at %s is not before retire_at %s", ErrRing, id,
				k.ActivateAt.UTC().Format(time.RFC3339), k.RetireAt.UTC().Format(time.RFC3339))
		}
	}
	return &Ring{keys: slices.Clone(ks), longest: longest}, nil
}

// Longest returns L, the longest lifetime the ring was built for.
func (r *Ring) Longest() time.Duration { return r.longest }

// Keys returns the ring's keys in configuration order.
func (r *Ring) Keys() []RingKey { return slices.Clone(r.keys) }

// State returns the state at now of the key with the given ID, and false if
// the ring has no such key.
func (r *Ring) State(id string, now time.Time) (State, bool) {
	for _, k := range r.keys {
		if k.Signer.KeyID() == id {
			return k.State(now, r.longest), true
		}
	}
	return "", false
}

// Pick returns the signer for a grant issued at now that expires at
// expires and is signed with hash (zero: any hash, the caller then uses
// the key's default): among the keys that are active at now,
// retire after expires and can sign with hash, the one activated last (the
// newest key takes over signing as soon as it activates, as AWS's rotation
// procedure says), ties going to the first in configuration order. The
// choice depends only on the inputs, so replicas with the same ring pick
// the same key. It returns an error wrapping ErrNoActiveKey when no key
// qualifies.
func (r *Ring) Pick(now, expires time.Time, hash crypto.Hash) (Signer, error) {
	var best *RingKey
	for i := range r.keys {
		k := &r.keys[i]
		if k.State(now, r.longest) != StateActive || !k.outlives(expires) || (hash != 0 && !CanSign(k.Signer, hash)) {
			continue
		}
		if best == nil || k.ActivateAt.After(best.ActivateAt) {
			best = k
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: at %s for a grant expiring at %s with %v", ErrNoActiveKey,
			now.UTC().Format(time.RFC3339), expires.UTC().Format(time.RFC3339), hash)
	}
	return best.Signer, nil
}

// SigningUntil returns the moment the key stops signing for a ring whose
// longest lifetime is longest (RetireAt − L), or the zero time if it never
// retires.
func (k RingKey) SigningUntil(longest time.Duration) time.Time {
	if k.RetireAt.IsZero() {
		return time.Time{}
	}
	return k.RetireAt.Add(-longest)
}

// Current returns the key that signs a grant issued at now, as Pick
// chooses it for any hash and an expiry within L: the active key activated
// last. It returns false when no key is active.
func (r *Ring) Current(now time.Time) (RingKey, bool) {
	var best *RingKey
	for i := range r.keys {
		k := &r.keys[i]
		if k.State(now, r.longest) != StateActive {
			continue
		}
		if best == nil || k.ActivateAt.After(best.ActivateAt) {
			best = k
		}
	}
	if best == nil {
		return RingKey{}, false
	}
	return *best, true
}

// Schedule returns the ring's keys as a rotation schedule, without their
// signers, in configuration order.
func (r *Ring) Schedule() []Schedule {
	out := make([]Schedule, len(r.keys))
	for i, k := range r.keys {
		out[i] = Schedule{KeyID: k.Signer.KeyID(), ActivateAt: k.ActivateAt, RetireAt: k.RetireAt}
	}
	return out
}
