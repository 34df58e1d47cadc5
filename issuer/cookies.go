package issuer

import (
	"context"
	"crypto"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// CloudFront's signed-cookie names (the policy package owns the wire
// format).
const (
	CookiePolicy    = policy.CookiePolicy
	CookieExpires   = policy.CookieExpires
	CookieSignature = policy.CookieSignature
	CookieKeyPairID = policy.CookieKeyPairID
	CookieHash      = policy.CookieHash
)

// CookieRequest describes a set of signed cookies.
type CookieRequest struct {
	// Resource is what the cookies grant: one URL (canned or custom), or a
	// wildcard resource such as https://media.example.com/courses/go-101/*
	// (custom), percent-encoded as viewers send it. In a resource with '*'
	// (or any custom policy) '?' is a wildcard too; in a single URL it starts
	// the query.
	Resource  string
	Expires   time.Time
	NotBefore time.Time
	SourceIP  netip.Prefix
	// Custom forces a custom policy (CloudFront-Policy). Wildcards,
	// NotBefore and SourceIP imply it; otherwise the policy is canned
	// (CloudFront-Expires).
	Custom bool
	Hash   crypto.Hash // as in URLRequest

	// Cookie attributes. Secure and HttpOnly are always set.
	Domain   string        // empty: a host-only cookie for the host that sets it
	Path     string        // the granted prefix, such as /courses/go-101/; empty: "/"
	SameSite http.SameSite // zero: Lax
	// Persistent adds Expires and Max-Age (up to the policy's expiry) to
	// the cookies. AWS recommends session cookies, which is the default.
	Persistent bool
	// Now is used only with Persistent, to compute Max-Age.
	Now time.Time
}

// SignedCookies is a set of signed cookies and what they grant.
type SignedCookies struct {
	Cookies []*http.Cookie // bearer credentials: never log their values
	Policy  policy.Policy
	KeyID   string
	Hash    crypto.Hash
}

// SignCookies signs cookies with s: CloudFront-Expires (canned) or
// CloudFront-Policy (custom), CloudFront-Signature, CloudFront-Key-Pair-Id,
// and CloudFront-Hash-Algorithm=SHA256 when the hash is SHA-256. Each
// cookie, with its attributes, must fit policy.MaxCookieSize.
func SignCookies(ctx context.Context, s keys.Signer, r CookieRequest) (*SignedCookies, error) {
	if s == nil {
		return nil, ErrNoSigner
	}
	if r.Resource == "" {
		return nil, policy.ErrNoResource
	}
	// A canned policy when the resource is one concrete URL (where '?'
	// starts the query) and nothing else is asked; otherwise a custom
	// policy, where '*' and '?' are wildcards.
	p := policy.Policy{Kind: policy.Canned, Expires: r.Expires, NotBefore: r.NotBefore, SourceIP: r.SourceIP}
	var err error
	if r.Custom || strings.Contains(r.Resource, "*") || !r.NotBefore.IsZero() || r.SourceIP.IsValid() {
		p.Kind = policy.Custom
		p.Resource, err = policy.CanonicalResource(r.Resource)
	} else {
		p.Resource, err = policy.CanonicalURL(r.Resource)
	}
	if err != nil {
		return nil, err
	}
	hash, err := hashFor(s, r.Hash)
	if err != nil {
		return nil, err
	}
	sig, encPolicy, err := signPolicy(ctx, s, p, hash)
	if err != nil {
		return nil, err
	}

	path := r.Path
	if path == "" {
		path = "/"
	}
	sameSite := r.SameSite
	if sameSite == 0 || sameSite == http.SameSiteDefaultMode {
		sameSite = http.SameSiteLaxMode
	}
	mk := func(name, value string) *http.Cookie {
		c := &http.Cookie{
			Name: name, Value: value, Domain: r.Domain, Path: path,
			Secure: true, HttpOnly: true, SameSite: sameSite,
		}
		if r.Persistent {
			c.Expires = p.Expires
			c.MaxAge = max(int(p.Expires.Sub(r.Now)/time.Second), 1)
		}
		return c
	}
	var cookies []*http.Cookie
	if p.Kind == policy.Canned {
		cookies = append(cookies, mk(CookieExpires, strconv.FormatInt(p.Expires.Unix(), 10)))
	} else {
		cookies = append(cookies, mk(CookiePolicy, string(encPolicy)))
	}
	cookies = append(cookies, mk(CookieSignature, string(sig)), mk(CookieKeyPairID, s.KeyID()))
	if hash == crypto.SHA256 {
		cookies = append(cookies, mk(CookieHash, policy.SHA256))
	}
	for _, c := range cookies {
		if err := c.Valid(); err != nil {
			return nil, fmt.Errorf("issuer: cookie %s: invalid attribute: %w", c.Name, err)
		}
		if err := policy.CheckCookie(c.Name, c.String()); err != nil {
			return nil, err
		}
	}
	return &SignedCookies{Cookies: cookies, Policy: p, KeyID: s.KeyID(), Hash: hash}, nil
}
