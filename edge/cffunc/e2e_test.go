package cffunc_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/edge/cffunc"
	"github.com/cfissuer/cfissuer/internal/denylist"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
	"github.com/cfissuer/cfissuer/terraform/functions"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestRevocationThroughEdge: the issuer, the deny list and the local edge
// running the shipped function share one clock and one store. Revoking a
// grant denies its URL and its cookies at the next request while another
// grant for the same resource still works; revoking a subject denies all
// of its grants; past the entry's time the entry is swept from the store.
func TestRevocationThroughEdge(t *testing.T) {
	f, err := os.Open("../../examples/behaviors.json")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := policy.ParseBehaviors(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)}
	signer, err := keys.File{Path: "../../testdata/keys/rsa2048.pem", KeyID: "KRSA"}.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	longest := issuer.LongestLifetime(bs)
	ring, err := keys.NewRing([]keys.RingKey{{Signer: signer}}, longest)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	is, err := issuer.New(ring, bs, issuer.Options{Now: clk.Now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	store := denylist.NewMemory()
	deny, _ := denylist.New(store, denylist.Options{Now: clk.Now, Logger: quiet})
	fn, err := cffunc.New(functions.Deny, store, cffunc.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	v, err := edge.NewVerifier(bs, []edge.Key{{ID: "KRSA", Public: signer.Public()}}, edge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := edge.NewServer("127.0.0.1:0", v, edge.DirOrigin{FS: edge.SampleContent()}, edge.ServerOptions{Now: clk.Now, Logger: quiet, ViewerRequest: fn.ViewerRequest})
	if err != nil {
		t.Fatal(err)
	}
	if err := ed.Open(); err != nil {
		t.Fatal(err)
	}
	defer ed.Close()

	ctx := context.Background()
	local := func(u string) string { // the viewer origin's URL, sent to the edge
		_, rest, _ := strings.Cut(u, "://")
		return ed.URL() + rest[strings.IndexByte(rest, '/'):]
	}
	get := func(u string, cookies []*http.Cookie) int {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		for _, c := range cookies {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	issueURL := func(subject string) *issuer.IssuedURL {
		u, err := is.URL(ctx, nil, issuer.URLGrant{Path: "/ebooks/intro.pdf", Subject: subject})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	issueCookies := func(subject string) *issuer.IssuedCookies {
		c, err := is.Cookies(ctx, nil, issuer.CookieGrant{PathPrefix: "/courses/go-101/", Subject: subject})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	playlist := ed.URL() + "/courses/go-101/index.m3u8"

	alice, bob, carol := issueURL("alice"), issueURL("bob"), issueURL("carol")
	aliceC, bobC, carolC := issueCookies("alice"), issueCookies("bob"), issueCookies("carol")
	if alice.ID == bob.ID || aliceC.ID == bobC.ID {
		t.Fatalf("two subjects share a grant: %s %s, %s %s", alice.ID, bob.ID, aliceC.ID, bobC.ID)
	}
	if again := issueURL("alice"); again.URL != alice.URL || again.ID != alice.ID {
		t.Errorf("the same subject in the same window got another URL or grant ID")
	}
	for _, u := range []*issuer.IssuedURL{alice, bob, carol} {
		if st := get(local(u.URL), nil); st != 200 {
			t.Fatalf("before any revocation: %s answered %d", u.ID, st)
		}
	}
	for _, c := range []*issuer.IssuedCookies{aliceC, bobC, carolC} {
		if st := get(playlist, c.Cookies); st != 200 {
			t.Fatalf("before any revocation: cookies %s answered %d", c.ID, st)
		}
	}
	// The gid cannot be stripped: the URL without it fails CloudFront's check.
	if st := get(local(strings.Replace(alice.URL, "gid="+alice.ID+"."+policy.SubjectKey("alice")+"&", "", 1)), nil); st != 403 {
		t.Errorf("URL with its gid stripped answered %d, want 403", st)
	}

	until := clk.Now().Add(longest)
	if err := deny.RevokeGrant(ctx, alice.ID, until); err != nil {
		t.Fatal(err)
	}
	if err := deny.RevokeGrant(ctx, aliceC.ID, until); err != nil {
		t.Fatal(err)
	}
	if st := get(local(alice.URL), nil); st != 403 {
		t.Errorf("revoked URL answered %d, want 403", st)
	}
	if st := get(playlist, aliceC.Cookies); st != 403 {
		t.Errorf("revoked cookies answered %d, want 403", st)
	}
	if st := get(local(bob.URL), nil); st != 200 {
		t.Errorf("another grant for the same URL answered %d, want 200", st)
	}
	if st := get(playlist, bobC.Cookies); st != 200 {
		t.Errorf("another grant's cookies for the same course answered %d, want 200", st)
	}

	// A subject: every grant issued for it, URLs and cookies.
	if _, err := deny.RevokeSubject(ctx, "carol", until); err != nil {
		t.Fatal(err)
	}
	if st := get(local(carol.URL), nil); st != 403 {
		t.Errorf("URL of a revoked subject answered %d, want 403", st)
	}
	if st := get(playlist, carolC.Cookies); st != 403 {
		t.Errorf("cookies of a revoked subject answered %d, want 403", st)
	}
	if st := get(local(bob.URL), nil); st != 200 {
		t.Errorf("another subject's URL answered %d after a subject revocation, want 200", st)
	}

	// Past the entries' time: swept from the store.
	clk.add(longest)
	if n, err := deny.Sweep(ctx); err != nil || n != 3 {
		t.Errorf("Sweep = %d, %v; want 3", n, err)
	}
	if all, _ := store.Entries(ctx); len(all) != 0 {
		t.Errorf("store after expiry = %v, want empty", all)
	}
}
