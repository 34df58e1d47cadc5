package edge

import (
	"crypto"
	"errors"

	"github.com/cfissuer/cfissuer/policy"
)

// Code is the error code CloudFront puts in the XML body of a 403.
type Code string

// The codes CloudFront answers a failed signed request with (CLOUDFRONT.md
// §5).
const (
	MissingKey         Code = "MissingKey"
	InvalidKey         Code = "InvalidKey"
	MalformedSignature Code = "MalformedSignature"
	MalformedPolicy    Code = "MalformedPolicy"
	AccessDenied       Code = "AccessDenied"
)

// Message returns the message CloudFront sends with the code.
func (c Code) Message() string {
	switch c {
	case MissingKey:
		return "Missing Key-Pair-Id query parameter or cookie value"
	case InvalidKey:
		return "Unknown Key"
	case MalformedSignature:
		return "Could not unencode Signature"
	case MalformedPolicy:
		return "Malformed Policy"
	default:
		return "Access denied"
	}
}

// The precise reasons for a denial. A Denial wraps exactly one of them: test
// with errors.Is. They say what is wrong; Denial.Detail says with which
// values.
var (
	// MissingKey.
	ErrNoKeyPairID = errors.New("edge: no Key-Pair-Id query parameter or CloudFront-Key-Pair-Id cookie")
	// InvalidKey.
	ErrUnknownKey = errors.New("edge: the key ID is not in the behavior's trusted key groups")
	// MalformedSignature.
	ErrNoSignature       = errors.New("edge: no Signature")
	ErrSignatureEncoding = errors.New("edge: the Signature is not CloudFront base64")
	// MalformedPolicy.
	ErrNoPolicy        = errors.New("edge: neither a Policy nor an Expires value")
	ErrPolicyMalformed = errors.New("edge: the Policy does not decode to a policy CloudFront accepts")
	ErrExpiresValue    = errors.New("edge: the canned Expires value is not whole seconds within CloudFront's epoch range")
	ErrDuplicate       = errors.New("edge: a signing parameter is given more than once")
	// AccessDenied.
	ErrHashAlgorithm  = errors.New("edge: unknown Hash-Algorithm (CloudFront knows SHA1 and SHA256)")
	ErrSignature      = errors.New("edge: the signature does not verify")
	ErrWrongHash      = errors.New("edge: the signature verifies only with the other hash: Hash-Algorithm is missing or wrong")
	ErrWrongKey       = errors.New("edge: the signature verifies only with another trusted key than Key-Pair-Id names")
	ErrCannedWildcard = errors.New("edge: the signature is over a canned policy with a wildcard; a canned policy covers exactly one URL")
	ErrExpired        = errors.New("edge: the policy has expired")
	ErrNotYetValid    = errors.New("edge: the policy is not valid yet")
	ErrIPv6Client     = errors.New("edge: the policy has an IP condition and the client is IPv6 (never matches)")
	ErrIPMismatch     = errors.New("edge: the client IP is outside the policy's IpAddress range")
	ErrResource       = errors.New("edge: the policy's Resource does not match this URL")
)

// A Denial is why CloudFront would answer 403: its Code and message, plus a
// precise internal reason (one of the Err… sentinels, for errors.Is) and
// Detail, which names the values involved (key ID, hash, times, resource,
// client IP). Detail never holds a signature or an encoded policy.
type Denial struct {
	Code   Code
	Err    error
	Detail string
}

func (d *Denial) Error() string {
	if d.Detail == "" {
		return string(d.Code) + ": " + d.Err.Error()
	}
	return string(d.Code) + ": " + d.Err.Error() + ": " + d.Detail
}

func (d *Denial) Unwrap() error { return d.Err }

// Mode tells how a request was (or would be) checked.
type Mode int

const (
	// ModePublic: the behavior has no trusted key group; nothing is checked.
	ModePublic Mode = iota
	// ModeURL: a signing parameter is in the query, so cookies are ignored.
	ModeURL
	// ModeCookie: no signing parameter in the query; the signed cookies are
	// checked.
	ModeCookie
)

func (m Mode) String() string {
	switch m {
	case ModeURL:
		return "signed URL"
	case ModeCookie:
		return "signed cookies"
	default:
		return "public"
	}
}

// Decision is the verifier's verdict on one request, with what it found on
// the way (for explain and for the edge's cache key).
type Decision struct {
	// Behavior is the cache behavior the path matched (nil only for a
	// behaviors list without a default).
	Behavior *policy.Behavior
	Mode     Mode
	// Denial is nil when CloudFront would serve the request.
	Denial *Denial

	// What was read from the request, as far as the check got.
	KeyID  string
	Hash   crypto.Hash
	Policy policy.Policy // decoded (custom) or rebuilt (canned)
	// PolicyJSON is the policy bytes the signature was checked over. It is
	// part of a bearer credential: show it to the person debugging, never
	// log it.
	PolicyJSON []byte
	// URL is the request URL the policy is matched against: scheme, host,
	// raw path and the raw query with the signing parameters removed.
	URL string
	// CookiesIgnored is set when signed cookies were sent but the query
	// holds a signing parameter, so CloudFront checked the URL only.
	CookiesIgnored bool
	// Query is the raw query without the signing parameters: what is left
	// for the cache key and the origin request.
	Query string
}

// Allowed reports whether CloudFront would serve the request.
func (d *Decision) Allowed() bool { return d.Denial == nil }
