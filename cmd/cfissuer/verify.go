package main

import (
	"context"
	"crypto"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// cookieFlag collects repeated --cookie NAME=VALUE flags.
type cookieFlag []*http.Cookie

func (c *cookieFlag) String() string { return fmt.Sprintf("%d cookies", len(*c)) }

func (c *cookieFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return errors.New("want NAME=VALUE")
	}
	*c = append(*c, &http.Cookie{Name: name, Value: value})
	return nil
}

// checkFlags are the flags verify and explain share.
type checkFlags struct {
	cookies       cookieFlag
	cookieHeader  string
	publicKeyFile string
	keyID         string
	now           string
	clientIP      string
	behaviors     string
	skew          time.Duration
}

func (c *checkFlags) register(fs *flag.FlagSet) {
	fs.Var(&c.cookies, "cookie", "a cookie sent with the request, NAME=VALUE (repeatable)")
	fs.StringVar(&c.cookieHeader, "cookie-header", "", "a whole Cookie header, such as 'Cookie: CloudFront-Policy=…; CloudFront-Signature=…'")
	fs.StringVar(&c.publicKeyFile, "public-key-file", "", "the trusted CloudFront public key (PEM) (required)")
	fs.StringVar(&c.keyID, "key-id", "", "its CloudFront public key ID (required)")
	fs.StringVar(&c.now, "now", "", "the time to check at: Unix seconds or RFC 3339 (default: now)")
	fs.StringVar(&c.clientIP, "client-ip", "", "the viewer's IP address, for policies with an IP condition")
	fs.StringVar(&c.behaviors, "behaviors", "", "behaviors file to route by (default: one signed behavior for every path)")
	fs.DurationVar(&c.skew, "clock-skew", 0, "clock skew to tolerate, such as 30s (CloudFront documents none)")
}

// check runs the verifier over the command line's request.
func (c *checkFlags) check(e *env, pos []string) (*edge.Decision, time.Time, error) {
	if len(pos) != 1 {
		return nil, time.Time{}, fmt.Errorf("%w: give exactly one URL", errUsage)
	}
	if c.publicKeyFile == "" || c.keyID == "" {
		return nil, time.Time{}, fmt.Errorf("%w: --public-key-file and --key-id are required", errUsage)
	}
	scheme, host, path, query, err := splitRawURL(pos[0])
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	now := e.now()
	if c.now != "" {
		if now, err = parseTime(c.now); err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: --now: %v", errUsage, err)
		}
	}
	var ip netip.Addr
	if c.clientIP != "" {
		if ip, err = netip.ParseAddr(c.clientIP); err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: --client-ip %q is not an IP address", errUsage, c.clientIP)
		}
	}
	cookies := []*http.Cookie(c.cookies)
	if c.cookieHeader != "" {
		line := strings.TrimSpace(c.cookieHeader)
		if len(line) > 7 && strings.EqualFold(line[:7], "cookie:") {
			line = strings.TrimSpace(line[7:])
		}
		parsed, err := http.ParseCookie(line)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: --cookie-header: %v", errUsage, err)
		}
		cookies = append(cookies, parsed...)
	}
	pemData, err := os.ReadFile(c.publicKeyFile)
	if err != nil {
		return nil, time.Time{}, err
	}
	pub, err := keys.ParsePublicKeyPEM(pemData)
	if err != nil {
		return nil, time.Time{}, err
	}
	bs, err := c.loadBehaviors(scheme + "://" + strings.ToLower(host))
	if err != nil {
		return nil, time.Time{}, err
	}
	v, err := edge.NewVerifier(bs, []edge.Key{{ID: c.keyID, Public: pub}}, edge.Options{ClockSkew: c.skew})
	if err != nil {
		return nil, time.Time{}, err
	}
	d := v.Check(edge.Request{Method: http.MethodGet, Scheme: scheme, Host: host, RawPath: path, RawQuery: query, Cookies: cookies, ClientIP: ip}, now)
	return d, now, nil
}

