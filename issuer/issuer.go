package issuer

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// Errors returned by the Issuer besides the policy and keys packages' own.
// Test for them with errors.Is; HTTP layers map each to one status.
var (
	// ErrUnknownBehavior: the request names a behavior the behaviors file
	// does not have.
	ErrUnknownBehavior = errors.New("issuer: unknown behavior")
	// ErrBehaviorMismatch: the request names a behavior, but CloudFront
	// would serve the resource from another one.
	ErrBehaviorMismatch = errors.New("issuer: the resource belongs to another behavior")
	// ErrAccessMismatch: a signed URL was asked for a signed-cookie
	// behavior, or cookies for a signed-url behavior.
	ErrAccessMismatch = errors.New("issuer: the behavior is signed with the other kind of credential")
	// ErrOutOfScope: the caller may not be granted this behavior or path.
	ErrOutOfScope = errors.New("issuer: out of the caller's scope")
	// ErrLifetime: the behavior's window needs a longer validity than the
	// caller may grant.
	ErrLifetime = errors.New("issuer: the behavior's expiry window is longer than the caller's longest lifetime")
)

// InputError is bad input in a request: Field names the request field
// (such as "path" or "client_ip") and Err says what is wrong with it. It
// never holds a secret.
type InputError struct {
	Field string
	Err   error
}

func (e *InputError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(field string, err error) error { return &InputError{Field: field, Err: err} }

// Options are the Issuer's optional settings. The zero value is the
// documented default of every field.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per issuance (never a Signature, Policy or
	// cookie value); nil means slog.Default().
	Logger *slog.Logger
	// CacheSize is the number of signatures kept in the LRU cache; zero
	// means DefaultCacheSize. Each entry holds a policy (at most
	// policy.MaxURLLength bytes) and a signature, so memory stays bounded.
	CacheSize int
	// ObserveSign is called after each signing operation that missed the
	// cache, with its duration (metrics); nil means none.
	ObserveSign func(keyID string, d time.Duration, err error)
}

// DefaultCacheSize is the signature cache size when Options.CacheSize is
// zero.
const DefaultCacheSize = 10000

// Log attribute keys.
const (
	logGrantID  = "grant_id"
	logCaller   = "caller"
	logBehavior = "behavior"
	logKind     = "kind"
	logResource = "resource"
	logKeyID    = "key_id"
	logExpires  = "expires"
	logCache    = "cache_hit"
)

// An Issuer issues signed URLs and cookies for the behaviors of one
// distribution, with keys from a ring: it applies the behavior's window
// rule to the expiry, the caller's scope, the coverage check, and caches
// signatures so that a repeat request in the same window gets the
// byte-identical credential without signing.
//
// An Issuer is safe for concurrent use. Update swaps its keys and
// behaviors at once.
type Issuer struct {
	st          atomic.Pointer[state]
	now         func() time.Time
	log         *slog.Logger
	cache       *lru.Cache[cacheKey, []byte]
	front       *lru.Cache[frontKey, *frontEntry] // finished credentials by request (front.go)
	hits, miss  atomic.Uint64
	observeSign func(string, time.Duration, error)
	// realClock: now is time.Now, so a cache hit's clock reading is also
	// its log record's time.
	realClock bool
}

type state struct {
	ring *keys.Ring
	bs   *policy.Behaviors
}

// New returns an Issuer. It refuses a configuration that cannot serve:
// a behavior that asks for SHA-1 while a key that is or will become active
// cannot sign SHA-1 (ECDSA and KMS keys sign SHA-256 only), or a signed
// behavior for which no key can sign its longest validity now. Behaviors
// must come from policy.ParseBehaviors (which checks M + m + W ≤ L).
func New(ring *keys.Ring, bs *policy.Behaviors, opts Options) (*Issuer, error) {
	size := opts.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	if size < 0 {
		return nil, fmt.Errorf("issuer: cache size %d is negative", size)
	}
	cache, err := lru.New[cacheKey, []byte](size)
	if err != nil {
		return nil, fmt.Errorf("issuer: signature cache: %w", err)
	}
	front, err := lru.New[frontKey, *frontEntry](size)
	if err != nil {
		return nil, fmt.Errorf("issuer: front cache: %w", err)
	}
	is := &Issuer{now: opts.Now, log: opts.Logger, cache: cache, front: front, observeSign: opts.ObserveSign}
	if is.now == nil {
		is.now, is.realClock = time.Now, true
	}
	if is.log == nil {
		is.log = slog.Default()
	}
	if err := is.Update(ring, bs); err != nil {
		return nil, err
	}
	return is, nil
}

