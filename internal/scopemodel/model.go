// Package scopemodel is an independent model of what a CloudFront signed URL
// or set of signed cookies grants, written for the security suite
// (internal/securitytest) from CLOUDFRONT.md and PRODUCT.md alone. It imports
// no package of this module, so a bug in policy/ or issuer/ cannot agree
// with itself: the suite asks the service for credentials and this model
// says whether what came back stays inside the caller's scope and inside
// one signed behavior of the right kind.
//
// Its own code is deliberately plain and different from the service's: it
// decodes the credential from the wire (CloudFront base64, the policy JSON,
// the canned policy rebuilt from the URL), verifies the signature with the
// standard library, and checks coverage by instantiating the resource's
// wildcards with many probe strings (every literal piece of every behavior
// pattern, separators, query starts) and matching each probe with a
// recursive glob, where the service explores automata.
//
// A Model is safe for concurrent use once built.
package scopemodel

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Behavior is one cache behavior as the behaviors file states it (seconds
// for durations).
type Behavior struct {
	Name          string `json:"name"`
	PathPattern   string `json:"path_pattern"`
	Access        string `json:"access"` // signed-url, signed-cookie, public
	IPBinding     bool   `json:"ip_binding"`
	BrowserMaxAge *int64 `json:"browser_max_age"`
	Window        *int64 `json:"window"`
	Margin        *int64 `json:"margin"`
	MaxLifetime   *int64 `json:"max_lifetime"`
}

// Behaviors is the behaviors file.
type Behaviors struct {
	ViewerOrigin string     `json:"viewer_origin"`
	List         []Behavior `json:"behaviors"`
}

// Caller is what a caller may be granted.
type Caller struct {
	Behaviors    []string      // empty: any signed behavior
	PathPrefixes []string      // empty: any path
	MaxLifetime  time.Duration // zero: no limit of its own
}

// Asked is what the request asked for, where it constrains the answer.
type Asked struct {
	ClientIP  string    // "" when none was asked
	NotBefore time.Time // zero when none was asked
}

// Grant is a credential decoded from the wire and verified.
type Grant struct {
	Kind      string // "url" or "cookie"
	Custom    bool
	Resource  string
	Expires   int64
	NotBefore int64 // 0 when absent
	SourceIP  string
	KeyID     string
	Cookies   []CookieAttrs // cookies only
}

// CookieAttrs are the attributes of one issued cookie.
type CookieAttrs struct {
	Name, Domain, Path string
	Secure, HTTPOnly   bool
}

// Model checks credentials against behaviors and a public key.
type Model struct {
	bs     Behaviors
	scheme string
	host   string
	keyID  string
	pub    crypto.PublicKey
	pieces []string // probe fills
}

// New returns a model for the behaviors file (JSON) and the one public key
// that signs.
func New(behaviorsJSON []byte, keyID string, pub crypto.PublicKey) (*Model, error) {
	var bs Behaviors
	if err := json.Unmarshal(behaviorsJSON, &bs); err != nil {
		return nil, err
	}
	scheme, host, ok := strings.Cut(bs.ViewerOrigin, "://")
	if !ok {
		return nil, errors.New("scopemodel: viewer origin without a scheme")
	}
	m := &Model{bs: bs, scheme: scheme, host: host, keyID: keyID, pub: pub}
	set := map[string]bool{"": true, "a": true, "/": true, "x/y": true, "/z/": true, ".": true, "?": true, "?q=1": true,
		"/a.pdf": true, ".m3u8": true, "/index.m3u8": true, "-": true, "~": true, "%41": true}
	for _, b := range bs.List {
		for _, p := range strings.FieldsFunc(b.PathPattern, func(r rune) bool { return r == '*' || r == '?' }) {
			set[p] = true
			set[p+"/"] = true
			set["/"+p] = true
			for i := 1; i < len(p); i++ { // every split point: a wildcard may stop inside a literal
				set[p[:i]] = true
				set[p[i:]] = true
			}
		}
	}
	for p := range set {
		m.pieces = append(m.pieces, p)
	}
	sort.Strings(m.pieces)
	return m, nil
}

// Violation is a credential that grants something it must not.
type Violation struct {
	Rule   string
	Detail string
}

func (v *Violation) Error() string { return v.Rule + ": " + v.Detail }

func violation(rule, format string, args ...any) *Violation {
	return &Violation{Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// --- decoding from the wire ---

// cfBase64 decodes CloudFront's base64: standard base64 with + = / written
// as - _ ~.
func cfBase64(s string) ([]byte, error) {
	r := strings.NewReplacer("-", "+", "_", "=", "~", "/").Replace(s)
	return base64.StdEncoding.DecodeString(r)
}

type policyDoc struct {
	Statement []struct {
		Resource  *string `json:"Resource"`
		Condition struct {
			DateLessThan *struct {
				Epoch *int64 `json:"AWS:EpochTime"`
			} `json:"DateLessThan"`
			DateGreaterThan *struct {
				Epoch *int64 `json:"AWS:EpochTime"`
			} `json:"DateGreaterThan"`
			IPAddress *struct {
				SourceIP *string `json:"AWS:SourceIp"`
			} `json:"IpAddress"`
		} `json:"Condition"`
	} `json:"Statement"`
}

func (m *Model) verify(msg []byte, sigText, hashName string) error {
	sig, err := cfBase64(sigText)
	if err != nil {
		return fmt.Errorf("signature is not CloudFront base64: %v", err)
	}
	h, digest := crypto.SHA1, sha1.Sum(msg)
	d := digest[:]
	switch hashName {
	case "":
	case "SHA256":
		s := sha256.Sum256(msg)
		h, d = crypto.SHA256, s[:]
	default:
		return fmt.Errorf("hash %q", hashName)
	}
	switch k := m.pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, h, d, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, d, sig) {
			return errors.New("ECDSA signature does not verify")
		}
		return nil
	}
	return errors.New("unknown public key type")
}

func (m *Model) customPolicy(text string) (*Grant, []byte, error) {
	raw, err := cfBase64(text)
	if err != nil {
		return nil, nil, fmt.Errorf("policy is not CloudFront base64: %v", err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	var p policyDoc
	if err := d.Decode(&p); err != nil {
		return nil, nil, fmt.Errorf("policy JSON: %v", err)
	}
	if len(p.Statement) != 1 {
		return nil, nil, fmt.Errorf("%d statements", len(p.Statement))
	}
	st := p.Statement[0]
	g := &Grant{Custom: true}
	if st.Resource == nil {
		return nil, nil, errors.New("policy without Resource grants everything the key signs for")
	}
	g.Resource = *st.Resource
	if st.Condition.DateLessThan == nil || st.Condition.DateLessThan.Epoch == nil {
		return nil, nil, errors.New("policy without DateLessThan")
	}
	g.Expires = *st.Condition.DateLessThan.Epoch
	if c := st.Condition.DateGreaterThan; c != nil && c.Epoch != nil {
		g.NotBefore = *c.Epoch
	}
	if c := st.Condition.IPAddress; c != nil && c.SourceIP != nil {
		g.SourceIP = *c.SourceIP
	}
	return g, raw, nil
}

func canned(resource string, expires int64) []byte {
	r, _ := json.Marshal(resource)
	// encoding/json escapes <, > and & for HTML; CloudFront rebuilds the
	// policy with the bytes as they are.
	r = bytes.ReplaceAll(r, []byte(`\u003c`), []byte("<"))
	r = bytes.ReplaceAll(r, []byte(`\u003e`), []byte(">"))
	r = bytes.ReplaceAll(r, []byte(`\u0026`), []byte("&"))
	return []byte(`{"Statement":[{"Resource":` + string(r) + `,"Condition":{"DateLessThan":{"AWS:EpochTime":` + strconv.FormatInt(expires, 10) + `}}}]}`)
}

// DecodeURL decodes and verifies a signed URL.
func (m *Model) DecodeURL(u string) (*Grant, error) {
	base, query, _ := strings.Cut(u, "?")
	if strings.Contains(u, "#") {
		return nil, errors.New("URL holds a fragment")
	}
	vals := map[string]string{}
	var own []string
	for _, kv := range strings.Split(query, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm":
			if _, dup := vals[k]; dup {
				return nil, fmt.Errorf("%s appears twice", k)
			}
			vals[k] = v
		default:
			if len(vals) > 0 {
				return nil, fmt.Errorf("caller parameter %q after the signing parameters", k)
			}
			own = append(own, kv)
		}
	}
	if vals["Key-Pair-Id"] != m.keyID {
		return nil, fmt.Errorf("Key-Pair-Id %q", vals["Key-Pair-Id"])
	}
	var g *Grant
	var msg []byte
	var err error
	switch {
	case vals["Policy"] != "" && vals["Expires"] == "":
		if g, msg, err = m.customPolicy(vals["Policy"]); err != nil {
			return nil, err
		}
	case vals["Policy"] == "" && vals["Expires"] != "":
		exp, err := strconv.ParseInt(vals["Expires"], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("Expires %q", vals["Expires"])
		}
		res := base
		if len(own) > 0 {
			res += "?" + strings.Join(own, "&")
		}
		g = &Grant{Resource: res, Expires: exp}
		msg = canned(res, exp)
	default:
		return nil, errors.New("neither exactly one of Policy and Expires")
	}
	if err := m.verify(msg, vals["Signature"], vals["Hash-Algorithm"]); err != nil {
		return nil, fmt.Errorf("signature: %v", err)
	}
	g.Kind, g.KeyID = "url", vals["Key-Pair-Id"]
	if g.Custom {
		// The request URL must itself match the resource, or CloudFront
		// would refuse the URL it was handed.
		req := base
		if len(own) > 0 {
			req += "?" + strings.Join(own, "&")
		}
		if !glob(g.Resource, req) {
			return nil, fmt.Errorf("the URL %s does not match its own policy resource %s", req, g.Resource)
		}
	}
	return g, nil
}

// DecodeCookies decodes and verifies a set of signed cookies given as
// name → value, with their attributes.
func (m *Model) DecodeCookies(values map[string]string, attrs []CookieAttrs) (*Grant, error) {
	if values["CloudFront-Key-Pair-Id"] != m.keyID {
		return nil, fmt.Errorf("CloudFront-Key-Pair-Id %q", values["CloudFront-Key-Pair-Id"])
	}
	var g *Grant
	var msg []byte
	var err error
	switch {
	case values["CloudFront-Policy"] != "" && values["CloudFront-Expires"] == "":
		if g, msg, err = m.customPolicy(values["CloudFront-Policy"]); err != nil {
			return nil, err
		}
	default:
		// A canned cookie's resource is the request URL, which a cookie
		// does not carry: the service must never issue one for a grant
		// that is not one exact URL, and this suite asks only for
		// prefixes and patterns.
		return nil, errors.New("cookies without exactly a CloudFront-Policy")
	}
	if err := m.verify(msg, values["CloudFront-Signature"], values["CloudFront-Hash-Algorithm"]); err != nil {
		return nil, fmt.Errorf("signature: %v", err)
	}
	g.Kind, g.KeyID, g.Cookies = "cookie", values["CloudFront-Key-Pair-Id"], attrs
	return g, nil
}

// --- the rules ---

// Check returns nil when g grants only what caller c may have at now, and a
// *Violation otherwise.
func (m *Model) Check(g *Grant, c Caller, asked Asked, now time.Time) error {
	scheme, rest, ok := strings.Cut(g.Resource, "://")
	if !ok {
		return violation("origin", "resource %q has no scheme", g.Resource)
	}
	if scheme != m.scheme && !(g.Custom && scheme == "http*" && m.scheme == "https") {
		return violation("origin", "resource scheme %q", scheme)
	}
	host, path, ok := strings.Cut(rest, "/")
	if !ok || host != m.host {
		return violation("origin", "resource host %q, viewer host %q", host, m.host)
	}
	path = "/" + path

	// 1. Every granted path starts with the resource's literal part, so
	// that part must lie inside one of the caller's prefixes, both as
	// written and as an origin that decodes escapes and dot segments
	// would read it.
	literal := path
	if g.Custom {
		if i := strings.IndexAny(literal, "*?"); i >= 0 {
			literal = literal[:i]
		}
	} else if i := strings.IndexByte(literal, '?'); i >= 0 {
		literal = literal[:i]
	}
	// An open literal ("/a/%2e%2e" before a wildcard) is read up to its
	// last '/': the wildcard could stand for the same bytes anyway.
	closed := literal
	if g.Custom && literal != path {
		closed = literal[:strings.LastIndexByte(literal, '/')+1]
	}
	if len(c.PathPrefixes) > 0 {
		in := false
		for _, p := range c.PathPrefixes {
			if strings.HasPrefix(literal, p) && (strings.HasPrefix(normalize(closed), normalize(p)) || strings.HasPrefix(p, closed)) {
				in = true
			}
		}
		if !in {
			return violation("prefix", "resource %s (literal %q) is outside the caller's prefixes %v", g.Resource, literal, c.PathPrefixes)
		}
	}
	if hasDotSegment(literal, g.Custom && literal != path) {
		return violation("dot-segment", "resource %s holds a dot segment", g.Resource)
	}

	// 2. Every path the resource grants goes, first match wins, to one
	// signed behavior of the right kind that the caller may be granted.
	want := "signed-url"
	if g.Kind == "cookie" {
		want = "signed-cookie"
	}
	var covering *Behavior
	for _, probe := range m.probes(path, g.Custom) {
		reqPath, _, _ := strings.Cut(probe, "?")
		b := m.match(reqPath)
		switch {
		case b == nil:
			return violation("coverage", "granted path %q matches no behavior", reqPath)
		case b.Access != want:
			return violation("coverage", "granted path %q is served by behavior %s (%s), not a %s behavior", reqPath, b.Name, b.Access, want)
		case covering != nil && covering != b:
			return violation("coverage", "resource %s reaches behaviors %s and %s (%q)", g.Resource, covering.Name, b.Name, reqPath)
		}
		covering = b
		if len(c.Behaviors) > 0 && !contains(c.Behaviors, b.Name) {
			return violation("behavior", "granted path %q is served by behavior %s, which the caller may not be granted (%v)", reqPath, b.Name, c.Behaviors)
		}
		if len(c.PathPrefixes) > 0 && !hasAnyPrefix(reqPath, c.PathPrefixes) {
			return violation("prefix", "granted path %q is outside the caller's prefixes %v", reqPath, c.PathPrefixes)
		}
	}

	// 3. Expiry: the behavior's window rule, the caller's and the
	// behavior's longest lifetime, and CloudFront's epoch range.
	b := covering
	v := sec(b.BrowserMaxAge, 3600) + sec(b.Margin, 300)
	w := sec(b.Window, 3600)
	life := time.Unix(g.Expires, 0).Sub(now)
	if life < v || life >= v+w+time.Second {
		return violation("expiry", "validity %s outside [%s, %s) for behavior %s", life, v, v+w, b.Name)
	}
	if l := sec(b.MaxLifetime, 86400); life > l {
		return violation("expiry", "validity %s beyond the behavior's max_lifetime %s", life, l)
	}
	if c.MaxLifetime > 0 && life > c.MaxLifetime {
		return violation("lifetime", "validity %s beyond the caller's max_lifetime %s", life, c.MaxLifetime)
	}
	if g.Expires > 2147483647 || g.Expires <= now.Unix() {
		return violation("expiry", "expires %d", g.Expires)
	}

	// 4. Conditions: only what was asked, IPv4 only, only where allowed.
	if g.SourceIP != "" {
		ip, ipnet, err := net.ParseCIDR(g.SourceIP)
		switch {
		case err != nil || ip.To4() == nil:
			return violation("ip", "SourceIp %q is not an IPv4 CIDR", g.SourceIP)
		case !b.IPBinding:
			return violation("ip", "IP condition on behavior %s without ip_binding", b.Name)
		case asked.ClientIP == "":
			return violation("ip", "IP condition %s that was not asked for", g.SourceIP)
		}
		askedIP, askedNet, err := net.ParseCIDR(asked.ClientIP)
		if err != nil {
			askedIP = net.ParseIP(asked.ClientIP)
			if askedIP == nil {
				return violation("ip", "IP condition %s for an unparsable client_ip %q", g.SourceIP, asked.ClientIP)
			}
			askedNet = &net.IPNet{IP: askedIP.To4(), Mask: net.CIDRMask(32, 32)}
		}
		ones, _ := ipnet.Mask.Size()
		aones, _ := askedNet.Mask.Size()
		if !ipnet.Contains(askedNet.IP) || ones < aones {
			return violation("ip", "IP condition %s is wider than the asked %s", g.SourceIP, asked.ClientIP)
		}
	} else if asked.ClientIP != "" {
		return violation("ip", "client_ip %q was asked but the credential holds no IP condition", asked.ClientIP)
	}
	if !asked.NotBefore.IsZero() && g.NotBefore != asked.NotBefore.Unix() {
		return violation("not-before", "DateGreaterThan %d, asked %d", g.NotBefore, asked.NotBefore.Unix())
	}

	// 5. Cookies: Secure, HttpOnly, a Path inside the literal prefix (so
	// the browser sends them only under the grant), on the viewer host or
	// a parent of it, never cloudfront.net.
	for _, ck := range g.Cookies {
		if !ck.Secure || !ck.HTTPOnly {
			return violation("cookie", "cookie %s without Secure or HttpOnly", ck.Name)
		}
		if !strings.HasPrefix(literal, ck.Path) || !strings.HasSuffix(ck.Path, "/") {
			return violation("cookie", "cookie %s Path %q is not a directory prefix of %q", ck.Name, ck.Path, literal)
		}
		d := strings.TrimPrefix(ck.Domain, ".")
		h, _, _ := strings.Cut(m.host, ":")
		if strings.HasSuffix(d, "cloudfront.net") || (d != "" && d != h && !strings.HasSuffix(h, "."+d)) {
			return violation("cookie", "cookie %s Domain %q for viewer host %q", ck.Name, ck.Domain, h)
		}
	}
	return nil
}

func sec(p *int64, def int64) time.Duration {
	if p == nil {
		return time.Duration(def) * time.Second
	}
	return time.Duration(*p) * time.Second
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// normalize percent-decodes a path (invalid escapes stay as they are) and
// removes dot segments, as a lenient origin or proxy might read it.
func normalize(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			if v, err := strconv.ParseUint(p[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	segs := strings.Split(b.String(), "/")
	var out []string
	for i, s := range segs {
		switch s {
		case ".":
			if i == len(segs)-1 {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if i == len(segs)-1 {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return strings.Join(out, "/")
}

// hasDotSegment reports a "." or ".." segment (also percent-encoded). When
// open, the last segment goes on into a wildcard ("/a/.*" grants "/a/.x"),
// so only the complete segments count: a wildcard can stand for a dot
// segment in any grant, literal or not.
func hasDotSegment(p string, open bool) bool {
	n := strings.ToLower(p)
	n = strings.ReplaceAll(n, "%2e", ".")
	segs := strings.Split(n, "/")
	if open {
		segs = segs[:len(segs)-1]
	}
	for _, s := range segs {
		if s == "." || s == ".." {
			return true
		}
	}
	return false
}

// match is CloudFront's first-match rule over the behaviors.
func (m *Model) match(path string) *Behavior {
	for i := range m.bs.List {
		p := m.bs.List[i].PathPattern
		if p != "" && p[0] != '/' && p[0] != '*' {
			p = "/" + p
		}
		if glob(p, path) {
			return &m.bs.List[i]
		}
	}
	return nil
}

// glob is a plain recursive matcher: '*' any run, '?' one byte. Memoised,
// so its cost stays bounded for long inputs.
func glob(pattern, s string) bool {
	memo := map[[2]int]bool{}
	var rec func(i, j int) bool
	rec = func(i, j int) bool {
		k := [2]int{i, j}
		if v, ok := memo[k]; ok {
			return v
		}
		var r bool
		switch {
		case i == len(pattern):
			r = j == len(s)
		case pattern[i] == '*':
			r = rec(i+1, j) || (j < len(s) && rec(i, j+1))
		case j < len(s) && (pattern[i] == '?' || pattern[i] == s[j]):
			r = rec(i+1, j+1)
		}
		memo[k] = r
		return r
	}
	return rec(0, 0)
}

// probes returns request paths (with query) that the resource's path
// grants: each wildcard filled with probe strings, every combination for up
// to two wildcards and a deterministic spread beyond.
func (m *Model) probes(path string, custom bool) []string {
	if !custom {
		return []string{path}
	}
	var parts []string // literal, wildcard, literal, wildcard, …, literal
	var kinds []byte
	last := 0
	for i := 0; i < len(path); i++ {
		if path[i] == '*' || path[i] == '?' {
			parts = append(parts, path[last:i])
			kinds = append(kinds, path[i])
			last = i + 1
		}
	}
	parts = append(parts, path[last:])
	if len(kinds) == 0 {
		return []string{path}
	}
	fills := func(k byte) []string {
		if k == '?' {
			return []string{"a", "/", ".", "?", "-", "%", "*", "p", "x", "d"}
		}
		return m.pieces
	}
	var out []string
	var rec func(i int, acc string, budget *int)
	rec = func(i int, acc string, budget *int) {
		if *budget <= 0 {
			return
		}
		if i == len(kinds) {
			out = append(out, acc)
			*budget--
			return
		}
		fs := fills(kinds[i])
		if i >= 1 { // beyond the first wildcard: a spread, not every combination
			fs = []string{"", "/", "a", "?", "x/y", fs[len(acc)%len(fs)], fs[(len(acc)*7+i)%len(fs)]}
		}
		for _, f := range fs {
			rec(i+1, acc+f+parts[i+1], budget)
		}
	}
	budget := 20000
	rec(0, parts[0], &budget)
	return out
}
