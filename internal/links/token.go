package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"log/slog"
	"regexp"
	"time"
)

// Token wire format, version 1 (before base64url without padding):
//
//	version   1 byte, 1
//	key ID    1 byte length, then the ID (1-32 bytes of [A-Za-z0-9_-])
//	link ID   16 bytes
//	expires   8 bytes, big-endian Unix seconds
//	caller    1 byte length, then the caller ID
//	resource  2 bytes big-endian length, then the path or URL
//	filename  2 bytes big-endian length, then the file name (may be empty)
//	MAC       32 bytes: HMAC-SHA256(key, macLabel || every byte above)
//
// Every field is length-prefixed, so no two different links share the bytes
// the MAC covers.
const (
	tokenVersion = 1
	idBytes      = 16
	macBytes     = sha256.Size
	macLabel     = "cfissuer link token v1\x00"
	// MaxTokenLength is the longest token accepted, in characters; longer
	// ones are refused before any decoding, and Mint refuses a link whose
	// token would be longer.
	MaxTokenLength = 2048
	// MinKeyBytes is the shortest link key secret accepted (256 bits).
	MinKeyBytes = 32
)

var (
	tokenEncoding = base64.RawURLEncoding
	idEncoding    = base32.StdEncoding.WithPadding(base32.NoPadding)
	keyIDRE       = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
)

// A Key is one HMAC-SHA256 link key with its ID, which every token it
// mints carries so that keys can rotate. Its secret never prints: String,
// GoString, fmt verbs and slog show only the ID.
type Key struct {
	id     string
	secret []byte
}

// NewKey returns a link key. The ID is 1-32 letters, digits, '_' or '-';
// the secret at least MinKeyBytes bytes (make one with `openssl rand
// -base64 32`). NewKey keeps a copy of secret.
func NewKey(id string, secret []byte) (Key, error) {
	if !keyIDRE.MatchString(id) {
		return Key{}, fmt.Errorf("%w: key ID %q must be 1-32 letters, digits, '_' or '-'", ErrKey, id)
	}
	if len(secret) < MinKeyBytes {
		return Key{}, fmt.Errorf("%w: key %s: the secret has %d bytes; it needs at least %d (openssl rand -base64 32)", ErrKey, id, len(secret), MinKeyBytes)
	}
	return Key{id: id, secret: append([]byte(nil), secret...)}, nil
}

// ID returns the key's ID.
func (k Key) ID() string { return k.id }

// String shows the key ID only.
func (k Key) String() string { return "links.Key(" + k.id + ")" }

// GoString shows the key ID only.
func (k Key) GoString() string { return k.String() }

// Format shows the key ID only, whatever the verb.
func (k Key) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// LogValue shows the key ID only.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

func (k Key) mac(signed []byte) []byte {
	h := hmac.New(sha256.New, k.secret)
	h.Write([]byte(macLabel))
	h.Write(signed)
	return h.Sum(nil)
}

// A Keyring holds the link keys: the first mints, and all verify, so that
// after a rotation the links minted with an older key keep working until
// they expire. It is immutable and safe for concurrent use.
type Keyring struct {
	keys []Key
}

// NewKeyring returns a keyring whose first key mints. IDs must be unique.
func NewKeyring(ks ...Key) (*Keyring, error) {
	if len(ks) == 0 {
		return nil, fmt.Errorf("%w: a keyring needs at least one key", ErrKey)
	}
	seen := map[string]bool{}
	for _, k := range ks {
		if k.id == "" || len(k.secret) < MinKeyBytes {
			return nil, fmt.Errorf("%w: make keys with NewKey", ErrKey)
		}
		if seen[k.id] {
			return nil, fmt.Errorf("%w: key ID %s appears twice", ErrKey, k.id)
		}
		seen[k.id] = true
	}
	return &Keyring{keys: append([]Key(nil), ks...)}, nil
}

// MintingKeyID returns the ID of the key that mints.
func (r *Keyring) MintingKeyID() string { return r.keys[0].id }

func (r *Keyring) lookup(id string) (Key, bool) {
	for _, k := range r.keys {
		if k.id == id {
			return k, true
		}
	}
	return Key{}, false
}

// Claims are what a token carries and its MAC covers.
type Claims struct {
	ID       string    // the link ID, "l-" and 26 base32 characters
	KeyID    string    // the link key that minted it
	Caller   string    // the caller that minted it, whose scope applies
	Resource string    // a path ("/ebooks/a.pdf") or a full URL on the viewer origin
	Filename string    // the download's file name, or ""
	Expires  time.Time // the link works strictly before this instant
}

// newID returns a fresh random link ID.
func newID(random func([]byte)) string {
	b := make([]byte, idBytes)
	random(b)
	return "l-" + idEncoding.EncodeToString(b)
}

