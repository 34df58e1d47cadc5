package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// ServeConfig is the issuer operator's configuration (`cfissuer serve
// --config`), in YAML or JSON. It holds key sources and caller hashes, never
// key material or API secrets, and lives apart from the behaviors file,
// which Terraform writes. Every field has a default (in brackets):
//
//	listen: 127.0.0.1:8080          # [127.0.0.1:8080]  env CFISSUER_LISTEN
//	behaviors: behaviors.json       # [none: --behaviors] env CFISSUER_BEHAVIORS
//	log: {level: info, format: json}  # [info, json]    env CFISSUER_LOG_LEVEL, CFISSUER_LOG_FORMAT
//	cache_size: 10000               # signatures kept in the LRU [10000]
//	limits:
//	  max_body_bytes: 1048576       # [1 MiB]
//	  max_batch: 1000               # [1000]
//	  read_header_timeout: 5s       # [5s]; durations are Go durations or seconds
//	  read_timeout: 15s             # [15s]
//	  write_timeout: 30s            # [30s]
//	  idle_timeout: 120s            # [120s]
//	  shutdown_timeout: 30s         # [30s] to finish in-flight requests on SIGTERM
//	reload_interval: 5m             # re-read config, behaviors and keys [0: only on SIGHUP]
//	aws:                            # for secretsmanager, ssm and kms keys: the SDK's
//	  region: eu-west-1             #   configuration chain [AWS_REGION, profile, IMDS]
//	  profile: prod                 #   [AWS_PROFILE or default]
//	  endpoint: http://127.0.0.1:5000  # override every AWS endpoint (tests) [none]
//	keys:                           # at least one
//	  - id: K2JCJMDEHXQW5F          # CloudFront public key ID
//	    file: /run/secrets/cf.pem   # exactly one of file, env, secretsmanager, ssm, kms
//	    # env: CF_KEY
//	    # secretsmanager: {secret_id: cf/signing, json_field: private_key, version_stage: AWSCURRENT}
//	    # ssm: {name: /cf/signing-key}        # a SecureString parameter
//	    # kms: {key: alias/cf-signing}        # RSA_2048 or ECC_NIST_P256, SIGN_VERIFY; SHA-256 only
//	    passphrase_file: …          # or passphrase_env (encrypted keys only; not kms)
//	    activate_at: 2026-03-01T00:00:00Z  # [always active]
//	    retire_at: 2026-06-01T00:00:00Z    # [never retires]
//	    revoked_at: 2026-04-02T09:30:00Z   # killed: never loaded, signs nothing (cfissuer keys revoke) [not revoked]
//	callers:
//	  - id: course-app
//	    secret_sha256: 64 hex digits  # SHA-256 of the secret half of "id.secret"
//	    behaviors: [courses]          # [any signed behavior]
//	    path_prefixes: [/courses/]    # [any path]
//	    max_lifetime: 2h              # [no limit beyond the behaviors']
//	    rate: 50                      # requests per second [unlimited]
//	    burst: 100                    # [max(rate, 1)]
//	    revoke: true                  # may revoke grants and its own subjects [false]
//	revocation: {store: kvs, kvs_arn: …}  # the grant deny-list [off]; see RevocationConfig
//
// Relative file names are taken from the configuration file's directory.
type ServeConfig struct {
	Listen         string           `yaml:"listen,omitempty"`
	Behaviors      string           `yaml:"behaviors,omitempty"`
	Log            LogConfig        `yaml:"log,omitempty"`
	CacheSize      int              `yaml:"cache_size,omitempty"`
	Limits         LimitsConfig     `yaml:"limits,omitempty"`
	ReloadInterval Duration         `yaml:"reload_interval,omitempty"`
	AWS            AWSConfig        `yaml:"aws,omitempty"`
	Keys           []KeyConfig      `yaml:"keys,omitempty"`
	Callers        []CallerConfig   `yaml:"callers,omitempty"`
	Links          LinksConfig      `yaml:"links,omitempty"`      // permanent links; see LinksConfig
	Revocation     RevocationConfig `yaml:"revocation,omitempty"` // the grant deny-list; see RevocationConfig
}

