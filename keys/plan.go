package keys

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// A Schedule is one key's place in a rotation, without the key itself, so
// a rotation can be planned without fetching any secret.
type Schedule struct {
	KeyID      string
	ActivateAt time.Time // zero: active since forever
	RetireAt   time.Time // zero: never retires
}

func (s Schedule) state(now time.Time, longest time.Duration) State {
	return RingKey{ActivateAt: s.ActivateAt, RetireAt: s.RetireAt}.State(now, longest)
}

// DefaultPlanMargin is PlanOptions.Margin's default: how long before it
// activates a new key should be in the deployed key group, and how much
// longer than L an old key should stay trusted after it stops signing.
const DefaultPlanMargin = time.Hour

// MaxKeysPerGroup is CloudFront's quota of public keys in one key group
// (CLOUDFRONT.md §4).
const MaxKeysPerGroup = 5

// PlanOptions are NewPlan's optional settings; the zero value is the
// documented default of each.
type PlanOptions struct {
	// Margin: zero means DefaultPlanMargin.
	Margin time.Duration
	// KeyGroup, when not nil, is the key IDs the distribution's key group
	// holds now (the behaviors file's key_ids); a key that is published
	// (next, active or retiring) but missing from it is a warning.
	KeyGroup []string
}

// Warning codes of a Plan.
const (
	WarnGap          = "gap"              // no key is active: issuance fails with 503
	WarnShortOverlap = "short-overlap"    // a key stays trusted less than L + margin after it stops signing
	WarnLatePublish  = "late-publish"     // a key activates less than margin from now
	WarnTooMany      = "too-many-keys"    // more than 5 keys in the group at once
	WarnNotInGroup   = "not-in-group"     // a published key is missing from the deployed key group
	WarnRetired      = "retired"          // a retired key is still configured
	WarnNeverRetires = "no-retire-at"     // an active key has no retire_at while another key takes over
	WarnUnknownGroup = "unknown-in-group" // the key group trusts a key the ring does not know
)

// A PlanEvent is one moment of a rotation: a key changes state.
type PlanEvent struct {
	At    time.Time
	KeyID string
	State State // the state the key enters at At
	// Signing is the key that signs grants issued from At on ("" when
	// none does), and Published the key group needed from At on.
	Signing   string
	Published []string
}

// A PlanWarning is a problem in a rotation schedule.
type PlanWarning struct {
	At      time.Time // when it bites (zero: now)
	KeyID   string    // the key concerned, if one
	Code    string    // one of the Warn constants
	Message string
}

// A Plan is the rotation a ring's schedule will go through from now: each
// key's state now, the events to come, and what is wrong with it.
type Plan struct {
	Now      time.Time
	Longest  time.Duration
	Margin   time.Duration
	Keys     []PlanKey
	Events   []PlanEvent
	Warnings []PlanWarning
}

// A PlanKey is a key's state now and its times.
type PlanKey struct {
	Schedule
	State        State
	SigningUntil time.Time // RetireAt − L; zero if it never retires
}