func idBytesOf(id string) ([]byte, bool) {
	if len(id) != 2+26 || id[:2] != "l-" {
		return nil, false
	}
	b, err := idEncoding.DecodeString(id[2:])
	if err != nil || len(b) != idBytes {
		return nil, false
	}
	return b, true
}

// ValidID reports whether id has the form of a link ID.
func ValidID(id string) bool {
	_, ok := idBytesOf(id)
	return ok
}

// encode builds a token for c with key k.
func encode(k Key, c Claims) (string, error) {
	id, ok := idBytesOf(c.ID)
	switch {
	case !ok:
		return "", fmt.Errorf("links: bad link ID %q", c.ID)
	case len(c.Caller) == 0 || len(c.Caller) > 255:
		return "", fmt.Errorf("links: caller ID must be 1-255 bytes")
	case len(c.Resource) == 0 || len(c.Resource) > 0xffff || len(c.Filename) > 0xffff:
		return "", fmt.Errorf("%w: resource or filename too long", ErrTooLong)
	}
	b := make([]byte, 0, 64+len(c.Caller)+len(c.Resource)+len(c.Filename))
	b = append(b, tokenVersion, byte(len(k.id)))
	b = append(b, k.id...)
	b = append(b, id...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Expires.Unix()))
	b = append(b, byte(len(c.Caller)))
	b = append(b, c.Caller...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.Resource)))
	b = append(b, c.Resource...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.Filename)))
	b = append(b, c.Filename...)
	b = append(b, k.mac(b)...)
	tok := tokenEncoding.EncodeToString(b)
	if len(tok) > MaxTokenLength {
		return "", fmt.Errorf("%w: the token would be %d characters, more than %d; use a shorter path or file name", ErrTooLong, len(tok), MaxTokenLength)
	}
	return tok, nil
}

// ParseToken decodes a token's claims without verifying its MAC. It is
// for inspection and fuzzing; Verify is what decides whether to trust one.
// Errors wrap ErrMalformed.
func ParseToken(tok string) (Claims, error) {
	c, _, _, err := parse(tok)
	return c, err
}

// parse returns the claims, the bytes the MAC covers and the MAC.
func parse(tok string) (Claims, []byte, []byte, error) {
	var c Claims
	if len(tok) > MaxTokenLength {
		return c, nil, nil, fmt.Errorf("%w: longer than %d characters", ErrMalformed, MaxTokenLength)
	}
	for i := 0; i < len(tok); i++ {
		// The decoder skips '\r' and '\n'; refuse them and everything
		// else outside the alphabet, so that a token has one spelling.
		if ch := tok[i]; !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return c, nil, nil, fmt.Errorf("%w: not base64url", ErrMalformed)
		}
	}
	b, err := tokenEncoding.Strict().DecodeString(tok)
	if err != nil {
		return c, nil, nil, fmt.Errorf("%w: not base64url", ErrMalformed)
	}
	if len(b) < macBytes {
		return c, nil, nil, fmt.Errorf("%w: too short", ErrMalformed)
	}
	signed, mac := b[:len(b)-macBytes], b[len(b)-macBytes:]
	r := reader{b: signed}
	if v := r.byte(); v != tokenVersion {
		return c, nil, nil, fmt.Errorf("%w: unknown version", ErrMalformed)
	}
	c.KeyID = string(r.bytes(int(r.byte())))
	id := r.bytes(idBytes)
	exp := r.uint64()
	c.Caller = string(r.bytes(int(r.byte())))
	c.Resource = string(r.bytes(int(r.uint16())))
	c.Filename = string(r.bytes(int(r.uint16())))
	if r.bad || len(r.b) != 0 {
		return c, nil, nil, fmt.Errorf("%w: fields do not add up", ErrMalformed)
	}
	if !keyIDRE.MatchString(c.KeyID) || c.Caller == "" || c.Resource == "" || exp > 1<<40 {
		return c, nil, nil, fmt.Errorf("%w: bad field", ErrMalformed)
	}
	c.ID = "l-" + idEncoding.EncodeToString(id)
	c.Expires = time.Unix(int64(exp), 0).UTC()
	return c, signed, mac, nil
}

// Verify checks a token's MAC with the keyring (in constant time) and
// returns its claims. It does not look at the expiry or at revocations:
// Manager.Follow does. Errors wrap ErrMalformed, ErrUnknownKey or
// ErrBadMAC and never hold the token.
func (r *Keyring) Verify(tok string) (Claims, error) {
	c, signed, mac, err := parse(tok)
	if err != nil {
		return Claims{}, err
	}
	k, ok := r.lookup(c.KeyID)
	if !ok {
		return Claims{}, fmt.Errorf("%w: %q", ErrUnknownKey, c.KeyID)
	}
	if !hmac.Equal(k.mac(signed), mac) {
		return Claims{}, ErrBadMAC
	}
	return c, nil
}

// reader reads length-prefixed fields; bad is set on a short read.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) bytes(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) uint16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (r *reader) uint64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}
