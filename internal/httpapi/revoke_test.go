package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/internal/denylist"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/policy"
)

// brokenStore fails every call, as an unreachable KeyValueStore does.
type brokenStore struct{}

var errBroken = errors.New("dial tcp 10.0.0.1:443: secret-looking detail")

func (brokenStore) Entries(context.Context) (map[string]string, error) { return nil, errBroken }
func (brokenStore) Update(context.Context, map[string]string, []string) error {
	return errBroken
}

// revokeFixture is newFixture with a deny list over store and two more
// callers: "admin" (revoke: true) and "shop" (revoke: true, another
// namespace of subjects). "all" may issue but not revoke.
func revokeFixture(t *testing.T, store denylist.Store) *fixture {
	t.Helper()
	f := newFixture(t, time.Time{})
	var cs []issuer.Caller
	for _, c := range []issuer.Caller{{ID: "all"}, {ID: "admin", Revoke: true}, {ID: "shop", Revoke: true}} {
		key, sum, err := issuer.NewAPIKey(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		c.SecretSHA256 = sum
		f.keys[c.ID] = key
		cs = append(cs, c)
	}
	callers, err := issuer.NewCallers(cs)
	if err != nil {
		t.Fatal(err)
	}
	var deny *denylist.List
	if store != nil {
		if deny, err = denylist.New(store, denylist.Options{Now: f.clock.Now, Logger: slog.New(slog.DiscardHandler)}); err != nil {
			t.Fatal(err)
		}
	}
	f.srv, err = New(f.is, callers, Options{Logger: slog.New(slog.NewJSONHandler(f.log, nil)), Deny: deny})
	if err != nil {
		t.Fatal(err)
	}
	f.h = f.srv.Handler()
	return f
}

func TestRevokeGrant(t *testing.T) {
	store := denylist.NewMemory()
	f := revokeFixture(t, store)
	res := f.do(t, "POST", "/v1/urls", "all", map[string]string{"path": "/ebooks/intro.pdf"})
	if res.status != 200 {
		t.Fatalf("issue: %d %s", res.status, res.body)
	}
	gid, _ := res.json["grant_id"].(string)
	u, _ := url.Parse(res.json["url"].(string))
	if got := u.Query().Get(policy.ParamGrant); got != gid {
		t.Fatalf("the URL's gid = %q, want the grant_id %q", got, gid)
	}

	res = f.do(t, "POST", "/v1/grants/"+gid+"/revoke", "admin", nil)
	if res.status != 200 {
		t.Fatalf("revoke: %d %s", res.status, res.body)
	}
	// now + L, rounded up to the next second: L is the longest max_lifetime
	// (the "default" behavior's, 86400 s by default).
	wantUntil := t0.Add(24 * time.Hour).Truncate(time.Second).Add(time.Second)
	if got, want := res.json["denied_until"], wantUntil.Format(time.RFC3339); got != want {
		t.Errorf("denied_until = %v, want %v", got, want)
	}
	if res.json["key"] != gid {
		t.Errorf("key = %v, want %s", res.json["key"], gid)
	}
	all, _ := store.Entries(context.Background())
	if got, want := all[gid], strconv.FormatInt(wantUntil.Unix(), 10); got != want {
		t.Errorf("store[%s] = %q, want %q (entries %v)", gid, got, want, all)
	}

	// Cookies: the grant ID names the signature.
	res = f.do(t, "POST", "/v1/cookies", "all", map[string]string{"path_prefix": "/courses/go-101/"})
	cid, _ := res.json["grant_id"].(string)
	var sig string
	for _, c := range res.json["cookies"].([]any) {
		if m := c.(map[string]any); m["name"] == "CloudFront-Signature" {
			sig = m["value"].(string)
		}
	}
	if cid != policy.CookieGrantID(sig) {
		t.Fatalf("cookie grant_id %q is not the hash of its signature", cid)
	}
	if res := f.do(t, "POST", "/v1/grants/"+cid+"/revoke", "shop", nil); res.status != 200 {
		t.Fatalf("revoke cookies: %d %s", res.status, res.body)
	}
	if all, _ := store.Entries(context.Background()); all[cid] == "" {
		t.Errorf("cookie grant %s not in the store: %v", cid, all)
	}
}

func TestRevokeSubject(t *testing.T) {
	store := denylist.NewMemory()
	f := revokeFixture(t, store)
	issue := func(caller, subject string) string {
		t.Helper()
		res := f.do(t, "POST", "/v1/urls", caller, map[string]string{"path": "/ebooks/intro.pdf", "subject": subject})
		if res.status != 200 {
			t.Fatalf("issue: %d %s", res.status, res.body)
		}
		u, _ := url.Parse(res.json["url"].(string))
		return u.Query().Get(policy.ParamGrant)
	}
	shop42, admin42 := issue("shop", "user-42"), issue("admin", "user-42")
	if shop42 == admin42 {
		t.Fatal("two callers' subject user-42 got the same grant")
	}
	res := f.do(t, "POST", "/v1/subjects/user-42/revoke", "shop", nil)
	if res.status != 200 {
		t.Fatalf("revoke subject: %d %s", res.status, res.body)
	}
	key, _ := res.json["key"].(string)
	if res.json["subject"] != "user-42" || !strings.HasPrefix(key, "s") {
		t.Errorf("answer = %s", res.body)
	}
	// The key is in the shop's URL (what the edge function reads), not in
	// the admin's.
	if !strings.HasSuffix(shop42, "."+key) {
		t.Errorf("shop's gid %q does not carry the revoked key %s", shop42, key)
	}
	if strings.HasSuffix(admin42, "."+key) {
		t.Errorf("admin's gid %q carries the shop's subject key %s", admin42, key)
	}
	if all, _ := store.Entries(context.Background()); len(all) != 1 || all[key] == "" {
		t.Errorf("entries = %v, want only %s", all, key)
	}
	// The cookie policy carries the same subject tag.
	res = f.do(t, "POST", "/v1/cookies", "shop", map[string]string{"path_prefix": "/courses/go-101/", "subject": "user-42"})
	if res.status != 200 {
		t.Fatalf("cookies: %d %s", res.status, res.body)
	}
	tag, _ := strconv.ParseInt(key[1:], 10, 64)
	if !strings.Contains(res.json["cookie_header"].(string), "CloudFront-Policy=") || policy.SubjectTagKey(tag) != key ||
		policy.SubjectNotBefore("shop/user-42").Unix() != tag {
		t.Errorf("the cookies' DateGreaterThan is not the tag of %s", key)
	}
}

func TestRevokeErrors(t *testing.T) {
	gid := "g0123456789abcdef0123"
	for _, tc := range []struct {
		name, target, caller string
		store                denylist.Store
		status               int
		code, field          string
	}{
		{"no API key", "/v1/grants/" + gid + "/revoke", "", denylist.NewMemory(), 401, "unauthenticated", ""},
		{"caller without revoke", "/v1/grants/" + gid + "/revoke", "all", denylist.NewMemory(), 403, "revoke_not_permitted", ""},
		{"subject, caller without revoke", "/v1/subjects/u1/revoke", "all", denylist.NewMemory(), 403, "revoke_not_permitted", ""},
		{"revocation off", "/v1/grants/" + gid + "/revoke", "admin", nil, 404, "revocation_off", ""},
		{"not a grant ID", "/v1/grants/s12345/revoke", "admin", denylist.NewMemory(), 400, "bad_request", "id"},
		{"upper case", "/v1/grants/G0123456789ABCDEF0123/revoke", "admin", denylist.NewMemory(), 400, "bad_request", "id"},
		{"subject with a space", "/v1/subjects/a%20b/revoke", "admin", denylist.NewMemory(), 400, "bad_request", "subject"},
		{"subject too long", "/v1/subjects/" + strings.Repeat("x", 193) + "/revoke", "admin", denylist.NewMemory(), 400, "bad_request", "subject"},
		{"store down", "/v1/grants/" + gid + "/revoke", "admin", brokenStore{}, 503, "deny_list_unavailable", ""},
		{"store down, subject", "/v1/subjects/u1/revoke", "admin", brokenStore{}, 503, "deny_list_unavailable", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := revokeFixture(t, tc.store)
			res := f.do(t, "POST", tc.target, tc.caller, nil)
			if res.status != tc.status {
				t.Fatalf("status = %d, want %d: %s", res.status, tc.status, res.body)
			}
			code, field, msg := res.errorBody(t)
			if code != tc.code || field != tc.field {
				t.Errorf("code, field = %q, %q; want %q, %q (%s)", code, field, tc.code, tc.field, msg)
			}
			if strings.Contains(string(res.body), "secret-looking") || strings.Contains(string(res.body), "10.0.0.1") {
				t.Errorf("the store's error reached the client: %s", res.body)
			}
			if tc.status == http.StatusServiceUnavailable && res.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
	// A subject given at issuance is checked as at revocation.
	f := revokeFixture(t, denylist.NewMemory())
	res := f.do(t, "POST", "/v1/urls", "all", map[string]string{"path": "/ebooks/intro.pdf", "subject": "a/b"})
	if code, field, _ := res.errorBody(t); res.status != 400 || code != "bad_request" || field != "subject" {
		t.Errorf("subject with '/' at issuance: %d %s", res.status, res.body)
	}
}
