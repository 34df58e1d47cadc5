package keys_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cfissuer/cfissuer/internal/awstest"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/keys/keystest"
)

var both = []keys.Algorithm{keys.RSA, keys.ECDSA}

var seq atomic.Int64

func uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// newPEM generates a key and returns its PEM and public key.
func newPEM(alg keys.Algorithm) ([]byte, crypto.PublicKey, error) {
	k, err := keys.Generate(alg)
	if err != nil {
		return nil, nil, err
	}
	pem, err := k.MarshalPEM()
	return pem, k.Public(), err
}

// truncatedPEM returns a fresh private key PEM cut in half, still framed
// as a PEM block, and three lines of its body: secret material that must
// never be echoed by an error.
func truncatedPEM() ([]byte, []string, error) {
	pem, _, err := newPEM(keys.RSA)
	if err != nil {
		return nil, nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(pem)), "\n")
	body := lines[1 : len(lines)-1]
	half := body[:len(body)/2]
	cut := lines[0] + "\n" + strings.Join(half, "\n") + "\n" + lines[len(lines)-1] + "\n"
	return []byte(cut), []string{half[1], half[2], half[len(half)-1]}, nil
}

// TestConformance runs the keystest suite against every source: file and
// environment here, Secrets Manager, SSM Parameter Store and KMS against
// moto_server (internal/awstest, which patches moto's KMS Sign to honour
// MessageType=DIGEST: moto 5.2.1 hashes the digest again).
func TestConformance(t *testing.T) {
	t.Run("File", func(t *testing.T) {
		keystest.RunConformance(t, func(t *testing.T) keystest.Harness {
			path := filepath.Join(t.TempDir(), "key.pem")
			put := func(b []byte) error { return os.WriteFile(path, b, 0o600) }
			return pemHarness(keys.File{Path: path, KeyID: "KFILE"}, "KFILE", put, func(context.Context) error { return os.Remove(path) })
		})
	})
	t.Run("Env", func(t *testing.T) {
		keystest.RunConformance(t, func(t *testing.T) keystest.Harness {
			name := "CFISSUER_CONFORMANCE_KEY"
			t.Setenv(name, "")
			put := func(b []byte) error { return os.Setenv(name, string(b)) }
			return pemHarness(keys.Env{Name: name, KeyID: "KENV"}, "KENV", put, func(context.Context) error { return os.Unsetenv(name) })
		})
	})

	moto := awstest.Start(t)
	cfg := moto.Config()
	sm := secretsmanager.NewFromConfig(cfg)
	for _, form := range []string{"string", "binary", "json"} {
		t.Run("SecretsManager/"+form, func(t *testing.T) {
			keystest.RunConformance(t, func(t *testing.T) keystest.Harness {
				id := uniq("cfissuer/conformance")
				src := keys.SecretsManager{Client: sm, SecretID: id, KeyID: "KSECRET"}
				if form == "json" {
					src.JSONField = "private_key"
				}
				created := false
				put := func(b []byte) error {
					ctx := context.Background()
					in := &secretsmanager.PutSecretValueInput{SecretId: aws.String(id)}
					switch form {
					case "string":
						in.SecretString = aws.String(string(b))
					case "binary":
						in.SecretBinary = b
					case "json":
						// A JSON string escapes the newlines: the source must decode it.
						j := fmt.Sprintf(`{"username":"svc","private_key":%q}`, b)
						in.SecretString = aws.String(j)
					}
					if !created {
						if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(id),
							SecretString: in.SecretString, SecretBinary: in.SecretBinary}); err != nil {
							return err
						}
						created = true
						return nil
					}
					_, err := sm.PutSecretValue(ctx, in)
					return err
				}
				remove := func(ctx context.Context) error {
					_, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(id), ForceDeleteWithoutRecovery: aws.Bool(true)})
					return err
				}
				return pemHarness(src, "KSECRET", put, remove)
			})
		})
	}

	ps := ssm.NewFromConfig(cfg)
	t.Run("SSM", func(t *testing.T) {
		keystest.RunConformance(t, func(t *testing.T) keystest.Harness {
			name := "/" + uniq("cfissuer/conformance")
			put := func(b []byte) error {
				_, err := ps.PutParameter(context.Background(), &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(string(b)),
					Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)})
				return err
			}
			remove := func(ctx context.Context) error {
				_, err := ps.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
				return err
			}
			return pemHarness(keys.SSM{Client: ps, Name: name, KeyID: "KSSM"}, "KSSM", put, remove)
		})
	})

	km := kms.NewFromConfig(cfg)
	t.Run("KMS", func(t *testing.T) {
		keystest.RunConformance(t, func(t *testing.T) keystest.Harness {
			alias := "alias/" + uniq("cfissuer-conformance")
			h := &kmsAlias{client: km, alias: alias}
			return keystest.Harness{
				Source:     keys.KMS{Client: km, KeyARN: alias, KeyID: "KKMS"},
				KeyID:      "KKMS",
				Algorithms: both,
				Set: func(ctx context.Context, alg keys.Algorithm) (crypto.PublicKey, error) {
					spec := kmstypes.KeySpecRsa2048
					if alg == keys.ECDSA {
						spec = kmstypes.KeySpecEccNistP256
					}
					pub, _, err := h.point(ctx, spec)
					return pub, err
				},
				// An RSA_3072 key signs, but CloudFront takes RSA-2048 only.
				Corrupt: func(ctx context.Context) ([]string, error) {
					_, _, err := h.point(ctx, kmstypes.KeySpecRsa3072)
					return nil, err
				},
				Remove: func(ctx context.Context) error {
					_, err := km.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(alias)})
					return err
				},
			}
		})
	})
}

