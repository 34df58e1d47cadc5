package keys

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRingCurrentAgreesWithPick(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	L := 4 * time.Hour
	a := loadTestSigner(t, "rsa2048.pem", "KAAA")
	b := loadTestSigner(t, "ec-p256.pem", "KBBB")
	ring, err := NewRing([]RingKey{
		{Signer: a, RetireAt: t0.Add(24 * time.Hour)},
		{Signer: b, ActivateAt: t0.Add(10 * time.Hour), RetireAt: t0.Add(30 * time.Hour)},
	}, L)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		now  time.Duration
		want string
	}{
		{0, "KAAA"},
		{10*time.Hour - time.Second, "KAAA"},
		{10 * time.Hour, "KBBB"},
		{26*time.Hour - time.Second, "KBBB"},
		{26 * time.Hour, ""}, // B retiring, A retired
	} {
		now := t0.Add(tt.now)
		k, ok := ring.Current(now)
		got := ""
		if ok {
			got = k.Signer.KeyID()
		}
		if got != tt.want {
			t.Errorf("Current(%s) = %q, want %q", tt.now, got, tt.want)
		}
		s, err := ring.Pick(now, now.Add(L), 0)
		pick := ""
		if err == nil {
			pick = s.KeyID()
		}
		if pick != got {
			t.Errorf("at %s Pick for a grant of L = %q, Current = %q", tt.now, pick, got)
		}
	}
	if got, want := ring.Keys()[0].SigningUntil(L), t0.Add(20*time.Hour); !got.Equal(want) {
		t.Errorf("SigningUntil = %s, want %s", got, want)
	}
	if !(RingKey{}).SigningUntil(L).IsZero() {
		t.Error("SigningUntil of a key that never retires is not zero")
	}
	sch := ring.Schedule()
	if len(sch) != 2 || sch[1].KeyID != "KBBB" || !sch[1].ActivateAt.Equal(t0.Add(10*time.Hour)) {
		t.Errorf("Schedule = %+v", sch)
	}
}

func codes(p *Plan) []string {
	var out []string
	for _, w := range p.Warnings {
		out = append(out, w.Code+":"+w.KeyID)
	}
	return out
}

func TestPlan(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	L := 4 * time.Hour
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	tests := []struct {
		name string
		keys []Schedule
		now  time.Time
		opts PlanOptions
		want []string // warning code:key
	}{
		{"a clean rotation", []Schedule{{KeyID: "KA", RetireAt: h(48)}, {KeyID: "KB", ActivateAt: h(24)}}, t0, PlanOptions{}, nil},
		{"old key stops signing before the new one starts", []Schedule{{KeyID: "KA", RetireAt: h(26)}, {KeyID: "KB", ActivateAt: h(24)}}, t0, PlanOptions{},
			[]string{"gap:"}},
		{"overlap one second short of L + margin", []Schedule{{KeyID: "KA", RetireAt: h(29).Add(-time.Second)}, {KeyID: "KB", ActivateAt: h(24)}}, t0, PlanOptions{},
			[]string{"short-overlap:KA"}},
		{"overlap exactly L + margin", []Schedule{{KeyID: "KA", RetireAt: h(29)}, {KeyID: "KB", ActivateAt: h(24)}}, t0, PlanOptions{}, nil},
		{"a wider margin", []Schedule{{KeyID: "KA", RetireAt: h(29)}, {KeyID: "KB", ActivateAt: h(24)}}, t0, PlanOptions{Margin: 2 * time.Hour},
			[]string{"short-overlap:KA"}},
		{"the last key retires", []Schedule{{KeyID: "KA", RetireAt: h(10)}}, t0, PlanOptions{}, []string{"gap:"}},
		{"new key activates in 59m59s", []Schedule{{KeyID: "KA"}, {KeyID: "KB", ActivateAt: h(1).Add(-time.Second)}}, t0, PlanOptions{},
			[]string{"no-retire-at:KA", "late-publish:KB"}},
		{"new key activates in 1h", []Schedule{{KeyID: "KA", RetireAt: h(100)}, {KeyID: "KB", ActivateAt: h(1)}}, t0, PlanOptions{}, nil},
		{"six keys in the group", []Schedule{{KeyID: "K1"}, {KeyID: "K2", ActivateAt: h(10)}, {KeyID: "K3", ActivateAt: h(10)},
			{KeyID: "K4", ActivateAt: h(10)}, {KeyID: "K5", ActivateAt: h(10)}, {KeyID: "K6", ActivateAt: h(10)}}, t0, PlanOptions{},
			[]string{"too-many-keys:", "no-retire-at:K1"}},
		{"retiring key removed from the group too early", []Schedule{{KeyID: "KA", RetireAt: h(48)}, {KeyID: "KB", ActivateAt: h(24)}}, h(45),
			PlanOptions{KeyGroup: []string{"KB", "KOLD"}}, []string{"not-in-group:KA", "unknown-in-group:KOLD"}},
		{"a retired key still configured", []Schedule{{KeyID: "KA", RetireAt: h(48)}, {KeyID: "KB", ActivateAt: h(24)}}, h(49), PlanOptions{},
			[]string{"retired:KA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPlan(tt.keys, L, tt.now, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := codes(p)
			if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(tt.want))) {
				var b strings.Builder
				p.WriteText(&b)
				t.Errorf("warnings %q, want %q\n%s", got, tt.want, b.String())
			}
		})
	}
}

func TestPlanEvents(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	L := 4 * time.Hour
	p, err := NewPlan([]Schedule{{KeyID: "KA", RetireAt: t0.Add(48 * time.Hour)}, {KeyID: "KB", ActivateAt: t0.Add(24 * time.Hour)}}, L, t0, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		at      time.Duration
		key     string
		st      State
		signing string
		group   string
	}
	want := []ev{
		{24 * time.Hour, "KB", StateActive, "KB", "KA,KB"},
		{44 * time.Hour, "KA", StateRetiring, "KB", "KA,KB"},
		{48 * time.Hour, "KA", StateRetired, "KB", "KB"},
	}
	var got []ev
	for _, e := range p.Events {
		got = append(got, ev{e.At.Sub(t0), e.KeyID, e.State, e.Signing, strings.Join(e.Published, ",")})
	}
	if !slices.Equal(got, want) {
		t.Errorf("events\n got %v\nwant %v", got, want)
	}
	if p.Keys[0].State != StateActive || p.Keys[1].State != StateNext || !p.Keys[0].SigningUntil.Equal(t0.Add(44*time.Hour)) {
		t.Errorf("keys now: %+v", p.Keys)
	}
	var b strings.Builder
	if err := p.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"2026-01-02T00:00:00Z  KB", "-> retiring", "No warnings."} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, b.String())
		}
	}
}

func TestNewPlanErrors(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, ks := range map[string][]Schedule{
		"empty":        nil,
		"duplicate":    {{KeyID: "KA"}, {KeyID: "KA"}},
		"retire first": {{KeyID: "KA", ActivateAt: t0, RetireAt: t0}},
	} {
		if _, err := NewPlan(ks, time.Hour, t0, PlanOptions{}); !errors.Is(err, ErrRing) {
			t.Errorf("%s: NewPlan = %v, want ErrRing", name, err)
		}
	}
}
