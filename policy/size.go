package policy

import (
	"errors"
	"fmt"
)

// CloudFront and browser size limits that a signed URL or cookie must fit.
const (
	// MaxURLLength is CloudFront's limit on a request URL, in bytes.
	MaxURLLength = 8192
	// MaxCookieSize is what browsers reliably keep for one cookie: name,
	// value and attributes together (RFC 6265 §6.1 asks for at least 4096).
	MaxCookieSize = 4096
)

// ErrTooLarge is returned by CheckURL and CheckCookie.
var ErrTooLarge = errors.New("policy: too large")

// CheckURL returns an error wrapping ErrTooLarge when a signed URL is longer
// than CloudFront accepts. A custom policy travels base64-encoded inside the
// URL, so a long resource costs about twice its length.
func CheckURL(signedURL string) error {
	if n := len(signedURL); n > MaxURLLength {
		return fmt.Errorf("%w: signed URL is %d bytes, CloudFront accepts at most %d; shorten the resource or use a canned policy", ErrTooLarge, n, MaxURLLength)
	}
	return nil
}

// CheckCookie returns an error wrapping ErrTooLarge when a Set-Cookie line
// (without the "Set-Cookie: " prefix) is larger than browsers keep.
func CheckCookie(name string, setCookie string) error {
	if n := len(setCookie); n > MaxCookieSize {
		return fmt.Errorf("%w: cookie %s is %d bytes, browsers keep at most %d; shorten the resource", ErrTooLarge, name, n, MaxCookieSize)
	}
	return nil
}