// NewPlan plans the rotation of keys from now, for a ring whose longest
// lifetime is longest. It fails with ErrRing on what NewRing would refuse
// (no keys, a duplicate ID, activate_at not before retire_at).
func NewPlan(keys []Schedule, longest time.Duration, now time.Time, opts PlanOptions) (*Plan, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrRing)
	}
	if longest < 0 {
		return nil, fmt.Errorf("%w: negative longest lifetime", ErrRing)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.KeyID] {
			return nil, fmt.Errorf("%w: key ID %s appears twice", ErrRing, k.KeyID)
		}
		seen[k.KeyID] = true
		if !k.ActivateAt.IsZero() && !k.RetireAt.IsZero() && !k.ActivateAt.Before(k.RetireAt) {
			return nil, fmt.Errorf("%w: key %s: activate_at is not before retire_at", ErrRing, k.KeyID)
		}
	}
	margin := opts.Margin
	if margin == 0 {
		margin = DefaultPlanMargin
	}
	p := &Plan{Now: now, Longest: longest, Margin: margin}
	for _, k := range keys {
		pk := PlanKey{Schedule: k, State: k.state(now, longest)}
		if !k.RetireAt.IsZero() {
			pk.SigningUntil = k.RetireAt.Add(-longest)
		}
		p.Keys = append(p.Keys, pk)
	}
	warn := func(at time.Time, id, code, format string, args ...any) {
		p.Warnings = append(p.Warnings, PlanWarning{At: at, KeyID: id, Code: code, Message: fmt.Sprintf(format, args...)})
	}

	// The moments something changes, from now on.
	moments := []time.Time{now}
	for _, k := range keys {
		for _, t := range []time.Time{k.ActivateAt, k.RetireAt, signingUntil(k, longest)} {
			if !t.IsZero() && t.After(now) {
				moments = append(moments, t)
			}
		}
	}
	slices.SortFunc(moments, time.Time.Compare)
	moments = slices.CompactFunc(moments, time.Time.Equal)

	prev := map[string]State{}
	gapFrom := time.Time{}
	tooMany := false // warned for the current stretch of more than 5
	for i, t := range moments {
		signing := current(keys, t, longest)
		var published []string
		for _, k := range keys {
			if k.state(t, longest).Published() {
				published = append(published, k.KeyID)
			}
		}
		for _, k := range keys {
			st := k.state(t, longest)
			if i > 0 && prev[k.KeyID] != st {
				p.Events = append(p.Events, PlanEvent{At: t, KeyID: k.KeyID, State: st, Signing: signing, Published: published})
			}
			prev[k.KeyID] = st
		}
		if len(published) > MaxKeysPerGroup && !tooMany {
			warn(t, "", WarnTooMany, "%d keys in the key group at %s (%s); CloudFront allows %d per group",
				len(published), stamp(t), strings.Join(published, ", "), MaxKeysPerGroup)
		}
		tooMany = len(published) > MaxKeysPerGroup
		switch {
		case signing == "" && gapFrom.IsZero():
			gapFrom = t
		case signing != "" && !gapFrom.IsZero():
			warn(gapFrom, "", WarnGap, "no key signs from %s to %s: issuance fails with 503 in between", stamp(gapFrom), stamp(t))
			gapFrom = time.Time{}
		}
	}
	if !gapFrom.IsZero() {
		warn(gapFrom, "", WarnGap, "no key signs from %s on: add a key whose activate_at is at or before then", stamp(gapFrom))
	}

	for _, k := range keys {
		st := k.state(now, longest)
		if st == StateRetired {
			warn(time.Time{}, k.KeyID, WarnRetired, "key %s retired at %s: remove it from the config and from the key group", k.KeyID, stamp(k.RetireAt))
			continue
		}
		if st == StateNext && k.ActivateAt.Sub(now) < margin {
			warn(k.ActivateAt, k.KeyID, WarnLatePublish, "key %s starts signing at %s, %s from now: its public key must be in the deployed key group before then (margin %s)",
				k.KeyID, stamp(k.ActivateAt), k.ActivateAt.Sub(now).Round(time.Second), margin)
		}
		if opts.KeyGroup != nil && !slices.Contains(opts.KeyGroup, k.KeyID) {
			what := map[State]string{StateNext: "will sign from " + stamp(k.ActivateAt), StateActive: "signs now",
				StateRetiring: "signed URLs that stay valid until " + stamp(k.RetireAt)}[st]
			warn(time.Time{}, k.KeyID, WarnNotInGroup, "key %s is %s and %s, but the key group does not hold it: CloudFront refuses its URLs", k.KeyID, st, what)
		}
		// How long the key stays trusted after its last signature.
		stop, ok := lastSigning(keys, k, longest, now)
		if !ok {
			continue
		}
		if k.RetireAt.IsZero() {
			if succ := current(keys, stop, longest); succ != "" {
				warn(stop, k.KeyID, WarnNeverRetires, "key %s stops signing at %s when %s takes over, but has no retire_at: set it to %s or later, then remove it from the key group",
					k.KeyID, stamp(stop), succ, stamp(stop.Add(longest+margin)))
			}
			continue
		}
		// When no key signs after it, the gap warning says it already.
		if overlap := k.RetireAt.Sub(stop); overlap < longest+margin && current(keys, stop, longest) != "" {
			warn(k.RetireAt, k.KeyID, WarnShortOverlap, "key %s signs until %s and retires at %s: trusted %s after its last signature, less than the longest lifetime plus margin (%s); publish its successor earlier or move retire_at to %s",
				k.KeyID, stamp(stop), stamp(k.RetireAt), overlap, longest+margin, stamp(stop.Add(longest+margin)))
		}
	}
	for _, id := range opts.KeyGroup {
		if !seen[id] {
			warn(time.Time{}, id, WarnUnknownGroup, "the key group trusts %s, which the ring does not hold: remove it once nothing signed with it is valid", id)
		}
	}
	slices.SortStableFunc(p.Warnings, func(a, b PlanWarning) int { return a.At.Compare(b.At) })
	return p, nil
}

