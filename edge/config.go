package edge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// Config is the edge's own configuration file, apart from the behaviors
// file: where it listens, the viewer origin, the trusted public keys and
// the origin. It holds no secrets: the S3 origin's credentials come from
// environment variables it names.
//
//	{
//	  "listen": "127.0.0.1:8081",
//	  "viewer_origin": "https://media.example.test",
//	  "trusted_keys": [{"id": "KDEVELOPMENT", "public_key_file": ".cache/dev/public.pem"}],
//	  "origin": {"dir": "content/"},
//	  "clock_skew": 0
//	}
type Config struct {
	// Listen is host:port on a loopback address; default 127.0.0.1:8081.
	Listen string `json:"listen,omitempty"`
	// ViewerOrigin overrides the behaviors file's viewer_origin.
	ViewerOrigin string `json:"viewer_origin,omitempty"`
	// TrustedKeys is the key group every signed behavior trusts.
	TrustedKeys []TrustedKey `json:"trusted_keys"`
	// Origin is where content comes from; empty means the embedded sample
	// content.
	Origin OriginConfig `json:"origin"`
	// ClockSkew is the tolerance in seconds (see Options); default 0.
	ClockSkew int64 `json:"clock_skew,omitempty"`
	// CacheEntries is the in-memory cache size; default 256.
	CacheEntries int `json:"cache_entries,omitempty"`
}

// TrustedKey is one CloudFront public key: its ID and its PEM, inline or in
// a file (relative paths are resolved by the caller).
type TrustedKey struct {
	ID            string `json:"id"`
	PublicKeyFile string `json:"public_key_file,omitempty"`
	PublicKeyPEM  string `json:"public_key_pem,omitempty"`
}

// OriginConfig chooses the origin: a directory, an S3-compatible bucket, or
// (both empty) the embedded sample content.
type OriginConfig struct {
	Dir string    `json:"dir,omitempty"`
	S3  *S3Config `json:"s3,omitempty"`
}

// S3Config is an S3-compatible origin reached with SigV4 (Origin Access
// Control). The credentials are read from the environment variables named
// (defaults AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), never from the
// file.
type S3Config struct {
	Endpoint           string `json:"endpoint"`
	Bucket             string `json:"bucket"`
	Region             string `json:"region,omitempty"`
	AccessKeyIDEnv     string `json:"access_key_id_env,omitempty"`
	SecretAccessKeyEnv string `json:"secret_access_key_env,omitempty"`
}

// DefaultListen is where the edge listens when the configuration says
// nothing.
const DefaultListen = "127.0.0.1:8081"

// ConfigError is a problem with one field of the configuration.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string { return "edge config: " + e.Field + ": " + e.Problem }

// Unwrap makes a *ConfigError match ErrConfig.
func (e *ConfigError) Unwrap() error { return ErrConfig }

// ParseConfig reads a configuration file (JSON, unknown fields refused),
// fills in defaults and validates it.
func ParseConfig(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("edge config: read: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	var c Config
	if err := d.Decode(&c); err != nil {
		return nil, &ConfigError{Field: "(file)", Problem: err.Error()}
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// SetDefaults fills in the documented defaults.
func (c *Config) SetDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if s := c.Origin.S3; s != nil {
		if s.Region == "" {
			s.Region = "us-east-1"
		}
		if s.AccessKeyIDEnv == "" {
			s.AccessKeyIDEnv = "AWS_ACCESS_KEY_ID"
		}
		if s.SecretAccessKeyEnv == "" {
			s.SecretAccessKeyEnv = "AWS_SECRET_ACCESS_KEY"
		}
	}
}

// Validate checks the configuration; the first problem is a *ConfigError.
func (c *Config) Validate() error {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return &ConfigError{"listen", fmt.Sprintf("%q is not host:port", c.Listen)}
	}
	if ip, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !ip.IsLoopback()) {
		return &ConfigError{"listen", fmt.Sprintf("%q: the dev edge listens on a loopback address only (127.0.0.1)", c.Listen)}
	}
	if c.ViewerOrigin != "" {
		if s, h, ok := strings.Cut(c.ViewerOrigin, "://"); !ok || (s != "https" && s != "http") || h == "" || strings.ContainsAny(h, "/?#") {
			return &ConfigError{"viewer_origin", fmt.Sprintf("%q must be an origin like https://media.example.com", c.ViewerOrigin)}
		}
	}
	for i, k := range c.TrustedKeys {
		f := fmt.Sprintf("trusted_keys[%d]", i)
		if k.ID == "" {
			return &ConfigError{f + ".id", "is required"}
		}
		if (k.PublicKeyFile == "") == (k.PublicKeyPEM == "") {
			return &ConfigError{f, "give exactly one of public_key_file and public_key_pem"}
		}
	}
	if c.Origin.Dir != "" && c.Origin.S3 != nil {
		return &ConfigError{"origin", "give dir or s3, not both"}
	}
	if s := c.Origin.S3; s != nil {
		if !strings.HasPrefix(s.Endpoint, "http://") && !strings.HasPrefix(s.Endpoint, "https://") {
			return &ConfigError{"origin.s3.endpoint", fmt.Sprintf("%q must be an http(s) URL", s.Endpoint)}
		}
		if s.Bucket == "" || strings.Contains(s.Bucket, "/") {
			return &ConfigError{"origin.s3.bucket", "is required (a bucket name)"}
		}
	}
	if c.ClockSkew < 0 {
		return &ConfigError{"clock_skew", "must not be negative"}
	}
	if c.CacheEntries < 0 {
		return &ConfigError{"cache_entries", "must not be negative"}
	}
	return nil
}

