package keys_test

import (
	"context"
	"crypto"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/internal/awstest"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// TestKMSSignedURLAtTheEdge: a URL signed by a KMS key (RSA_2048 with
// RSASSA_PKCS1_V1_5_SHA_256, ECC_NIST_P256 with ECDSA_SHA_256; SHA-256,
// canned and custom policies) is accepted by the edge verifier holding the
// public key from GetPublicKey, and refused by one trusting another key.
//
// KMS is moto_server via internal/awstest, patched in-process so that Sign
// honours MessageType=DIGEST (moto 5.2.1 hashes the digest again, which
// would make every signature here fail to verify).
func TestKMSSignedURLAtTheEdge(t *testing.T) {
	ctx := context.Background()
	km := kms.NewFromConfig(awstest.Start(t).Config())
	bs, err := policy.ParseBehaviors(strings.NewReader(`{"viewer_origin": "https://media.example.com",
		"behaviors": [{"name": "default", "path_pattern": "*", "access": "signed-url"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := newPEM(keys.RSA)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := keys.ParsePrivateKey(other, nil)
	now := time.Now()
	for _, tc := range []struct {
		spec kmstypes.KeySpec
		alg  keys.Algorithm
	}{{kmstypes.KeySpecRsa2048, keys.RSA}, {kmstypes.KeySpecEccNistP256, keys.ECDSA}} {
		t.Run(string(tc.spec), func(t *testing.T) {
			arn, _, err := createKMSKey(ctx, km, tc.spec, kmstypes.KeyUsageTypeSignVerify)
			if err != nil {
				t.Fatal(err)
			}
			s, err := keys.KMS{Client: km, KeyARN: arn, KeyID: "KKMSEDGE"}.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s.Algorithm() != tc.alg {
				t.Fatalf("Algorithm = %s, want %s", s.Algorithm(), tc.alg)
			}
			good, err := edge.NewVerifier(bs, []edge.Key{{ID: "KKMSEDGE", Public: s.Public()}}, edge.Options{})
			if err != nil {
				t.Fatal(err)
			}
			wrong, _ := edge.NewVerifier(bs, []edge.Key{{ID: "KKMSEDGE", Public: otherKey.Public()}}, edge.Options{})
			for _, custom := range []bool{false, true} {
				su, err := issuer.SignURL(ctx, s, issuer.URLRequest{URL: "https://media.example.com/kms/a.mp4",
					Expires: now.Add(time.Hour), Custom: custom, Hash: crypto.SHA256})
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(su.URL, "Hash-Algorithm=SHA256") {
					t.Errorf("custom=%v: URL lacks Hash-Algorithm=SHA256", custom)
				}
				q := su.URL[strings.IndexByte(su.URL, '?')+1:]
				req := edge.Request{Scheme: "https", Host: "media.example.com", RawPath: "/kms/a.mp4", RawQuery: q}
				if d := good.Check(req, now); !d.Allowed() {
					t.Errorf("custom=%v: edge refused a KMS-signed URL: %v", custom, d.Denial)
				}
				if d := wrong.Check(req, now); d.Allowed() {
					t.Errorf("custom=%v: an edge trusting another key accepted it", custom)
				}
			}
		})
	}
}
