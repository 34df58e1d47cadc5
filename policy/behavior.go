package policy

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Access says how viewers prove access to a behavior's paths.
type Access string

// The three kinds of access.
const (
	SignedURL    Access = "signed-url"
	SignedCookie Access = "signed-cookie"
	Public       Access = "public"
)

// Signed reports whether the access requires a signature (a trusted key
// group on the CloudFront cache behavior).
func (a Access) Signed() bool { return a == SignedURL || a == SignedCookie }

// Hash names, as they appear in behaviors files and in CloudFront's
// Hash-Algorithm parameter.
const (
	SHA1   = "SHA1"
	SHA256 = "SHA256"
)

// Defaults for a behavior's optional fields (PRODUCT.md's table).
const (
	DefaultBrowserMaxAge = 3600 * time.Second
	DefaultEdgeTTL       = 86400 * time.Second
	DefaultWindow        = 3600 * time.Second
	DefaultMargin        = 300 * time.Second
	DefaultMaxLifetime   = 86400 * time.Second
	DefaultSameSite      = "Lax"
)

// Cookie holds the attributes of the signed cookies a behavior issues. The
// Path of each cookie is the granted prefix, so it is not set here.
type Cookie struct {
	// Domain is the cookie's Domain attribute. Empty means the viewer
	// origin's host: the issuer service then sets Domain to that host.
	Domain string `json:"domain,omitempty"`
	// SameSite is Lax (the default), Strict or None.
	SameSite string `json:"same_site,omitempty"`
}

// A Behavior is one CloudFront cache behavior: a path pattern, how viewers
// prove access to it, and the cache settings that the expiry of what it
// signs is aligned to. Durations are whole seconds in JSON.
type Behavior struct {
	Name        string `json:"name"`
	PathPattern string `json:"path_pattern"`
	Access      Access `json:"access"`

	// Policy is Canned or Custom. Defaults: custom for cookies, canned for
	// URLs. A wildcard resource always needs Custom.
	Policy Kind `json:"-"`
	// Hash is SHA1, SHA256 or empty: empty means SHA1 for RSA keys and
	// SHA256 otherwise (see HashFor).
	Hash string `json:"-"`

	BrowserMaxAge time.Duration `json:"-"` // M: Cache-Control max-age for viewers
	EdgeTTL       time.Duration `json:"-"` // CloudFront cache default and max TTL
	Window        time.Duration `json:"-"` // W: expiry alignment window
	Margin        time.Duration `json:"-"` // m: validity beyond M
	MaxLifetime   time.Duration `json:"-"` // L: longest validity allowed

	IPBinding         bool     `json:"-"`
	Cookie            Cookie   `json:"-"`
	CORSOrigins       []string `json:"-"`
	CacheQueryStrings []string `json:"-"`
}

// MinValidity is V = M + m, the shortest validity the behavior grants: a
// browser that cached a response for M seconds revalidates while the URL
// still works.
func (b *Behavior) MinValidity() time.Duration { return b.BrowserMaxAge + b.Margin }

// Expiry returns the window-aligned expiry for a grant issued at now.
func (b *Behavior) Expiry(now time.Time) time.Time { return Expiry(now, b.MinValidity(), b.Window) }

// CacheControl is the Cache-Control header viewers receive for the
// behavior's content (set by the Terraform module's response headers policy
// and by the local edge): max-age=M, and "private" for signed-cookie
// content, so that no shared cache between CloudFront and the viewer serves
// it to someone without the cookies.
func (b *Behavior) CacheControl() string {
	ma := "max-age=" + strconv.FormatInt(int64(b.BrowserMaxAge/time.Second), 10)
	if b.Access == SignedCookie {
		return "private, " + ma
	}
	return ma
}

// HashFor returns the hash to sign with for a key: the behavior's Hash when
// set, otherwise SHA-1 for RSA keys and SHA-256 for every other key.
func (b *Behavior) HashFor(rsaKey bool) crypto.Hash {
	switch {
	case b.Hash == SHA256:
		return crypto.SHA256
	case b.Hash == SHA1:
		return crypto.SHA1
	case rsaKey:
		return crypto.SHA1
	default:
		return crypto.SHA256
	}
}

// Behaviors is a behaviors file: the viewer origin that signed resources
// name, the CloudFront public key IDs the distribution trusts, and the cache
// behaviors in CloudFront's order. The last behavior has path pattern "*" and
// is the distribution's default cache behavior.
//
// Behaviors is read-only after ParseBehaviors and safe for concurrent use.
type Behaviors struct {
	// ViewerOrigin is scheme://host[:port] as viewers request it, such as
	// https://media.example.com (an alternate domain name of the
	// distribution, or its *.cloudfront.net name).
	ViewerOrigin string `json:"viewer_origin"`
	// KeyIDs are the CloudFront public key IDs in the trusted key group.
	KeyIDs []string `json:"key_ids,omitempty"`
	// List is the behaviors in order; first match wins.
	List []Behavior `json:"behaviors"`
}

