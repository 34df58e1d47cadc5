package issuer

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"

	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// Errors returned by SignURL and SignCookies, besides the policy and keys
// packages' own. Test for them with errors.Is.
var (
	ErrECDSASHA1        = errors.New("issuer: ECDSA keys sign with SHA256; SHA1 is only for RSA keys")
	ErrResourceMismatch = errors.New("issuer: the URL does not match the policy resource, so CloudFront would answer 403")
	ErrNoURL            = errors.New("issuer: URL is required")
	ErrNoSigner         = errors.New("issuer: no signer")
	errSDKMismatch      = errors.New("issuer: internal error: the AWS SDK encoded a different policy")
)

// URLRequest describes a signed URL.
type URLRequest struct {
	// URL is the URL the viewer will request, percent-encoded exactly as it
	// will be sent (see policy.EncodeKey and policy.CanonicalURL).
	URL string
	// Resource is the custom-policy resource, which may hold wildcards and
	// must match URL. Empty means URL itself.
	Resource string
	// Expires is the policy's DateLessThan (required).
	Expires time.Time
	// NotBefore is the optional DateGreaterThan.
	NotBefore time.Time
	// SourceIP optionally restricts the URL to an IPv4 range.
	SourceIP netip.Prefix
	// Custom forces a custom policy. A custom policy is also used whenever
	// Resource differs from URL, or NotBefore or SourceIP is set;
	// otherwise the policy is canned.
	Custom bool
	// Hash is crypto.SHA1 or crypto.SHA256; zero means SHA1 for RSA keys and
	// SHA256 for ECDSA keys. ECDSA keys always sign with SHA256.
	Hash crypto.Hash
	// GrantID, when set, is added to the URL's query as
	// gid=GrantID (policy.ParamGrant) before signing, so the signature
	// covers it: the edge's deny-list function reads it, and a viewer
	// cannot strip it. Lower-case letters, digits and dots only. Empty adds
	// nothing, so the URL is what it always was.
	GrantID string
}

// SignedURL is a signed URL and what it grants.
type SignedURL struct {
	URL    string        // the signed URL: a bearer credential, never log it
	Policy policy.Policy // the policy signed (its Resource and Expires are safe to log)
	KeyID  string
	Hash   crypto.Hash
}

// SignURL signs a URL with s.
//
// The URL comes back with the caller's own query string first, then
// Expires (canned) or Policy (custom), Signature, Key-Pair-Id, and
// Hash-Algorithm=SHA256 when the hash is SHA-256 (absent means SHA-1 to
// CloudFront).
//
// RSA-SHA1 signatures from an in-memory key are made by the AWS SDK for Go's
// own CloudFront signer (feature/cloudfront/sign), after checking that it
// encodes the very policy bytes this package built; every other combination
// (SHA-256, ECDSA, remote keys) is signed here, since that SDK release
// signs RSA-SHA1 only.
func SignURL(ctx context.Context, s keys.Signer, r URLRequest) (*SignedURL, error) {
	if s == nil {
		return nil, ErrNoSigner
	}
	if r.URL == "" {
		return nil, ErrNoURL
	}
	u, err := policy.CanonicalURL(r.URL)
	if err != nil {
		return nil, err
	}
	if r.GrantID != "" {
		if u, err = withGrant(u, r.GrantID); err != nil {
			return nil, err
		}
	}
	return signCanonicalURL(ctx, s, r, u)
}

// signCanonicalURL is SignURL after its first steps: u is r.URL in
// canonical form with the grant ID added. The Issuer has both already (it
// checks the URL as signed), so it starts here rather than canonicalise the
// URL a second time.
func signCanonicalURL(ctx context.Context, s keys.Signer, r URLRequest, u string) (*SignedURL, error) {
	var err error
	p := policy.Policy{Kind: policy.Canned, Resource: u, Expires: r.Expires, NotBefore: r.NotBefore, SourceIP: r.SourceIP}
	if r.Resource != "" {
		if p.Resource, err = policy.CanonicalResource(r.Resource); err != nil {
			return nil, err
		}
		if !policy.Glob(p.Resource, u) {
			return nil, fmt.Errorf("%w: resource %s, URL %s", ErrResourceMismatch, p.Resource, u)
		}
	}
	if r.Custom || p.Resource != u || !r.NotBefore.IsZero() || r.SourceIP.IsValid() {
		p.Kind = policy.Custom
	}
	hash, err := hashFor(s, r.Hash)
	if err != nil {
		return nil, err
	}
	sig, encPolicy, err := signPolicy(ctx, s, p, hash)
	if err != nil {
		return nil, err
	}

	var b strings.Builder
	b.Grow(len(u) + len(sig) + len(encPolicy) + 80)
	b.WriteString(u)
	if strings.Contains(u, "?") {
		b.WriteByte('&')
	} else {
		b.WriteByte('?')
	}
	if p.Kind == policy.Canned {
		b.WriteString(policy.ParamExpires + "=")
		b.WriteString(strconv.FormatInt(p.Expires.Unix(), 10))
	} else {
		b.WriteString(policy.ParamPolicy + "=")
		b.Write(encPolicy)
	}
	b.WriteString("&" + policy.ParamSignature + "=")
	b.Write(sig)
	b.WriteString("&" + policy.ParamKeyPairID + "=")
	b.WriteString(s.KeyID())
	if hash == crypto.SHA256 {
		b.WriteString("&" + policy.ParamHash + "=" + policy.SHA256)
	}
	signed := b.String()
	if err := policy.CheckURL(signed); err != nil {
		return nil, err
	}
	return &SignedURL{URL: signed, Policy: p, KeyID: s.KeyID(), Hash: hash}, nil
}

