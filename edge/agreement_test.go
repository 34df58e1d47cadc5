package edge

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"

	"github.com/cfissuer/cfissuer/internal/oracle"
)

// agreeResources returns n varied resources: URL, and for odd i a
// wildcard resource covering it.
func agreeResources(n int) (urls, resources []string) {
	for i := range n {
		path, query, _ := pathFor(i)
		u := viewer + path
		if query != "" {
			u += "?" + query
		}
		res := ""
		if i%2 == 1 {
			res = viewer + path[:strings.LastIndexByte(path, '/')+1] + "*"
		}
		urls, resources = append(urls, u), append(resources, res)
	}
	return urls, resources
}

// expectAllowed checks that the edge and the reference both allow s.
func expectAllowed(t *testing.T, f *fixture, who string, s signedReq) {
	t.Helper()
	s.now, s.clientIP = testNow, "192.0.2.10"
	got, want, d := check(f, s)
	if !got.Allowed() || !want.Allowed() {
		t.Errorf("%s %s%s: edge %v, reference %+v", who, s.host, s.path, d.Denial, want)
	}
}

// TestAgreementGoSDK: URLs (canned and custom) and cookies signed by the
// AWS SDK for Go's feature/cloudfront/sign (RSA-SHA1) are allowed.
func TestAgreementGoSDK(t *testing.T) {
	f := newFixture(t)
	rsaKey := f.rsa.CryptoSigner().(*rsa.PrivateKey)
	us := sign.NewURLSigner(keyRSA, rsaKey)
	cs := sign.NewCookieSigner(keyRSA, rsaKey)
	exp := time.Unix(testNow+600, 0)
	urls, resources := agreeResources(220)
	for i, u := range urls {
		var signed string
		var err error
		if resources[i] == "" {
			signed, err = us.Sign(u, exp)
		} else {
			signed, err = us.SignWithPolicy(u, &sign.Policy{Statements: []sign.Statement{{Resource: resources[i],
				Condition: sign.Condition{DateLessThan: sign.NewAWSEpochTime(exp)}}}})
		}
		if err != nil {
			t.Fatal(err)
		}
		expectAllowed(t, f, "go sdk url", fromSignedURL(t, signed))
		if resources[i] != "" {
			cookies, err := cs.SignWithPolicy(&sign.Policy{Statements: []sign.Statement{{Resource: resources[i],
				Condition: sign.Condition{DateLessThan: sign.NewAWSEpochTime(exp)}}}})
			if err != nil {
				t.Fatal(err)
			}
			expectAllowed(t, f, "go sdk cookies", fromCookies(t, u, cookies))
		}
	}
}

// TestAgreementOracles: URLs and cookies signed by the npm
// @aws-sdk/cloudfront-signer (RSA-SHA1, RSA-SHA256, ECDSA-SHA256) and URLs
// signed by botocore (RSA-SHA1) are allowed.
func TestAgreementOracles(t *testing.T) {
	f := newFixture(t)
	urls, resources := agreeResources(210)
	var js, boto []oracle.Request
	for i, u := range urls {
		keyID, hash := keyRSA, "SHA1"
		switch i % 3 {
		case 1:
			hash = "SHA256"
		case 2:
			keyID, hash = keyEC, "SHA256"
		}
		r := oracle.Request{URL: u, Resource: resources[i], Expires: testNow + 600, KeyID: keyID, KeyFile: f.keyFiles[keyID], Hash: hash}
		if i%5 == 4 {
			r.NotBefore, r.IP = testNow-60, "192.0.2.0/24"
		}
		js = append(js, r)
		r.Cookies = true
		js = append(js, r)
		boto = append(boto, oracle.Request{URL: u, Resource: resources[i], Expires: testNow + 600, KeyID: keyRSA, KeyFile: f.keyFiles[keyRSA]})
	}
	for _, run := range []struct {
		name string
		reqs []oracle.Request
		fn   func(testing.TB, []oracle.Request) []oracle.Result
	}{{"npm", js, oracle.JS}, {"botocore", boto, oracle.Botocore}} {
		results := run.fn(t, run.reqs)
		allowed := 0
		for i, res := range results {
			who := fmt.Sprintf("%s #%d (%s %s)", run.name, i, run.reqs[i].KeyID, run.reqs[i].Hash)
			if res.Error != "" {
				t.Errorf("%s: signer error: %s", who, res.Error)
				continue
			}
			if run.reqs[i].Cookies {
				var cs []*http.Cookie
				for name, v := range res.Cookies {
					cs = append(cs, &http.Cookie{Name: name, Value: v})
				}
				expectAllowed(t, f, who+" cookies", fromCookies(t, run.reqs[i].URL, cs))
			} else {
				expectAllowed(t, f, who+" url", fromSignedURL(t, res.URL))
			}
			allowed++
		}
		if allowed < 200 {
			t.Errorf("%s: only %d signed requests checked, want at least 200", run.name, allowed)
		}
	}
}