// Update checks a new ring and behaviors as New does and swaps them in
// together; on error the Issuer keeps serving with what it had. The
// signature cache is purged, so no signature from a replaced key survives.
func (is *Issuer) Update(ring *keys.Ring, bs *policy.Behaviors) error {
	if ring == nil || bs == nil {
		return errors.New("issuer: New needs a key ring and behaviors")
	}
	if err := check(ring, bs, is.now()); err != nil {
		return err
	}
	is.st.Store(&state{ring: ring, bs: bs})
	is.cache.Purge()
	is.front.Purge()
	return nil
}

func check(ring *keys.Ring, bs *policy.Behaviors, now time.Time) error {
	for i := range bs.List {
		b := &bs.List[i]
		if !b.Access.Signed() {
			continue
		}
		if b.MaxLifetime > ring.Longest() {
			return fmt.Errorf("issuer: behaviors[%d] (%s): max_lifetime %s is longer than the ring's longest lifetime %s", i, b.Name, b.MaxLifetime, ring.Longest())
		}
		if b.Hash == policy.SHA1 {
			for _, k := range ring.Keys() {
				if st := k.State(now, ring.Longest()); (st == keys.StateNext || st == keys.StateActive) && !keys.CanSign(k.Signer, crypto.SHA1) {
					return fmt.Errorf("issuer: behaviors[%d].hash: behavior %s asks for SHA1, which key %s (%s) cannot sign: ECDSA and KMS keys sign SHA256 only; set \"hash\": \"SHA256\" or remove the key",
						i, b.Name, k.Signer.KeyID(), k.Signer.Algorithm())
				}
			}
		}
		longest := now.Add(b.MinValidity() + b.Window)
		if _, err := ring.Pick(now, longest, explicitHash(b)); err != nil {
			return fmt.Errorf("issuer: behaviors[%d] (%s): no key can sign its longest validity (%s): %w", i, b.Name, b.MinValidity()+b.Window, err)
		}
	}
	return nil
}

// LongestLifetime returns L for a key ring: the largest max_lifetime of the
// signed behaviors. A key stops signing L before it retires.
func LongestLifetime(bs *policy.Behaviors) time.Duration {
	var l time.Duration
	for i := range bs.List {
		if b := &bs.List[i]; b.Access.Signed() {
			l = max(l, b.MaxLifetime)
		}
	}
	return l
}

// Ready reports whether every signed behavior has a key that can sign for
// it now; the error says which cannot.
func (is *Issuer) Ready() error {
	st := is.st.Load()
	return check(st.ring, st.bs, is.now())
}

// Behaviors returns the behaviors in use.
func (is *Issuer) Behaviors() *policy.Behaviors { return is.st.Load().bs }

// Ring returns the key ring in use.
func (is *Issuer) Ring() *keys.Ring { return is.st.Load().ring }

// Now returns the issuer's clock reading.
func (is *Issuer) Now() time.Time { return is.now() }

// CacheStats returns the signature cache's hits and misses so far.
func (is *Issuer) CacheStats() (hits, misses uint64) { return is.hits.Load(), is.miss.Load() }

// explicitHash returns the hash a behavior pins, or zero when it leaves
// the choice to the key type.
func explicitHash(b *policy.Behavior) crypto.Hash {
	switch b.Hash {
	case policy.SHA1:
		return crypto.SHA1
	case policy.SHA256:
		return crypto.SHA256
	}
	return 0
}

// Grant is what one issuance produced, safe to log: no signature, policy
// or cookie value.
type Grant struct {
	ID        string         // the grant ID, logged with the issuance
	Behavior  string         // the behavior's name
	Resource  string         // the signed resource
	Kind      policy.Kind    // canned or custom
	Expires   time.Time      // the window-aligned expiry
	KeyID     string         // the CloudFront public key ID that signed
	Algorithm keys.Algorithm // RSA or ECDSA
	Hash      crypto.Hash
	CacheHit  bool // the signature came from the cache
}

