package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Errors returned by EncodeKey, CanonicalURL and CanonicalResource. A
// returned error wraps one of them (test with errors.Is) and says where in
// the input the problem is.
var (
	ErrEmptyKey      = errors.New("policy: object key is empty")
	ErrInvalidUTF8   = errors.New("policy: object key is not valid UTF-8")
	ErrDotSegment    = errors.New(`policy: "." and ".." path segments are resolved by browsers before the request is sent, so a URL holding one cannot be requested as signed`)
	ErrScheme        = errors.New("policy: resource must start with http://, https:// or http*://")
	ErrHost          = errors.New("policy: resource has no valid host")
	ErrCharacter     = errors.New("policy: character not allowed in a resource")
	ErrPercent       = errors.New("policy: malformed percent-escape")
	ErrReservedQuery = errors.New("policy: query parameter name is reserved for CloudFront's signing parameters")
	ErrWildcardInURL = errors.New("policy: a URL to request cannot hold a wildcard")
	ErrFragment      = errors.New("policy: resource has a fragment ('#'); browsers never send it")
)

// EncodeKey percent-encodes an S3 object key into the path segment(s) a
// browser will request, without the leading '/'. Unreserved characters
// (A–Z a–z 0–9 - . _ ~) and '/' stay as they are; every other byte of the
// key's UTF-8 form becomes %XX with upper-case hex. '*' and '?' are encoded
// too, so a key never turns into a wildcard. url.PathUnescape of the result
// gives the key back.
//
// Keys that are empty, not UTF-8, or that hold a "." or ".." segment are
// refused: browsers resolve dot segments (also written %2e) before sending,
// so such an object cannot be requested as signed.
func EncodeKey(key string) (string, error) {
	if key == "" {
		return "", ErrEmptyKey
	}
	if !utf8.ValidString(key) {
		return "", ErrInvalidUTF8
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "." || seg == ".." {
			return "", fmt.Errorf("%w: key %q", ErrDotSegment, key)
		}
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key) + len(key)/4)
	for i := 0; i < len(key); i++ {
		c := key[i]
		if isUnreserved(c) || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String(), nil
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// CanonicalURL validates a URL that is already percent-encoded exactly as a
// browser will send it, and returns it in canonical form. The only changes
// are the ones every browser makes before sending: the scheme and host are
// lower-cased and a default port (:443 for https, :80 for http) is dropped.
// Percent-escapes are left alone (%28 stays %28); the function is
// idempotent.
//
// Refused, each with an error that says what to change: a scheme other than
// http or https; a missing host; a path that does not start with '/';
// '"', '\', '<', '>', '^', '`', '{', '|', '}', spaces, control characters,
// non-ASCII and '#' (percent-encode them); a malformed %-escape; dot segments,
// raw or percent-encoded; '*' (a URL to request has no wildcards: encode a
// literal '*' as %2A, or sign a custom-policy resource); and query parameters
// named like CloudFront's signing parameters.
func CanonicalURL(u string) (string, error) {
	scheme, rest, err := splitScheme(u, false)
	if err != nil {
		return "", err
	}
	host, pathQuery, err := splitHost(rest, scheme)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(host, "*?") {
		return "", fmt.Errorf("%w: wildcard in the host", ErrWildcardInURL)
	}
	if pathQuery == "" {
		pathQuery = "/"
	}
	if pathQuery[0] != '/' {
		return "", fmt.Errorf("%w: the path must start with '/' after the host", ErrCharacter)
	}
	if i := strings.IndexByte(pathQuery, '*'); i >= 0 {
		return "", fmt.Errorf("%w: '*' at offset %d of the path; encode a literal '*' as %%2A, or use a custom policy for a wildcard", ErrWildcardInURL, i)
	}
	path, query, _ := strings.Cut(pathQuery, "?")
	if err := checkChars(path, "path", false); err != nil {
		return "", err
	}
	if err := checkDotSegments(path); err != nil {
		return "", err
	}
	if strings.Contains(pathQuery, "?") {
		if query == "" {
			// An empty query: browsers send "…/a?", but once signing
			// parameters follow it ("…/a?&Expires=…") the URL CloudFront
			// rebuilds would not be the one signed. Drop the '?'.
			pathQuery = path
		} else {
			if err := checkChars(query, "query", false); err != nil {
				return "", err
			}
			if err := checkReserved(query); err != nil {
				return "", err
			}
			if strings.HasPrefix(query, "&") || strings.HasSuffix(query, "&") || strings.Contains(query, "&&") {
				return "", fmt.Errorf("%w: empty query parameter (a leading, trailing or doubled '&'); remove it", ErrCharacter)
			}
		}
	}
	return joinURL(u, scheme, host, pathQuery), nil
}

// joinURL returns scheme://host + pathQuery, which is u itself when u is
// already canonical: no copy then.
func joinURL(u, scheme, host, pathQuery string) string {
	if n := len(scheme) + len("://") + len(host); len(u) == n+len(pathQuery) &&
		u[:len(scheme)] == scheme && u[len(scheme):len(scheme)+len("://")] == "://" &&
		u[n-len(host):n] == host && u[n:] == pathQuery {
		return u
	}
	return scheme + "://" + host + pathQuery
}

// CanonicalResource validates the Resource of a custom policy, which may
// hold the wildcards '*' (zero or more characters) and '?' (exactly one),
// anywhere after the scheme. The scheme may be http, https or the wildcard
// scheme http*. It applies the same character rules as CanonicalURL to the
// rest, lower-cases the scheme and host, and refuses dot segments in the
// path.
//
// Because '?' is a wildcard in a resource, the query part of a resource
// starts at the first '?' only by convention; reserved query names are
// refused wherever they appear after one.
func CanonicalResource(r string) (string, error) {
	scheme, rest, err := splitScheme(r, true)
	if err != nil {
		return "", err
	}
	host, pathQuery, err := splitHost(rest, scheme)
	if err != nil {
		return "", err
	}
	if pathQuery != "" && pathQuery[0] != '/' && pathQuery[0] != '*' {
		return "", fmt.Errorf("%w: the path must start with '/' (or '*') after the host", ErrCharacter)
	}
	if err := checkChars(pathQuery, "resource", true); err != nil {
		return "", err
	}
	path, query, hasQuery := strings.Cut(pathQuery, "?")
	if err := checkDotSegments(path); err != nil {
		return "", err
	}
	if hasQuery {
		if err := checkReserved(query); err != nil {
			return "", err
		}
	}
	return scheme + "://" + host + pathQuery, nil
}

func splitScheme(u string, wildcard bool) (scheme, rest string, err error) {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "", "", fmt.Errorf("%w: got %q", ErrScheme, truncate(u))
	}
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "http", "https":
	case "http*":
		if !wildcard {
			return "", "", fmt.Errorf("%w: the wildcard scheme http* is only for custom-policy resources", ErrScheme)
		}
	default:
		return "", "", fmt.Errorf("%w: got scheme %q", ErrScheme, truncate(scheme))
	}
	return scheme, rest, nil
}

