// Package linkstest is the conformance suite every links.Store must pass
// (the file store and the DynamoDB store), in the manner of go-cloud's
// drivertest.
//
// What every store must do:
//
//   - Create then Get returns the link field for field (times to the
//     second); Get of an unknown ID is links.ErrNotFound; Create of a taken
//     ID is links.ErrExists and leaves the first link as it was;
//   - Revoke sets the revocation time, a second Revoke keeps the first
//     time, and Revoke of an unknown ID is links.ErrNotFound;
//   - what Create and Revoke reported is durable: a reopened store (a
//     restart, or another replica) sees every link and every revocation;
//   - concurrent Creates, Revokes and Gets lose no revocation (run with
//     -race), also across replicas when the store supports them;
//   - a cancelled context makes Create fail and store nothing.
package linkstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/internal/links"
)

// A Harness is one store under test.
type Harness struct {
	// Store is the store under test, empty.
	Store links.Store
	// Reopen returns another store on the same durable state: after a
	// restart of the process (the file store: call it only once Store is
	// no longer used) or in another replica (the DynamoDB store).
	Reopen func(t *testing.T) links.Store
	// Replicas is true when a reopened store may be used at the same time
	// as Store (the DynamoDB store, not the file store).
	Replicas bool
}

// RunConformance runs the suite, one fresh harness per subtest.
func RunConformance(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("CreateGet", func(t *testing.T) { testCreateGet(t, newHarness(t)) })
	t.Run("Revoke", func(t *testing.T) { testRevoke(t, newHarness(t)) })
	t.Run("Durable", func(t *testing.T) { testDurable(t, newHarness(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newHarness(t)) })
	t.Run("Cancelled", func(t *testing.T) { testCancelled(t, newHarness(t)) })
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Link returns a test link with every field set; n makes its ID unique.
func Link(n int) links.Link {
	return links.Link{
		ID:       fmt.Sprintf("l-%026d", n), // the stores do not check the form of IDs
		Caller:   "books",
		Resource: fmt.Sprintf("/ebooks/book-%d.pdf", n),
		Filename: "Book é.pdf",
		Note:     "newsletter #12",
		KeyID:    "k1",
		Created:  t0,
		Expires:  t0.Add(30 * 24 * time.Hour),
	}
}

func equal(a, b links.Link) bool {
	return a.ID == b.ID && a.Caller == b.Caller && a.Resource == b.Resource && a.Filename == b.Filename &&
		a.Note == b.Note && a.KeyID == b.KeyID && a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) &&
		a.Revoked.Equal(b.Revoked)
}

func testCreateGet(t *testing.T, h Harness) {
	ctx := context.Background()
	want := Link(1)
	if err := h.Store.Create(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := h.Store.Get(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(got, want) {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	bare := Link(2)
	bare.Filename, bare.Note = "", ""
	if err := h.Store.Create(ctx, bare); err != nil {
		t.Fatal(err)
	}
	if got, err := h.Store.Get(ctx, bare.ID); err != nil || !equal(got, bare) {
		t.Errorf("Get without filename and note = %+v, %v; want %+v", got, err, bare)
	}
	if _, err := h.Store.Get(ctx, Link(3).ID); !errors.Is(err, links.ErrNotFound) {
		t.Errorf("Get of an unknown ID: %v, want ErrNotFound", err)
	}
	other := Link(1)
	other.Caller, other.Resource = "intruder", "/ebooks/other.pdf"
	if err := h.Store.Create(ctx, other); !errors.Is(err, links.ErrExists) {
		t.Errorf("Create of a taken ID: %v, want ErrExists", err)
	}
	if got, _ := h.Store.Get(ctx, want.ID); !equal(got, want) {
		t.Errorf("after a refused Create, Get = %+v, want %+v", got, want)
	}
}

func testRevoke(t *testing.T, h Harness) {
	ctx := context.Background()
	l := Link(1)
	if err := h.Store.Create(ctx, l); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	got, err := h.Store.Revoke(ctx, l.ID, at)
	if err != nil {
		t.Fatal(err)
	}
	l.Revoked = at
	if !equal(got, l) {
		t.Errorf("Revoke = %+v, want %+v", got, l)
	}
	if got, err := h.Store.Revoke(ctx, l.ID, at.Add(time.Hour)); err != nil || !got.Revoked.Equal(at) {
		t.Errorf("second Revoke = %v, %v; want the first time %v kept", got.Revoked, err, at)
	}
	if got, err := h.Store.Get(ctx, l.ID); err != nil || !equal(got, l) {
		t.Errorf("Get after Revoke = %+v, %v; want %+v", got, err, l)
	}
	if _, err := h.Store.Revoke(ctx, Link(9).ID, at); !errors.Is(err, links.ErrNotFound) {
		t.Errorf("Revoke of an unknown ID: %v, want ErrNotFound", err)
	}
	if _, err := h.Store.Get(ctx, Link(9).ID); !errors.Is(err, links.ErrNotFound) {
		t.Errorf("Revoke of an unknown ID created it: Get = %v", err)
	}
}

func testDurable(t *testing.T, h Harness) {
	ctx := context.Background()
	a, b := Link(1), Link(2)
	for _, l := range []links.Link{a, b} {
		if err := h.Store.Create(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.Add(time.Minute)
	if _, err := h.Store.Revoke(ctx, a.ID, at); err != nil {
		t.Fatal(err)
	}
	a.Revoked = at
	s := h.Reopen(t)
	for _, want := range []links.Link{a, b} {
		if got, err := s.Get(ctx, want.ID); err != nil || !equal(got, want) {
			t.Errorf("reopened Get(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
}

// testConcurrent creates n links, then revokes each while other goroutines
// follow (Get) them and create more; every revocation must survive.
func testConcurrent(t *testing.T, h Harness) {
	ctx := context.Background()
	const n = 40
	for i := range n {
		if err := h.Store.Create(ctx, Link(i)); err != nil {
			t.Fatal(err)
		}
	}
	stores := []links.Store{h.Store}
	if h.Replicas {
		stores = append(stores, h.Reopen(t))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for i := range n {
		s := stores[i%len(stores)]
		wg.Add(3)
		go func() {
			defer wg.Done()
			if _, err := s.Revoke(ctx, Link(i).ID, t0.Add(time.Duration(i)*time.Second)); err != nil {
				errs <- fmt.Errorf("Revoke %d: %w", i, err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := stores[(i+1)%len(stores)].Get(ctx, Link(i).ID); err != nil {
				errs <- fmt.Errorf("Get %d: %w", i, err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := s.Create(ctx, Link(n+i)); err != nil {
				errs <- fmt.Errorf("Create %d: %w", n+i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	check := func(what string, s links.Store) {
		t.Helper()
		for i := range n {
			got, err := s.Get(ctx, Link(i).ID)
			if err != nil || !got.Revoked.Equal(t0.Add(time.Duration(i)*time.Second)) {
				t.Errorf("%s: link %d: revoked %v, %v; want revoked at %v", what, i, got.Revoked, err, t0.Add(time.Duration(i)*time.Second))
			}
			if got, err := s.Get(ctx, Link(n+i).ID); err != nil || !got.Revoked.IsZero() {
				t.Errorf("%s: link %d created concurrently: %+v, %v", what, n+i, got, err)
			}
		}
	}
	check("same store", h.Store)
	check("reopened", h.Reopen(t))
}

func testCancelled(t *testing.T, h Harness) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Store.Create(ctx, Link(1)); err == nil {
		t.Error("Create with a cancelled context succeeded")
	}
	if _, err := h.Store.Get(context.Background(), Link(1).ID); !errors.Is(err, links.ErrNotFound) {
		t.Errorf("after a cancelled Create, Get = %v; want ErrNotFound", err)
	}
}
