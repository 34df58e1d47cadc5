package securitytest

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/cfissuer/cfissuer/keys"
)

// hangingEndpoint is a TCP listener on 127.0.0.1 that accepts connections
// and never answers: a KMS or Secrets Manager endpoint that times out.
func hangingEndpoint(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "http://" + ln.Addr().String()
}

func awsConfig(endpoint string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
}

// publicKeyOnly answers GetPublicKey from a local key and sends Sign to a
// real KMS client (pointed at the hanging endpoint): the signer loads, then
// every Sign hangs in the SDK's own HTTP stack.
type publicKeyOnly struct {
	*kms.Client
	der []byte
}

func (p publicKeyOnly) GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, _ ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	return &kms.GetPublicKeyOutput{KeyId: in.KeyId, PublicKey: p.der, KeyUsage: kmstypes.KeyUsageTypeSignVerify,
		SigningAlgorithms: []kmstypes.SigningAlgorithmSpec{kmstypes.SigningAlgorithmSpecEcdsaSha256}}, nil
}

// TestKeySourceTimeouts: a KMS endpoint that never answers makes issuance
// a 503 with Retry-After, bounded by the signer's timeout rather than
// hanging, and the next request is bounded the same way; a Secrets
// Manager endpoint that never answers makes a key load fail with
// keys.ErrSource within its timeout, so `serve` exits with a clear error
// at start and a reload keeps the old ring.
func TestKeySourceTimeouts(t *testing.T) {
	endpoint := hangingEndpoint(t)
	_, local := readKey(t, "ec-p256.pem")
	der, err := x509.MarshalPKIXPublicKey(local.Public())
	if err != nil {
		t.Fatal(err)
	}
	client := publicKeyOnly{Client: kms.NewFromConfig(awsConfig(endpoint)), der: der}
	signer, err := keys.KMS{Client: client, KeyARN: "alias/cf", KeyID: "KTEST", Timeout: 300 * time.Millisecond}.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s := newService(t, serviceOptions{signer: signer})
	for i, body := range []string{`{"path": "/ebooks/a.pdf"}`, `{"path": "/ebooks/b.pdf"}`} {
		done := make(chan struct{})
		var status int
		var hdr map[string][]string
		var got []byte
		go func() {
			defer close(done)
			var h = map[string][]string{}
			status, h, got = s.do("POST", "/v1/urls", s.apiKeys["all"], strings.NewReader(body))
			hdr = h
		}()
		select {
		case <-done:
		case <-time.After(60 * time.Second): // a hang guard, far above the 300 ms timeout
			t.Fatalf("request %d hangs on a KMS endpoint that never answers", i)
		}
		if status != 503 || len(hdr["Retry-After"]) == 0 || !strings.Contains(string(got), "key_source_unavailable") {
			t.Errorf("request %d with KMS hanging: %d %v %s; want 503 key_source_unavailable with Retry-After", i, status, hdr["Retry-After"], got)
		}
	}

	// Secrets Manager: Load is bounded by its own timeout even when the
	// caller's context has no deadline (serve's start has none).
	sm := keys.SecretsManager{Client: secretsmanager.NewFromConfig(awsConfig(endpoint)), SecretID: "cf/signing", KeyID: "KTEST"}
	done := make(chan error, 1)
	go func() { _, err := sm.Load(context.Background()); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, keys.ErrSource) {
			t.Errorf("Secrets Manager hanging: %v, want keys.ErrSource", err)
		}
	case <-time.After(60 * time.Second): // a hang guard, far above DefaultFetchTimeout
		t.Fatal("a Secrets Manager load hangs forever when its endpoint never answers (no deadline at start)")
	}
}
