// Package cfref is an independent reference model of CloudFront's check of
// signed URLs and cookies (CLOUDFRONT.md §8), written for the edge's tests
// only. It deliberately imports neither policy/ nor edge/ (nor keys/): it
// parses, rebuilds, matches and verifies with its own code and the standard
// library, so that a bug shared by the edge and the packages it builds on
// cannot agree with itself in the mutation suite and the fuzz target.
//
// It is simple rather than fast: a dynamic-programming wildcard match, a
// map-based JSON check, plain string building.
//
// The choices it makes where CloudFront is unconfirmed are the ones the edge
// documents; each is named in Decide's comments so a reader can check the
// two side by side. It is safe for concurrent use.
package cfref

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Request is a viewer request as the reference sees it.
type Request struct {
	Scheme, Host string
	Path         string      // raw path
	Query        string      // raw query, no '?'
	Cookies      [][2]string // name, value in header order
	ClientIP     string
	Now          int64 // Unix seconds
}

// Key is a trusted public key.
type Key struct {
	ID  string
	Pub crypto.PublicKey
}

// Behavior is a path pattern and whether it has a trusted key group.
type Behavior struct {
	Pattern string
	Signed  bool
}

// Verdict is CloudFront's answer: Code "" means served. Reason is one of
// the names listed in Decide.
type Verdict struct {
	Code   string
	Reason string
}

// Allowed reports whether the request is served.
func (v Verdict) Allowed() bool { return v.Code == "" }