func (c *checkFlags) loadBehaviors(origin string) (*policy.Behaviors, error) {
	var r io.Reader
	if c.behaviors != "" {
		f, err := os.Open(c.behaviors)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	} else {
		r = strings.NewReader(`{"viewer_origin": "https://example.invalid", "behaviors": [{"name": "default", "path_pattern": "*", "access": "signed-url"}]}`)
	}
	return policy.ParseBehaviors(r)
}

// splitRawURL splits a URL without decoding or re-encoding anything.
func splitRawURL(u string) (scheme, host, path, query string, err error) {
	scheme, rest, ok := strings.Cut(u, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "https" && scheme != "http") {
		return "", "", "", "", fmt.Errorf("%q is not an http(s) URL", truncateArg(u))
	}
	rest, _, _ = strings.Cut(rest, "#")
	i := strings.IndexAny(rest, "/?")
	if i < 0 {
		return scheme, rest, "/", "", nil
	}
	host, pq := rest[:i], rest[i:]
	path, query, _ = strings.Cut(pq, "?")
	if path == "" {
		path = "/"
	}
	return scheme, host, path, query, nil
}

// truncateArg keeps a user's URL out of error messages beyond its start:
// the rest may hold a signature.
func truncateArg(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i] + "?…"
	}
	return s
}

func runVerify(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "verify", "verify URL [--cookie NAME=VALUE ...] --public-key-file F --key-id ID [--now UNIX|RFC3339] [--client-ip IP] [--behaviors FILE]")
	var c checkFlags
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	d, _, err := c.check(e, pos)
	if err != nil {
		return err
	}
	if d.Allowed() {
		fmt.Fprintln(e.stdout, "allowed")
		return nil
	}
	fmt.Fprintf(e.stdout, "denied: 403 %s (%s)\nreason: %s\n", d.Denial.Code, d.Denial.Code.Message(), reasonText(d.Denial))
	return &exitError{code: 1}
}

func reasonText(dn *edge.Denial) string {
	s := dn.Err.Error()
	s = strings.TrimPrefix(s, "edge: ")
	if dn.Detail != "" {
		s += ": " + dn.Detail
	}
	return s
}

// hints say what to change for each reason.
var hints = []struct {
	err  error
	hint string
}{
	{edge.ErrNoKeyPairID, "Sign the request: a URL needs Key-Pair-Id, Signature and Expires or Policy; cookies need CloudFront-Key-Pair-Id, CloudFront-Signature and CloudFront-Expires or CloudFront-Policy, with a Path and Domain that match this URL."},
	{edge.ErrUnknownKey, "Use a public key ID from the behavior's key group (the CloudFront public key ID, not the key group ID), or add the key to the group."},
	{edge.ErrDuplicate, "Send each signing parameter once."},
	{edge.ErrHashAlgorithm, "Hash-Algorithm must be SHA1 or SHA256 exactly (or absent for SHA1)."},
	{edge.ErrNoSignature, "Add the Signature."},
	{edge.ErrSignatureEncoding, "Encode the signature as CloudFront base64: standard base64, then '+'→'-', '='→'_', '/'→'~'; check nothing re-encoded it on the way."},
	{edge.ErrNoPolicy, "Add Expires (canned policy) or Policy (custom policy)."},
	{edge.ErrPolicyMalformed, "Fix the policy JSON: one Statement, Condition.DateLessThan in whole Unix seconds, only documented keys."},
	{edge.ErrExpiresValue, "Expires is whole Unix seconds (10 digits today), not milliseconds."},
	{edge.ErrWrongHash, "Send Hash-Algorithm=SHA256 (cookie CloudFront-Hash-Algorithm=SHA256) with SHA-256 signatures, and nothing for SHA-1."},
	{edge.ErrWrongKey, "Key-Pair-Id must name the key that signed: the signature is from another trusted key."},
	{edge.ErrCannedWildcard, "A canned policy covers exactly one URL; sign a custom policy for a wildcard resource."},
	{edge.ErrSignature, "Sign exactly the URL the viewer requests (same scheme, host, path encoding and query, in the same order), with the private key of this key ID; a changed policy or URL breaks the signature."},
	{edge.ErrExpired, "Issue a new URL or cookie; check the signer's clock and the lifetime it grants."},
	{edge.ErrNotYetValid, "Wait, or issue one with an earlier DateGreaterThan; check the signer's clock."},
	{edge.ErrIPv6Client, "IP conditions are IPv4 only: disable IPv6 on the distribution or leave the IP condition out."},
	{edge.ErrIPMismatch, "Bind to the viewer's public IPv4 address (as CloudFront sees it), or leave the IP condition out."},
	{edge.ErrResource, "Sign a Resource that matches this URL in full, including its query string (use a trailing * to cover a prefix)."},
}