// behaviorJSON is the wire form of a Behavior: pointers tell an absent field
// (which gets its default) from a zero one.
type behaviorJSON struct {
	Name              string   `json:"name"`
	PathPattern       string   `json:"path_pattern"`
	Access            Access   `json:"access"`
	Policy            *string  `json:"policy,omitempty"`
	Hash              *string  `json:"hash,omitempty"`
	BrowserMaxAge     *int64   `json:"browser_max_age,omitempty"`
	EdgeTTL           *int64   `json:"edge_ttl,omitempty"`
	Window            *int64   `json:"window,omitempty"`
	Margin            *int64   `json:"margin,omitempty"`
	MaxLifetime       *int64   `json:"max_lifetime,omitempty"`
	IPBinding         *bool    `json:"ip_binding,omitempty"`
	Cookie            *Cookie  `json:"cookie,omitempty"`
	CORSOrigins       []string `json:"cors_origins,omitempty"`
	CacheQueryStrings []string `json:"cache_query_strings,omitempty"`
}

type behaviorsJSON struct {
	Schema       string         `json:"$schema,omitempty"`
	ViewerOrigin string         `json:"viewer_origin"`
	KeyIDs       []string       `json:"key_ids,omitempty"`
	Behaviors    []behaviorJSON `json:"behaviors"`
}

// FieldError is a problem with one field of a behaviors file. Field is a
// path such as "behaviors[2].window".
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return "behaviors: " + e.Field + ": " + e.Problem }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, a...)}
}

// MaxBehaviorsSize is the largest behaviors file ParseBehaviors reads.
const MaxBehaviorsSize = 1 << 20

// ParseBehaviors reads a behaviors file (JSON, schema in
// docs/behaviors.schema.json), fills in defaults and validates it. Unknown
// fields are errors. A validation failure is a *FieldError naming the field.
func ParseBehaviors(r io.Reader) (*Behaviors, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBehaviorsSize+1))
	if err != nil {
		return nil, fmt.Errorf("behaviors: read: %w", err)
	}
	if len(data) > MaxBehaviorsSize {
		return nil, fmt.Errorf("behaviors: file is larger than %d bytes", MaxBehaviorsSize)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	var raw behaviorsJSON
	if err := d.Decode(&raw); err != nil {
		return nil, jsonError(err)
	}
	if d.More() {
		return nil, fmt.Errorf("behaviors: trailing data after the JSON object")
	}
	bs := &Behaviors{ViewerOrigin: raw.ViewerOrigin, KeyIDs: raw.KeyIDs}
	for i, rb := range raw.Behaviors {
		b, err := rb.behavior(fmt.Sprintf("behaviors[%d]", i))
		if err != nil {
			return nil, err
		}
		bs.List = append(bs.List, b)
	}
	if err := bs.Validate(); err != nil {
		return nil, err
	}
	return bs, nil
}

func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fieldErr(te.Field, "must be a JSON %s, not %s", jsonType(te.Type.Kind().String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("behaviors: invalid JSON at byte %d: %w", se.Offset, err)
	}
	if msg, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fieldErr(strings.Trim(msg, `"`), "unknown field; see docs/behaviors.schema.json for the fields")
	}
	return fmt.Errorf("behaviors: %w", err)
}

func jsonType(kind string) string {
	switch kind {
	case "int64", "int", "uint":
		return "integer (seconds)"
	case "slice":
		return "array"
	case "struct", "ptr":
		return "object"
	default:
		return kind
	}
}