// Decide returns the verdict for r. Reasons: missing-key, unknown-key,
// duplicate, hash-algorithm, no-signature, signature-encoding, no-policy,
// policy-malformed, expires-value, signature, wrong-hash, wrong-key,
// canned-wildcard, expired, not-yet-valid, ipv6-client, ip-mismatch,
// resource.
func Decide(r Request, behaviors []Behavior, trusted []Key, skew int64) Verdict {
	path := r.Path
	if path == "" {
		path = "/"
	}
	signed := false
	for _, b := range behaviors {
		p := b.Pattern
		if p != "" && p[0] != '/' && p[0] != '*' {
			p = "/" + p
		}
		if match(p, path) {
			signed = b.Signed
			break
		}
	}
	if !signed {
		return Verdict{}
	}

	// Split the query: signing names literally (case-sensitive, not
	// decoded); Hash-Algorithm alone does not select URL mode.
	vals := map[string][]string{}
	var kept []string
	urlMode := false
	if r.Query != "" {
		for _, seg := range strings.Split(r.Query, "&") {
			name, val, _ := strings.Cut(seg, "=")
			switch name {
			case "Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm":
				if name != "Hash-Algorithm" {
					urlMode = true
				}
				if u, err := url.PathUnescape(val); err == nil {
					val = u
				}
				vals[name] = append(vals[name], val)
			default:
				kept = append(kept, seg)
			}
		}
	}
	scheme, host := strings.ToLower(r.Scheme), strings.ToLower(r.Host)
	if scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	} else if scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	}
	reqURL := scheme + "://" + host + path
	if len(kept) > 0 && strings.Join(kept, "&") != "" {
		reqURL += "?" + strings.Join(kept, "&")
	}

	get := func(name string) (string, bool, bool) {
		v := vals[name]
		if len(v) == 0 {
			return "", false, false
		}
		return v[0], true, len(v) > 1
	}
	if !urlMode {
		// Cookies: the first of each name wins.
		vals = map[string][]string{}
		names := map[string]string{"CloudFront-Expires": "Expires", "CloudFront-Policy": "Policy",
			"CloudFront-Signature": "Signature", "CloudFront-Key-Pair-Id": "Key-Pair-Id", "CloudFront-Hash-Algorithm": "Hash-Algorithm"}
		for _, c := range r.Cookies {
			if n, ok := names[c[0]]; ok && len(vals[n]) == 0 {
				vals[n] = []string{c[1]}
			}
		}
	}

	keyID, _, dup := get("Key-Pair-Id")
	if dup {
		return Verdict{"InvalidKey", "duplicate"}
	}
	if keyID == "" {
		return Verdict{"MissingKey", "missing-key"}
	}
	var pub crypto.PublicKey
	for _, k := range trusted {
		if k.ID == keyID {
			pub = k.Pub
		}
	}
	if pub == nil {
		return Verdict{"InvalidKey", "unknown-key"}
	}
	h, hashPresent, dup := get("Hash-Algorithm")
	if dup {
		return Verdict{"AccessDenied", "duplicate"}
	}
	hash := crypto.SHA1
	if hashPresent {
		switch h {
		case "SHA1":
		case "SHA256":
			hash = crypto.SHA256
		default:
			return Verdict{"AccessDenied", "hash-algorithm"}
		}
	}
	sigText, _, dup := get("Signature")
	if dup {
		return Verdict{"MalformedSignature", "duplicate"}
	}
	if sigText == "" {
		return Verdict{"MalformedSignature", "no-signature"}
	}
	sig, ok := cfBase64(sigText)
	if !ok || len(sig) == 0 {
		return Verdict{"MalformedSignature", "signature-encoding"}
	}

	var pol statement
	var polBytes []byte
	canned := false
	polText, polPresent, polDup := get("Policy")
	expText, expPresent, expDup := get("Expires")
	switch {
	case polDup:
		return Verdict{"MalformedPolicy", "duplicate"}
	case polPresent:
		raw, ok := cfBase64(polText)
		if !ok {
			return Verdict{"MalformedPolicy", "policy-malformed"}
		}
		pol, ok = parsePolicy(raw)
		if !ok {
			return Verdict{"MalformedPolicy", "policy-malformed"}
		}
		polBytes = raw
	case expDup:
		return Verdict{"MalformedPolicy", "duplicate"}
	case expPresent:
		n, err := strconv.ParseUint(expText, 10, 64)
		if err != nil || n < 1 || n > 2147483647 || strings.TrimLeft(expText, "0123456789") != "" {
			return Verdict{"MalformedPolicy", "expires-value"}
		}
		canned = true
		pol = statement{resource: reqURL, hasResource: true, expires: int64(n)}
		polBytes = cannedJSON(reqURL, int64(n))
	default:
		return Verdict{"MalformedPolicy", "no-policy"}
	}

	if !verify(pub, polBytes, sig, hash) {
		other := crypto.SHA256
		if hash == crypto.SHA256 {
			other = crypto.SHA1
		}
		if verify(pub, polBytes, sig, other) {
			return Verdict{"AccessDenied", "wrong-hash"}
		}
		for _, k := range trusted {
			if k.ID != keyID && (verify(k.Pub, polBytes, sig, hash) || verify(k.Pub, polBytes, sig, other)) {
				return Verdict{"AccessDenied", "wrong-key"}
			}
		}
		if canned {
			origin := scheme + "://" + host
			tries := 0
			for i := len(path) - 1; i >= 0 && tries < 6; i-- {
				if path[i] == '/' {
					tries++
					if verify(pub, cannedJSON(origin+path[:i+1]+"*", pol.expires), sig, hash) {
						return Verdict{"AccessDenied", "canned-wildcard"}
					}
				}
			}
		}
		return Verdict{"AccessDenied", "signature"}
	}

	if r.Now >= pol.expires+skew {
		return Verdict{"AccessDenied", "expired"}
	}
	if pol.notBefore != 0 && r.Now <= pol.notBefore-skew {
		return Verdict{"AccessDenied", "not-yet-valid"}
	}
	if pol.ipNet != nil {
		ip := net.ParseIP(r.ClientIP)
		switch {
		case ip == nil:
			return Verdict{"AccessDenied", "ip-mismatch"}
		case ip.To4() == nil:
			return Verdict{"AccessDenied", "ipv6-client"}
		case !pol.ipNet.Contains(ip.To4()):
			return Verdict{"AccessDenied", "ip-mismatch"}
		}
	}
	if pol.hasResource && !match(pol.resource, reqURL) {
		return Verdict{"AccessDenied", "resource"}
	}
	return Verdict{}
}

