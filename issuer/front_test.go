package issuer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/keys"
)

// TestFrontCacheAnswersAsFullPath issues each grant twice on one issuer (the
// second from the front cache) and once on a fresh issuer with the same key
// and clock: all three must carry the same credential and grant, apart from
// the grant ID and the cache flag.
func TestFrontCacheAnswersAsFullPath(t *testing.T) {
	ctx := context.Background()
	nb := t0.Add(-time.Minute)
	urls := []URLGrant{
		{Path: "/ebooks/intro.pdf"},
		{Path: "/ebooks/intro.pdf?lang=en"},
		{Resource: "https://media.example.test/ebooks/intro.pdf"},
		{Path: "/ebooks/intro.pdf", Filename: "Intro – Go.pdf"},
		{Path: "/live/feed.m3u8", ClientIP: "192.0.2.7"},
		{Path: "/live/feed.m3u8", ClientIP: "192.0.2.0/24", NotBefore: nb},
		{Path: "/other/page.html"},
	}
	cookies := []CookieGrant{
		{PathPrefix: "/courses/go-101/"},
		{ResourcePattern: "https://media.example.test/courses/go-1??/*"},
	}
	for _, k := range []struct{ file, id string }{{"rsa2048.pem", "KRSA"}, {"ec-p256.pem", "KECDSA"}} {
		c := &clock{t: t0.Add(7 * time.Second)}
		is := newIssuer(t, c, ring(t, keys.RingKey{Signer: signer(t, k.file, k.id)}), nil)
		fresh := func() *Issuer { return newIssuer(t, c, ring(t, keys.RingKey{Signer: signer(t, k.file, k.id)}), nil) }
		for _, g := range urls {
			first, err := is.URL(ctx, nil, g)
			if err != nil {
				t.Fatalf("%s %+v: %v", k.id, g, err)
			}
			hit, err := is.URL(ctx, nil, g)
			if err != nil {
				t.Fatal(err)
			}
			full, err := fresh().URL(ctx, nil, g)
			if err != nil {
				t.Fatal(err)
			}
			if !hit.CacheHit || hit.ID != first.ID { // the grant ID names the credential
				t.Errorf("%s %+v: repeat: hit %v, grant IDs %s and %s", k.id, g, hit.CacheHit, first.ID, hit.ID)
			}
			if hit.URL != full.URL || hit.URL != first.URL {
				t.Errorf("%s %+v: hit URL\n%s\nwant\n%s", k.id, g, hit.URL, full.URL)
			}
			if a, b := sansID(hit.Grant), sansID(full.Grant); !reflect.DeepEqual(a, b) {
				t.Errorf("%s %+v: hit grant %+v, want %+v", k.id, g, a, b)
			}
		}
		for _, g := range cookies {
			if _, err := is.Cookies(ctx, nil, g); err != nil {
				t.Fatalf("%s %+v: %v", k.id, g, err)
			}
			hit, err := is.Cookies(ctx, nil, g)
			if err != nil {
				t.Fatal(err)
			}
			full, err := fresh().Cookies(ctx, nil, g)
			if err != nil {
				t.Fatal(err)
			}
			if !hit.CacheHit || !reflect.DeepEqual(hit.Cookies, full.Cookies) || !hit.RefreshAfter.Equal(full.RefreshAfter) {
				t.Errorf("%s %+v: hit cookies %v (hit %v), want %v", k.id, g, hit.Cookies, hit.CacheHit, full.Cookies)
			}
			if a, b := sansID(hit.Grant), sansID(full.Grant); !reflect.DeepEqual(a, b) {
				t.Errorf("%s %+v: hit grant %+v, want %+v", k.id, g, a, b)
			}
			// Cookies handed out are the caller's own.
			hit.Cookies[0].Value, hit.Cookies[0].Path = "changed", "/changed/"
			again, _ := is.Cookies(ctx, nil, g)
			if !reflect.DeepEqual(again.Cookies, full.Cookies) {
				t.Errorf("%s %+v: a caller's change to its cookies reached the cache", k.id, g)
			}
		}
	}
}

func sansID(g Grant) Grant {
	g.ID, g.CacheHit = "", false
	return g
}