// URLGrant is what a caller asks /v1/urls for: the service counterpart
// of URLRequest, with the expiry, key and hash left to the behavior.
type URLGrant struct {
	// Path is the request path (and optional query) on the viewer origin,
	// percent-encoded as the viewer will send it, starting with '/'.
	// Exactly one of Path and Resource is set.
	Path string
	// Resource is the full URL on the viewer origin (no wildcards: a
	// wildcard grant is a cookie's).
	Resource string
	// Behavior, when set, must be the behavior that serves the resource.
	Behavior string
	// Filename sets the name the browser saves the download under, through
	// S3's response-content-disposition parameter (part of the signed URL).
	Filename string
	// ClientIP binds the URL to an IPv4 address or range (behaviors with
	// ip_binding only).
	ClientIP string
	// NotBefore is the optional start of validity.
	NotBefore time.Time
	// Subject is the optional user or session ID the URL is issued for:
	// POST /v1/subjects/{id}/revoke denies everything issued for it. It is
	// carried as a tag (policy.SubjectKey) in the URL's gid parameter.
	Subject string
}

// IssuedURL is a signed URL and its grant.
type IssuedURL struct {
	URL string // a bearer credential: never log it
	Grant
}

// URL issues a signed URL for caller c (nil: no caller limits).
func (is *Issuer) URL(ctx context.Context, c *Caller, g URLGrant) (*IssuedURL, error) {
	st := is.st.Load()
	now := is.now()
	fk := urlFrontKey(g)
	if e, ok := is.lookup(st, fk, c, now); ok {
		return &IssuedURL{URL: e.url, Grant: is.hitGrant(ctx, c, "url", e, now)}, nil
	}
	var u string
	switch {
	case g.Path != "" && g.Resource != "":
		return nil, inputErr("path", errors.New("give path or resource, not both"))
	case g.Path != "":
		if !strings.HasPrefix(g.Path, "/") {
			return nil, inputErr("path", errors.New("must start with '/'"))
		}
		u = st.bs.ViewerOrigin + g.Path
	case g.Resource != "":
		u = g.Resource
	default:
		return nil, inputErr("path", errors.New("path or resource is required"))
	}
	field := "path"
	if g.Path == "" {
		field = "resource"
	}
	canon, err := policy.CanonicalURL(u)
	if err != nil {
		if errors.Is(err, policy.ErrWildcardInURL) {
			err = fmt.Errorf("%w; a wildcard grant is made with cookies (POST /v1/cookies, resource_pattern)", err)
		}
		return nil, inputErr(field, err)
	}
	path, query, _ := strings.Cut(pathOf(canon), "?")
	if err := checkAmbiguous(path); err != nil {
		return nil, inputErr(field, err)
	}
	b, err := is.behaviorFor(st.bs, canon, g.Behavior, policy.SignedURL)
	if err != nil {
		return nil, err
	}
	if !c.allowsBehavior(b.Name) || !c.allowsPath(path) {
		return nil, fmt.Errorf("%w: caller %s may not be granted %s (behavior %s)", ErrOutOfScope, c.name(), path, b.Name)
	}
	if g.Filename != "" {
		if !containsString(b.CacheQueryStrings, dispositionParam) {
			return nil, inputErr("filename", fmt.Errorf("behavior %s does not list %s in cache_query_strings, so CloudFront would neither forward it to S3 nor key its cache on it", b.Name, dispositionParam))
		}
		if hasQueryParam(query, dispositionParam) {
			return nil, inputErr("filename", fmt.Errorf("the URL already has a %s parameter", dispositionParam))
		}
		d, err := ContentDisposition(g.Filename)
		if err != nil {
			return nil, inputErr("filename", err)
		}
		sep := "?"
		if strings.Contains(canon, "?") {
			sep = "&"
		}
		canon += sep + dispositionParam + "=" + queryEscape(d)
	}
	if err := checkSubject(g.Subject); err != nil {
		return nil, err
	}
	if hasQueryParam(query, policy.ParamGrant) {
		return nil, inputErr(field, fmt.Errorf("the %s query parameter is the issuer's (the grant ID); rename yours", policy.ParamGrant))
	}
	req := URLRequest{URL: canon, NotBefore: g.NotBefore, Custom: b.Policy == policy.Custom}
	if err := is.bind(b, g.ClientIP, &req.SourceIP); err != nil {
		return nil, err
	}
	exp, s, hash, err := is.pick(st, b, c, now)
	if err != nil {
		return nil, err
	}
	req.Expires, req.Hash = exp, hash
	// The grant ID depends only on what the URL grants, so the URL stays
	// byte-identical within the window for everyone with the same subject.
	gid := policy.URLGrantID(g.Subject, canon, exp)
	req.GrantID = policy.GrantParamValue(gid, g.Subject)
	// The URL as signed: canon is canonical, and stays so with the grant ID
	// (lower-case letters, digits and dots) added.
	final, err := withGrant(canon, req.GrantID)
	if err != nil {
		return nil, classify(field, err)
	}
	if req.Custom || !req.NotBefore.IsZero() || req.SourceIP.IsValid() {
		// In a custom policy '?' is a wildcard, the query's own '?' too, so
		// the resource grants the path, any one byte, then the query text:
		// check the URL as signed, with the file name and grant ID added
		// after the first check, against the behavior found above.
		if cb, err := st.bs.Cover(final); err != nil || cb != b {
			if err == nil {
				err = &policy.CoverError{Err: policy.ErrNotCovered, Resource: final, Behavior: b.Name, Other: cb.Name, Example: final}
			}
			return nil, err
		}
	}
	cs := &cachingSigner{Signer: s, is: is}
	signed, err := signCanonicalURL(ctx, cs, req, final)
	if err != nil {
		return nil, classify("path", err)
	}
	gr := is.grant(ctx, c, b, gid, "url", signed.Policy, signed.KeyID, s.Algorithm(), signed.Hash, cs.hit)
	is.remember(fk, &frontEntry{st: st, b: b, scope: path, signer: s, grant: gr, url: signed.URL})
	return &IssuedURL{URL: signed.URL, Grant: gr}, nil
}