// pemHarness is the harness of a source that holds a PEM: put stores
// bytes where the source reads them.
func pemHarness(src keys.Source, keyID string, put func([]byte) error, remove func(context.Context) error) keystest.Harness {
	return keystest.Harness{
		Source:     src,
		KeyID:      keyID,
		Algorithms: both,
		Set: func(_ context.Context, alg keys.Algorithm) (crypto.PublicKey, error) {
			pem, pub, err := newPEM(alg)
			if err != nil {
				return nil, err
			}
			return pub, put(pem)
		},
		Corrupt: func(context.Context) ([]string, error) {
			cut, secrets, err := truncatedPEM()
			if err != nil {
				return nil, err
			}
			return secrets, put(cut)
		},
		Remove: remove,
	}
}

// kmsAlias creates KMS keys and points one alias at the newest.
type kmsAlias struct {
	client  *kms.Client
	alias   string
	created bool
}

func createKMSKey(ctx context.Context, c *kms.Client, spec kmstypes.KeySpec, usage kmstypes.KeyUsageType) (string, crypto.PublicKey, error) {
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage, Description: aws.String("cfissuer test")})
	if err != nil {
		return "", nil, err
	}
	arn := aws.ToString(out.KeyMetadata.Arn)
	if usage != kmstypes.KeyUsageTypeSignVerify {
		return arn, nil, nil
	}
	pk, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(arn)})
	if err != nil {
		return "", nil, err
	}
	pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
	return arn, pub, err
}

func (a *kmsAlias) point(ctx context.Context, spec kmstypes.KeySpec) (crypto.PublicKey, string, error) {
	arn, pub, err := createKMSKey(ctx, a.client, spec, kmstypes.KeyUsageTypeSignVerify)
	if err != nil {
		return nil, "", err
	}
	if !a.created {
		_, err = a.client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(a.alias), TargetKeyId: aws.String(arn)})
		a.created = err == nil
	} else {
		_, err = a.client.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String(a.alias), TargetKeyId: aws.String(arn)})
	}
	return pub, arn, err
}

