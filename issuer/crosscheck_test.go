package issuer_test

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"

	"github.com/cfissuer/cfissuer/internal/oracle"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// The cross-check compares cfissuer with signers that share no code with
// it: the AWS SDK for Go's feature/cloudfront/sign, the npm
// @aws-sdk/cloudfront-signer, botocore, and OpenSSL. Where a signer builds
// the same policy bytes, the signatures must be identical (RSA is
// deterministic); where it builds different bytes (it re-encodes the URL, or
// orders conditions differently), both signatures must verify over their
// own bytes, and the difference must be one listed, with its
// reason, in docs/signer-divergences.md. Every signature of ours that
// another signer did not reproduce byte for byte is verified by Python's
// cryptography package (one process per batch); the goldens are verified
// by OpenSSL.

const crossOrigin = "https://media.example.test"

// crossResources generates n URLs with object keys that exercise the
// encoder: spaces, '+', '&', '%', unicode, sub-delimiters, and some with a
// query string of the caller's own.
func crossResources(n int) []string {
	r := rand.New(rand.NewPCG(42, 2026))
	pieces := []string{"a", "Z", "0", " ", "+", "&", "%", "=", ";", ",", "'", "(", ")", "!", "*", "~", "_", "-", ".",
		"é", "日本", "😀", "ü", "$", "@", ":", "[", "]", "#", "?", "\"", "^", "|", "lesson", "/"}
	out := make([]string, 0, n)
	for len(out) < n {
		var b strings.Builder
		for range 1 + r.IntN(8) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		key := "ebooks/" + strings.Trim(b.String(), "/") + fmt.Sprintf("-%d.pdf", len(out))
		path, err := policy.EncodeKey(key)
		if err != nil {
			continue // dot segments: refused by design
		}
		u := crossOrigin + "/" + path
		switch r.IntN(4) {
		case 0:
			u += fmt.Sprintf("?v=%d", r.IntN(100))
		case 1:
			u += "?response-content-disposition=attachment%3B%20filename%3D%22book.pdf%22&lang=en"
		}
		out = append(out, u)
	}
	return out
}

type divergence struct{ signer, kind string }

// loadDivergences reads the table in docs/signer-divergences.md.
func loadDivergences(t *testing.T) map[divergence]bool {
	t.Helper()
	f, err := os.Open("../docs/signer-divergences.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table := map[divergence]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		if len(cols) < 5 || strings.HasPrefix(strings.TrimSpace(cols[1]), "-") || strings.TrimSpace(cols[1]) == "signer" {
			continue
		}
		table[divergence{strings.Trim(strings.TrimSpace(cols[1]), "`"), strings.Trim(strings.TrimSpace(cols[2]), "`")}] = true
	}
	if len(table) == 0 {
		t.Fatal("docs/signer-divergences.md has no table rows")
	}
	return table
}

// cfDecode reverses CloudFront base64 without the policy package.
func cfDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("-", "+", "_", "=", "~", "/").Replace(s))
	if err != nil {
		t.Fatalf("bad CloudFront base64 %q: %v", s, err)
	}
	return b
}

// cannedBytes rebuilds a canned policy from a URL the way CloudFront does
// (CLOUDFRONT.md §1), independently of the policy package.
func cannedBytes(url, expires string) []byte {
	return []byte(`{"Statement":[{"Resource":"` + url + `","Condition":{"DateLessThan":{"AWS:EpochTime":` + expires + `}}}]}`)
}

// signed is one signer's credential reduced to what is compared.
type signed struct {
	base      string // the URL without signing parameters ("" for cookies)
	policy    []byte // the exact bytes signed
	signature []byte
	keyID     string
	hash      string // "" (SHA1) or "SHA256"
}

func fromURL(t *testing.T, u string) signed {
	t.Helper()
	base, p := oracle.Split(u)
	s := signed{base: base, keyID: p["Key-Pair-Id"], hash: p["Hash-Algorithm"], signature: cfDecode(t, p["Signature"])}
	if enc, ok := p["Policy"]; ok {
		s.policy = cfDecode(t, enc)
	} else {
		s.policy = cannedBytes(base, p["Expires"])
	}
	return s
}

func fromCookies(t *testing.T, c map[string]string, resource string) signed {
	t.Helper()
	s := signed{keyID: c[issuer.CookieKeyPairID], hash: c[issuer.CookieHash], signature: cfDecode(t, c[issuer.CookieSignature])}
	if enc, ok := c[issuer.CookiePolicy]; ok {
		s.policy = cfDecode(t, enc)
	} else {
		s.policy = cannedBytes(resource, c[issuer.CookieExpires])
	}
	return s
}

func cookieMap(cs []*http.Cookie) map[string]string {
	m := map[string]string{}
	for _, c := range cs {
		m[c.Name] = c.Value
	}
	return m
}

// ourCred is one of our credentials and, for cookies, the resource they
// grant (needed to rebuild a canned cookie policy).
type ourCred struct {
	s        signed
	resource string
}