// CookieGrant is what a caller asks /v1/cookies for.
type CookieGrant struct {
	// PathPrefix grants every path under it (the resource is the viewer
	// origin + PathPrefix + "*"). Exactly one of PathPrefix and
	// ResourcePattern is set.
	PathPrefix string
	// ResourcePattern is a full custom-policy resource, which may hold
	// the wildcards '*' and '?'.
	ResourcePattern string
	Behavior        string
	ClientIP        string
	// Subject is as in URLGrant; for cookies its tag is the custom
	// policy's DateGreaterThan (policy.SubjectNotBefore).
	Subject string
}

// IssuedCookies is a set of signed cookies and its grant.
type IssuedCookies struct {
	Cookies []*http.Cookie // bearer credentials: never log their values
	// RefreshAfter is the first instant at which a new request gets a
	// later expiry: a player refreshes its cookies after it, and still
	// has at least browser_max_age + margin − 1s of validity left.
	RefreshAfter time.Time
	Grant
}

// Cookies issues signed cookies for caller c (nil: no caller limits). The
// cookies' Path is the granted prefix, so two grants' cookies coexist.
func (is *Issuer) Cookies(ctx context.Context, c *Caller, g CookieGrant) (*IssuedCookies, error) {
	st := is.st.Load()
	now := is.now()
	fk := cookieFrontKey(g)
	if e, ok := is.lookup(st, fk, c, now); ok {
		return &IssuedCookies{Cookies: copyCookies(e.cookies), RefreshAfter: e.refreshAfter, Grant: is.hitGrant(ctx, c, "cookie", e, now)}, nil
	}
	res, field, err := cookieResource(st.bs, g)
	if err != nil {
		return nil, err
	}
	canon, err := policy.CanonicalResource(res)
	if err != nil {
		return nil, inputErr(field, err)
	}
	literal := literalPath(canon)
	if err := checkAmbiguous(literal); err != nil {
		return nil, inputErr(field, err)
	}
	b, err := is.behaviorFor(st.bs, canon, g.Behavior, policy.SignedCookie)
	if err != nil {
		return nil, err
	}
	if !c.allowsBehavior(b.Name) || !c.allowsPath(literal) {
		return nil, fmt.Errorf("%w: caller %s may not be granted %s (behavior %s)", ErrOutOfScope, c.name(), pathOf(canon), b.Name)
	}
	req := CookieRequest{
		Resource: canon, Custom: b.Policy == policy.Custom,
		Domain: cookieDomain(st.bs, b), Path: cookiePath(literal), SameSite: sameSite(b.Cookie.SameSite),
	}
	if err := checkCookiePath(req.Path); err != nil {
		return nil, inputErr(field, err)
	}
	if err := is.bind(b, g.ClientIP, &req.SourceIP); err != nil {
		return nil, err
	}
	if err := checkSubject(g.Subject); err != nil {
		return nil, err
	}
	if g.Subject != "" {
		req.NotBefore, req.Custom = policy.SubjectNotBefore(g.Subject), true
	}
	exp, s, hash, err := is.pick(st, b, c, now)
	if err != nil {
		return nil, err
	}
	req.Expires, req.Hash = exp, hash
	cs := &cachingSigner{Signer: s, is: is}
	signed, err := SignCookies(ctx, cs, req)
	if err != nil {
		return nil, classify(field, err)
	}
	var gid string
	for _, ck := range signed.Cookies {
		if ck.Name == CookieSignature {
			gid = policy.CookieGrantID(ck.Value)
		}
	}
	gr := is.grant(ctx, c, b, gid, "cookie", signed.Policy, signed.KeyID, s.Algorithm(), signed.Hash, cs.hit)
	refresh := exp.Add(-b.MinValidity() + time.Second)
	is.remember(fk, &frontEntry{st: st, b: b, scope: literal, signer: s, grant: gr, cookies: cookieValues(signed.Cookies), refreshAfter: refresh})
	return &IssuedCookies{
		Cookies:      signed.Cookies,
		RefreshAfter: refresh,
		Grant:        gr,
	}, nil
}