// TestAWSSourceErrors: what the AWS sources refuse, with the sentinel a
// caller can test for, and never with the secret in the message.
func TestAWSSourceErrors(t *testing.T) {
	ctx := context.Background()
	moto := awstest.Start(t)
	cfg := moto.Config()
	sm := secretsmanager.NewFromConfig(cfg)
	ps := ssm.NewFromConfig(cfg)
	km := kms.NewFromConfig(cfg)
	pem, _, err := newPEM(keys.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Split(string(pem), "\n")[1]

	mustSecret := func(name, value string) {
		t.Helper()
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
	}
	mustSecret("json-no-field", fmt.Sprintf(`{"other":%q}`, pem))
	mustSecret("json-not-string", `{"private_key":42,"x":"`+body+`"}`)
	mustSecret("not-json", string(pem))
	mustSecret("json-pem-at-top", fmt.Sprintf(`{"private_key":%q}`, pem))
	if _, err := ps.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/plain"), Value: aws.String(string(pem)), Type: ssmtypes.ParameterTypeString}); err != nil {
		t.Fatal(err)
	}
	symmetric, _, err := createKMSKey(ctx, km, kmstypes.KeySpecSymmetricDefault, kmstypes.KeyUsageTypeEncryptDecrypt)
	if err != nil {
		t.Fatal(err)
	}
	p384, _, err := createKMSKey(ctx, km, kmstypes.KeySpecEccNistP384, kmstypes.KeyUsageTypeSignVerify)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, _, err := createKMSKey(ctx, km, kmstypes.KeySpecRsa2048, kmstypes.KeyUsageTypeSignVerify)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		src  keys.Source
		want error
	}{
		{"secret JSON without the field", keys.SecretsManager{Client: sm, SecretID: "json-no-field", JSONField: "private_key", KeyID: "K1"}, keys.ErrSecretFormat},
		{"secret JSON field not a string", keys.SecretsManager{Client: sm, SecretID: "json-not-string", JSONField: "private_key", KeyID: "K1"}, keys.ErrSecretFormat},
		{"secret not JSON", keys.SecretsManager{Client: sm, SecretID: "not-json", JSONField: "private_key", KeyID: "K1"}, keys.ErrSecretFormat},
		{"JSON secret read whole", keys.SecretsManager{Client: sm, SecretID: "json-pem-at-top", KeyID: "K1"}, keys.ErrNoPEM},
		{"secret missing", keys.SecretsManager{Client: sm, SecretID: "nope", KeyID: "K1"}, keys.ErrSource},
		{"secret bad key ID", keys.SecretsManager{Client: sm, SecretID: "json-pem-at-top", JSONField: "private_key", KeyID: "k-1"}, keys.ErrKeyID},
		{"SSM String parameter", keys.SSM{Client: ps, Name: "/plain", KeyID: "K1"}, keys.ErrSecretFormat},
		{"SSM missing", keys.SSM{Client: ps, Name: "/nope", KeyID: "K1"}, keys.ErrSource},
		// Real KMS refuses GetPublicKey on a symmetric key
		// (UnsupportedOperationException, so ErrSource); moto answers,
		// and the key usage check refuses it.
		{"KMS symmetric key", keys.KMS{Client: km, KeyARN: symmetric, KeyID: "K1"}, keys.ErrUnsupportedKey},
		{"KMS P-384 key", keys.KMS{Client: km, KeyARN: p384, KeyID: "K1"}, keys.ErrUnsupportedKey},
		{"KMS unknown alias", keys.KMS{Client: km, KeyARN: "alias/nope", KeyID: "K1"}, keys.ErrSource},
		{"KMS bad key ID", keys.KMS{Client: km, KeyARN: rsaKey, KeyID: "k1"}, keys.ErrKeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.src.Load(ctx)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load = %v, %v; want %v", s, err, tt.want)
			}
			if strings.Contains(err.Error(), body) || strings.Contains(err.Error(), "PRIVATE KEY-----") {
				t.Errorf("error holds the secret: %v", err)
			}
		})
	}

	t.Run("KMS refuses SHA-1 without calling KMS", func(t *testing.T) {
		calls := &countingKMS{KMSAPI: km}
		s, err := keys.KMS{Client: calls, KeyARN: rsaKey, KeyID: "K1"}.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		before := calls.sign.Load()
		_, err = s.Sign(ctx, []byte("policy"), crypto.SHA1)
		if !errors.Is(err, keys.ErrKMSHash) || !errors.Is(err, keys.ErrUnsupportedHash) {
			t.Errorf("Sign(SHA1) = %v, want ErrKMSHash and ErrUnsupportedHash", err)
		}
		if n := calls.sign.Load() - before; n != 0 {
			t.Errorf("Sign(SHA1) made %d KMS calls, want 0", n)
		}
		if keys.CanSign(s, crypto.SHA1) {
			t.Error("CanSign(KMS RSA key, SHA1) = true")
		}
	})

	t.Run("a wrong signature from KMS is refused", func(t *testing.T) {
		// A KMS client that answers for another key of the same type.
		other, _, err := createKMSKey(ctx, km, kmstypes.KeySpecRsa2048, kmstypes.KeyUsageTypeSignVerify)
		if err != nil {
			t.Fatal(err)
		}
		s, err := keys.KMS{Client: &swappedKMS{KMSAPI: km, signWith: other}, KeyARN: rsaKey, KeyID: "K1"}.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(ctx, []byte("policy"), crypto.SHA256); !errors.Is(err, keys.ErrKMSSignature) {
			t.Errorf("Sign with a swapped key = %v, want ErrKMSSignature", err)
		}
	})

	t.Run("KMS Sign sends the digest", func(t *testing.T) {
		calls := &countingKMS{KMSAPI: km}
		s, err := keys.KMS{Client: calls, KeyARN: rsaKey, KeyID: "K1"}.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// 6 KB of policy: over KMS's 4 KB raw-message cap.
		big := bytes.Repeat([]byte("a"), 6<<10)
		if _, err := s.Sign(ctx, big, crypto.SHA256); err != nil {
			t.Fatal(err)
		}
		in := calls.last.Load()
		if in.MessageType != kmstypes.MessageTypeDigest || len(in.Message) != 32 || in.SigningAlgorithm != kmstypes.SigningAlgorithmSpecRsassaPkcs1V15Sha256 {
			t.Errorf("Sign sent MessageType %s, %d bytes, %s; want DIGEST, 32 bytes, RSASSA_PKCS1_V1_5_SHA_256", in.MessageType, len(in.Message), in.SigningAlgorithm)
		}
		if id := aws.ToString(in.KeyId); id == "" || strings.HasPrefix(id, "alias/") {
			t.Errorf("Sign sent KeyId %q, want the resolved key", aws.ToString(in.KeyId))
		}
	})
}

// countingKMS counts KMS calls and remembers the last Sign input.
type countingKMS struct {
	keys.KMSAPI
	get, sign atomic.Int64
	last      atomic.Pointer[kms.SignInput]
}

func (c *countingKMS) GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, opts ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	c.get.Add(1)
	return c.KMSAPI.GetPublicKey(ctx, in, opts...)
}

func (c *countingKMS) Sign(ctx context.Context, in *kms.SignInput, opts ...func(*kms.Options)) (*kms.SignOutput, error) {
	c.sign.Add(1)
	c.last.Store(in)
	return c.KMSAPI.Sign(ctx, in, opts...)
}

// swappedKMS signs with another key than the one it reports.
type swappedKMS struct {
	keys.KMSAPI
	signWith string
}

func (s *swappedKMS) Sign(ctx context.Context, in *kms.SignInput, opts ...func(*kms.Options)) (*kms.SignOutput, error) {
	cp := *in
	cp.KeyId = aws.String(s.signWith)
	return s.KMSAPI.Sign(ctx, &cp, opts...)
}
