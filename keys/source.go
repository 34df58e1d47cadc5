package keys

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
)

// A Source loads one signing key and returns a Signer for it. File and Env
// are the sources of this package; the AWS sources (Secrets Manager, SSM
// Parameter Store, KMS) implement the same interface.
//
// Load may be called again to pick up a rotated key; implementations must
// be safe for concurrent use.
type Source interface {
	Load(ctx context.Context) (Signer, error)
}

// A Passphrase returns the passphrase of an encrypted private key. It is
// kept apart from the key's own source, so the two secrets can live in
// different places (a file and an environment variable, say).
type Passphrase func(ctx context.Context) ([]byte, error)

// PassphraseFile reads a passphrase from a file, dropping one trailing
// newline.
func PassphraseFile(path string) Passphrase {
	return func(context.Context) ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("keys: read passphrase file: %w", err)
		}
		b = bytes.TrimSuffix(b, []byte("\n"))
		return bytes.TrimSuffix(b, []byte("\r")), nil
	}
}

// PassphraseEnv reads a passphrase from an environment variable.
func PassphraseEnv(name string) Passphrase {
	return func(context.Context) ([]byte, error) {
		v, ok := os.LookupEnv(name)
		if !ok || v == "" {
			return nil, fmt.Errorf("keys: passphrase environment variable %s is not set", name)
		}
		return []byte(v), nil
	}
}

// ErrSource is wrapped by errors from a source that cannot deliver its key
// material (missing file, unset variable).
var ErrSource = errors.New("keys: key source unavailable")

// File loads a PEM private key from a file (see ParsePrivateKey for the
// forms accepted).
type File struct {
	Path       string     // the PEM file
	KeyID      string     // the CloudFront public key ID
	Passphrase Passphrase // for an encrypted key; nil otherwise
}

// Load implements Source.
func (f File) Load(ctx context.Context) (Signer, error) {
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSource, err)
	}
	return load(ctx, data, f.KeyID, f.Passphrase, "file "+f.Path)
}

// Env loads a PEM private key from an environment variable. The value may
// be the PEM itself, the PEM with its newlines written as the two characters
// `\n` (as many deployment tools store it), or the PEM base64-encoded.
type Env struct {
	Name       string // the environment variable
	KeyID      string
	Passphrase Passphrase
}

// Load implements Source.
func (e Env) Load(ctx context.Context) (Signer, error) {
	v, ok := os.LookupEnv(e.Name)
	if !ok || v == "" {
		return nil, fmt.Errorf("%w: environment variable %s is not set", ErrSource, e.Name)
	}
	data := []byte(v)
	switch {
	case bytes.Contains(data, []byte("-----BEGIN")) && !bytes.Contains(data, []byte("\n")):
		data = bytes.ReplaceAll(data, []byte(`\n`), []byte("\n"))
	case !bytes.Contains(data, []byte("-----BEGIN")):
		if dec, err := base64.StdEncoding.DecodeString(v); err == nil {
			data = dec
		}
	}
	return load(ctx, data, e.KeyID, e.Passphrase, "environment variable "+e.Name)
}

func load(ctx context.Context, data []byte, keyID string, pass Passphrase, where string) (Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var secret []byte
	if pass != nil {
		var err error
		if secret, err = pass(ctx); err != nil {
			return nil, err
		}
	}
	key, err := ParsePrivateKey(data, secret)
	clear(secret)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", where, err)
	}
	return NewLocal(keyID, key)
}
