package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMSAPI is the part of *kms.Client that KMS uses.
type KMSAPI interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, opts ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	Sign(ctx context.Context, in *kms.SignInput, opts ...func(*kms.Options)) (*kms.SignOutput, error)
}

// ErrKMSHash is wrapped (with ErrUnsupportedHash) when a KMS key is asked
// to sign with SHA-1: KMS offers RSASSA_PKCS1_V1_5_SHA_256 and
// ECDSA_SHA_256 for CloudFront's key types, never SHA-1.
var ErrKMSHash = fmt.Errorf("%w: AWS KMS signs with SHA-256 only (RSASSA_PKCS1_V1_5_SHA_256, ECDSA_SHA_256); a behavior that uses a KMS key needs \"hash\": \"SHA256\"", ErrUnsupportedHash)

// ErrKMSSignature is returned when KMS answers with a signature that does
// not verify under the key's public key (a wrong key, or a service that
// did not sign the digest as sent).
var ErrKMSSignature = errors.New("keys: the signature from KMS does not verify with the key's public key")

// DefaultKMSTimeout bounds a KMS call whose context has no deadline.
const DefaultKMSTimeout = 5 * time.Second

// DefaultFetchTimeout bounds a Secrets Manager or SSM fetch whose context
// has no deadline (serve's start has none): an endpoint that never answers
// is an ErrSource, not a process that hangs.
const DefaultFetchTimeout = 10 * time.Second

// KMS is a source for an asymmetric AWS KMS key (RSA_2048 for
// RSASSA_PKCS1_V1_5_SHA_256, or ECC_NIST_P256 for ECDSA_SHA_256). The
// private key never leaves KMS: Load fetches the public key with
// GetPublicKey and returns a *KMSSigner that sends each SHA-256 digest to
// KMS Sign (MessageType DIGEST, since KMS caps raw messages at 4 KB).
//
// KeyARN may be an alias (alias/cloudfront-signing). Load resolves it to
// the key it names at that moment, and the signer keeps signing with that
// key: repointing the alias changes nothing until the next Load, so a
// loaded signer never signs with a key other than the one whose public key
// it reports.
type KMS struct {
	Client KMSAPI // a *kms.Client
	KeyARN string // key ID, key ARN, alias name or alias ARN
	KeyID  string // the CloudFront public key ID
	// Timeout bounds each KMS call whose context has no deadline; zero
	// means DefaultKMSTimeout. A context deadline (the request's) always
	// applies.
	Timeout time.Duration
}

// Load implements Source: it calls GetPublicKey and checks that the key
// signs (KeyUsage SIGN_VERIFY), is RSA-2048 or ECDSA P-256, and offers the
// SHA-256 algorithm CloudFront needs. Errors calling KMS wrap ErrSource;
// an unsuitable key gives ErrUnsupportedKey.
func (k KMS) Load(ctx context.Context) (Signer, error) {
	if err := CheckKeyID(k.KeyID); err != nil {
		return nil, err
	}
	if k.Client == nil || k.KeyARN == "" {
		return nil, fmt.Errorf("%w: kms: no client or key", ErrSource)
	}
	timeout := k.Timeout
	if timeout == 0 {
		timeout = DefaultKMSTimeout
	}
	cctx, cancel := withDefaultTimeout(ctx, timeout)
	defer cancel()
	out, err := k.Client.GetPublicKey(cctx, &kms.GetPublicKeyInput{KeyId: aws.String(k.KeyARN)})
	if err != nil {
		return nil, fmt.Errorf("%w: kms key %s: %w", ErrSource, k.KeyARN, err)
	}
	if out.KeyUsage != kmstypes.KeyUsageTypeSignVerify {
		return nil, fmt.Errorf("%w: kms key %s has key usage %q, want SIGN_VERIFY", ErrUnsupportedKey, k.KeyARN, out.KeyUsage)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("keys: kms key %s: parse public key: %w", k.KeyARN, err)
	}
	var alg Algorithm
	var sa kmstypes.SigningAlgorithmSpec
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() != 2048 {
			return nil, fmt.Errorf("%w: kms key %s is RSA-%d; create it with key spec RSA_2048", ErrUnsupportedKey, k.KeyARN, p.N.BitLen())
		}
		alg, sa = RSA, kmstypes.SigningAlgorithmSpecRsassaPkcs1V15Sha256
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: kms key %s is on curve %s; create it with key spec ECC_NIST_P256", ErrUnsupportedKey, k.KeyARN, p.Curve.Params().Name)
		}
		alg, sa = ECDSA, kmstypes.SigningAlgorithmSpecEcdsaSha256
	default:
		return nil, fmt.Errorf("%w: kms key %s holds a %T", ErrUnsupportedKey, k.KeyARN, pub)
	}
	if !slices.Contains(out.SigningAlgorithms, sa) {
		return nil, fmt.Errorf("%w: kms key %s does not offer %s", ErrUnsupportedKey, k.KeyARN, sa)
	}
	// GetPublicKey answers with the key's ARN (a key ID from some
	// emulators), never the alias: sign with that from now on.
	resolved := aws.ToString(out.KeyId)
	if resolved == "" {
		resolved = k.KeyARN
	}
	return &KMSSigner{client: k.Client, kmsKey: resolved, keyID: k.KeyID, alg: alg, spec: sa, pub: pub, timeout: timeout}, nil
}

