package issuer

import (
	"context"
	"net/http"
	"time"

	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// The front cache answers a repeat of a request in the same window without
// building anything: it maps what the caller asked (a URLGrant or a
// CookieGrant, as given) to the finished credential. Everything else a
// request depends on is checked on each hit, before the entry is used:
//
//   - the issuer's state (ring and behaviors) is the one the entry was made
//     with (Update swaps it, and purges the cache too);
//   - the caller may be granted the behavior and the path, and its longest
//     lifetime allows the behavior's window;
//   - the behavior's window-aligned expiry at now is the entry's;
//   - the ring still picks the entry's key for that expiry (a key stops
//     signing L before it retires).
//
// When any of these does not hold, the request takes the full path, which
// gives the error or the new credential; errors are never cached. So a hit
// returns exactly what the full path would, with the same grant ID (it
// names the credential, see policy.URLGrantID) and its own log line.

// frontKind tells URL entries from cookie entries in the one front cache.
type frontKind uint8

const (
	frontURL frontKind = iota + 1
	frontCookies
)

// frontKey is a request as the caller made it.
type frontKey struct {
	kind      frontKind
	a, b      string // URLGrant: Path, Resource; CookieGrant: PathPrefix, ResourcePattern
	behavior  string
	filename  string
	clientIP  string
	notBefore time.Time
	subject   string
}

// frontEntry is a finished credential and what a hit must re-check.
type frontEntry struct {
	st     *state
	b      *policy.Behavior
	scope  string // the literal path the caller's prefixes must allow
	signer keys.Signer
	grant  Grant // with CacheHit set
	url    string
	// cookies are copied on each hit: callers get cookies of their own.
	cookies      []http.Cookie
	refreshAfter time.Time
}

func urlFrontKey(g URLGrant) frontKey {
	return frontKey{kind: frontURL, a: g.Path, b: g.Resource, behavior: g.Behavior, filename: g.Filename, clientIP: g.ClientIP, notBefore: g.NotBefore, subject: g.Subject}
}

func cookieFrontKey(g CookieGrant) frontKey {
	return frontKey{kind: frontCookies, a: g.PathPrefix, b: g.ResourcePattern, behavior: g.Behavior, clientIP: g.ClientIP, subject: g.Subject}
}

// lookup returns the entry for k when it holds for caller c at now under
// st, and counts the hit.
func (is *Issuer) lookup(st *state, k frontKey, c *Caller, now time.Time) (*frontEntry, bool) {
	e, ok := is.front.Get(k)
	if !ok || e.st != st {
		return nil, false
	}
	b := e.b
	if !c.allowsBehavior(b.Name) || !c.allowsPath(e.scope) ||
		(c != nil && c.MaxLifetime > 0 && c.MaxLifetime < b.MinValidity()+b.Window) {
		return nil, false // the full path says why
	}
	exp := b.Expiry(now)
	if !exp.Equal(e.grant.Expires) {
		return nil, false
	}
	if s, err := st.ring.Pick(now, exp, explicitHash(b)); err != nil || s != e.signer {
		return nil, false
	}
	is.hits.Add(1)
	return e, true
}

// remember stores a credential the full path issued.
func (is *Issuer) remember(k frontKey, e *frontEntry) {
	e.grant.CacheHit = true
	is.front.Add(k, e)
}

// hitGrant is the grant of a front cache hit, logged as the
// full path logs it. now is the hit's clock reading: with the real clock it
// stamps the log record too (a hit takes about a microsecond), which saves
// reading the clock twice.
func (is *Issuer) hitGrant(ctx context.Context, c *Caller, kind string, e *frontEntry, now time.Time) Grant {
	g := e.grant
	if !is.realClock {
		now = time.Now()
	}
	is.logGrant(ctx, c, kind, &g, now)
	return g
}

// copyCookies returns new cookies with the values of cs.
func copyCookies(cs []http.Cookie) []*http.Cookie {
	vals := make([]http.Cookie, len(cs))
	copy(vals, cs)
	out := make([]*http.Cookie, len(cs))
	for i := range vals {
		out[i] = &vals[i]
	}
	return out
}

// cookieValues copies cookies into one slice for the front cache.
func cookieValues(cs []*http.Cookie) []http.Cookie {
	out := make([]http.Cookie, len(cs))
	for i, c := range cs {
		out[i] = *c
	}
	return out
}