// ClearCookies returns the cookies that, set on the viewer, remove the
// signed cookies granted for pathPrefix (sign-out).
func (is *Issuer) ClearCookies(c *Caller, pathPrefix string) ([]*http.Cookie, error) {
	st := is.st.Load()
	res, field, err := cookieResource(st.bs, CookieGrant{PathPrefix: pathPrefix})
	if err != nil {
		return nil, err
	}
	canon, err := policy.CanonicalResource(res)
	if err != nil {
		return nil, inputErr(field, err)
	}
	literal := literalPath(canon)
	if err := checkCookiePath(cookiePath(literal)); err != nil {
		return nil, inputErr(field, err)
	}
	b, err := is.behaviorFor(st.bs, canon, "", policy.SignedCookie)
	if err != nil {
		return nil, err
	}
	if !c.allowsBehavior(b.Name) || !c.allowsPath(literal) {
		return nil, fmt.Errorf("%w: caller %s may not clear %s", ErrOutOfScope, c.name(), literal)
	}
	var out []*http.Cookie
	for _, name := range []string{CookiePolicy, CookieExpires, CookieSignature, CookieKeyPairID, CookieHash} {
		out = append(out, &http.Cookie{
			Name: name, Value: "", Domain: cookieDomain(st.bs, b), Path: cookiePath(literal),
			MaxAge: -1, Expires: time.Unix(0, 0).UTC(), Secure: true, HttpOnly: true, SameSite: sameSite(b.Cookie.SameSite),
		})
	}
	return out, nil
}

// behaviorFor finds the signed behavior that covers a canonical resource,
// checks it against the one the request named, and its access kind.
func (is *Issuer) behaviorFor(bs *policy.Behaviors, resource, named string, access policy.Access) (*policy.Behavior, error) {
	if named != "" && bs.Lookup(named) == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownBehavior, named)
	}
	b, err := bs.Cover(resource)
	if err != nil {
		return nil, err // a *policy.CoverError
	}
	if named != "" && named != b.Name {
		return nil, fmt.Errorf("%w: CloudFront serves it from behavior %q, not %q", ErrBehaviorMismatch, b.Name, named)
	}
	if b.Access != access {
		other := "POST /v1/cookies"
		if b.Access == policy.SignedURL {
			other = "POST /v1/urls"
		}
		return nil, fmt.Errorf("%w: behavior %s is %s; use %s", ErrAccessMismatch, b.Name, b.Access, other)
	}
	return b, nil
}

// bind parses a client IP condition for a behavior that allows it.
func (is *Issuer) bind(b *policy.Behavior, clientIP string, dst *netip.Prefix) error {
	if clientIP == "" {
		return nil
	}
	if !b.IPBinding {
		return inputErr("client_ip", fmt.Errorf("behavior %s does not allow IP binding (ip_binding is false)", b.Name))
	}
	p, err := policy.ParseIP(clientIP)
	if err != nil {
		return inputErr("client_ip", err)
	}
	*dst = p
	return nil
}

