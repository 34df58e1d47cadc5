package links

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
)

// A KeySource loads one link key's secret. KeyFile and KeyEnv are the
// sources; both hold the secret base64-encoded (standard or URL alphabet,
// padded or not), as `openssl rand -base64 32` prints it.
type KeySource interface {
	Load(ctx context.Context) (Key, error)
}

// KeyFile reads a link key's secret from a file (one trailing newline
// allowed).
type KeyFile struct {
	ID   string
	Path string
}

// Load implements KeySource.
func (f KeyFile) Load(ctx context.Context) (Key, error) {
	if err := ctx.Err(); err != nil {
		return Key{}, err
	}
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return Key{}, fmt.Errorf("%w: key %s: %w", ErrKey, f.ID, err)
	}
	defer clear(data)
	return ParseKey(f.ID, data, "file "+f.Path)
}

// KeyEnv reads a link key's secret from an environment variable.
type KeyEnv struct {
	ID   string
	Name string
}

// Load implements KeySource.
func (e KeyEnv) Load(ctx context.Context) (Key, error) {
	if err := ctx.Err(); err != nil {
		return Key{}, err
	}
	v, ok := os.LookupEnv(e.Name)
	if !ok || v == "" {
		return Key{}, fmt.Errorf("%w: key %s: environment variable %s is not set", ErrKey, e.ID, e.Name)
	}
	return ParseKey(e.ID, []byte(v), "environment variable "+e.Name)
}

// ParseKey decodes a base64 secret (where names its origin in errors,
// which never hold any of the secret) into a Key.
func ParseKey(id string, data []byte, where string) (Key, error) {
	text := bytes.TrimSpace(data)
	text = bytes.TrimRight(text, "=")
	secret := make([]byte, base64.RawStdEncoding.DecodedLen(len(text)))
	defer clear(secret)
	enc := base64.RawStdEncoding
	if bytes.ContainsAny(text, "-_") {
		enc = base64.RawURLEncoding
	}
	n, err := enc.Decode(secret, text)
	if err != nil {
		return Key{}, fmt.Errorf("%w: key %s: %s does not hold base64 (make one with openssl rand -base64 32)", ErrKey, id, where)
	}
	return NewKey(id, secret[:n])
}

// GenerateKey returns a new random secret, base64-encoded, for a KeyFile.
func GenerateKey() []byte {
	b := make([]byte, MinKeyBytes)
	randRead(b)
	defer clear(b)
	return []byte(base64.StdEncoding.EncodeToString(b) + "\n")
}