// LogConfig chooses the log level and format.
type LogConfig struct {
	Level  string `yaml:"level,omitempty"`  // debug, info, warn, error
	Format string `yaml:"format,omitempty"` // json or text
}

// LimitsConfig bounds requests and the server's timeouts.
type LimitsConfig struct {
	MaxBodyBytes      int64    `yaml:"max_body_bytes,omitempty"`
	MaxBatch          int      `yaml:"max_batch,omitempty"`
	ReadHeaderTimeout Duration `yaml:"read_header_timeout,omitempty"`
	ReadTimeout       Duration `yaml:"read_timeout,omitempty"`
	WriteTimeout      Duration `yaml:"write_timeout,omitempty"`
	IdleTimeout       Duration `yaml:"idle_timeout,omitempty"`
	ShutdownTimeout   Duration `yaml:"shutdown_timeout,omitempty"`
}

// KeyConfig is one key of the ring: where its private key comes from and
// when it signs.
type KeyConfig struct {
	ID             string                   `yaml:"id,omitempty"`
	File           string                   `yaml:"file,omitempty"`
	Env            string                   `yaml:"env,omitempty"`
	PassphraseFile string                   `yaml:"passphrase_file,omitempty"`
	PassphraseEnv  string                   `yaml:"passphrase_env,omitempty"`
	SecretsManager *SecretsManagerKeyConfig `yaml:"secretsmanager,omitempty"`
	SSM            *SSMKeyConfig            `yaml:"ssm,omitempty"`
	KMS            *KMSKeyConfig            `yaml:"kms,omitempty"`
	ActivateAt     *time.Time               `yaml:"activate_at,omitempty"`
	RetireAt       *time.Time               `yaml:"retire_at,omitempty"`
	// RevokedAt marks a killed key (`cfissuer keys revoke`): it is never
	// loaded, so it signs nothing from the next reload on; the time is a
	// record of when.
	RevokedAt *time.Time `yaml:"revoked_at,omitempty"`
}

// CallerConfig is one API caller (see issuer.Caller).
type CallerConfig struct {
	ID           string   `yaml:"id,omitempty"`
	SecretSHA256 string   `yaml:"secret_sha256"`
	Behaviors    []string `yaml:"behaviors,omitempty"`
	PathPrefixes []string `yaml:"path_prefixes,omitempty"`
	MaxLifetime  Duration `yaml:"max_lifetime,omitempty"`
	Rate         float64  `yaml:"rate,omitempty"`
	Burst        int      `yaml:"burst,omitempty"`
	Revoke       bool     `yaml:"revoke,omitempty"`
}

// Duration is a Go duration ("90s", "2h") or a whole number of seconds.
type Duration time.Duration

// UnmarshalYAML reads "2h" or 7200.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration is a string such as \"2h\" or a number of seconds", n.Line)
	}
	if secs, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
		*d = Duration(time.Duration(secs) * time.Second)
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as \"90s\" or \"2h\", nor a number of seconds", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the Go duration form.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Configuration defaults.
const (
	DefaultServeListen     = "127.0.0.1:8080"
	DefaultShutdownTimeout = 30 * time.Second
	maxConfigSize          = 1 << 20
)

// ServeConfigError is a problem with one field of the configuration.
type ServeConfigError struct {
	Field   string
	Problem string
}

func (e *ServeConfigError) Error() string { return "config: " + e.Field + ": " + e.Problem }

// ParseServeConfig reads a YAML or JSON configuration (JSON is YAML), refusing
// unknown fields. It does not fill in defaults or validate: call
// SetDefaults, apply overrides, then Validate.
func ParseServeConfig(r io.Reader) (*ServeConfig, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read: %w", err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("config: larger than %d bytes", maxConfigSize)
	}
	var c ServeConfig
	d := yaml.NewDecoder(bytes.NewReader(data))
	d.KnownFields(true)
	if err := d.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &c, nil
}

