package policy

import "time"

// Expiry returns the expiry aligned to a window: the first multiple of
// window (counted from the Unix epoch) that is at least minValidity after
// now:
//
//	expires = ceil((now + V) / W) * W
//
// Every call within one window returns the same instant, so the same
// policy and the same signature. The validity expires − now always lies in
// [V, V+W). now keeps its sub-second part, so a request half a second into a
// second is still granted at least V. window must be positive and a whole
// number of seconds; a non-positive window returns now + V rounded up to a
// whole second (no alignment).
func Expiry(now time.Time, minValidity, window time.Duration) time.Time {
	t := now.UnixNano() + int64(minValidity)
	w := int64(window)
	if w <= 0 {
		w = int64(time.Second)
	}
	q := t / w
	if t%w != 0 && t > 0 {
		q++
	}
	return time.Unix(0, q*w).UTC()
}
