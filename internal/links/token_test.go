package links_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/internal/links"
)

var (
	secretA = bytes.Repeat([]byte{0xA5}, 32)
	secretB = bytes.Repeat([]byte{0x5A}, 32)
)

func mustKey(t testing.TB, id string, secret []byte) links.Key {
	t.Helper()
	k, err := links.NewKey(id, secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// newManager returns a Manager on a fresh file store with the given keys.
func newManager(t testing.TB, c *clock, store links.Store, ks ...links.Key) *links.Manager {
	t.Helper()
	ring, err := links.NewKeyring(ks...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := links.New(ring, store, links.Options{Now: c.now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fileStore(t testing.TB, c *clock) links.Store {
	t.Helper()
	s, err := links.OpenFileStore(t.TempDir(), links.FileOptions{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeyNeverPrintsSecret(t *testing.T) {
	k := mustKey(t, "k1", secretA)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %x %q", k, k, k, k, k, k), buf.String()} {
		if !strings.Contains(s, "k1") || strings.Contains(s, "a5") || strings.Contains(s, "A5") || strings.Contains(s, base64.StdEncoding.EncodeToString(secretA)[:8]) {
			t.Errorf("printed key %q", s)
		}
	}
	if _, err := links.NewKey("k1", secretA[:31]); !errors.Is(err, links.ErrKey) {
		t.Errorf("a 31-byte secret: %v", err)
	}
	if _, err := links.NewKey("k.1", secretA); !errors.Is(err, links.ErrKey) {
		t.Errorf("a key ID with a dot: %v", err)
	}
	if _, err := links.NewKeyring(mustKey(t, "k1", secretA), mustKey(t, "k1", secretB)); !errors.Is(err, links.ErrKey) {
		t.Errorf("duplicate key IDs: %v", err)
	}
	if _, err := links.ParseKey("k1", []byte("not base64!\n"), "test"); err == nil || strings.Contains(err.Error(), "not base64!") {
		t.Errorf("ParseKey of garbage: %v (it must not echo the content)", err)
	}
	if k, err := links.ParseKey("k1", links.GenerateKey(), "test"); err != nil || k.ID() != "k1" {
		t.Errorf("ParseKey(GenerateKey()): %v", err)
	}
}

// TestRotation: after the new key is put first, links minted with the old
// one keep working while it stays in the ring, and stop (404: unknown key)
// once it is removed; a link minted with the new key names it.
func TestRotation(t *testing.T) {
	c := &clock{t: t0}
	store := fileStore(t, c)
	ctx := context.Background()
	old := newManager(t, c, store, mustKey(t, "k1", secretA))
	l1, tok1, err := old.Mint(ctx, links.Request{Caller: "app", Resource: "/ebooks/a.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	rotated := newManager(t, c, store, mustKey(t, "k2", secretB), mustKey(t, "k1", secretA))
	l2, tok2, err := rotated.Mint(ctx, links.Request{Caller: "app", Resource: "/ebooks/a.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if l1.KeyID != "k1" || l2.KeyID != "k2" {
		t.Errorf("key IDs %s, %s", l1.KeyID, l2.KeyID)
	}
	for _, tok := range []string{tok1, tok2} {
		if _, err := rotated.Follow(ctx, tok); err != nil {
			t.Errorf("follow during the overlap: %v", err)
		}
	}
	retired := newManager(t, c, store, mustKey(t, "k2", secretB))
	if _, err := retired.Follow(ctx, tok1); !errors.Is(err, links.ErrUnknownKey) {
		t.Errorf("follow of a k1 link after k1 is removed: %v, want ErrUnknownKey", err)
	}
	if _, err := retired.Follow(ctx, tok2); err != nil {
		t.Errorf("follow of a k2 link: %v", err)
	}
}

// TestFollowEdges: the exact expiry edges, and the order of the checks
// (a tampered expired token is a bad MAC, not "expired").
func TestFollowEdges(t *testing.T) {
	c := &clock{t: t0.Add(500 * time.Millisecond)}
	ctx := context.Background()
	m := newManager(t, c, fileStore(t, c), mustKey(t, "k1", secretA))
	exp := t0.Add(time.Hour)
	l, tok, err := m.Mint(ctx, links.Request{Caller: "app", Resource: "/ebooks/a.pdf", Filename: "A.pdf", Note: "n", Expires: exp.Add(900 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Expires.Equal(exp) || !l.Created.Equal(t0) {
		t.Errorf("expires %v created %v; want whole seconds %v, %v", l.Expires, l.Created, exp, t0)
	}
	for _, e := range []struct {
		at   time.Time
		want error
	}{
		{exp.Add(-time.Second), nil},
		{exp.Add(-time.Nanosecond), nil},
		{exp, links.ErrExpired},
		{exp.Add(time.Second), links.ErrExpired},
	} {
		c.t = e.at
		if _, err := m.Follow(ctx, tok); !errors.Is(err, e.want) || (e.want == nil && err != nil) {
			t.Errorf("at %v: %v, want %v", e.at, err, e.want)
		}
	}
	b, _ := base64.RawURLEncoding.DecodeString(tok)
	b[len(b)-40] ^= 1
	if _, err := m.Follow(ctx, base64.RawURLEncoding.EncodeToString(b)); errors.Is(err, links.ErrExpired) || err == nil {
		t.Errorf("a tampered expired token: %v; want malformed or bad MAC", err)
	}

	c.t = t0
	for _, r := range []struct {
		name string
		req  links.Request
		want error
	}{
		{"now", links.Request{Caller: "app", Resource: "/a", Expires: t0}, links.ErrExpiry},
		{"past", links.Request{Caller: "app", Resource: "/a", Expires: t0.Add(-time.Hour)}, links.ErrExpiry},
		{"just past the longest", links.Request{Caller: "app", Resource: "/a", Expires: t0.Add(links.DefaultMaxTTL + time.Second)}, links.ErrExpiry},
		{"the longest", links.Request{Caller: "app", Resource: "/a", Expires: t0.Add(links.DefaultMaxTTL)}, nil},
		{"default", links.Request{Caller: "app", Resource: "/a"}, nil},
		{"long note", links.Request{Caller: "app", Resource: "/a", Note: strings.Repeat("n", links.MaxNoteLength+1)}, links.ErrTooLong},
		{"long resource", links.Request{Caller: "app", Resource: "/" + strings.Repeat("r", 1600)}, links.ErrTooLong},
	} {
		l, _, err := m.Mint(ctx, r.req)
		if !errors.Is(err, r.want) || (r.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", r.name, err, r.want)
		}
		if r.name == "default" && err == nil && !l.Expires.Equal(t0.Add(links.DefaultTTL)) {
			t.Errorf("default expiry %v", l.Expires)
		}
	}
}

// TestParseRoundTrip: what Mint encodes, ParseToken decodes.
func TestParseRoundTrip(t *testing.T) {
	c := &clock{t: t0}
	m := newManager(t, c, fileStore(t, c), mustKey(t, "key_2-B", secretA))
	l, tok, err := m.Mint(context.Background(), links.Request{Caller: "ebook-store", Resource: "https://media.example.test/ebooks/é.pdf", Filename: "Ré.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := links.ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := links.Claims{ID: l.ID, KeyID: "key_2-B", Caller: "ebook-store", Resource: "https://media.example.test/ebooks/é.pdf", Filename: "Ré.pdf", Expires: l.Expires}
	if got != want {
		t.Errorf("ParseToken = %+v, want %+v", got, want)
	}
	if !links.ValidID(l.ID) || links.ValidID("l-short") {
		t.Error("ValidID")
	}
}