// crossChecker compares credentials and records divergences.
type crossChecker struct {
	t        *testing.T
	pub      string // public key file
	seen     map[divergence]int
	table    map[divergence]bool
	verified int
	pending  []oracle.Signature // to verify in one batch
	labels   []string
}

// compare checks one signer's credential against ours.
func (c *crossChecker) compare(signer string, ours, theirs signed, deterministic bool) {
	t := c.t
	t.Helper()
	if ours.keyID != theirs.keyID || ours.hash != theirs.hash {
		t.Errorf("%s: Key-Pair-Id/Hash-Algorithm %q/%q, ours %q/%q", signer, theirs.keyID, theirs.hash, ours.keyID, ours.hash)
	}
	hash := ours.hash
	if hash == "" {
		hash = "SHA1"
	}
	if string(ours.policy) == string(theirs.policy) && ours.base == theirs.base {
		if deterministic {
			if string(ours.signature) != string(theirs.signature) {
				t.Errorf("%s: same policy bytes, different signature\npolicy %s", signer, ours.policy)
			}
		} else {
			c.record(signer, "ecdsa-randomised")
		}
	} else {
		kind := "condition-order"
		if ours.base != theirs.base {
			kind = "url-reencoded"
		} else if !sameJSON(ours.policy, theirs.policy) {
			t.Errorf("%s: policies differ in meaning, not only in order:\nours   %s\ntheirs %s", signer, ours.policy, theirs.policy)
			return
		}
		c.record(signer, kind)
	}
	c.pending = append(c.pending, oracle.Signature{Data: theirs.policy, Sig: theirs.signature, Hash: hash},
		oracle.Signature{Data: ours.policy, Sig: ours.signature, Hash: hash})
	c.labels = append(c.labels, signer+" over "+string(theirs.policy), "cfissuer over "+string(ours.policy))
}

// flush verifies the pending signatures in one batch with Python's
// cryptography package.
func (c *crossChecker) flush() {
	c.t.Helper()
	for i, ok := range oracle.PyVerify(c.t, c.pub, c.pending) {
		if !ok {
			c.t.Errorf("signature does not verify: %s", c.labels[i])
		}
	}
	c.verified += len(c.pending)
	c.pending, c.labels = nil, nil
}

func (c *crossChecker) record(signer, kind string) {
	d := divergence{signer, kind}
	if !c.table[d] {
		c.t.Errorf("%s: divergence %q is not in docs/signer-divergences.md", signer, kind)
	}
	c.seen[d]++
}

func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func TestCrossCheckIndependentSigners(t *testing.T) {
	ctx := context.Background()
	resources := crossResources(220)
	exp := int64(1_800_000_000)
	expires := time.Unix(exp, 0)
	notBefore := time.Unix(exp-86400, 0)

	type keyCase struct {
		alg     string
		hashes  []string
		private string
	}
	cases := []keyCase{
		{"rsa", []string{"SHA1", "SHA256"}, goldenKeys["rsa"].priv},
		{"ecdsa", []string{"SHA256"}, goldenKeys["ecdsa"].priv},
	}
	c := &crossChecker{t: t, seen: map[divergence]int{}, table: loadDivergences(t)}
	sdkCompared := 0
	for _, kc := range cases {
		s := loadSigner(t, kc.alg)
		keyFile, _ := filepath.Abs(kc.private)
		c.pub = goldenKeys[kc.alg].pub
		for _, hashName := range kc.hashes {
			hash := map[string]crypto.Hash{"SHA1": crypto.SHA1, "SHA256": crypto.SHA256}[hashName]
			t.Run(kc.alg+"-"+hashName, func(t *testing.T) {
				c.t = t
				var reqs []oracle.Request
				var ours []ourCred
				for i, u := range resources {
					// Four credentials per resource: a canned URL, a custom
					// URL (not-before and IP), a wildcard URL, and cookies
					// (canned for even i, a wildcard prefix for odd i).
					base := oracle.Request{URL: u, Expires: exp, KeyID: goldenKeyID, KeyFile: keyFile, Hash: hashName}
					prefix := u[:strings.LastIndex(u[:strings.IndexByte(u+"?", '?')], "/")+1] + "*"

					canned, err := issuer.SignURL(ctx, s, issuer.URLRequest{URL: u, Expires: expires, Hash: hash})
					if err != nil {
						t.Fatalf("%s: %v", u, err)
					}
					ours = append(ours, ourCred{fromURL(t, canned.URL), ""})
					reqs = append(reqs, base)

					custom, err := issuer.SignURL(ctx, s, issuer.URLRequest{URL: u, Expires: expires, NotBefore: notBefore, SourceIP: goldenIP, Hash: hash})
					if err != nil {
						t.Fatal(err)
					}
					ours = append(ours, ourCred{fromURL(t, custom.URL), ""})
					r := base
					r.NotBefore, r.IP = notBefore.Unix(), goldenIP.String()
					reqs = append(reqs, r)

					wild, err := issuer.SignURL(ctx, s, issuer.URLRequest{URL: u, Resource: prefix, Expires: expires, Hash: hash})
					if err != nil {
						t.Fatal(err)
					}
					ours = append(ours, ourCred{fromURL(t, wild.URL), ""})
					r = base
					r.Resource = prefix
					reqs = append(reqs, r)

					cookieRes := u
					if i%2 == 1 {
						cookieRes = prefix
					}
					ck, err := issuer.SignCookies(ctx, s, issuer.CookieRequest{Resource: cookieRes, Expires: expires, Hash: hash})
					if err != nil {
						t.Fatal(err)
					}
					ours = append(ours, ourCred{fromCookies(t, cookieMap(ck.Cookies), cookieRes), cookieRes})
					r = base
					r.Cookies = true
					if i%2 == 1 {
						r.Resource = prefix
					}
					reqs = append(reqs, r)
				}

				deterministic := kc.alg == "rsa"
				js := oracle.JS(t, reqs)
				for i, res := range js {
					if res.Error != "" {
						t.Fatalf("npm signer: %s: %s", reqs[i].URL, res.Error)
					}
					var theirs signed
					if reqs[i].Cookies {
						theirs = fromCookies(t, res.Cookies, ours[i].resource)
					} else {
						theirs = fromURL(t, res.URL)
					}
					c.compare("npm", ours[i].s, theirs, deterministic)
				}
				if kc.alg == "rsa" && hashName == "SHA1" {
					boto := oracle.Botocore(t, reqs)
					for i, res := range boto {
						if reqs[i].Cookies {
							if !strings.HasPrefix(res.Error, "unsupported") {
								t.Errorf("botocore signed cookies? %+v", res)
							}
							continue
						}
						if res.Error != "" {
							t.Fatalf("botocore: %s: %s", reqs[i].URL, res.Error)
						}
						c.compare("botocore", ours[i].s, fromURL(t, res.URL), true)
					}
					sdkCompared += compareAWSGoSDK(t, s, reqs, ours)
				}
				c.flush()
			})
		}
	}
	c.t = t
	for d := range c.table {
		if c.seen[d] == 0 {
			t.Errorf("docs/signer-divergences.md lists %s/%s, which this run never saw: remove the row or fix the test", d.signer, d.kind)
		}
	}
	if sdkCompared < 4*200 {
		t.Errorf("compared only %d credentials with the AWS Go SDK", sdkCompared)
	}
	t.Logf("cross-checked %d resources; divergences %v; %d signatures verified by Python cryptography; %d credentials identical to the AWS Go SDK's",
		len(resources), c.seen, c.verified, sdkCompared)
}