// withDefaultTimeout bounds ctx by d unless it already has a deadline.
func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// A KMSSigner signs with an AWS KMS key; it is what KMS.Load returns. It
// signs SHA-256 only (it implements HashSupporter), and checks every
// signature KMS returns against the public key before handing it out.
// It is safe for concurrent use.
type KMSSigner struct {
	client  KMSAPI
	kmsKey  string // the resolved key ARN (or ID)
	keyID   string
	alg     Algorithm
	spec    kmstypes.SigningAlgorithmSpec
	pub     crypto.PublicKey
	timeout time.Duration
}

// KeyID returns the CloudFront public key ID.
func (s *KMSSigner) KeyID() string { return s.keyID }

// Algorithm returns RSA or ECDSA.
func (s *KMSSigner) Algorithm() Algorithm { return s.alg }

// Public returns the public key from GetPublicKey.
func (s *KMSSigner) Public() crypto.PublicKey { return s.pub }

// KMSKey returns the KMS key the signer signs with (its ARN, resolved from
// an alias at Load).
func (s *KMSSigner) KMSKey() string { return s.kmsKey }

// SupportsHash reports whether h is SHA-256, the only hash KMS offers for
// CloudFront's key types.
func (s *KMSSigner) SupportsHash(h crypto.Hash) bool { return h == crypto.SHA256 }

// String describes the signer (there is no key material to hide: it
// stays in KMS).
func (s *KMSSigner) String() string {
	return "keys.KMSSigner{" + s.keyID + " " + string(s.alg) + " " + s.kmsKey + "}"
}

// LogValue makes slog print String.
func (s *KMSSigner) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Sign implements Signer: it hashes message with SHA-256 and has KMS sign
// the digest (MessageType DIGEST) within ctx's deadline, or the source's
// Timeout when ctx has none. SHA-1 gives an error wrapping ErrKMSHash
// without calling KMS; a failed call wraps ErrSource (and the context's
// error when it ran out).
func (s *KMSSigner) Sign(ctx context.Context, message []byte, hash crypto.Hash) ([]byte, error) {
	if hash != crypto.SHA256 {
		return nil, fmt.Errorf("%w: got %v", ErrKMSHash, hash)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	digest, err := Digest(message, hash)
	if err != nil {
		return nil, err
	}
	cctx, cancel := withDefaultTimeout(ctx, s.timeout)
	defer cancel()
	out, err := s.client.Sign(cctx, &kms.SignInput{
		KeyId:            aws.String(s.kmsKey),
		Message:          digest,
		MessageType:      kmstypes.MessageTypeDigest,
		SigningAlgorithm: s.spec,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: kms sign with %s: %w", ErrSource, s.kmsKey, err)
	}
	if err := Verify(s.pub, message, out.Signature, hash); err != nil {
		return nil, fmt.Errorf("%w (kms key %s)", ErrKMSSignature, s.kmsKey)
	}
	return out.Signature, nil
}