func (rb behaviorJSON) behavior(field string) (Behavior, error) {
	b := Behavior{
		Name:              rb.Name,
		PathPattern:       rb.PathPattern,
		Access:            rb.Access,
		Hash:              deref(rb.Hash, ""),
		BrowserMaxAge:     seconds(rb.BrowserMaxAge, DefaultBrowserMaxAge),
		EdgeTTL:           seconds(rb.EdgeTTL, DefaultEdgeTTL),
		Window:            seconds(rb.Window, DefaultWindow),
		Margin:            seconds(rb.Margin, DefaultMargin),
		MaxLifetime:       seconds(rb.MaxLifetime, DefaultMaxLifetime),
		IPBinding:         deref(rb.IPBinding, false),
		CORSOrigins:       rb.CORSOrigins,
		CacheQueryStrings: rb.CacheQueryStrings,
	}
	if rb.Cookie != nil {
		b.Cookie = *rb.Cookie
	}
	switch deref(rb.Policy, "") {
	case "":
		b.Policy = Canned
		if b.Access == SignedCookie {
			b.Policy = Custom
		}
	case "canned":
		b.Policy = Canned
	case "custom":
		b.Policy = Custom
	default:
		return b, fieldErr(field+".policy", "must be \"canned\" or \"custom\", not %q", *rb.Policy)
	}
	if b.Access == Public {
		for _, f := range []struct {
			name string
			set  bool
		}{{"policy", rb.Policy != nil}, {"hash", rb.Hash != nil}, {"ip_binding", rb.IPBinding != nil}, {"cookie", rb.Cookie != nil}} {
			if f.set {
				return b, fieldErr(field+"."+f.name, "only applies to signed behaviors; remove it from public behavior %q", b.Name)
			}
		}
	}
	if rb.Cookie != nil && b.Access != SignedCookie {
		return b, fieldErr(field+".cookie", "only applies to signed-cookie behaviors")
	}
	if b.Cookie.SameSite == "" && b.Access == SignedCookie {
		b.Cookie.SameSite = DefaultSameSite
	}
	return b, nil
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func seconds(p *int64, def time.Duration) time.Duration {
	if p == nil {
		return def
	}
	return time.Duration(*p) * time.Second
}

// MarshalJSON writes the behavior in the behaviors-file form, with every
// default written out.
func (b Behavior) MarshalJSON() ([]byte, error) {
	s := func(d time.Duration) *int64 { v := int64(d / time.Second); return &v }
	rb := behaviorJSON{
		Name: b.Name, PathPattern: b.PathPattern, Access: b.Access,
		BrowserMaxAge: s(b.BrowserMaxAge), EdgeTTL: s(b.EdgeTTL),
		CORSOrigins: b.CORSOrigins, CacheQueryStrings: b.CacheQueryStrings,
	}
	if b.Access.Signed() {
		pol := b.Policy.String()
		rb.Policy = &pol
		if b.Hash != "" {
			rb.Hash = &b.Hash
		}
		rb.Window, rb.Margin, rb.MaxLifetime = s(b.Window), s(b.Margin), s(b.MaxLifetime)
		rb.IPBinding = &b.IPBinding
	}
	if b.Access == SignedCookie {
		rb.Cookie = &b.Cookie
	}
	return json.Marshal(rb)
}

var (
	nameRE        = regexp.MustCompile(`^[a-z0-9-]+$`)
	pathPatternRE = regexp.MustCompile(`^[A-Za-z0-9_\-.*$/~"'@:+&?]+$`)
	keyIDRE       = regexp.MustCompile(`^[A-Z0-9]{1,128}$`)
	queryNameRE   = regexp.MustCompile(`^[A-Za-z0-9_\-.~]+$`)
	hostRE        = regexp.MustCompile(`^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
)

// Validate checks the whole file; the first problem found is returned as a
// *FieldError.
func (bs *Behaviors) Validate() error {
	if err := validOrigin(bs.ViewerOrigin); err != nil {
		return fieldErr("viewer_origin", "%s", err)
	}
	for i, id := range bs.KeyIDs {
		if !keyIDRE.MatchString(id) {
			return fieldErr(fmt.Sprintf("key_ids[%d]", i), "%q is not a CloudFront public key ID (upper-case letters and digits, like K2JCJMDEHXQW5F)", id)
		}
	}
	if len(bs.List) == 0 {
		return fieldErr("behaviors", "at least the default behavior (path_pattern \"*\") is required")
	}
	names := map[string]int{}
	patterns := map[string]int{}
	for i := range bs.List {
		b := &bs.List[i]
		f := fmt.Sprintf("behaviors[%d]", i)
		if err := b.validate(f); err != nil {
			return err
		}
		if j, dup := names[b.Name]; dup {
			return fieldErr(f+".name", "%q is already the name of behaviors[%d]", b.Name, j)
		}
		names[b.Name] = i
		norm := normalizePattern(b.PathPattern)
		if j, dup := patterns[norm]; dup {
			return fieldErr(f+".path_pattern", "%q is already the pattern of behaviors[%d]; CloudFront would never reach this one", b.PathPattern, j)
		}
		patterns[norm] = i
		last := i == len(bs.List)-1
		if b.PathPattern == "*" && !last {
			return fieldErr(f+".path_pattern", "\"*\" is the default behavior and must come last")
		}
		if last && b.PathPattern != "*" {
			return fieldErr(f+".path_pattern", "the last behavior is the distribution's default and must have path_pattern \"*\" (got %q)", b.PathPattern)
		}
	}
	return nil
}

func (b *Behavior) validate(f string) error {
	if !nameRE.MatchString(b.Name) {
		return fieldErr(f+".name", "%q must be lower-case letters, digits and '-'", b.Name)
	}
	if b.PathPattern == "" {
		return fieldErr(f+".path_pattern", "is required (use \"*\" for the default behavior)")
	}
	if len(b.PathPattern) > 255 || !pathPatternRE.MatchString(b.PathPattern) {
		return fieldErr(f+".path_pattern", "%q must be at most 255 of A-Z a-z 0-9 _ - . * $ / ~ \" ' @ : + & ?", b.PathPattern)
	}
	switch b.Access {
	case SignedURL, SignedCookie, Public:
	case "":
		return fieldErr(f+".access", "is required: signed-url, signed-cookie or public")
	default:
		return fieldErr(f+".access", "must be signed-url, signed-cookie or public, not %q", b.Access)
	}
	if b.Access == SignedCookie && b.Policy == Canned {
		return fieldErr(f+".policy", "signed-cookie behaviors need a custom policy: a canned cookie covers one URL, not a playlist and its segments")
	}
	switch b.Hash {
	case "", SHA1, SHA256:
	default:
		return fieldErr(f+".hash", "must be SHA1 or SHA256, not %q", b.Hash)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"browser_max_age", b.BrowserMaxAge}, {"edge_ttl", b.EdgeTTL}, {"margin", b.Margin}, {"window", b.Window}, {"max_lifetime", b.MaxLifetime}} {
		if d.v < 0 {
			return fieldErr(f+"."+d.name, "must not be negative")
		}
	}
	if b.Access.Signed() {
		if b.Window < time.Second {
			return fieldErr(f+".window", "must be at least 1 second")
		}
		if b.MaxLifetime < time.Second {
			return fieldErr(f+".max_lifetime", "must be at least 1 second")
		}
		if longest := b.MinValidity() + b.Window; longest > b.MaxLifetime {
			return fieldErr(f+".max_lifetime", "%ds is shorter than browser_max_age + margin + window = %ds, the longest validity an aligned expiry can have; raise max_lifetime or lower the others",
				int64(b.MaxLifetime/time.Second), int64(longest/time.Second))
		}
	}
	if s := b.Cookie.SameSite; b.Access == SignedCookie && s != "Lax" && s != "Strict" && s != "None" {
		return fieldErr(f+".cookie.same_site", "must be Lax, Strict or None, not %q", s)
	}
	if d := b.Cookie.Domain; d != "" && (!hostRE.MatchString(d) || strings.HasSuffix(d, "cloudfront.net")) {
		return fieldErr(f+".cookie.domain", "%q must be a lower-case domain name of your own (never cloudfront.net)", d)
	}
	for i, o := range b.CORSOrigins {
		if err := validOrigin(o); err != nil {
			return fieldErr(fmt.Sprintf("%s.cors_origins[%d]", f, i), "%s", err)
		}
	}
	for i, q := range b.CacheQueryStrings {
		field := fmt.Sprintf("%s.cache_query_strings[%d]", f, i)
		if !queryNameRE.MatchString(q) {
			return fieldErr(field, "%q is not a plain query parameter name", q)
		}
		for _, r := range ReservedQueryNames {
			if q == r {
				return fieldErr(field, "%q is a CloudFront signing parameter and must never be in the cache key", q)
			}
		}
	}
	return nil
}

// validOrigin checks scheme://host[:port] with nothing after it.
func validOrigin(o string) error {
	scheme, rest, ok := strings.Cut(o, "://")
	if !ok || (scheme != "https" && scheme != "http") {
		return fmt.Errorf("%q must be an origin like https://media.example.com", o)
	}
	host, port, _ := strings.Cut(rest, ":")
	if !hostRE.MatchString(host) || strings.HasPrefix(host, ".") {
		return fmt.Errorf("%q must be an origin like https://media.example.com (lower-case host, no path)", o)
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return fmt.Errorf("%q has an invalid port", o)
		}
	}
	return nil
}

// ViewerHost returns the host[:port] of the viewer origin.
func (bs *Behaviors) ViewerHost() string {
	_, host, _ := strings.Cut(bs.ViewerOrigin, "://")
	return host
}

// Lookup returns the behavior with the given name, or nil.
func (bs *Behaviors) Lookup(name string) *Behavior {
	for i := range bs.List {
		if bs.List[i].Name == name {
			return &bs.List[i]
		}
	}
	return nil
}