func cannedJSON(resource string, expires int64) []byte {
	return []byte(`{"Statement":[{"Resource":"` + resource + `","Condition":{"DateLessThan":{"AWS:EpochTime":` + strconv.FormatInt(expires, 10) + `}}}]}`)
}

func cfBase64(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "+/= \t\r\n") {
		return nil, false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '-':
			b.WriteByte('+')
		case '_':
			b.WriteByte('=')
		case '~':
			b.WriteByte('/')
		default:
			b.WriteByte(s[i])
		}
	}
	out, err := base64.StdEncoding.Strict().DecodeString(b.String())
	return out, err == nil
}

func verify(pub crypto.PublicKey, msg, sig []byte, hash crypto.Hash) bool {
	var digest []byte
	if hash == crypto.SHA256 {
		s := sha256.Sum256(msg)
		digest = s[:]
	} else {
		s := sha1.Sum(msg)
		digest = s[:]
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(p, hash, digest, sig) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(p, digest, sig)
	}
	return false
}

type statement struct {
	resource    string
	hasResource bool
	expires     int64
	notBefore   int64
	ipNet       *net.IPNet
}

// parsePolicy checks a custom policy: one statement, known keys only,
// DateLessThan required, integer epochs within 32 bits, IPv4 SourceIp.
func parsePolicy(raw []byte) (statement, bool) {
	var st statement
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var top map[string]any
	if d.Decode(&top) != nil || d.More() {
		return st, false
	}
	if len(top) != 1 {
		return st, false
	}
	list, ok := top["Statement"].([]any)
	if !ok || len(list) != 1 {
		return st, false
	}
	s, ok := list[0].(map[string]any)
	if !ok {
		return st, false
	}
	for k := range s {
		if k != "Resource" && k != "Condition" {
			return st, false
		}
	}
	if r, present := s["Resource"]; present {
		rs, ok := r.(string)
		if !ok || rs == "" {
			return st, false
		}
		st.resource, st.hasResource = rs, true
	}
	cond, ok := s["Condition"].(map[string]any)
	if !ok {
		return st, false
	}
	epoch := func(v any) (int64, bool) {
		m, ok := v.(map[string]any)
		if !ok || len(m) != 1 {
			return 0, false
		}
		n, ok := m["AWS:EpochTime"].(json.Number)
		if !ok {
			return 0, false
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || i < 1 || i > 2147483647 {
			return 0, false
		}
		return i, true
	}
	for k, v := range cond {
		switch k {
		case "DateLessThan":
			if st.expires, ok = epoch(v); !ok {
				return st, false
			}
		case "DateGreaterThan":
			if st.notBefore, ok = epoch(v); !ok {
				return st, false
			}
		case "IpAddress":
			m, ok := v.(map[string]any)
			if !ok || len(m) != 1 {
				return st, false
			}
			ipText, ok := m["AWS:SourceIp"].(string)
			if !ok {
				return st, false
			}
			if !strings.Contains(ipText, "/") {
				ipText += "/32"
			}
			ip, n, err := net.ParseCIDR(ipText)
			if err != nil || ip.To4() == nil || strings.Contains(ipText, ":") {
				return st, false
			}
			st.ipNet = n
		default:
			return st, false
		}
	}
	if st.expires == 0 {
		return st, false
	}
	return st, true
}

// match is CloudFront's wildcard full match ('*' any run, '?' one byte) by
// dynamic programming over bytes.
func match(pattern, s string) bool {
	// prev[j]: pattern[:i] matches s[:j].
	prev := make([]bool, len(s)+1)
	prev[0] = true
	for i := 0; i < len(pattern); i++ {
		cur := make([]bool, len(s)+1)
		c := pattern[i]
		if c == '*' {
			cur[0] = prev[0]
		}
		for j := 1; j <= len(s); j++ {
			switch c {
			case '*':
				cur[j] = prev[j] || cur[j-1]
			case '?':
				cur[j] = prev[j-1]
			default:
				cur[j] = prev[j-1] && s[j-1] == c
			}
		}
		prev = cur
	}
	return prev[len(s)]
}