// splitHost splits "host[:port]/path?query" and normalises the host. The
// host is left exactly as written apart from case and a default port; it
// may hold wildcards in a resource.
func splitHost(rest, scheme string) (host, pathQuery string, err error) {
	i := strings.IndexAny(rest, "/?#")
	if i < 0 {
		i = len(rest)
	}
	host, pathQuery = rest[:i], rest[i:]
	if host == "" {
		return "", "", ErrHost
	}
	if strings.Contains(pathQuery, "#") || strings.Contains(host, "#") {
		return "", "", ErrFragment
	}
	host = strings.ToLower(host)
	name, port, hasPort := strings.Cut(host, ":")
	if name == "" {
		return "", "", fmt.Errorf("%w: empty host name", ErrHost)
	}
	for j := 0; j < len(name); j++ {
		if c := name[j]; !(isUnreserved(c) || c == '*' || c == '?') {
			return "", "", fmt.Errorf("%w: character %q in the host; hosts with unicode must be written in punycode (xn--…)", ErrHost, c)
		}
	}
	if hasPort {
		if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return "", "", fmt.Errorf("%w: invalid port %q", ErrHost, port)
		}
		if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
			host = name
		}
	}
	return host, pathQuery, nil
}

// checkChars accepts printable ASCII other than the characters browsers
// re-encode or that CloudFront signers refuse, and well-formed %-escapes.
func checkChars(s, where string, wildcards bool) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: control character 0x%02x at offset %d of the %s", ErrCharacter, c, i, where)
		case c >= 0x80:
			return fmt.Errorf("%w: non-ASCII byte at offset %d of the %s; percent-encode its UTF-8 bytes", ErrCharacter, i, where)
		case strings.IndexByte(" \"\\<>^`{|}", c) >= 0:
			return fmt.Errorf("%w: %q at offset %d of the %s; percent-encode it as %%%02X", ErrCharacter, c, i, where, c)
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return fmt.Errorf("%w: at offset %d of the %s; write a literal '%%' as %%25", ErrPercent, i, where)
			}
		case c == '*' && !wildcards:
			return fmt.Errorf("%w: '*' at offset %d of the %s", ErrWildcardInURL, i, where)
		}
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// checkDotSegments refuses "." and ".." path segments, raw or written with
// %2e, which browsers resolve (WHATWG URL standard) before sending.
func checkDotSegments(path string) error {
	for seg := range strings.SplitSeq(path, "/") {
		if isDotSegment(seg) {
			return fmt.Errorf("%w: segment %q", ErrDotSegment, seg)
		}
	}
	return nil
}

func isDotSegment(seg string) bool {
	s := strings.ReplaceAll(strings.ToLower(seg), "%2e", ".")
	return s == "." || s == ".."
}

func checkReserved(query string) error {
	for param := range strings.SplitSeq(query, "&") {
		name, _, _ := strings.Cut(param, "=")
		for _, r := range ReservedQueryNames {
			if name == r {
				return fmt.Errorf("%w: %q; rename your parameter", ErrReservedQuery, name)
			}
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
