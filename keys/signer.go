package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
)

// A Signer signs CloudFront policies with one key. It is what the issuer
// needs of a key, wherever the key lives: in memory (Local) or in a service
// such as AWS KMS, where the private key never leaves the service.
//
// Implementations must be safe for concurrent use.
type Signer interface {
	// KeyID is the CloudFront public key ID that goes into Key-Pair-Id.
	KeyID() string
	// Algorithm is RSA or ECDSA.
	Algorithm() Algorithm
	// Public returns the public key, as uploaded to CloudFront.
	Public() crypto.PublicKey
	// Sign hashes message (the policy bytes) with hash (crypto.SHA1 or
	// crypto.SHA256) and signs the digest: RSA PKCS#1 v1.5, or ECDSA as
	// ASN.1 DER. It honours ctx where signing can block (a remote call);
	// a local key signs synchronously.
	Sign(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error)
}

// ErrUnsupportedHash is returned by Sign for a hash other than SHA-1 or
// SHA-256, the two CloudFront knows.
var ErrUnsupportedHash = errors.New("keys: unsupported hash: CloudFront accepts SHA1 and SHA256")

// ErrKeyID is returned for a malformed CloudFront public key ID.
var ErrKeyID = errors.New("keys: invalid CloudFront public key ID (upper-case letters and digits, like K2JCJMDEHXQW5F)")

var keyIDRE = regexp.MustCompile(`^[A-Z0-9]{1,128}$`)

// CheckKeyID returns an error wrapping ErrKeyID when id is not a CloudFront
// public key ID.
func CheckKeyID(id string) error {
	if !keyIDRE.MatchString(id) {
		return fmt.Errorf("%w: got %q", ErrKeyID, id)
	}
	return nil
}

// Local is a Signer over a private key held in memory.
//
// Its signatures are deterministic: RSA PKCS#1 v1.5 is by construction, and
// ECDSA uses RFC 6979 nonces ((*ecdsa.PrivateKey).Sign with a nil random
// source), so replicas holding the same key issue byte-identical URLs.
type Local struct {
	keyID string
	key   *PrivateKey
}

// NewLocal returns a Signer for key under the CloudFront public key ID
// keyID.
func NewLocal(keyID string, key *PrivateKey) (*Local, error) {
	if err := CheckKeyID(keyID); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("keys: NewLocal: nil key")
	}
	return &Local{keyID: keyID, key: key}, nil
}

// KeyID returns the CloudFront public key ID.
func (l *Local) KeyID() string { return l.keyID }

// Algorithm returns RSA or ECDSA.
func (l *Local) Algorithm() Algorithm { return l.key.alg }

// Public returns the public key.
func (l *Local) Public() crypto.PublicKey { return l.key.Public() }

// Key returns the private key.
func (l *Local) Key() *PrivateKey { return l.key }

// String describes the signer without key material.
func (l *Local) String() string { return "keys.Local{" + l.keyID + " " + l.key.redacted() + "}" }

// GoString describes the signer without key material, for %#v.
func (l *Local) GoString() string { return l.String() }

// Format prints String for every verb.
func (l *Local) Format(f fmt.State, _ rune) { fmt.Fprint(f, l.String()) }

// LogValue makes slog print String.
func (l *Local) LogValue() slog.Value { return slog.StringValue(l.String()) }

// Sign implements Signer. It does not block, so ctx is only checked for
// cancellation before signing.
func (l *Local) Sign(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	digest, err := Digest(message, hash)
	if err != nil {
		return nil, err
	}
	switch k := l.key.signer.(type) {
	case *rsa.PrivateKey:
		sig, err := rsa.SignPKCS1v15(nil, k, hash, digest)
		if err != nil {
			return nil, fmt.Errorf("keys: RSA sign: %w", err)
		}
		return sig, nil
	case *ecdsa.PrivateKey:
		// A nil random source selects RFC 6979 deterministic nonces.
		sig, err := k.Sign(nil, digest, hash)
		if err != nil {
			return nil, fmt.Errorf("keys: ECDSA sign: %w", err)
		}
		return sig, nil
	default:
		return nil, ErrUnsupportedKey
	}
}

// Digest hashes message with SHA-1 or SHA-256.
func Digest(message []byte, hash crypto.Hash) ([]byte, error) {
	if hash != crypto.SHA1 && hash != crypto.SHA256 {
		return nil, fmt.Errorf("%w: got %v", ErrUnsupportedHash, hash)
	}
	h := hash.New()
	h.Write(message)
	return h.Sum(nil), nil
}

// Verify checks a CloudFront signature over message with a public key: RSA
// PKCS#1 v1.5 or ECDSA ASN.1 DER, over SHA-1 or SHA-256.
func Verify(pub crypto.PublicKey, message, sig []byte, hash crypto.Hash) error {
	digest, err := Digest(message, hash)
	if err != nil {
		return err
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(p, hash, digest, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(p, digest, sig) {
			return errors.New("keys: ECDSA signature does not verify")
		}
		return nil
	default:
		return fmt.Errorf("%w: got %T", ErrUnsupportedKey, pub)
	}
}

// CryptoSigner returns the key as a crypto.Signer, for code that signs
// digests itself (such as the AWS SDK's CloudFront signer). It is the key
// itself: keep it in memory and never print it.
func (l *Local) CryptoSigner() crypto.Signer { return l.key.signer }