// compareAWSGoSDK signs the RSA-SHA1 requests with the AWS SDK for Go
// (URLSigner and CookieSigner) and requires byte-identical credentials:
// the SDK writes conditions in our order and does not re-encode URLs.
func compareAWSGoSDK(t *testing.T, s keys.Signer, reqs []oracle.Request, ours []ourCred) int {
	t.Helper()
	priv := s.(*keys.Local).CryptoSigner().(*rsa.PrivateKey)
	urls := sign.NewURLSigner(goldenKeyID, priv)
	cookies := sign.NewCookieSigner(goldenKeyID, priv)
	n := 0
	for i, r := range reqs {
		exp := time.Unix(r.Expires, 0)
		custom := r.Resource != "" || r.NotBefore != 0 || r.IP != ""
		var p *sign.Policy
		if custom {
			res := r.Resource
			if res == "" {
				res = r.URL
			}
			st := sign.Statement{Resource: res, Condition: sign.Condition{DateLessThan: sign.NewAWSEpochTime(exp)}}
			if r.NotBefore != 0 {
				st.Condition.DateGreaterThan = sign.NewAWSEpochTime(time.Unix(r.NotBefore, 0))
			}
			if r.IP != "" {
				st.Condition.IPAddress = &sign.IPAddress{SourceIP: r.IP}
			}
			p = &sign.Policy{Statements: []sign.Statement{st}}
		}
		var theirs signed
		if r.Cookies {
			var cs []*http.Cookie
			var err error
			if custom {
				cs, err = cookies.SignWithPolicy(p)
			} else {
				cs, err = cookies.Sign(r.URL, exp)
			}
			if err != nil {
				t.Fatalf("AWS Go SDK cookies: %v", err)
			}
			theirs = fromCookies(t, cookieMap(cs), ours[i].resource)
		} else {
			var u string
			var err error
			if custom {
				u, err = urls.SignWithPolicy(r.URL, p)
			} else {
				u, err = urls.Sign(r.URL, exp)
			}
			if err != nil {
				t.Fatalf("AWS Go SDK URL %s: %v", r.URL, err)
			}
			theirs = fromURL(t, u)
		}
		o := ours[i].s
		if o.base != theirs.base || string(o.policy) != string(theirs.policy) || string(o.signature) != string(theirs.signature) {
			t.Errorf("AWS Go SDK differs for %+v:\nours   %s %s\ntheirs %s %s", r, o.base, o.policy, theirs.base, theirs.policy)
		}
		n++
	}
	return n
}