// ErrGrantParam is returned when a grant ID cannot be added to a URL.
var ErrGrantParam = errors.New("issuer: grant ID")

// withGrant appends gid=id to a canonical URL's query.
func withGrant(u, id string) (string, error) {
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.') {
			return "", fmt.Errorf("%w: %q holds characters other than a-z, 0-9 and '.'", ErrGrantParam, id)
		}
	}
	sep := "?"
	if _, q, ok := strings.Cut(u, "?"); ok {
		if hasQueryParam(q, policy.ParamGrant) {
			return "", fmt.Errorf("%w: the URL already has a %s parameter", ErrGrantParam, policy.ParamGrant)
		}
		sep = "&"
	}
	return u + sep + policy.ParamGrant + "=" + id, nil
}

// hashFor picks the hash: the requested one, or the key type's default.
func hashFor(s keys.Signer, want crypto.Hash) (crypto.Hash, error) {
	alg := s.Algorithm()
	switch want {
	case 0:
		if alg == keys.RSA && keys.CanSign(s, crypto.SHA1) { // not a KMS key: SHA-256 only
			return crypto.SHA1, nil
		}
		return crypto.SHA256, nil
	case crypto.SHA1:
		if alg != keys.RSA {
			return 0, ErrECDSASHA1
		}
		return want, nil
	case crypto.SHA256:
		return want, nil
	default:
		return 0, fmt.Errorf("%w: got %v", keys.ErrUnsupportedHash, want)
	}
}

// HashName returns the Hash-Algorithm value for h: "SHA1" or "SHA256".
func HashName(h crypto.Hash) string {
	if h == crypto.SHA256 {
		return policy.SHA256
	}
	return policy.SHA1
}

// signPolicy validates and marshals p, signs it, and returns the
// CloudFront-base64 signature and (for custom policies) policy.
func signPolicy(ctx context.Context, s keys.Signer, p policy.Policy, hash crypto.Hash) (sig, encPolicy []byte, err error) {
	raw, err := p.Marshal()
	if err != nil {
		return nil, nil, err
	}
	if p.Kind == policy.Custom {
		encPolicy = policy.AppendBase64(nil, raw)
	}
	if l, ok := s.(*keys.Local); ok && hash == crypto.SHA1 && l.Algorithm() == keys.RSA {
		return signWithSDK(l, p, encPolicy)
	}
	rawSig, err := s.Sign(ctx, raw, hash)
	if err != nil {
		return nil, nil, fmt.Errorf("issuer: sign with key %s: %w", s.KeyID(), err)
	}
	return policy.AppendBase64(nil, rawSig), encPolicy, nil
}

// signWithSDK signs with the AWS SDK's Policy.Sign, which builds the policy
// JSON itself: the result is used only when its policy bytes are ours.
func signWithSDK(l *keys.Local, p policy.Policy, encPolicy []byte) (sig, enc []byte, err error) {
	st := sign.Statement{Resource: p.Resource, Condition: sign.Condition{DateLessThan: sign.NewAWSEpochTime(p.Expires)}}
	if p.Kind == policy.Custom {
		if !p.NotBefore.IsZero() {
			st.Condition.DateGreaterThan = sign.NewAWSEpochTime(p.NotBefore)
		}
		if p.SourceIP.IsValid() {
			st.Condition.IPAddress = &sign.IPAddress{SourceIP: p.SourceIP.String()}
		}
	}
	sdkPolicy := &sign.Policy{Statements: []sign.Statement{st}}
	sdkSig, sdkEnc, err := sdkPolicy.Sign(sdkSigner{l.CryptoSigner()})
	if err != nil {
		// The SDK flattens its errors into text; keep ours generic.
		return nil, nil, fmt.Errorf("issuer: sign with key %s: AWS SDK signer failed", l.KeyID())
	}
	want := encPolicy
	if p.Kind == policy.Canned {
		raw, _ := p.Marshal() // validated by the caller
		want = policy.AppendBase64(nil, raw)
	}
	if !bytes.Equal(sdkEnc, want) {
		return nil, nil, errSDKMismatch
	}
	return sdkSig, encPolicy, nil
}

// sdkSigner hides everything but Sign and Public of the key from the SDK.
type sdkSigner struct{ k crypto.Signer }

func (s sdkSigner) Public() crypto.PublicKey { return s.k.Public() }

func (s sdkSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	// RSA PKCS#1 v1.5 needs no randomness; nil keeps it deterministic.
	return s.k.Sign(nil, digest, opts)
}
