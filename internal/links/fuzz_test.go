package links_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/cfissuer/cfissuer/internal/links"
)

// FuzzParseToken: no input panics ParseToken or Keyring.Verify; every
// refusal is one of the token errors; anything Verify accepts was minted
// (it equals the seed's bytes), so no forgery is found by mutation.
func FuzzParseToken(f *testing.F) {
	c := &clock{t: t0}
	k := mustKey(f, "k1", secretA)
	store, err := links.OpenFileStore(f.TempDir(), links.FileOptions{Now: c.now})
	if err != nil {
		f.Fatal(err)
	}
	ring, _ := links.NewKeyring(k)
	// A fixed link ID: each fuzzing worker runs this set-up, and all must
	// mint the same token.
	m, err := links.New(ring, store, links.Options{Now: c.now, Logger: slog.New(slog.DiscardHandler), Random: func(b []byte) { clear(b) }})
	if err != nil {
		f.Fatal(err)
	}
	_, tok, err := m.Mint(context.Background(), links.Request{Caller: "app", Resource: "/ebooks/a.pdf", Filename: "A.pdf"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(tok[:len(tok)-1])
	f.Add("")
	f.Add("AQJrMQ")
	f.Fuzz(func(t *testing.T, s string) {
		claims, perr := links.ParseToken(s)
		if perr != nil && !errors.Is(perr, links.ErrMalformed) {
			t.Fatalf("ParseToken error %v is not ErrMalformed", perr)
		}
		got, err := ring.Verify(s)
		switch {
		case err == nil:
			if s != tok {
				t.Fatalf("Verify accepted a token that was never minted: %q (%+v)", s, got)
			}
			if perr != nil || got != claims {
				t.Fatalf("Verify and ParseToken disagree: %+v / %+v, %v", got, claims, perr)
			}
		case errors.Is(err, links.ErrMalformed), errors.Is(err, links.ErrUnknownKey), errors.Is(err, links.ErrBadMAC):
			if bytes.Contains([]byte(err.Error()), []byte(s)) && len(s) > 8 {
				t.Fatalf("the error repeats the token: %v", err)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}