// SetDefaults fills in the documented defaults.
func (c *ServeConfig) SetDefaults() {
	setDefaultValue(&c.Listen, DefaultServeListen)
	setDefaultValue(&c.Log.Level, "info")
	setDefaultValue(&c.Log.Format, "json")
	setDefaultValue(&c.Limits.ShutdownTimeout, Duration(DefaultShutdownTimeout))
}

func setDefaultValue[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// ApplyEnv applies the environment overrides a deployment needs:
// CFISSUER_LISTEN, CFISSUER_BEHAVIORS, CFISSUER_LOG_LEVEL and
// CFISSUER_LOG_FORMAT.
func (c *ServeConfig) ApplyEnv(getenv func(string) string) {
	for _, o := range []struct {
		name string
		dst  *string
	}{
		{"CFISSUER_LISTEN", &c.Listen}, {"CFISSUER_BEHAVIORS", &c.Behaviors},
		{"CFISSUER_LOG_LEVEL", &c.Log.Level}, {"CFISSUER_LOG_FORMAT", &c.Log.Format},
	} {
		if v := getenv(o.name); v != "" {
			*o.dst = v
		}
	}
}

// Validate checks every field; the first problem is a *ServeConfigError naming
// it.
func (c *ServeConfig) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return &ServeConfigError{"listen", fmt.Sprintf("%q is not host:port", c.Listen)}
	}
	if c.Behaviors == "" {
		return &ServeConfigError{"behaviors", "is required (or --behaviors FILE, or CFISSUER_BEHAVIORS)"}
	}
	if _, err := logLevel(c.Log.Level); err != nil {
		return &ServeConfigError{"log.level", err.Error()}
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		return &ServeConfigError{"log.format", fmt.Sprintf("must be json or text, not %q", c.Log.Format)}
	}
	if c.CacheSize < 0 {
		return &ServeConfigError{"cache_size", "must not be negative"}
	}
	l := c.Limits
	if l.MaxBodyBytes < 0 {
		return &ServeConfigError{"limits.max_body_bytes", "must not be negative"}
	}
	if l.MaxBatch < 0 {
		return &ServeConfigError{"limits.max_batch", "must not be negative"}
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{{"read_header_timeout", l.ReadHeaderTimeout}, {"read_timeout", l.ReadTimeout}, {"write_timeout", l.WriteTimeout}, {"idle_timeout", l.IdleTimeout}, {"shutdown_timeout", l.ShutdownTimeout}} {
		if d.v < 0 {
			return &ServeConfigError{"limits." + d.name, "must not be negative"}
		}
	}
	if c.ReloadInterval < 0 {
		return &ServeConfigError{"reload_interval", "must not be negative"}
	}
	if c.ReloadInterval > 0 && time.Duration(c.ReloadInterval) < time.Second {
		return &ServeConfigError{"reload_interval", "must be at least 1s (each reload fetches every key source)"}
	}
	if len(c.Keys) == 0 {
		return &ServeConfigError{"keys", "at least one signing key is required"}
	}
	if !slices.ContainsFunc(c.Keys, func(k KeyConfig) bool { return k.RevokedAt == nil }) {
		return &ServeConfigError{"keys", "every key is revoked: at least one signing key is required"}
	}
	ids := map[string]int{}
	for i, k := range c.Keys {
		f := fmt.Sprintf("keys[%d]", i)
		if err := keys.CheckKeyID(k.ID); err != nil {
			return &ServeConfigError{f + ".id", fmt.Sprintf("%q is not a CloudFront public key ID (upper-case letters and digits, like K2JCJMDEHXQW5F)", k.ID)}
		}
		if j, dup := ids[k.ID]; dup {
			return &ServeConfigError{f + ".id", fmt.Sprintf("%s is already keys[%d]", k.ID, j)}
		}
		ids[k.ID] = i
		if err := k.validateSource(f); err != nil {
			return err
		}
		if k.PassphraseFile != "" && k.PassphraseEnv != "" {
			return &ServeConfigError{f, "give passphrase_file or passphrase_env, not both"}
		}
		if k.ActivateAt != nil && k.RetireAt != nil && !k.ActivateAt.Before(*k.RetireAt) {
			return &ServeConfigError{f + ".retire_at", "must be after activate_at"}
		}
	}
	callers := map[string]int{}
	for i, cc := range c.Callers {
		f := fmt.Sprintf("callers[%d]", i)
		if j, dup := callers[cc.ID]; dup {
			return &ServeConfigError{f + ".id", fmt.Sprintf("%q is already callers[%d]", cc.ID, j)}
		}
		callers[cc.ID] = i
		if b, err := hex.DecodeString(cc.SecretSHA256); err != nil || len(b) != 32 {
			return &ServeConfigError{f + ".secret_sha256", "must be the 64 hex digits of the SHA-256 of the caller's secret"}
		}
		for j, p := range cc.PathPrefixes {
			if !strings.HasPrefix(p, "/") || policy.HasWildcard(p) {
				return &ServeConfigError{fmt.Sprintf("%s.path_prefixes[%d]", f, j), fmt.Sprintf("%q must start with '/' and hold no wildcard", p)}
			}
		}
		if cc.MaxLifetime < 0 || cc.Rate < 0 || cc.Burst < 0 {
			return &ServeConfigError{f, "max_lifetime, rate and burst must not be negative"}
		}
	}
	if err := c.Revocation.validate(); err != nil {
		return err
	}
	return c.Links.validate()
}

