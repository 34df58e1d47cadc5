package edge_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

func Example() {
	bs, _ := policy.ParseBehaviors(strings.NewReader(`{"viewer_origin": "https://media.example.com",
		"behaviors": [{"name": "default", "path_pattern": "*", "access": "signed-url"}]}`))
	pem, _ := os.ReadFile("../testdata/keys/rsa2048.pem")
	key, _ := keys.ParsePrivateKey(pem, nil)
	signer, _ := keys.NewLocal("K2JCJMDEHXQW5F", key)
	v, _ := edge.NewVerifier(bs, []edge.Key{{ID: signer.KeyID(), Public: signer.Public()}}, edge.Options{})

	now := time.Unix(1_800_000_000, 0)
	su, _ := issuer.SignURL(context.Background(), signer, issuer.URLRequest{
		URL: "https://media.example.com/ebooks/intro.pdf", Expires: now.Add(time.Hour)})
	query := su.URL[strings.IndexByte(su.URL, '?')+1:]
	req := edge.Request{Scheme: "https", Host: "media.example.com", RawPath: "/ebooks/intro.pdf", RawQuery: query}

	fmt.Println(v.Check(req, now).Allowed())
	d := v.Check(req, now.Add(2*time.Hour))
	fmt.Println(d.Denial.Code, errors.Is(d.Denial, edge.ErrExpired))
	fmt.Println(d.Denial.Detail)
	// Output:
	// true
	// AccessDenied true
	// expired at 2027-01-15T09:00:00Z, 1h0m0s before now (2027-01-15T10:00:00Z)
}