func signingUntil(k Schedule, longest time.Duration) time.Time {
	if k.RetireAt.IsZero() {
		return time.Time{}
	}
	return k.RetireAt.Add(-longest)
}

// current is Ring.Current over schedules: the active key activated last.
func current(keys []Schedule, now time.Time, longest time.Duration) string {
	best := -1
	for i, k := range keys {
		if k.state(now, longest) == StateActive && (best < 0 || k.ActivateAt.After(keys[best].ActivateAt)) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return keys[best].KeyID
}

// lastSigning returns the moment k stops being the signing key for good
// (taken over by a newer key, or reaching RetireAt − L), if it signs at
// all from now on.
func lastSigning(keys []Schedule, k Schedule, longest time.Duration, now time.Time) (time.Time, bool) {
	var moments []time.Time
	for _, o := range keys {
		for _, t := range []time.Time{o.ActivateAt, signingUntil(o, longest), o.RetireAt} {
			if !t.IsZero() && t.After(now) {
				moments = append(moments, t)
			}
		}
	}
	slices.SortFunc(moments, time.Time.Compare)
	signed := current(keys, now, longest) == k.KeyID
	var stop time.Time
	stopped := false
	for _, t := range moments {
		is := current(keys, t, longest) == k.KeyID
		switch {
		case is:
			signed, stopped = true, false
		case signed && !stopped:
			stop, stopped = t, true
		}
	}
	if !signed || !stopped {
		return time.Time{}, false
	}
	return stop, true
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// WriteText writes the plan for people: the keys now, the events to come,
// and the warnings (or "no warnings").
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Rotation plan at %s (longest lifetime L = %s, margin %s)\n\n", stamp(p.Now), p.Longest, p.Margin)
	fmt.Fprintf(&b, "%-16s %-9s %-20s %-20s %-20s\n", "KEY", "STATE", "ACTIVATE_AT", "SIGNS_UNTIL", "RETIRE_AT")
	for _, k := range p.Keys {
		fmt.Fprintf(&b, "%-16s %-9s %-20s %-20s %-20s\n", k.KeyID, k.State, orDash(k.ActivateAt), orDash(k.SigningUntil), orDash(k.RetireAt))
	}
	b.WriteString("\nSchedule:\n")
	if len(p.Events) == 0 {
		b.WriteString("  no changes ahead\n")
	}
	for _, e := range p.Events {
		signing := cmp.Or(e.Signing, "NONE")
		fmt.Fprintf(&b, "  %s  %-16s -> %-9s signing: %-16s key group: %s\n", stamp(e.At), e.KeyID, e.State, signing, strings.Join(e.Published, ", "))
	}
	b.WriteString("\n")
	if len(p.Warnings) == 0 {
		b.WriteString("No warnings.\n")
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "WARNING [%s] %s\n", w.Code, w.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return stamp(t)
}
