package main

import (
	"context"
	"crypto"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/policy"
)

// grantFlags are the flags shared by `sign url` and `sign cookies`.
type grantFlags struct {
	keys      keyFlags
	expires   string
	ttl       time.Duration
	notBefore string
	ip        string
	hash      string
	custom    bool
}

func (g *grantFlags) register(fs *flag.FlagSet) {
	g.keys.register(fs, true)
	fs.StringVar(&g.expires, "expires", "", "expiry: Unix seconds or RFC 3339 (this or --ttl is required)")
	fs.DurationVar(&g.ttl, "ttl", 0, "validity from now, such as 15m or 2h (this or --expires is required)")
	fs.StringVar(&g.notBefore, "not-before", "", "start of validity: Unix seconds or RFC 3339 (custom policy)")
	fs.StringVar(&g.ip, "ip", "", "IPv4 address or CIDR range the viewer must come from (custom policy)")
	fs.StringVar(&g.hash, "hash", "", "signature hash: sha1 or sha256 (default: sha1 for RSA, sha256 for ECDSA)")
	fs.BoolVar(&g.custom, "custom", false, "use a custom policy even when a canned one would do")
}

type grant struct {
	expires, notBefore time.Time
	ip                 netip.Prefix
	hash               crypto.Hash
}

func (g *grantFlags) parse(now time.Time) (grant, error) {
	var out grant
	switch {
	case g.expires != "" && g.ttl != 0:
		return out, fmt.Errorf("%w: give --expires or --ttl, not both", errUsage)
	case g.expires != "":
		t, err := parseTime(g.expires)
		if err != nil {
			return out, fmt.Errorf("%w: --expires: %v", errUsage, err)
		}
		out.expires = t
	case g.ttl > 0:
		out.expires = now.Add(g.ttl).Truncate(time.Second)
		if out.expires.Before(now.Add(g.ttl)) {
			out.expires = out.expires.Add(time.Second)
		}
	case g.ttl < 0:
		return out, fmt.Errorf("%w: --ttl must be positive", errUsage)
	default:
		return out, fmt.Errorf("%w: --expires TIME or --ttl DURATION is required", errUsage)
	}
	if !out.expires.After(now) {
		return out, fmt.Errorf("%w: --expires %s is not in the future (now is %s)", errUsage, out.expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if g.notBefore != "" {
		t, err := parseTime(g.notBefore)
		if err != nil {
			return out, fmt.Errorf("%w: --not-before: %v", errUsage, err)
		}
		out.notBefore = t
	}
	if g.ip != "" {
		p, err := policy.ParseIP(g.ip)
		if err != nil {
			return out, fmt.Errorf("%w: --ip: %v", errUsage, err)
		}
		out.ip = p
	}
	switch strings.ToLower(g.hash) {
	case "":
	case "sha1":
		out.hash = crypto.SHA1
	case "sha256":
		out.hash = crypto.SHA256
	default:
		return out, fmt.Errorf("%w: --hash must be sha1 or sha256, not %q", errUsage, g.hash)
	}
	return out, nil
}

// parseTime reads Unix seconds or RFC 3339.
func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > policy.MaxEpoch {
			return time.Time{}, fmt.Errorf("%d is past %d: give seconds, not milliseconds", n, policy.MaxEpoch)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither Unix seconds nor RFC 3339 (2026-01-02T15:04:05Z)", s)
	}
	return t, nil
}

func runSignURL(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "sign url", "sign url URL --key-file F --key-id ID (--expires T | --ttl D) [--policy-resource PATTERN] [--not-before T] [--ip CIDR] [--hash sha1|sha256] [--custom]")
	var g grantFlags
	g.register(fs)
	resource := fs.String("policy-resource", "", "custom-policy resource, may hold * and ? wildcards; must match URL")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: give exactly one URL to sign", errUsage)
	}
	gr, err := g.parse(e.now())
	if err != nil {
		return err
	}
	s, err := g.keys.load(ctx, e)
	if err != nil {
		return err
	}
	signed, err := issuer.SignURL(ctx, s, issuer.URLRequest{
		URL: pos[0], Resource: *resource, Expires: gr.expires, NotBefore: gr.notBefore,
		SourceIP: gr.ip, Custom: g.custom, Hash: gr.hash,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, signed.URL)
	return nil
}

func runSignCookies(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "sign cookies", "sign cookies RESOURCE --key-file F --key-id ID (--expires T | --ttl D) [--domain D] [--path P] [--same-site Lax|Strict|None] [--hash sha1|sha256] [--json]")
	var g grantFlags
	g.register(fs)
	domain := fs.String("domain", "", "cookie Domain (default: host-only, for the host that sets them)")
	path := fs.String("path", "", "cookie Path (default: the resource's path up to the last '/' before any wildcard)")
	sameSite := fs.String("same-site", "Lax", "cookie SameSite: Lax, Strict or None")
	asJSON := fs.Bool("json", false, "print the cookies as JSON instead of Set-Cookie lines")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: give exactly one resource (URL or wildcard pattern)", errUsage)
	}
	gr, err := g.parse(e.now())
	if err != nil {
		return err
	}
	ss, err := parseSameSite(*sameSite)
	if err != nil {
		return err
	}
	if *path == "" {
		*path = defaultCookiePath(pos[0])
	}
	s, err := g.keys.load(ctx, e)
	if err != nil {
		return err
	}
	signed, err := issuer.SignCookies(ctx, s, issuer.CookieRequest{
		Resource: pos[0], Expires: gr.expires, NotBefore: gr.notBefore, SourceIP: gr.ip,
		Custom: g.custom, Hash: gr.hash, Domain: *domain, Path: *path, SameSite: ss,
	})
	if err != nil {
		return err
	}
	if *asJSON {
		type jc struct {
			Name     string `json:"name"`
			Value    string `json:"value"`
			Domain   string `json:"domain,omitempty"`
			Path     string `json:"path"`
			Secure   bool   `json:"secure"`
			HTTPOnly bool   `json:"http_only"`
			SameSite string `json:"same_site"`
		}
		out := struct {
			Cookies   []jc   `json:"cookies"`
			ExpiresAt string `json:"expires_at"`
			KeyID     string `json:"key_id"`
		}{ExpiresAt: signed.Policy.Expires.UTC().Format(time.RFC3339), KeyID: signed.KeyID}
		for _, c := range signed.Cookies {
			out.Cookies = append(out.Cookies, jc{c.Name, c.Value, c.Domain, c.Path, c.Secure, c.HttpOnly, *sameSite})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, c := range signed.Cookies {
		fmt.Fprintf(e.stdout, "Set-Cookie: %s\n", c.String())
	}
	return nil
}

func parseSameSite(s string) (http.SameSite, error) {
	switch strings.ToLower(s) {
	case "lax":
		return http.SameSiteLaxMode, nil
	case "strict":
		return http.SameSiteStrictMode, nil
	case "none":
		return http.SameSiteNoneMode, nil
	}
	return 0, fmt.Errorf("%w: --same-site must be Lax, Strict or None, not %q", errUsage, s)
}

// defaultCookiePath returns the cookie Path for a resource: its path up to
// the last '/' before the first wildcard, so each grant's cookies are scoped
// to its prefix (two courses' cookies then coexist in one browser).
func defaultCookiePath(resource string) string {
	_, rest, ok := strings.Cut(resource, "://")
	if !ok {
		return "/"
	}
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return "/"
	}
	path := rest[i:]
	if j := strings.IndexAny(path, "*?"); j >= 0 {
		path = path[:j]
	}
	return path[:strings.LastIndexByte(path, '/')+1]
}
