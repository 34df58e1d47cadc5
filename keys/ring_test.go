package keys

import (
	"crypto"
	"errors"
	"os"
	"testing"
	"time"
)

func loadTestSigner(t *testing.T, file, id string) Signer {
	t.Helper()
	data, err := os.ReadFile("../testdata/keys/" + file)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewLocal(id, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRingKeyState(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	L := 4 * time.Hour
	k := RingKey{ActivateAt: t0, RetireAt: t0.Add(48 * time.Hour)}
	tests := []struct {
		now  time.Time
		want State
	}{
		{t0.Add(-time.Second), StateNext},
		{t0, StateActive},
		{t0.Add(44*time.Hour - time.Second), StateActive},
		{t0.Add(44 * time.Hour), StateRetiring},
		{t0.Add(48*time.Hour - time.Second), StateRetiring},
		{t0.Add(48 * time.Hour), StateRetired},
	}
	for _, tt := range tests {
		if got := k.State(tt.now, L); got != tt.want {
			t.Errorf("State(%s) = %s, want %s", tt.now.Sub(t0), got, tt.want)
		}
	}
	if got := (RingKey{}).State(t0, L); got != StateActive {
		t.Errorf("a key without times is %s, want active", got)
	}
	if StateRetired.Published() || !StateRetiring.Published() || !StateNext.Published() {
		t.Error("Published: next, active and retiring belong in the key group, retired does not")
	}
}

func TestRingPick(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	L := 4 * time.Hour
	a := loadTestSigner(t, "rsa2048.pem", "KAAA")
	b := loadTestSigner(t, "ec-p256.pem", "KBBB")
	ring, err := NewRing([]RingKey{
		{Signer: a, RetireAt: t0.Add(24 * time.Hour)},
		{Signer: b, ActivateAt: t0.Add(10 * time.Hour)},
	}, L)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		now     time.Duration
		expires time.Duration
		hash    crypto.Hash
		want    string // "" means ErrNoActiveKey
	}{
		{"only A is active", 0, time.Hour, 0, "KAAA"},
		{"B activates and takes over", 10 * time.Hour, 11 * time.Hour, 0, "KBBB"},
		{"SHA-1 needs the RSA key", 10 * time.Hour, 11 * time.Hour, crypto.SHA1, "KAAA"},
		{"A is retiring: no SHA-1 key", 20 * time.Hour, 21 * time.Hour, crypto.SHA1, ""},
		{"before B, SHA-256 from A", time.Hour, 2 * time.Hour, crypto.SHA256, "KAAA"},
		{"A would be outlived by the grant", 19 * time.Hour, 24 * time.Hour, crypto.SHA1, ""},
		{"A just outlives the grant", 19 * time.Hour, 24*time.Hour - time.Second, crypto.SHA1, "KAAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ring.Pick(t0.Add(tt.now), t0.Add(tt.expires), tt.hash)
			if tt.want == "" {
				if !errors.Is(err, ErrNoActiveKey) {
					t.Fatalf("Pick = %v, %v; want ErrNoActiveKey", s, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.KeyID(); got != tt.want {
				t.Errorf("Pick = %s, want %s", got, tt.want)
			}
		})
	}
	if st, ok := ring.State("KAAA", t0.Add(21*time.Hour)); !ok || st != StateRetiring {
		t.Errorf("State(KAAA) = %s, %v; want retiring", st, ok)
	}
	if _, ok := ring.State("KZZZ", t0); ok {
		t.Error("State of an unknown key reported ok")
	}
}

func TestNewRingErrors(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := loadTestSigner(t, "rsa2048.pem", "KAAA")
	for name, ks := range map[string][]RingKey{
		"empty":          nil,
		"nil signer":     {{}},
		"duplicate":      {{Signer: a}, {Signer: a}},
		"retire first":   {{Signer: a, ActivateAt: t0, RetireAt: t0}},
		"retire earlier": {{Signer: a, ActivateAt: t0, RetireAt: t0.Add(-time.Hour)}},
	} {
		if _, err := NewRing(ks, time.Hour); !errors.Is(err, ErrRing) {
			t.Errorf("%s: NewRing = %v, want ErrRing", name, err)
		}
	}
}

func TestCanSign(t *testing.T) {
	r := loadTestSigner(t, "rsa2048.pem", "KAAA")
	e := loadTestSigner(t, "ec-p256.pem", "KBBB")
	if !CanSign(r, crypto.SHA1) || !CanSign(r, crypto.SHA256) || CanSign(e, crypto.SHA1) || !CanSign(e, crypto.SHA256) || CanSign(r, crypto.MD5) {
		t.Error("CanSign: RSA signs SHA-1 and SHA-256, ECDSA SHA-256 only")
	}
	if CanSign(sha256Only{r}, crypto.SHA1) {
		t.Error("CanSign ignored a HashSupporter that refuses SHA-1")
	}
}

type sha256Only struct{ Signer }

func (sha256Only) SupportsHash(h crypto.Hash) bool { return h == crypto.SHA256 }