// resolve makes a relative file name relative to base.
func resolvePath(base, p string) string {
	if p == "" || filepath.IsAbs(p) || base == "" {
		return p
	}
	return filepath.Join(base, p)
}

// Ring loads the keys (relative files from base) into a ring for behaviors
// bs.
func (c *ServeConfig) Ring(ctx context.Context, base string, bs *policy.Behaviors) (*keys.Ring, error) {
	var rks []keys.RingKey
	var aws awsClients // built on first use, shared by the keys
	for i, k := range c.Keys {
		if k.RevokedAt != nil {
			continue // killed: its source is not even read
		}
		var pass keys.Passphrase
		switch {
		case k.PassphraseFile != "":
			pass = keys.PassphraseFile(resolvePath(base, k.PassphraseFile))
		case k.PassphraseEnv != "":
			pass = keys.PassphraseEnv(k.PassphraseEnv)
		}
		src, err := c.source(ctx, k, base, pass, &aws)
		if err != nil {
			return nil, fmt.Errorf("config: keys[%d] (%s): %w", i, k.ID, err)
		}
		s, err := src.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("config: keys[%d] (%s): %w", i, k.ID, err)
		}
		rk := keys.RingKey{Signer: s}
		if k.ActivateAt != nil {
			rk.ActivateAt = *k.ActivateAt
		}
		if k.RetireAt != nil {
			rk.RetireAt = *k.RetireAt
		}
		rks = append(rks, rk)
	}
	return keys.NewRing(rks, issuer.LongestLifetime(bs))
}

// CallerList converts the callers, checking that the behaviors they name
// exist.
func (c *ServeConfig) CallerList(bs *policy.Behaviors) ([]issuer.Caller, error) {
	var out []issuer.Caller
	for i, cc := range c.Callers {
		for j, name := range cc.Behaviors {
			if b := bs.Lookup(name); b == nil || !b.Access.Signed() {
				return nil, &ServeConfigError{fmt.Sprintf("callers[%d].behaviors[%d]", i, j), fmt.Sprintf("%q is not a signed behavior of the behaviors file", name)}
			}
		}
		sum, _ := hex.DecodeString(cc.SecretSHA256) // checked by Validate
		ic := issuer.Caller{
			ID: cc.ID, Behaviors: cc.Behaviors, PathPrefixes: cc.PathPrefixes,
			MaxLifetime: time.Duration(cc.MaxLifetime), Rate: cc.Rate, Burst: cc.Burst, Revoke: cc.Revoke,
		}
		copy(ic.SecretSHA256[:], sum)
		if ic.Rate > 0 && ic.Burst == 0 {
			ic.Burst = max(1, int(ic.Rate))
		}
		out = append(out, ic)
	}
	return out, nil
}