// Keys reads the configured public keys. Relative file names are
// taken from baseDir (the configuration file's directory).
func (c *Config) Keys(baseDir string) ([]Key, error) {
	var out []Key
	for i, k := range c.TrustedKeys {
		pemData := []byte(k.PublicKeyPEM)
		if k.PublicKeyFile != "" {
			var err error
			if pemData, err = os.ReadFile(resolve(baseDir, k.PublicKeyFile)); err != nil {
				return nil, &ConfigError{fmt.Sprintf("trusted_keys[%d].public_key_file", i), err.Error()}
			}
		}
		pub, err := keys.ParsePublicKeyPEM(pemData)
		if err != nil {
			return nil, &ConfigError{fmt.Sprintf("trusted_keys[%d]", i), err.Error()}
		}
		out = append(out, Key{ID: k.ID, Public: pub})
	}
	return out, nil
}

// NewOrigin returns the configured origin: DirOrigin over Dir (relative to
// baseDir), S3Origin with credentials from getenv, or DirOrigin over
// SampleContent.
func (c *Config) NewOrigin(baseDir string, getenv func(string) string) (Origin, error) {
	switch {
	case c.Origin.S3 != nil:
		s := c.Origin.S3
		id, secret := getenv(s.AccessKeyIDEnv), getenv(s.SecretAccessKeyEnv)
		if id == "" || secret == "" {
			return nil, &ConfigError{"origin.s3", fmt.Sprintf("set the environment variables %s and %s", s.AccessKeyIDEnv, s.SecretAccessKeyEnv)}
		}
		return &S3Origin{Endpoint: s.Endpoint, Bucket: s.Bucket, Region: s.Region,
			Credentials: aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, Source: "edge config"}}, nil
	case c.Origin.Dir != "":
		dir := resolve(baseDir, c.Origin.Dir)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, &ConfigError{"origin.dir", fmt.Sprintf("%q is not a directory", dir)}
		}
		return DirOrigin{FS: os.DirFS(dir)}, nil
	default:
		return DirOrigin{FS: SampleContent()}, nil
	}
}

// NewServer builds the verifier, origin and server the configuration
// describes, for the behaviors bs.
func (c *Config) NewServer(bs *policy.Behaviors, baseDir string, getenv func(string) string, opts ServerOptions) (*Server, error) {
	trusted, err := c.Keys(baseDir)
	if err != nil {
		return nil, err
	}
	v, err := NewVerifier(bs, trusted, Options{ClockSkew: time.Duration(c.ClockSkew) * time.Second})
	if err != nil {
		return nil, err
	}
	o, err := c.NewOrigin(baseDir, getenv)
	if err != nil {
		return nil, err
	}
	if opts.ViewerOrigin == "" {
		opts.ViewerOrigin = c.ViewerOrigin
	}
	if opts.CacheEntries == 0 {
		opts.CacheEntries = c.CacheEntries
	}
	return NewServer(c.Listen, v, o, opts)
}

func resolve(base, p string) string {
	if filepath.IsAbs(p) || base == "" {
		return p
	}
	return filepath.Join(base, p)
}
