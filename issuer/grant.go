package issuer

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// cacheKey identifies a signature: the same key, hash and exact policy
// bytes always give the same signature for deterministic signers, and
// should give the same URL for the others too (KMS ECDSA), so the cache
// keeps a replica's URLs stable within a window.
type cacheKey struct {
	keyID  string
	hash   crypto.Hash
	policy string
}

// cachingSigner answers Sign from the Issuer's LRU cache, and records
// whether it did. One is made per issuance, around the key the ring picked,
// so SignURL and SignCookies build the credential exactly as they always do.
type cachingSigner struct {
	keys.Signer
	is  *Issuer
	hit bool
}

func (c *cachingSigner) Sign(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error) {
	k := cacheKey{keyID: c.KeyID(), hash: hash, policy: string(message)}
	if sig, ok := c.is.cache.Get(k); ok {
		c.hit = true
		c.is.hits.Add(1)
		return slices.Clone(sig), nil
	}
	c.is.miss.Add(1)
	start := time.Now() // a duration for metrics, not a policy time: the real clock
	sig, err := c.Signer.Sign(ctx, message, hash)
	if c.is.observeSign != nil {
		c.is.observeSign(c.KeyID(), time.Since(start), err)
	}
	if err != nil {
		return nil, err
	}
	c.is.cache.Add(k, slices.Clone(sig))
	return sig, nil
}

// SupportsHash passes on the wrapped signer's restriction, if any.
func (c *cachingSigner) SupportsHash(h crypto.Hash) bool { return keys.CanSign(c.Signer, h) }

// pathOf returns the path and query of a canonical URL or resource.
func pathOf(canon string) string {
	_, rest, _ := strings.Cut(canon, "://")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}

// literalPath returns the part of a resource's path before its first
// wildcard: everything the resource grants starts with it.
func literalPath(canon string) string {
	p := pathOf(canon)
	if i := strings.IndexAny(p, "*?"); i >= 0 {
		return p[:i]
	}
	return p
}

// ErrAmbiguousPath is wrapped by the InputError for a path that origins
// and proxies may read in more than one way.
var ErrAmbiguousPath = errors.New("ambiguous path")

// checkAmbiguous refuses what the policy package lets through but a scope
// check on prefixes should not have to reason about: empty segments ("//",
// which some origins merge) and encoded slashes and backslashes (which some
// origins decode into separators). policy.EncodeKey never produces either.
func checkAmbiguous(path string) error {
	if strings.Contains(path, "//") {
		return fmt.Errorf("%w: empty path segment (\"//\")", ErrAmbiguousPath)
	}
	l := strings.ToLower(path)
	if strings.Contains(l, "%2f") || strings.Contains(l, "%5c") {
		return fmt.Errorf("%w: encoded '/' or '\\' (%%2F, %%5C); write path separators as '/'", ErrAmbiguousPath)
	}
	return nil
}

func cookieResource(bs *policy.Behaviors, g CookieGrant) (res, field string, err error) {
	switch {
	case g.PathPrefix != "" && g.ResourcePattern != "":
		return "", "path_prefix", inputErr("path_prefix", errors.New("give path_prefix or resource_pattern, not both"))
	case g.PathPrefix != "":
		if !strings.HasPrefix(g.PathPrefix, "/") {
			return "", "path_prefix", inputErr("path_prefix", errors.New("must start with '/'"))
		}
		if policy.HasWildcard(g.PathPrefix) {
			return "", "path_prefix", inputErr("path_prefix", errors.New("a prefix holds no '*' or '?'; give a resource_pattern for a wildcard"))
		}
		return bs.ViewerOrigin + g.PathPrefix + "*", "path_prefix", nil
	case g.ResourcePattern != "":
		return g.ResourcePattern, "resource_pattern", nil
	}
	return "", "path_prefix", inputErr("path_prefix", errors.New("path_prefix or resource_pattern is required"))
}

