package edge

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/internal/cfref"
	"github.com/cfissuer/cfissuer/issuer"
)

// FuzzCheck feeds the verifier's parsing (path, query, cookies, policy)
// arbitrary input. It must never panic, and never allow a request that the
// independent reference (internal/cfref) denies.
func FuzzCheck(f *testing.F) {
	fx := newFixture(f)
	exp := time.Unix(testNow+600, 0)
	for _, r := range []issuer.URLRequest{
		{URL: viewer + "/ebooks/a.pdf?v=1", Expires: exp},
		{URL: viewer + "/ebooks/a.pdf", Resource: viewer + "/ebooks/*", Expires: exp},
		{URL: viewer + "/assets/x.png", Resource: viewer + "/assets/x.png", Expires: exp, SourceIP: netip.MustParsePrefix("192.0.2.0/24")},
	} {
		su, err := issuer.SignURL(bg, fx.rsa, r)
		if err != nil {
			f.Fatal(err)
		}
		s := fromSignedURL(f, su.URL)
		f.Add(s.path, s.rawQuery(), "", "192.0.2.1", int64(0))
	}
	sc, err := issuer.SignCookies(bg, fx.ec, issuer.CookieRequest{Resource: viewer + "/courses/c/*", Expires: exp})
	if err != nil {
		f.Fatal(err)
	}
	var hdr []string
	for _, c := range sc.Cookies {
		hdr = append(hdr, c.Name+"="+c.Value)
	}
	f.Add("/courses/c/i.m3u8", "", strings.Join(hdr, "; "), "192.0.2.1", int64(0))
	f.Add("/courses/c/i.m3u8", "Hash-Algorithm=SHA1&Expires=", strings.Join(hdr, "; "), "::1", int64(700))

	f.Fuzz(func(t *testing.T, path, query, cookieHeader, ip string, offset int64) {
		cookies, _ := http.ParseCookie(cookieHeader)
		addr, _ := netip.ParseAddr(ip)
		now := testNow + offset%(1<<31)
		d := fx.v.Check(Request{Method: http.MethodGet, Scheme: "https", Host: "media.example.test", RawPath: path, RawQuery: query, Cookies: cookies, ClientIP: addr}, time.Unix(now, 0))
		if d.Allowed() != (d.Denial == nil) {
			t.Fatal("Allowed and Denial disagree")
		}
		rr := cfref.Request{Scheme: "https", Host: "media.example.test", Path: path, Query: query, ClientIP: ip, Now: now}
		if addr.IsValid() {
			rr.ClientIP = addr.String()
		}
		for _, c := range cookies {
			rr.Cookies = append(rr.Cookies, [2]string{c.Name, c.Value})
		}
		want := cfref.Decide(rr, fx.refBehav, fx.refKeys, 0)
		if d.Allowed() && !want.Allowed() {
			t.Fatalf("edge allows, reference denies %+v (path %q query %q cookies %q ip %q now %d)", want, path, query, cookieHeader, ip, now)
		}
	})
}
