package edge

import (
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// CloudFront's signing parameter and cookie names (policy owns the wire
// format; these aliases keep the verifier's code short).
const (
	ParamExpires   = policy.ParamExpires
	ParamPolicy    = policy.ParamPolicy
	ParamSignature = policy.ParamSignature
	ParamKeyPairID = policy.ParamKeyPairID
	ParamHash      = policy.ParamHash

	CookieExpires   = policy.CookieExpires
	CookiePolicy    = policy.CookiePolicy
	CookieSignature = policy.CookieSignature
	CookieKeyPairID = policy.CookieKeyPairID
	CookieHash      = policy.CookieHash
)

// Request is what the verifier sees of a viewer request.
type Request struct {
	Method string
	// Scheme and Host are what the viewer asked for (https,
	// media.example.com): they are the start of the URL a policy is matched
	// against. Host may carry a port; it is lower-cased and a default port
	// dropped, as browsers do.
	Scheme, Host string
	// RawPath is the path exactly as sent, percent-escapes undecoded.
	RawPath string
	// RawQuery is the query exactly as sent, without the '?'.
	RawQuery string
	// Cookies in the order the Cookie header lists them (as
	// (*http.Request).Cookies returns them).
	Cookies []*http.Cookie
	// ClientIP is the viewer's address; the zero value means unknown.
	ClientIP netip.Addr
}

// Key is a trusted CloudFront public key: its ID (the Key-Pair-Id value)
// and the public key (RSA-2048 or ECDSA P-256).
type Key struct {
	ID     string
	Public crypto.PublicKey
}

// Options are the verifier's optional knobs; the zero value is CloudFront's
// documented behavior.
type Options struct {
	// ClockSkew is how far the verifier's clock may be behind or ahead of
	// the signer's: a policy is still accepted ClockSkew after its expiry
	// and ClockSkew before its start. CloudFront documents no tolerance, so
	// the default is none.
	ClockSkew time.Duration
}

// Verifier decides signed requests as CloudFront does (CLOUDFRONT.md §8). It
// is pure over its inputs: the behaviors and trusted keys given to
// NewVerifier, and the request and clock value given to Check. It is
// read-only after NewVerifier and safe for concurrent use.
type Verifier struct {
	behaviors *policy.Behaviors
	keys      map[string]crypto.PublicKey
	order     []string // key IDs in the order given, for diagnostics
	skew      int64    // seconds
}

// ErrConfig is wrapped by NewVerifier's errors.
var ErrConfig = errors.New("edge: invalid verifier configuration")

// NewVerifier returns a verifier for a distribution whose cache behaviors
// are bs and whose signed behaviors all trust the key group trusted (as the
// Terraform module builds it: one key group on every signed behavior).
func NewVerifier(bs *policy.Behaviors, trusted []Key, opts Options) (*Verifier, error) {
	if bs == nil || len(bs.List) == 0 {
		return nil, fmt.Errorf("%w: no behaviors", ErrConfig)
	}
	if opts.ClockSkew < 0 {
		return nil, fmt.Errorf("%w: negative clock skew", ErrConfig)
	}
	v := &Verifier{behaviors: bs, keys: make(map[string]crypto.PublicKey, len(trusted)), skew: int64(opts.ClockSkew / time.Second)}
	for _, k := range trusted {
		if err := keys.CheckKeyID(k.ID); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if keys.AlgorithmOf(k.Public) == "" {
			return nil, fmt.Errorf("%w: key %s: %w", ErrConfig, k.ID, keys.ErrUnsupportedKey)
		}
		if _, dup := v.keys[k.ID]; dup {
			return nil, fmt.Errorf("%w: key %s is listed twice", ErrConfig, k.ID)
		}
		v.keys[k.ID] = k.Public
		v.order = append(v.order, k.ID)
	}
	return v, nil
}

// Behaviors returns the behaviors the verifier routes by.
func (v *Verifier) Behaviors() *policy.Behaviors { return v.behaviors }

// Verify is a one-shot NewVerifier and Check.
func Verify(bs *policy.Behaviors, trusted []Key, r Request, now time.Time) (*Decision, error) {
	v, err := NewVerifier(bs, trusted, Options{})
	if err != nil {
		return nil, err
	}
	return v.Check(r, now), nil
}

// credentials are the signing values of one request, from its query
// (URL mode) or its cookies.
type credentials struct {
	keyID, hash, signature, policy, expires value
}

type value struct {
	s       string
	present bool
	dup     bool // given more than once (query only; cookies: first wins)
}

// Check decides r at time now. It never fails: a request CloudFront would
// refuse gets a Decision with a Denial.
func (v *Verifier) Check(r Request, now time.Time) *Decision {
	d := &Decision{}
	path := r.RawPath
	if path == "" {
		path = "/"
	}
	d.Behavior = v.behaviors.Match(path)
	query, cred, urlMode := splitQuery(r.RawQuery)
	d.Query = query
	if d.Behavior == nil || !d.Behavior.Access.Signed() {
		// No trusted key group: CloudFront serves without checks and the
		// query goes on as it came.
		d.Mode = ModePublic
		d.Query = r.RawQuery
		return d
	}
	d.URL = requestURL(r.Scheme, r.Host, path, query)
	if urlMode {
		d.Mode = ModeURL
		d.CookiesIgnored = hasSigningCookie(r.Cookies)
	} else {
		d.Mode = ModeCookie
		cred = cookieCredentials(r.Cookies)
	}
	deny := func(code Code, err error, format string, a ...any) *Decision {
		detail := fmt.Sprintf(format, a...)
		if d.CookiesIgnored {
			detail += " (signed cookies were sent too, but CloudFront ignores them when the query holds Expires, Policy, Signature or Key-Pair-Id)"
		}
		d.Denial = &Denial{Code: code, Err: err, Detail: strings.TrimSpace(detail)}
		return d
	}
	names := paramNames(d.Mode)

	// Key.
	if cred.keyID.dup {
		return deny(InvalidKey, ErrDuplicate, "%s is given more than once", names.keyID)
	}
	if cred.keyID.s == "" {
		return deny(MissingKey, ErrNoKeyPairID, "no %s in the %s", names.keyID, where(d.Mode))
	}
	d.KeyID = cred.keyID.s
	pub, ok := v.keys[d.KeyID]
	if !ok {
		return deny(InvalidKey, ErrUnknownKey, "key %q is not trusted by behavior %q (trusted: %s)", printable(d.KeyID), d.Behavior.Name, strings.Join(v.order, ", "))
	}

	// Hash. Absent means SHA1; the value is case-sensitive (unconfirmed:
	// CloudFront documents the values SHA1 and SHA256 only), and an unknown
	// value is AccessDenied (unconfirmed: CloudFront's code for it is not
	// documented).
	if cred.hash.dup {
		return deny(AccessDenied, ErrDuplicate, "%s is given more than once", names.hash)
	}
	d.Hash = crypto.SHA1
	if cred.hash.present {
		switch cred.hash.s {
		case policy.SHA1:
		case policy.SHA256:
			d.Hash = crypto.SHA256
		default:
			return deny(AccessDenied, ErrHashAlgorithm, "%s is %q; use SHA1 or SHA256, or leave it out for SHA1", names.hash, printable(cred.hash.s))
		}
	}

	// Signature.
	if cred.signature.dup {
		return deny(MalformedSignature, ErrDuplicate, "%s is given more than once", names.signature)
	}
	if cred.signature.s == "" {
		return deny(MalformedSignature, ErrNoSignature, "no %s in the %s", names.signature, where(d.Mode))
	}
	sig, err := policy.DecodeBase64(cred.signature.s)
	if err != nil || len(sig) == 0 {
		return deny(MalformedSignature, ErrSignatureEncoding, "%s is not CloudFront base64 (standard base64 with '+'→'-', '='→'_', '/'→'~')", names.signature)
	}

	// Policy. A Policy value makes it a custom policy even when Expires is
	// also given (unconfirmed: CloudFront may refuse such a request; a
	// custom policy is what it documents for the Policy parameter).
	switch {
	case cred.policy.dup:
		return deny(MalformedPolicy, ErrDuplicate, "%s is given more than once", names.policy)
	case cred.policy.present:
		p, raw, err := policy.Decode(cred.policy.s)
		if err != nil {
			var me *policy.MalformedError
			if errors.As(err, &me) {
				return deny(MalformedPolicy, ErrPolicyMalformed, "%s: %s", names.policy, me.Reason)
			}
			return deny(MalformedPolicy, ErrPolicyMalformed, "%s does not decode", names.policy)
		}
		d.Policy, d.PolicyJSON = p, raw
	case cred.expires.dup:
		return deny(MalformedPolicy, ErrDuplicate, "%s is given more than once", names.expires)
	case cred.expires.present:
		exp, ok := parseEpoch(cred.expires.s)
		if !ok {
			return deny(MalformedPolicy, ErrExpiresValue, "%s is %q; it must be whole Unix seconds from 1 to %d (milliseconds instead of seconds?)", names.expires, printable(cred.expires.s), policy.MaxEpoch)
		}
		// The canned policy is rebuilt from the request itself.
		d.Policy = policy.Policy{Kind: policy.Canned, Resource: d.URL, Expires: time.Unix(exp, 0).UTC()}
		d.PolicyJSON = d.Policy.AppendJSON(nil)
	default:
		return deny(MalformedPolicy, ErrNoPolicy, "no %s or %s in the %s", names.policy, names.expires, where(d.Mode))
	}

	// Signature over the policy bytes as received (custom) or rebuilt
	// (canned). Whether CloudFront answers a decodable but wrong signature
	// with AccessDenied is unconfirmed; it is the code for every other
	// failed check.
	if keys.Verify(pub, d.PolicyJSON, sig, d.Hash) != nil {
		err, detail := v.diagnose(d, pub, sig, path)
		return deny(AccessDenied, err, "%s", detail)
	}

	// Conditions, on whole seconds: CloudFront's policies carry whole
	// seconds, so the clock is too (a request at 12.9 s is at 12 s).
	nowS := now.Unix()
	if exp := d.Policy.Expires.Unix(); nowS >= exp+v.skew {
		return deny(AccessDenied, ErrExpired, "expired at %s, %s before now (%s)", utc(exp), ago(nowS-exp), utc(nowS))
	}
	if !d.Policy.NotBefore.IsZero() {
		if nb := d.Policy.NotBefore.Unix(); nowS <= nb-v.skew {
			return deny(AccessDenied, ErrNotYetValid, "valid only after %s, %s from now (%s)", utc(nb), ago(nb-nowS), utc(nowS))
		}
	}
	if pfx := d.Policy.SourceIP; pfx.IsValid() {
		// An IPv4-mapped IPv6 address is IPv4 on the wire (unconfirmed how
		// CloudFront treats it); any other IPv6 address never matches.
		ip := r.ClientIP.Unmap()
		switch {
		case !ip.IsValid():
			return deny(AccessDenied, ErrIPMismatch, "the client IP is unknown and the policy allows %s only", pfx)
		case !ip.Is4():
			return deny(AccessDenied, ErrIPv6Client, "client %s is IPv6 and the policy allows %s only; CloudFront's IpAddress condition is IPv4 only", ip, pfx)
		case !pfx.Contains(ip):
			return deny(AccessDenied, ErrIPMismatch, "client %s is outside %s", ip, pfx)
		}
	}
	if res := d.Policy.Resource; res != "" && !policy.Glob(res, d.URL) {
		return deny(AccessDenied, ErrResource, "resource %s does not match %s", res, d.URL)
	}
	return d
}

// diagnose says why a signature does not verify, trying the likely
// mistakes: the other hash, another trusted key, and (canned) a wildcard
// resource that only a custom policy can carry. Each try is one
// verification, bounded by the number of trusted keys and path segments.
func (v *Verifier) diagnose(d *Decision, pub crypto.PublicKey, sig []byte, path string) (error, string) {
	other := crypto.SHA256
	if d.Hash == crypto.SHA256 {
		other = crypto.SHA1
	}
	if keys.Verify(pub, d.PolicyJSON, sig, other) == nil {
		return ErrWrongHash, fmt.Sprintf("the signature verifies for key %s with %s, but the request declares %s", d.KeyID, hashName(other), hashName(d.Hash))
	}
	for _, id := range v.order {
		if id == d.KeyID {
			continue
		}
		for _, h := range []crypto.Hash{d.Hash, other} {
			if keys.Verify(v.keys[id], d.PolicyJSON, sig, h) == nil {
				return ErrWrongKey, fmt.Sprintf("the signature verifies for key %s with %s, but Key-Pair-Id names %s", id, hashName(h), d.KeyID)
			}
		}
	}
	if d.Policy.Kind == policy.Canned {
		for _, res := range cannedWildcards(d.URL, path) {
			p := policy.Policy{Kind: policy.Canned, Resource: res, Expires: d.Policy.Expires}
			if keys.Verify(pub, p.AppendJSON(nil), sig, d.Hash) == nil {
				return ErrCannedWildcard, fmt.Sprintf("the signature is over a canned policy for %s; a canned policy is rebuilt from the request URL %s, so sign a custom policy for a wildcard", res, d.URL)
			}
		}
	}
	what := "the canned policy rebuilt from this URL (" + d.URL + ")"
	if d.Policy.Kind == policy.Custom {
		what = "the policy bytes as received"
	}
	return ErrSignature, fmt.Sprintf("key %s, hash %s, over %s", d.KeyID, hashName(d.Hash), what)
}

// maxWildcardTries bounds the canned-wildcard diagnosis.
const maxWildcardTries = 6

// cannedWildcards returns the wildcard resources a signer that mistook a
// canned policy for a custom one would most likely have signed: each
// directory prefix of the path followed by '*', deepest first.
func cannedWildcards(u, path string) []string {
	i := strings.Index(u, "://") + 3
	j := strings.IndexByte(u[i:], '/')
	if i < 3 || j < 0 {
		return nil
	}
	origin := u[:i+j]
	var out []string
	for k := len(path) - 1; k >= 0 && len(out) < maxWildcardTries; k-- {
		if path[k] == '/' {
			out = append(out, origin+path[:k+1]+"*")
		}
	}
	return out
}

// splitQuery removes CloudFront's signing parameters from a raw query,
// keeping the others byte for byte and in order. It returns the signing
// values and whether the request is in signed-URL mode.
//
// Parameter names are compared as sent, case-sensitively and without
// percent-decoding (key-pair-id is a caller's parameter). Values are
// percent-decoded ('+' stays '+'), so a client that escapes '~' as %7E still
// works (unconfirmed: CloudFront's handling of escaped values is not
// documented). Hash-Algorithm alone does not make a signed-URL request
// (unconfirmed; CLOUDFRONT.md §5), but it is removed with the others
// (unconfirmed too) so it never reaches the cache key or the origin.
func splitQuery(raw string) (rest string, c credentials, urlMode bool) {
	if raw == "" {
		return "", c, false
	}
	var kept []string
	for seg := range strings.SplitSeq(raw, "&") {
		name, val, _ := strings.Cut(seg, "=")
		var dst *value
		switch name {
		case ParamKeyPairID:
			dst = &c.keyID
		case ParamHash:
			dst = &c.hash
		case ParamSignature:
			dst = &c.signature
		case ParamPolicy:
			dst = &c.policy
		case ParamExpires:
			dst = &c.expires
		default:
			kept = append(kept, seg)
			continue
		}
		if name != ParamHash {
			urlMode = true
		}
		if dst.present {
			dst.dup = true
			continue
		}
		if u, err := url.PathUnescape(val); err == nil {
			val = u
		}
		*dst = value{s: val, present: true}
	}
	return strings.Join(kept, "&"), c, urlMode
}

// cookieCredentials reads the signed cookies. When a name appears more than
// once (two cookie sets whose paths both match), the first is used: browsers
// list cookies with longer paths first (RFC 6265 §5.4), so that is the most
// specific grant. Which one CloudFront reads is unconfirmed (CLOUDFRONT.md
// §6).
func cookieCredentials(cs []*http.Cookie) credentials {
	var c credentials
	for _, ck := range cs {
		var dst *value
		switch ck.Name {
		case CookieKeyPairID:
			dst = &c.keyID
		case CookieHash:
			dst = &c.hash
		case CookieSignature:
			dst = &c.signature
		case CookiePolicy:
			dst = &c.policy
		case CookieExpires:
			dst = &c.expires
		default:
			continue
		}
		if !dst.present {
			*dst = value{s: ck.Value, present: true}
		}
	}
	return c
}

var signingCookies = []string{CookieKeyPairID, CookieHash, CookieSignature, CookiePolicy, CookieExpires}

func hasSigningCookie(cs []*http.Cookie) bool {
	for _, c := range cs {
		if slices.Contains(signingCookies, c.Name) {
			return true
		}
	}
	return false
}

type paramSet struct{ keyID, hash, signature, policy, expires string }

func paramNames(m Mode) paramSet {
	if m == ModeCookie {
		return paramSet{CookieKeyPairID, CookieHash, CookieSignature, CookiePolicy, CookieExpires}
	}
	return paramSet{ParamKeyPairID, ParamHash, ParamSignature, ParamPolicy, ParamExpires}
}

func where(m Mode) string {
	if m == ModeCookie {
		return "cookies (and no signing parameter in the query)"
	}
	return "query"
}

// requestURL is the URL a policy is matched against and a canned policy is
// rebuilt from: scheme and host lower-cased with a default port dropped,
// the raw path, and the raw query without the signing parameters.
func requestURL(scheme, host, path, query string) string {
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	u := scheme + "://" + host + path
	if query != "" {
		u += "?" + query
	}
	return u
}

// parseEpoch reads a canned Expires value: ASCII digits only, 1 to
// MaxEpoch. The canned policy is rebuilt from the number, so leading zeros
// are harmless (unconfirmed whether CloudFront accepts them).
func parseEpoch(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > policy.MaxEpoch {
		return 0, false
	}
	return n, true
}

func hashName(h crypto.Hash) string {
	if h == crypto.SHA256 {
		return policy.SHA256
	}
	return policy.SHA1
}

func utc(sec int64) string { return time.Unix(sec, 0).UTC().Format(time.RFC3339) }

func ago(sec int64) string { return (time.Duration(sec) * time.Second).String() }

// printable truncates and quotes-safe a value from the request for a
// detail message (key IDs and hash names only; never signatures).
func printable(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
