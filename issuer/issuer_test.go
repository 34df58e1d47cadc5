package issuer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

const testBehaviors = `{
  "viewer_origin": "https://media.example.test",
  "behaviors": [
    {"name": "courses", "path_pattern": "/courses/*", "access": "signed-cookie", "hash": "SHA256",
     "browser_max_age": 60, "window": 600, "margin": 300, "max_lifetime": 3600},
    {"name": "ebooks", "path_pattern": "/ebooks/*", "access": "signed-url",
     "browser_max_age": 3600, "window": 3600, "margin": 300, "max_lifetime": 14400,
     "cache_query_strings": ["response-content-disposition"]},
    {"name": "live", "path_pattern": "/live/*", "access": "signed-url", "policy": "custom", "hash": "SHA256",
     "ip_binding": true, "browser_max_age": 0, "window": 60, "margin": 60, "max_lifetime": 600},
    {"name": "public", "path_pattern": "/public/*", "access": "public"},
    {"name": "default", "path_pattern": "*", "access": "signed-url"}
  ]
}`

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func behaviors(t testing.TB) *policy.Behaviors {
	t.Helper()
	bs, err := policy.ParseBehaviors(strings.NewReader(testBehaviors))
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func signer(t testing.TB, file, id string) keys.Signer {
	t.Helper()
	data, err := os.ReadFile("../testdata/keys/" + file)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.ParsePrivateKey(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := keys.NewLocal(id, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ring(t testing.TB, ks ...keys.RingKey) *keys.Ring {
	t.Helper()
	r, err := keys.NewRing(ks, LongestLifetime(behaviors(t)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newIssuer(t testing.TB, c *clock, r *keys.Ring, log *bytes.Buffer) *Issuer {
	t.Helper()
	opts := Options{Now: c.Now}
	if log != nil {
		opts.Logger = slog.New(slog.NewJSONHandler(log, nil))
	} else {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	is, err := New(r, behaviors(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func TestURLStableWithinWindow(t *testing.T) {
	for _, k := range []struct{ file, id string }{{"rsa2048.pem", "KRSA"}, {"ec-p256.pem", "KECDSA"}} {
		t.Run(k.id, func(t *testing.T) {
			c := &clock{t: t0.Add(17 * time.Second)}
			s := signer(t, k.file, k.id)
			is := newIssuer(t, c, ring(t, keys.RingKey{Signer: s}), nil)
			ctx := context.Background()
			first, err := is.URL(ctx, nil, URLGrant{Path: "/ebooks/intro.pdf"})
			if err != nil {
				t.Fatal(err)
			}
			if first.CacheHit {
				t.Error("first issuance was a cache hit")
			}
			c.Advance(20 * time.Minute) // same window: t+V stays under the same boundary
			second, err := is.URL(ctx, nil, URLGrant{Path: "/ebooks/intro.pdf"})
			if err != nil {
				t.Fatal(err)
			}
			if second.URL != first.URL {
				t.Errorf("same window, different URLs:\n%s\n%s", first.URL, second.URL)
			}
			if !second.CacheHit {
				t.Error("second issuance in the window was not a cache hit")
			}
			if hits, misses := is.CacheStats(); hits != 1 || misses != 1 {
				t.Errorf("cache stats = %d hits, %d misses; want 1, 1", hits, misses)
			}
			// The grant ID names the credential (it is inside the URL, for
			// revocation), so the same URL has the same grant ID.
			if first.GrantID() != second.GrantID() {
				t.Errorf("the same URL got grant IDs %s and %s", first.GrantID(), second.GrantID())
			}

			// A second issuer with the same key, sharing nothing.
			other := newIssuer(t, &clock{t: c.Now()}, ring(t, keys.RingKey{Signer: signer(t, k.file, k.id)}), nil)
			third, err := other.URL(ctx, nil, URLGrant{Path: "/ebooks/intro.pdf"})
			if err != nil {
				t.Fatal(err)
			}
			if third.URL != first.URL || third.CacheHit {
				t.Errorf("another issuer with the same key: %s (hit %v), want %s", third.URL, third.CacheHit, first.URL)
			}

			// The next window gives a new expiry.
			c.Set(first.Expires.Add(-policyV(is, "ebooks") + time.Second))
			next, err := is.URL(ctx, nil, URLGrant{Path: "/ebooks/intro.pdf"})
			if err != nil {
				t.Fatal(err)
			}
			if want := first.Expires.Add(time.Hour); !next.Expires.Equal(want) {
				t.Errorf("next window expires %s, want %s", next.Expires, want)
			}
			if next.URL == first.URL {
				t.Error("next window gave the same URL")
			}
		})
	}
}

func policyV(is *Issuer, name string) time.Duration { return is.Behaviors().Lookup(name).MinValidity() }

// GrantID is a test helper: the grant's ID.
func (u *IssuedURL) GrantID() string { return u.ID }

// TestSameBytesAsSignURL checks that the service path (cache wrapper, ring,
// behaviors) builds exactly what the signing primitive builds, for every
// hash and key type.
func TestSameBytesAsSignURL(t *testing.T) {
	ctx := context.Background()
	for _, k := range []struct{ file, id string }{{"rsa2048.pem", "KRSA"}, {"ec-p256.pem", "KECDSA"}} {
		s := signer(t, k.file, k.id)
		c := &clock{t: t0}
		is := newIssuer(t, c, ring(t, keys.RingKey{Signer: s}), nil)
		for _, g := range []URLGrant{
			{Path: "/ebooks/a%20b.pdf?x=1"},
			{Path: "/live/stream.m3u8", ClientIP: "192.0.2.7"},
			{Path: "/other/x.css"},
			{Resource: "https://media.example.test/ebooks/c.pdf", Filename: "Ünïcode report.pdf"},
		} {
			got, err := is.URL(ctx, nil, g)
			if err != nil {
				t.Fatalf("%s %+v: %v", k.id, g, err)
			}
			raw := got.Resource
			b := is.Behaviors().Lookup(got.Behavior)
			req := URLRequest{URL: raw, Expires: got.Expires, Custom: b.Policy == policy.Custom, Hash: got.Hash}
			if g.ClientIP != "" {
				req.SourceIP, _ = policy.ParseIP(g.ClientIP)
			}
			want, err := SignURL(ctx, s, req)
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != want.URL {
				t.Errorf("%s %+v:\n got %s\nwant %s", k.id, g, got.URL, want.URL)
			}
		}
	}
}

// TestValidityInvariant steps a clock through a day and checks, for every
// behavior, that the validity lies in [V, V+W), that expiries only move
// forward in whole windows, and that the signature verifies.
func TestValidityInvariant(t *testing.T) {
	ctx := context.Background()
	s := signer(t, "rsa2048.pem", "KRSA")
	c := &clock{t: t0}
	is := newIssuer(t, c, ring(t, keys.RingKey{Signer: s}), nil)
	paths := map[string]string{"ebooks": "/ebooks/a.pdf", "live": "/live/a.ts", "default": "/x"}
	last := map[string]time.Time{}
	changes := map[string]int{}
	for step := time.Duration(0); step < 24*time.Hour; step += 37*time.Second + 300*time.Millisecond {
		c.Set(t0.Add(step))
		now := c.Now()
		for name, p := range paths {
			b := is.Behaviors().Lookup(name)
			got, err := is.URL(ctx, nil, URLGrant{Path: p})
			if err != nil {
				t.Fatal(err)
			}
			v := got.Expires.Sub(now)
			if v < b.MinValidity() || v >= b.MinValidity()+b.Window {
				t.Fatalf("%s at %s: validity %s outside [%s, %s)", name, now, v, b.MinValidity(), b.MinValidity()+b.Window)
			}
			if got.Expires.Unix()%int64(b.Window/time.Second) != 0 {
				t.Fatalf("%s: expiry %s not aligned to %s", name, got.Expires, b.Window)
			}
			if prev, ok := last[name]; ok && !got.Expires.Equal(prev) {
				if got.Expires.Sub(prev) != b.Window {
					t.Fatalf("%s: expiry jumped from %s to %s", name, prev, got.Expires)
				}
				changes[name]++
			}
			last[name] = got.Expires
			verifyURL(t, s, got)
		}
	}
	// A day holds 24 one-hour windows and 1440 one-minute windows.
	if changes["ebooks"] != 23 && changes["ebooks"] != 24 {
		t.Errorf("ebooks expiry changed %d times in a day, want 23 or 24", changes["ebooks"])
	}
	if changes["live"] < 1400 {
		t.Errorf("live expiry changed %d times in a day, want about 1440", changes["live"])
	}
}

// verifyURL checks a signed URL's signature over its policy bytes with the
// public key (canned: rebuilt from the URL, as CloudFront does).
func verifyURL(t *testing.T, s keys.Signer, got *IssuedURL) {
	t.Helper()
	base, q, _ := strings.Cut(strings.Replace(got.URL, "&Policy=", "?Policy=", 1), "?Policy=")
	var polBytes []byte
	var rest string
	if q != "" {
		enc, r, _ := strings.Cut(q, "&Signature=")
		raw, err := policy.DecodeBase64(enc)
		if err != nil {
			t.Fatal(err)
		}
		polBytes, rest = raw, r
		_ = base
	} else {
		i := strings.Index(got.URL, "Expires=")
		resource := got.URL[:i-1]
		after := got.URL[i+len("Expires="):]
		exp, r, _ := strings.Cut(after, "&Signature=")
		n, _ := strconv.ParseInt(exp, 10, 64)
		p := policy.Policy{Kind: policy.Canned, Resource: resource, Expires: time.Unix(n, 0)}
		var err error
		if polBytes, err = p.Marshal(); err != nil {
			t.Fatal(err)
		}
		rest = r
	}
	sigEnc, _, _ := strings.Cut(rest, "&")
	sig, err := policy.DecodeBase64(sigEnc)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Verify(s.Public(), polBytes, sig, got.Hash); err != nil {
		t.Fatalf("signature of %s does not verify: %v", got.Resource, err)
	}
}

func TestCookies(t *testing.T) {
	ctx := context.Background()
	s := signer(t, "ec-p256.pem", "KECDSA")
	c := &clock{t: t0.Add(5 * time.Second)}
	var log bytes.Buffer
	is := newIssuer(t, c, ring(t, keys.RingKey{Signer: s}), &log)
	got, err := is.Cookies(ctx, nil, CookieGrant{PathPrefix: "/courses/go-101/"})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, ck := range got.Cookies {
		names[ck.Name] = ck.Value
		if ck.Path != "/courses/go-101/" || ck.Domain != "media.example.test" || !ck.Secure || !ck.HttpOnly {
			t.Errorf("cookie %s: path %q domain %q secure %v httponly %v", ck.Name, ck.Path, ck.Domain, ck.Secure, ck.HttpOnly)
		}
	}
	for _, n := range []string{CookiePolicy, CookieSignature, CookieKeyPairID, CookieHash} {
		if _, ok := names[n]; !ok {
			t.Errorf("missing cookie %s", n)
		}
	}
	if got.Resource != "https://media.example.test/courses/go-101/*" || got.Kind != policy.Custom {
		t.Errorf("resource %s kind %v", got.Resource, got.Kind)
	}
	// V = 360s, W = 600s: issued at 12:00:05, expires 12:10:00; a new expiry
	// is given from 12:04:01 on.
	if want := t0.Add(10 * time.Minute); !got.Expires.Equal(want) {
		t.Errorf("expires %s, want %s", got.Expires, want)
	}
	if want := t0.Add(4*time.Minute + time.Second); !got.RefreshAfter.Equal(want) {
		t.Errorf("refresh after %s, want %s", got.RefreshAfter, want)
	}
	c.Set(got.RefreshAfter.Add(-time.Second))
	same, _ := is.Cookies(ctx, nil, CookieGrant{PathPrefix: "/courses/go-101/"})
	c.Set(got.RefreshAfter)
	later, _ := is.Cookies(ctx, nil, CookieGrant{PathPrefix: "/courses/go-101/"})
	if !same.Expires.Equal(got.Expires) || !later.Expires.After(got.Expires) {
		t.Errorf("just before refresh_after: %s, at it: %s; want %s then later", same.Expires, later.Expires, got.Expires)
	}
	if !same.CacheHit {
		t.Error("cookies in the same window were not a cache hit")
	}
	// The log line has the grant but no secret.
	for _, v := range names {
		if strings.Contains(log.String(), v) && len(v) > 20 {
			t.Errorf("log holds a cookie value: %s", log.String())
		}
	}
	if !strings.Contains(log.String(), got.ID) || !strings.Contains(log.String(), `"key_id":"KECDSA"`) {
		t.Errorf("log lacks the grant: %s", log.String())
	}

	clear, err := is.ClearCookies(nil, "/courses/go-101/")
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range clear {
		if ck.MaxAge >= 0 || ck.Path != "/courses/go-101/" || ck.Value != "" {
			t.Errorf("clearing cookie %s: max-age %d path %q", ck.Name, ck.MaxAge, ck.Path)
		}
	}
}

func TestLogNeverHoldsSignature(t *testing.T) {
	var log bytes.Buffer
	c := &clock{t: t0}
	is := newIssuer(t, c, ring(t, keys.RingKey{Signer: signer(t, "rsa2048.pem", "KRSA")}), &log)
	got, err := is.URL(context.Background(), nil, URLGrant{Path: "/live/a.ts"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got.URL)
	for _, p := range []string{"Signature", "Policy"} {
		v := u.Query().Get(p)
		if v == "" {
			t.Fatalf("no %s in %s", p, got.URL)
		}
		if strings.Contains(log.String(), v) {
			t.Errorf("log holds the %s value", p)
		}
	}
	if !strings.Contains(log.String(), `"resource":"https://media.example.test/live/a.ts?gid=`+got.ID+`"`) {
		t.Errorf("log lacks the resource: %s", log.String())
	}
}

func TestNewRefuses(t *testing.T) {
	rsaKey := signer(t, "rsa2048.pem", "KRSA")
	ecKey := signer(t, "ec-p256.pem", "KECDSA")
	sha1 := strings.Replace(testBehaviors, `"name": "ebooks", "path_pattern": "/ebooks/*", "access": "signed-url",`,
		`"name": "ebooks", "path_pattern": "/ebooks/*", "access": "signed-url", "hash": "SHA1",`, 1)
	bsSHA1, err := policy.ParseBehaviors(strings.NewReader(sha1))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ring []keys.RingKey
		bs   *policy.Behaviors
		want error
	}{
		{"SHA-1 behavior with an ECDSA key", []keys.RingKey{{Signer: rsaKey}, {Signer: ecKey}}, bsSHA1, nil},
		{"key retires within the longest lifetime", []keys.RingKey{{Signer: rsaKey, RetireAt: t0.Add(24*time.Hour - time.Minute)}}, behaviors(t), keys.ErrNoActiveKey},
		{"key not yet active", []keys.RingKey{{Signer: rsaKey, ActivateAt: t0.Add(time.Minute)}}, behaviors(t), keys.ErrNoActiveKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(ring(t, tt.ring...), tt.bs, Options{Now: func() time.Time { return t0 }})
			if err == nil {
				t.Fatal("New accepted the configuration")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("New = %v, want %v", err, tt.want)
			}
			if tt.want == nil && !strings.Contains(err.Error(), "behaviors[1].hash") {
				t.Errorf("New = %v; want it to name behaviors[1].hash", err)
			}
		})
	}
	// A ring with a retiring key and an active one loads.
	if _, err := New(ring(t, keys.RingKey{Signer: rsaKey, RetireAt: t0.Add(time.Hour)}, keys.RingKey{Signer: ecKey}), behaviors(t), Options{Now: func() time.Time { return t0 }}); err != nil {
		t.Errorf("New with a retiring and an active key: %v", err)
	}
}

// TestNoKeyOutlivesGrant: when the only key would retire before the
// window's expiry, the issuer refuses (503) rather than shorten the URL or
// sign past the retirement.
func TestNoKeyOutlivesGrant(t *testing.T) {
	c := &clock{t: t0}
	retire := t0.Add(24*time.Hour + time.Hour)
	is := newIssuer(t, c, ring(t, keys.RingKey{Signer: signer(t, "rsa2048.pem", "KRSA"), RetireAt: retire}), nil)
	c.Set(t0.Add(time.Hour - time.Second))
	got, err := is.URL(context.Background(), nil, URLGrant{Path: "/ebooks/a.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Expires.After(retire) {
		t.Errorf("URL expires %s after its key retires %s", got.Expires, retire)
	}
	c.Set(t0.Add(time.Hour))
	if _, err := is.URL(context.Background(), nil, URLGrant{Path: "/ebooks/a.pdf"}); !errors.Is(err, keys.ErrNoActiveKey) {
		t.Errorf("URL after the key turned retiring = %v, want ErrNoActiveKey", err)
	}
	if err := is.Ready(); !errors.Is(err, keys.ErrNoActiveKey) {
		t.Errorf("Ready = %v, want ErrNoActiveKey", err)
	}
}

func TestContentDisposition(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "intro.pdf", want: `attachment; filename="intro.pdf"`},
		{in: "my report.pdf", want: `attachment; filename="my report.pdf"`},
		{in: "Ünïcode.pdf", want: `attachment; filename="_n_code.pdf"; filename*=UTF-8''%C3%9Cn%C3%AFcode.pdf`},
		{in: `say "hi".txt`, want: `attachment; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt`},
		{in: "100%.txt", want: `attachment; filename="100_.txt"; filename*=UTF-8''100%25.txt`},
		{in: "", bad: true},
		{in: "../etc/passwd", bad: true},
		{in: `a\b`, bad: true},
		{in: "a\nb", bad: true},
		{in: "..", bad: true},
		{in: "\xff.pdf", bad: true},
		{in: strings.Repeat("a", 256), bad: true},
	}
	for _, tt := range tests {
		got, err := ContentDisposition(tt.in)
		if tt.bad {
			if !errors.Is(err, ErrFilename) {
				t.Errorf("ContentDisposition(%q) = %q, %v; want ErrFilename", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ContentDisposition(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestFilenameInURL(t *testing.T) {
	c := &clock{t: t0}
	is := newIssuer(t, c, ring(t, keys.RingKey{Signer: signer(t, "rsa2048.pem", "KRSA")}), nil)
	got, err := is.URL(context.Background(), nil, URLGrant{Path: "/ebooks/b.pdf", Filename: "Ünïcode.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got.URL)
	if err != nil {
		t.Fatal(err)
	}
	if d := u.Query().Get(dispositionParam); d != `attachment; filename="_n_code.pdf"; filename*=UTF-8''%C3%9Cn%C3%AFcode.pdf` {
		t.Errorf("disposition = %q", d)
	}
	if !strings.HasPrefix(got.Resource, "https://media.example.test/ebooks/b.pdf?response-content-disposition=attachment%3B%20filename%3D") {
		t.Errorf("the filename is not part of the signed resource: %s", got.Resource)
	}
	// A behavior without the parameter in its cache key refuses it.
	_, err = is.URL(context.Background(), nil, URLGrant{Path: "/x.pdf", Filename: "a.pdf"})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "filename" {
		t.Errorf("filename on the default behavior = %v, want an InputError on filename", err)
	}
}

func TestCallers(t *testing.T) {
	key, sum, err := NewAPIKey("shop")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := NewCallers([]Caller{{ID: "shop", SecretSHA256: sum, Rate: 1, Burst: 2}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cs.Authenticate(key)
	if err != nil || c.ID != "shop" {
		t.Fatalf("Authenticate(good key) = %v, %v", c, err)
	}
	_, secret, _ := strings.Cut(key, ".")
	for _, bad := range []string{"", "shop", "shop.", "shop." + secret + "x", "other." + secret, secret, "shop.cfissuer: no such caller"} {
		if _, err := cs.Authenticate(bad); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %v, want ErrUnauthenticated", bad, err)
		}
	}
	// Burst 2, then one per second.
	for i := range 2 {
		if err := cs.Allow(c, t0); err != nil {
			t.Fatalf("request %d in the burst: %v", i, err)
		}
	}
	err = cs.Allow(c, t0)
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.RetryAfter > time.Second {
		t.Fatalf("third request = %v, want a RateLimitError with retry ≤ 1s", err)
	}
	if err := cs.Allow(c, t0.Add(time.Second)); err != nil {
		t.Errorf("a second later: %v", err)
	}
	if _, err := NewCallers([]Caller{{ID: "Bad ID", SecretSHA256: sha256.Sum256(nil)}}); err == nil {
		t.Error("NewCallers accepted a bad id")
	}
	if _, err := NewCallers([]Caller{{ID: "a"}}); err == nil {
		t.Error("NewCallers accepted a caller with no secret hash")
	}
}

func TestUpdateKeepsOldOnError(t *testing.T) {
	c := &clock{t: t0}
	is := newIssuer(t, c, ring(t, keys.RingKey{Signer: signer(t, "rsa2048.pem", "KRSA")}), nil)
	bad := ring(t, keys.RingKey{Signer: signer(t, "ec-p256.pem", "KECDSA"), ActivateAt: t0.Add(time.Hour)})
	if err := is.Update(bad, behaviors(t)); err == nil {
		t.Fatal("Update accepted a ring with no active key")
	}
	got, err := is.URL(context.Background(), nil, URLGrant{Path: "/ebooks/a.pdf"})
	if err != nil || got.KeyID != "KRSA" {
		t.Errorf("after a failed Update: %v, %v; want the old ring", got, err)
	}
}

func TestHashFromBehavior(t *testing.T) {
	c := &clock{t: t0}
	is := newIssuer(t, c, ring(t, keys.RingKey{Signer: signer(t, "rsa2048.pem", "KRSA")}), nil)
	for path, want := range map[string]crypto.Hash{"/ebooks/a.pdf": crypto.SHA1, "/live/a.ts": crypto.SHA256} {
		got, err := is.URL(context.Background(), nil, URLGrant{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if got.Hash != want || strings.Contains(got.URL, "Hash-Algorithm=SHA256") != (want == crypto.SHA256) {
			t.Errorf("%s: hash %v, URL %s", path, got.Hash, got.Resource)
		}
	}
}