// pick computes the window-aligned expiry and picks the key and hash.
func (is *Issuer) pick(st *state, b *policy.Behavior, c *Caller, now time.Time) (time.Time, keys.Signer, crypto.Hash, error) {
	if c != nil && c.MaxLifetime > 0 && c.MaxLifetime < b.MinValidity()+b.Window {
		return time.Time{}, nil, 0, fmt.Errorf("%w: behavior %s needs up to %s (browser_max_age + margin + window), caller %s may grant %s",
			ErrLifetime, b.Name, b.MinValidity()+b.Window, c.ID, c.MaxLifetime)
	}
	exp := b.Expiry(now)
	s, err := st.ring.Pick(now, exp, explicitHash(b))
	if err != nil {
		return time.Time{}, nil, 0, err
	}
	// SHA-1 is the default only for an RSA key that can sign it: a KMS RSA
	// key signs SHA-256 only.
	return exp, s, b.HashFor(s.Algorithm() == keys.RSA && keys.CanSign(s, crypto.SHA1)), nil
}

func (is *Issuer) grant(ctx context.Context, c *Caller, b *policy.Behavior, id, kind string, p policy.Policy, keyID string, alg keys.Algorithm, hash crypto.Hash, hit bool) Grant {
	g := Grant{
		ID: id, Behavior: b.Name, Resource: p.Resource, Kind: p.Kind, Expires: p.Expires,
		KeyID: keyID, Algorithm: alg, Hash: hash, CacheHit: hit,
	}
	is.logGrant(ctx, c, kind, &g, time.Now())
	return g
}

// logGrant writes the one log line of an issuance, stamped t (a reading of
// the real clock). It is the record slog.Logger.LogAttrs would make, handed
// to the handler directly: LogAttrs also captures the caller's program
// counter (runtime.Callers) for a source location nobody reads here, about a
// tenth of a cache hit's cost. So a handler with AddSource prints no source
// for this line.
func (is *Issuer) logGrant(ctx context.Context, c *Caller, kind string, g *Grant, t time.Time) {
	if ctx == nil {
		ctx = context.Background() // as slog.Logger does
	}
	h := is.log.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	r := slog.NewRecord(t, slog.LevelInfo, "issued", 0)
	r.AddAttrs(
		slog.String(logGrantID, g.ID), slog.String(logCaller, c.name()), slog.String(logBehavior, g.Behavior),
		slog.String(logKind, kind), slog.String(logResource, g.Resource), slog.String(logKeyID, g.KeyID),
		slog.Time(logExpires, g.Expires), slog.Bool(logCache, g.CacheHit))
	_ = h.Handle(ctx, r)
}

// maxSubject is the longest subject ID accepted.
const maxSubject = 256

// checkSubject accepts an empty subject, or 1 to 256 bytes of printable
// ASCII.
func checkSubject(s string) error {
	if len(s) > maxSubject {
		return inputErr("subject", fmt.Errorf("at most %d bytes", maxSubject))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return inputErr("subject", errors.New("printable ASCII without spaces only"))
		}
	}
	return nil
}

// classify turns errors of SignURL and SignCookies into the service's: bad
// input becomes an *InputError; too large and key errors stay as they are.
func classify(field string, err error) error {
	switch {
	case errors.Is(err, policy.ErrTooLarge), errors.Is(err, keys.ErrNoActiveKey), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, policy.ErrNotBeforeAfterEnd), errors.Is(err, policy.ErrEpochRange):
		return inputErr("not_before", err)
	case isPolicyInput(err):
		return inputErr(field, err)
	}
	return err
}

func isPolicyInput(err error) bool {
	for _, e := range []error{
		policy.ErrNoResource, policy.ErrIPv6, policy.ErrCannedCondition, policy.ErrCannedWildcard,
		policy.ErrEmptyKey, policy.ErrInvalidUTF8, policy.ErrDotSegment, policy.ErrScheme, policy.ErrHost,
		policy.ErrCharacter, policy.ErrPercent, policy.ErrReservedQuery, policy.ErrWildcardInURL, policy.ErrFragment,
		ErrResourceMismatch,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