func runExplain(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "explain", "explain URL [--cookie-header 'Cookie: …' | --cookie NAME=VALUE ...] --public-key-file F --key-id ID [--now T] [--client-ip IP] [--behaviors FILE]")
	var c checkFlags
	c.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	d, now, err := c.check(e, pos)
	if err != nil {
		return err
	}
	w := e.stdout
	if d.Allowed() {
		fmt.Fprintln(w, "Verdict:  ALLOWED: CloudFront would serve this request.")
	} else {
		fmt.Fprintf(w, "Verdict:  DENIED: CloudFront answers 403 %s (%q).\n", d.Denial.Code, d.Denial.Code.Message())
		fmt.Fprintf(w, "Why:      %s\n", reasonText(d.Denial))
	}
	fmt.Fprintf(w, "Checked:  %s at %s\n", d.Mode, now.UTC().Format(time.RFC3339))
	if d.Behavior != nil {
		fmt.Fprintf(w, "Behavior: %q (path pattern %s, %s)\n", d.Behavior.Name, d.Behavior.PathPattern, d.Behavior.Access)
	}
	if d.URL != "" {
		fmt.Fprintf(w, "URL:      %s (signing parameters removed)\n", d.URL)
	}
	if d.CookiesIgnored {
		fmt.Fprintln(w, "Cookies:  ignored: the query holds a signing parameter, so CloudFront checks the URL only.")
	}
	if d.KeyID != "" {
		hash := "SHA1"
		if d.Hash == crypto.SHA256 {
			hash = "SHA256"
		}
		fmt.Fprintf(w, "Key:      %s, hash %s\n", d.KeyID, hash)
	}
	if len(d.PolicyJSON) > 0 {
		p := d.Policy
		fmt.Fprintf(w, "Policy:   %s, as signed: %s\n", p.Kind, d.PolicyJSON)
		if p.Resource != "" {
			match := "matches this URL"
			if !policy.Glob(p.Resource, d.URL) {
				match = "does NOT match this URL"
			}
			fmt.Fprintf(w, "  Resource:        %s (%s)\n", p.Resource, match)
		} else {
			fmt.Fprintln(w, "  Resource:        none (grants everything the key signs for)")
		}
		fmt.Fprintf(w, "  DateLessThan:    %s\n", when(p.Expires, now))
		if !p.NotBefore.IsZero() {
			fmt.Fprintf(w, "  DateGreaterThan: %s\n", when(p.NotBefore, now))
		}
		if p.SourceIP.IsValid() {
			fmt.Fprintf(w, "  SourceIp:        %s\n", p.SourceIP)
		}
	}
	if d.Allowed() {
		return nil
	}
	for _, h := range hints {
		if errors.Is(d.Denial, h.err) {
			fmt.Fprintf(w, "Fix:      %s\n", h.hint)
			break
		}
	}
	return &exitError{code: 1}
}

// when writes a time in UTC and relative to now.
func when(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	rel := "in " + d.String()
	if d < 0 {
		rel = (-d).String() + " ago"
	}
	return fmt.Sprintf("%s (%d, %s)", t.UTC().Format(time.RFC3339), t.Unix(), rel)
}