// TestFrontCacheChecksCaller: an entry made for one caller is no way around
// another caller's scope or lifetime.
func TestFrontCacheChecksCaller(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: t0}
	is := newIssuer(t, c, ring(t, keys.RingKey{Signer: signer(t, "rsa2048.pem", "KRSA")}), nil)
	sum := sha256.Sum256([]byte("x"))
	shop := &Caller{ID: "shop", SecretSHA256: sum, PathPrefixes: []string{"/ebooks/"}}
	pages := &Caller{ID: "pages", SecretSHA256: sum, PathPrefixes: []string{"/assets/"}}
	courses := &Caller{ID: "courses", SecretSHA256: sum, Behaviors: []string{"courses"}}
	short := &Caller{ID: "short", SecretSHA256: sum, MaxLifetime: time.Hour}
	g := URLGrant{Path: "/ebooks/intro.pdf"}
	if _, err := is.URL(ctx, shop, g); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    *Caller
		want error
	}{{pages, ErrOutOfScope}, {courses, ErrOutOfScope}, {short, ErrLifetime}} {
		if got, err := is.URL(ctx, tc.c, g); !errors.Is(err, tc.want) {
			t.Errorf("caller %s after a cached grant for shop: %v, %v; want %v", tc.c.ID, got, err, tc.want)
		}
	}
	cg := CookieGrant{PathPrefix: "/courses/go-101/"}
	if _, err := is.Cookies(ctx, courses, cg); err != nil {
		t.Fatal(err)
	}
	if _, err := is.Cookies(ctx, shop, cg); !errors.Is(err, ErrOutOfScope) {
		t.Errorf("shop after cached cookies for courses: %v, want ErrOutOfScope", err)
	}
}

// TestFrontCacheFollowsKeysAndState: a cached URL is not served once the
// ring picks another key, nor after Update.
func TestFrontCacheFollowsKeysAndState(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: t0}
	next := t0.Add(10 * time.Minute) // inside the first URL's window
	r := ring(t,
		keys.RingKey{Signer: signer(t, "rsa2048.pem", "KRSA")},
		keys.RingKey{Signer: signer(t, "ec-p256.pem", "KECDSA"), ActivateAt: next})
	var log bytes.Buffer
	is := newIssuer(t, c, r, &log)
	g := URLGrant{Path: "/live/feed.m3u8"} // SHA256: either key can sign
	first, err := is.URL(ctx, nil, g)
	if err != nil || first.KeyID != "KRSA" {
		t.Fatalf("before the new key activates: %v, %v", first, err)
	}
	if hit, _ := is.URL(ctx, nil, g); !hit.CacheHit || hit.URL != first.URL {
		t.Errorf("same instant: hit %v", hit.CacheHit)
	}
	// The ebooks window (1h) spans next; from next on the newer key signs.
	eb := URLGrant{Path: "/ebooks/intro.pdf", Filename: "a.pdf"}
	before, err := is.URL(ctx, nil, eb)
	if err != nil {
		t.Fatal(err)
	}
	c.Set(next)
	after, err := is.URL(ctx, nil, eb)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Expires.Equal(before.Expires) {
		t.Fatalf("test setup: %s and %s are in different windows", before.Expires, after.Expires)
	}
	if before.KeyID != "KRSA" || after.KeyID != "KECDSA" || after.URL == before.URL || after.CacheHit {
		t.Errorf("key change in the window: %s then %s (hit %v)", before.KeyID, after.KeyID, after.CacheHit)
	}
	if !strings.Contains(log.String(), after.ID) || !strings.Contains(log.String(), before.ID) {
		t.Error("an issuance was not logged")
	}

	// A hit logs its own line with its grant ID.
	hit, _ := is.URL(ctx, nil, eb)
	if !hit.CacheHit || !strings.Contains(log.String(), `"grant_id":"`+hit.ID+`"`) ||
		!strings.Contains(log.String(), `"cache_hit":true`) {
		t.Errorf("hit %v not logged with its grant ID %s", hit.CacheHit, hit.ID)
	}

	// Update swaps the state: nothing cached survives it.
	if err := is.Update(ring(t, keys.RingKey{Signer: signer(t, "rsa2048.pem", "KRSA")}), behaviors(t)); err != nil {
		t.Fatal(err)
	}
	got, err := is.URL(ctx, nil, eb)
	if err != nil || got.KeyID != "KRSA" || got.CacheHit {
		t.Errorf("after Update: %v, %v", got, err)
	}
}
