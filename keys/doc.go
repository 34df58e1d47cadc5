// Package keys holds CloudFront signing keys: parsing private keys in the
// forms OpenSSL writes, the Signer interface the issuer signs through, and
// the sources keys are loaded from.
//
// # Keys
//
// ParsePrivateKey reads PKCS#1, PKCS#8, SEC1 (with OpenSSL's leading
// "EC PARAMETERS" block) and encrypted PKCS#8 PEM. Only RSA-2048 and ECDSA
// P-256 are accepted, because those are what CloudFront key groups take. A
// *PrivateKey never prints its material: String, GoString, every fmt verb,
// slog and JSON show only the algorithm and the public key's fingerprint.
// PublicKeyPEM gives the exact text to upload to CloudFront; Fingerprint is
// stable across PEM whitespace.
//
// # Signers
//
// Signer is the contract between keys and the issuer:
//
//	KeyID() string            // the CloudFront public key ID (Key-Pair-Id)
//	Algorithm() Algorithm     // RSA or ECDSA
//	Public() crypto.PublicKey
//	Sign(ctx, message, hash) ([]byte, error)
//
// Sign receives the policy bytes, not a digest, so a remote signer can
// choose how to send them. Local signs in memory, deterministically (RSA
// PKCS#1 v1.5; ECDSA with RFC 6979 nonces), so replicas agree byte for byte.
// Verify checks a signature the way CloudFront does.
//
// # Sources
//
// A Source loads a key and returns its Signer: File and Env, SecretsManager
// (a secret string or binary holding the PEM, optionally as a field of a
// JSON secret) and SSM (a SecureString parameter), with the passphrase of
// an encrypted key coming from a separate Passphrase; and KMS, an
// asymmetric AWS KMS key whose private key never leaves KMS: its
// *KMSSigner signs SHA-256 digests only (MessageType DIGEST) and checks
// each signature KMS returns. The AWS sources take a client (built by cmd/
// with the SDK's configuration chain) so that tests point them at
// moto_server. Every source passes the conformance suite in keystest.
//
// # Concurrency and errors
//
// Every type here is safe for concurrent use. Errors wrap ErrNoPEM, ErrNoPublicPEM,
// ErrUnsupportedKey, ErrPassphraseRequired, ErrBadPassphrase,
// ErrLegacyEncryption, ErrUnsupportedCipher, ErrUnsupportedHash, ErrKeyID,
// ErrSource (the source could not deliver: a missing file or secret, an AWS
// call that failed), ErrSecretFormat, ErrKMSHash, ErrKMSSignature, ErrRing
// or ErrNoActiveKey; test for them with errors.Is. No error ever holds key
// material or a passphrase.
package keys
