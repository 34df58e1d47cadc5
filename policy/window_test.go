package policy

import (
	"testing"
	"time"
)

func TestExpiryEdges(t *testing.T) {
	const V, W = 3900 * time.Second, 3600 * time.Second
	base := time.Unix(1_800_000_000, 0).UTC() // a multiple of 3600? 1800000000/3600 = 500000
	tests := []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{"now+V exactly on a boundary", base.Add(-V), base},
		{"one nanosecond past the boundary", base.Add(-V + 1), base.Add(W)},
		{"one second past the boundary", base.Add(-V + time.Second), base.Add(W)},
		{"just inside the window (last second)", base.Add(-V - time.Second), base},
		{"start of the window", base.Add(-V - W + time.Nanosecond), base},
		{"previous boundary exactly", base.Add(-V - W), base.Add(-W)},
		{"half a second into a second", base.Add(-V - 500*time.Millisecond), base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Expiry(tt.now, V, W)
			if !got.Equal(tt.want) {
				t.Errorf("Expiry(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

// TestExpiryInvariant walks a simulated day in uneven steps: every expiry is
// a whole second on a window boundary, lies in [V, V+W) from now, and all
// requests in one window share it.
func TestExpiryInvariant(t *testing.T) {
	for _, c := range []struct{ v, w time.Duration }{
		{3900 * time.Second, 3600 * time.Second},
		{360 * time.Second, 600 * time.Second},
		{90000 * time.Second, 86400 * time.Second},
		{0, time.Second},
	} {
		start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
		var prev time.Time
		changes := 0
		const step = 7*time.Second + 333*time.Millisecond
		for now := start; now.Before(start.Add(24 * time.Hour)); now = now.Add(step) {
			exp := Expiry(now, c.v, c.w)
			d := exp.Sub(now)
			if d < c.v || d >= c.v+c.w {
				t.Fatalf("V=%v W=%v now=%v: validity %v outside [V, V+W)", c.v, c.w, now, d)
			}
			if exp.UnixNano()%int64(c.w) != 0 {
				t.Fatalf("V=%v W=%v: expiry %v is not on a window boundary", c.v, c.w, exp)
			}
			if exp.Before(prev) {
				t.Fatalf("expiry went backwards: %v after %v", exp, prev)
			}
			if !exp.Equal(prev) {
				changes++
			}
			prev = exp
		}
		if want := int(24 * time.Hour / c.w); c.w > step && (changes < want-1 || changes > want+1) {
			t.Errorf("V=%v W=%v: expiry changed %d times in a day, want about %d", c.v, c.w, changes, want)
		}
	}
}
