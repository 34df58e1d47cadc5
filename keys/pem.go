package keys

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"hash"
)

// ParsePrivateKey parses a PEM private key in any of the forms OpenSSL and
// the AWS tools write:
//
//   - PKCS#1 ("BEGIN RSA PRIVATE KEY"), as `openssl genrsa -traditional`;
//   - PKCS#8 ("BEGIN PRIVATE KEY"), as OpenSSL 3 `genrsa` and `genpkey`;
//   - SEC1 ("BEGIN EC PRIVATE KEY"), as `openssl ecparam -genkey`, which
//     writes an "EC PARAMETERS" block first: it is skipped;
//   - encrypted PKCS#8 ("BEGIN ENCRYPTED PRIVATE KEY", PBES2 with PBKDF2 and
//     AES-CBC), as OpenSSL 3 writes with -aes256 or `pkcs8 -topk8`, decrypted
//     with passphrase (nil for an unencrypted key).
//
// Only RSA-2048 and ECDSA P-256 keys are accepted; errors wrap
// ErrUnsupportedKey, ErrNoPEM, ErrPassphraseRequired, ErrBadPassphrase,
// ErrLegacyEncryption or ErrUnsupportedCipher, and never hold key material.
func ParsePrivateKey(data, passphrase []byte) (*PrivateKey, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if bytes.Contains(data, []byte("PUBLIC KEY-----")) {
				return nil, fmt.Errorf("%w: this is a public key; give the private key", ErrNoPEM)
			}
			return nil, ErrNoPEM
		}
		if _, ok := block.Headers["Proc-Type"]; ok {
			return nil, ErrLegacyEncryption
		}
		switch block.Type {
		case "EC PARAMETERS":
			continue // written by `openssl ecparam -genkey` before the key
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("keys: parse PKCS#1 RSA key: %w", err)
			}
			return NewPrivateKey(k)
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: parse SEC1 EC key (P-256 only): %v", ErrUnsupportedKey, err)
			}
			return NewPrivateKey(k)
		case "PRIVATE KEY":
			return parsePKCS8(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			if len(passphrase) == 0 {
				return nil, ErrPassphraseRequired
			}
			der, err := decryptPKCS8(block.Bytes, passphrase)
			if err != nil {
				return nil, err
			}
			return parsePKCS8(der)
		default:
			continue
		}
	}
}

func parsePKCS8(der []byte) (*PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: parse PKCS#8 key: %v", ErrUnsupportedKey, err)
	}
	return NewPrivateKey(k)
}

// ASN.1 structures of RFC 5958 (EncryptedPrivateKeyInfo) and RFC 8018
// (PBES2, PBKDF2).
type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// maxPBKDF2Iterations bounds the work a hostile key file can ask for.
const maxPBKDF2Iterations = 10_000_000

func decryptPKCS8(der, passphrase []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: not an EncryptedPrivateKeyInfo", ErrUnsupportedCipher)
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("%w: scheme %v", ErrUnsupportedCipher, info.Algorithm.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("%w: PBES2 parameters", ErrUnsupportedCipher)
	}
	if !params.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("%w: key derivation %v (only PBKDF2)", ErrUnsupportedCipher, params.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("%w: PBKDF2 parameters", ErrUnsupportedCipher)
	}
	if kdf.IterationCount < 1 || kdf.IterationCount > maxPBKDF2Iterations {
		return nil, fmt.Errorf("%w: PBKDF2 iteration count %d", ErrUnsupportedCipher, kdf.IterationCount)
	}
	var prf func() hash.Hash
	switch alg := kdf.PRF.Algorithm; {
	case len(alg) == 0 || alg.Equal(oidHMACSHA1):
		prf = sha1.New
	case alg.Equal(oidHMACSHA256):
		prf = sha256.New
	case alg.Equal(oidHMACSHA384):
		prf = sha512.New384
	case alg.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, fmt.Errorf("%w: PBKDF2 PRF %v", ErrUnsupportedCipher, alg)
	}
	var keyLen int
	switch alg := params.EncryptionScheme.Algorithm; {
	case alg.Equal(oidAES128CBC):
		keyLen = 16
	case alg.Equal(oidAES192CBC):
		keyLen = 24
	case alg.Equal(oidAES256CBC):
		keyLen = 32
	default:
		return nil, fmt.Errorf("%w: cipher %v", ErrUnsupportedCipher, alg)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(iv) != aes.BlockSize {
		return nil, fmt.Errorf("%w: AES-CBC IV", ErrUnsupportedCipher)
	}
	key, err := pbkdf2.Key(prf, string(passphrase), kdf.Salt, kdf.IterationCount, keyLen)
	if err != nil {
		return nil, fmt.Errorf("%w: PBKDF2: %v", ErrUnsupportedCipher, err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedCipher, err)
	}
	data := info.EncryptedData
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, ErrBadPassphrase
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	// PKCS#7 padding; a wrong passphrase almost always breaks it, and the
	// DER parse after it catches the rest.
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, ErrBadPassphrase
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, ErrBadPassphrase
		}
	}
	plain = plain[:len(plain)-pad]
	if _, err := x509.ParsePKCS8PrivateKey(plain); err != nil {
		return nil, ErrBadPassphrase
	}
	return plain, nil
}
