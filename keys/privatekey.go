package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
)

// Algorithm is a CloudFront public key algorithm.
type Algorithm string

// The two key types CloudFront key groups accept.
const (
	RSA   Algorithm = "RSA"   // RSA-2048, PKCS#1 v1.5 signatures
	ECDSA Algorithm = "ECDSA" // ECDSA P-256, ASN.1 DER signatures
)

// Errors returned when parsing keys. Test for them with errors.Is.
var (
	ErrNoPEM              = errors.New("keys: no PEM private key block found")
	ErrNoPublicPEM        = errors.New(`keys: no "PUBLIC KEY" PEM block found`)
	ErrUnsupportedKey     = errors.New("keys: unsupported key: CloudFront accepts RSA-2048 and ECDSA P-256 only")
	ErrPassphraseRequired = errors.New("keys: the private key is encrypted; give its passphrase")
	ErrBadPassphrase      = errors.New("keys: wrong passphrase, or the encrypted key is damaged")
	ErrLegacyEncryption   = errors.New(`keys: legacy PEM encryption ("Proc-Type: 4,ENCRYPTED") is not supported; convert with: openssl pkcs8 -topk8 -in old.pem -out new.pem`)
	ErrUnsupportedCipher  = errors.New("keys: unsupported encryption in the encrypted PKCS#8 key (supported: PBES2 with PBKDF2 and AES-CBC, as OpenSSL 3 writes)")
)

// A PrivateKey is an RSA-2048 or ECDSA P-256 private key. It never shows
// its key material: String, GoString, every fmt verb, slog and JSON print
// only the algorithm and the public key's fingerprint.
type PrivateKey struct {
	signer crypto.Signer // *rsa.PrivateKey or *ecdsa.PrivateKey
	alg    Algorithm
}

// NewPrivateKey wraps an *rsa.PrivateKey (2048 bits) or *ecdsa.PrivateKey
// (P-256), refusing anything else with ErrUnsupportedKey.
func NewPrivateKey(k crypto.PrivateKey) (*PrivateKey, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if n := k.N.BitLen(); n != 2048 {
			return nil, fmt.Errorf("%w: RSA key is %d bits; generate one with: cfissuer keygen --type rsa", ErrUnsupportedKey, n)
		}
		return &PrivateKey{signer: k, alg: RSA}, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: ECDSA key is on curve %s; generate one with: cfissuer keygen --type ecdsa", ErrUnsupportedKey, k.Curve.Params().Name)
		}
		return &PrivateKey{signer: k, alg: ECDSA}, nil
	default:
		return nil, fmt.Errorf("%w: got %T", ErrUnsupportedKey, k)
	}
}

// Generate creates a new key: RSA-2048 or ECDSA P-256.
func Generate(alg Algorithm) (*PrivateKey, error) {
	switch alg {
	case RSA:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("keys: generate RSA key: %w", err)
		}
		return NewPrivateKey(k)
	case ECDSA:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("keys: generate ECDSA key: %w", err)
		}
		return NewPrivateKey(k)
	default:
		return nil, fmt.Errorf("%w: algorithm %q (use RSA or ECDSA)", ErrUnsupportedKey, alg)
	}
}

// Algorithm returns RSA or ECDSA.
func (k *PrivateKey) Algorithm() Algorithm { return k.alg }

// Public returns the public key.
func (k *PrivateKey) Public() crypto.PublicKey { return k.signer.Public() }

// Fingerprint returns the public key's fingerprint (see Fingerprint).
func (k *PrivateKey) Fingerprint() string {
	fp, err := Fingerprint(k.Public())
	if err != nil {
		return "unknown"
	}
	return fp
}

// MarshalPEM returns the private key as unencrypted PKCS#8 PEM
// ("BEGIN PRIVATE KEY"). The result is secret: write it to a file of mode
// 0600 and nowhere else.
func (k *PrivateKey) MarshalPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.signer)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func (k *PrivateKey) redacted() string {
	if k == nil || k.signer == nil {
		return "keys.PrivateKey(nil)"
	}
	return "keys.PrivateKey{" + string(k.alg) + " " + k.Fingerprint() + " REDACTED}"
}

// The printing methods have value receivers so that a PrivateKey value,
// not only a pointer, prints redacted.

// String returns a redacted description.
func (k PrivateKey) String() string { return k.redacted() }

// GoString returns a redacted description, for %#v.
func (k PrivateKey) GoString() string { return k.redacted() }

// Format prints the redacted description for every verb, so that %x, %+v
// and friends cannot reach the key material through reflection.
func (k PrivateKey) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.redacted()) }

// LogValue makes slog print the redacted description.
func (k PrivateKey) LogValue() slog.Value { return slog.StringValue(k.redacted()) }

// MarshalJSON writes the redacted description.
func (k PrivateKey) MarshalJSON() ([]byte, error) {
	return []byte(`"` + k.redacted() + `"`), nil
}

// PublicKeyPEM returns the public key as PEM ("BEGIN PUBLIC KEY",
// SubjectPublicKeyInfo): the exact text to upload as a CloudFront public
// key, or to give the Terraform module's public_keys variable.
func PublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKeyPEM parses a "PUBLIC KEY" PEM block as CloudFront stores
// it, refusing key types CloudFront does not accept.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, ErrNoPublicPEM
		}
		if block.Type != "PUBLIC KEY" {
			continue
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("keys: parse public key: %w", err)
		}
		switch p := pub.(type) {
		case *rsa.PublicKey:
			if p.N.BitLen() != 2048 {
				return nil, fmt.Errorf("%w: RSA public key is %d bits", ErrUnsupportedKey, p.N.BitLen())
			}
		case *ecdsa.PublicKey:
			if p.Curve != elliptic.P256() {
				return nil, fmt.Errorf("%w: ECDSA public key is on curve %s", ErrUnsupportedKey, p.Curve.Params().Name)
			}
		default:
			return nil, fmt.Errorf("%w: got %T", ErrUnsupportedKey, pub)
		}
		return pub, nil
	}
}

// Fingerprint returns a stable fingerprint of a public key: "SHA256:"
// followed by the unpadded base64 of the SHA-256 of its DER
// SubjectPublicKeyInfo (the bytes inside the PUBLIC KEY PEM), so
// `openssl pkey -pubout -outform DER | openssl dgst -sha256 -binary | base64`
// gives the same value. Whitespace changes in the PEM do not change it.
func Fingerprint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("keys: fingerprint: %w", err)
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]), nil
}

// AlgorithmOf returns the algorithm of a public key, or "" for a key type
// CloudFront does not accept.
func AlgorithmOf(pub crypto.PublicKey) Algorithm {
	switch pub.(type) {
	case *rsa.PublicKey:
		return RSA
	case *ecdsa.PublicKey:
		return ECDSA
	}
	return ""
}
