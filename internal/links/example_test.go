package links_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/cfissuer/cfissuer/internal/links"
)

func Example() {
	dir, _ := os.MkdirTemp("", "links")
	defer os.RemoveAll(dir)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	key, _ := links.ParseKey("k1", []byte("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==\n"), "example")
	ring, _ := links.NewKeyring(key)
	store, _ := links.OpenFileStore(dir, links.FileOptions{Now: clock})
	m, _ := links.New(ring, store, links.Options{Now: clock, Logger: slog.New(slog.DiscardHandler)})
	ctx := context.Background()

	l, token, _ := m.Mint(ctx, links.Request{Caller: "ebook-store", Resource: "/ebooks/intro.pdf", Expires: now.Add(30 * 24 * time.Hour)})
	// Serve <issuer>/l/{token}; following it:
	got, err := m.Follow(ctx, token)
	fmt.Println(got.Resource, got.State(now), err)

	m.Revoke(ctx, "ebook-store", l.ID)
	_, err = m.Follow(ctx, token)
	fmt.Println(err)
	// Output:
	// /ebooks/intro.pdf active <nil>
	// links: link revoked
}