// cookiePath is the cookie Path for a grant: its literal prefix up to the
// last '/', so each grant's cookies are scoped to their prefix.
func cookiePath(literal string) string {
	if i := strings.LastIndexByte(literal, '/'); i >= 0 {
		return literal[:i+1]
	}
	return "/"
}

// checkCookiePath refuses a cookie Path that browsers cannot hold (RFC
// 6265 path-value: no ';', no control or non-ASCII byte), before anything
// is signed; a valid canonical path has none but ';'.
func checkCookiePath(p string) error {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c >= 0x7f || c == ';' {
			return fmt.Errorf("%q cannot be in a cookie Path (the prefix up to its last '/'); percent-encode it as %%%02X", c, c)
		}
	}
	return nil
}

// cookieDomain is the behavior's cookie domain, or the viewer origin's host.
func cookieDomain(bs *policy.Behaviors, b *policy.Behavior) string {
	if b.Cookie.Domain != "" {
		return b.Cookie.Domain
	}
	host := bs.ViewerHost()
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return host
}

func sameSite(s string) http.SameSite {
	switch s {
	case "Strict":
		return http.SameSiteStrictMode
	case "None":
		return http.SameSiteNoneMode
	}
	return http.SameSiteLaxMode
}

// SameSiteName returns "Lax", "Strict" or "None".
func SameSiteName(s http.SameSite) string {
	switch s {
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	}
	return "Lax"
}

func containsString(list []string, s string) bool { return slices.Contains(list, s) }

func hasQueryParam(query, name string) bool {
	for param := range strings.SplitSeq(query, "&") {
		if n, _, _ := strings.Cut(param, "="); n == name {
			return true
		}
	}
	return false
}

// dispositionParam is S3's query parameter that overrides the response's
// Content-Disposition (S3 GetObject; it must be in the behavior's cache key).
const dispositionParam = "response-content-disposition"

// ErrFilename is wrapped by ContentDisposition's errors.
var ErrFilename = errors.New("invalid filename")

// ContentDisposition returns an RFC 6266 attachment disposition that saves
// the download as filename: `attachment; filename="name"` for a plain ASCII
// name, plus `filename*=UTF-8”…` (RFC 8187) when it holds anything else,
// with an ASCII fallback in filename. The name must be valid UTF-8, 1 to 255
// bytes, without control characters or path separators.
func ContentDisposition(filename string) (string, error) {
	switch {
	case filename == "" || len(filename) > 255:
		return "", fmt.Errorf("%w: must be 1 to 255 bytes", ErrFilename)
	case !utf8.ValidString(filename):
		return "", fmt.Errorf("%w: not valid UTF-8", ErrFilename)
	case filename == "." || filename == "..":
		return "", fmt.Errorf("%w: %q is not a file name", ErrFilename, filename)
	case strings.ContainsAny(filename, "/\\"):
		return "", fmt.Errorf("%w: holds a path separator", ErrFilename)
	}
	plain := true
	var fallback strings.Builder
	for _, r := range filename {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return "", fmt.Errorf("%w: holds a control character", ErrFilename)
		case r >= 0x80 || r == '"' || r == '%':
			plain = false
			fallback.WriteByte('_')
		default:
			fallback.WriteRune(r)
		}
	}
	if plain {
		return `attachment; filename="` + filename + `"`, nil
	}
	var ext strings.Builder
	for i := 0; i < len(filename); i++ {
		c := filename[i]
		if isAttrChar(c) {
			ext.WriteByte(c)
		} else {
			fmt.Fprintf(&ext, "%%%02X", c)
		}
	}
	return `attachment; filename="` + fallback.String() + `"; filename*=UTF-8''` + ext.String(), nil
}

// isAttrChar is RFC 8187's attr-char.
func isAttrChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

// queryEscape percent-encodes a query value: unreserved characters stay,
// every other byte becomes %XX (upper-case hex), the form browsers send
// unchanged and policy.CanonicalURL accepts.
func queryEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}
