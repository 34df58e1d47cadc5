// Package keystest is the conformance suite every keys.Source must pass,
// in the manner of go-cloud's drivertest: a source's tests describe how to
// put a key in it, break it and empty it (a Harness), and RunConformance
// checks the same behaviour for all of them.
//
// What every source must do:
//
//   - Load returns a Signer with the configured CloudFront key ID, the
//     stored key's algorithm and public key, whose SHA-256 signatures (and
//     SHA-1 ones when keys.CanSign says it can) verify with keys.Verify,
//     and whose refusal of a hash it cannot sign wraps ErrUnsupportedHash;
//   - Load again after the key is replaced returns the new key, while a
//     Signer loaded before keeps signing with the key it reports;
//   - a source whose content is broken fails to load, and neither the
//     error nor the printed Signer holds any of the secret;
//   - a source whose content is gone fails with keys.ErrSource;
//   - a cancelled context stops Load and Sign with context.Canceled;
//   - Load and Sign are safe for concurrent use (run with -race).
package keystest

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cfissuer/cfissuer/keys"
)

// A Harness puts keys into one source under test.
type Harness struct {
	// Source is the source under test. It reads whatever Set last stored.
	Source keys.Source
	// KeyID is the CloudFront key ID the Source was configured with.
	KeyID string
	// Algorithms lists the key types the source can hold.
	Algorithms []keys.Algorithm
	// Set stores a new key of type alg in the source and returns its
	// public key.
	Set func(ctx context.Context, alg keys.Algorithm) (crypto.PublicKey, error)
	// Corrupt stores something that is not a usable key. It returns
	// secret fragments (such as pieces of a truncated private key) that
	// must appear in no error and no printed value; nil when the source's
	// broken content holds no secret.
	Corrupt func(ctx context.Context) (secrets []string, err error)
	// Remove makes the source's content unavailable (deletes the file, the
	// secret, the alias).
	Remove func(ctx context.Context) error
}

// RunConformance runs the suite against the harnesses newHarness makes,
// one fresh harness per subtest.
func RunConformance(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Run("LoadAndSign", func(t *testing.T) { testLoadAndSign(t, newHarness(t)) })
	t.Run("Reload", func(t *testing.T) { testReload(t, newHarness(t)) })
	t.Run("Corrupt", func(t *testing.T) { testCorrupt(t, newHarness(t)) })
	t.Run("Removed", func(t *testing.T) { testRemoved(t, newHarness(t)) })
	t.Run("Canceled", func(t *testing.T) { testCanceled(t, newHarness(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newHarness(t)) })
}

var policy = []byte(`{"Statement":[{"Resource":"https://media.example.com/conformance/*","Condition":{"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`)

func fingerprint(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	fp, err := keys.Fingerprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// checkSigner checks s against the key the harness stored.
func checkSigner(t *testing.T, h Harness, s keys.Signer, alg keys.Algorithm, pub crypto.PublicKey) {
	t.Helper()
	ctx := context.Background()
	if got := s.KeyID(); got != h.KeyID {
		t.Errorf("KeyID = %q, want %q", got, h.KeyID)
	}
	if got := s.Algorithm(); got != alg {
		t.Errorf("Algorithm = %s, want %s", got, alg)
	}
	if got, want := fingerprint(t, s.Public()), fingerprint(t, pub); got != want {
		t.Errorf("public key %s, want the stored key %s", got, want)
	}
	for _, hash := range []crypto.Hash{crypto.SHA256, crypto.SHA1} {
		sig, err := s.Sign(ctx, policy, hash)
		if !keys.CanSign(s, hash) && err != nil {
			// A signer may refuse what CanSign rules out (KMS and SHA-1),
			// or sign it anyway (a local ECDSA key signs SHA-1 for
			// verifiers), but a refusal must say why.
			if !errors.Is(err, keys.ErrUnsupportedHash) {
				t.Errorf("Sign(%v) on a key that cannot = %v, want ErrUnsupportedHash", hash, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Sign(%v): %v", hash, err)
			continue
		}
		// Verify with the stored public key, not the signer's own.
		if err := keys.Verify(pub, policy, sig, hash); err != nil {
			t.Errorf("Sign(%v): signature does not verify with the stored key: %v", hash, err)
		}
		if err := keys.Verify(pub, append([]byte(" "), policy...), sig, hash); err == nil {
			t.Errorf("Sign(%v): signature verifies over a different policy", hash)
		}
	}
	if !keys.CanSign(s, crypto.SHA256) {
		t.Error("CanSign(SHA256) = false; CloudFront keys of every source sign SHA-256")
	}
}

func testLoadAndSign(t *testing.T, h Harness) {
	ctx := context.Background()
	for _, alg := range h.Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			pub, err := h.Set(ctx, alg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := h.Source.Load(ctx)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			checkSigner(t, h, s, alg, pub)
		})
	}
}

func testReload(t *testing.T, h Harness) {
	ctx := context.Background()
	alg := h.Algorithms[0]
	pubA, err := h.Set(ctx, alg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := h.Source.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	algB := h.Algorithms[len(h.Algorithms)-1]
	pubB, err := h.Set(ctx, algB)
	if err != nil {
		t.Fatal(err)
	}
	if fingerprint(t, pubA) == fingerprint(t, pubB) {
		t.Fatal("harness: Set stored the same key twice")
	}
	b, err := h.Source.Load(ctx)
	if err != nil {
		t.Fatalf("Load after the key changed: %v", err)
	}
	checkSigner(t, h, b, algB, pubB)
	// The signer loaded first still signs with the key it reports.
	checkSigner(t, h, a, alg, pubA)
}

func testCorrupt(t *testing.T, h Harness) {
	ctx := context.Background()
	if _, err := h.Set(ctx, h.Algorithms[0]); err != nil {
		t.Fatal(err)
	}
	good, err := h.Source.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := h.Corrupt(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := h.Source.Load(ctx)
	if err == nil {
		t.Fatalf("Load of corrupt content = %v, want an error", s)
	}
	printed := []string{err.Error(), fmt.Sprintf("%v|%+v|%#v|%s", err, err, err, good), fmt.Sprintf("%+v|%#v", good, good)}
	for _, sec := range secrets {
		if len(sec) < 8 {
			t.Fatalf("harness: secret fragment %q is too short to search for", sec)
		}
		for _, p := range printed {
			if strings.Contains(p, sec) {
				t.Errorf("secret material appears in %q", p)
			}
		}
	}
}

func testRemoved(t *testing.T, h Harness) {
	ctx := context.Background()
	if _, err := h.Set(ctx, h.Algorithms[0]); err != nil {
		t.Fatal(err)
	}
	if err := h.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if s, err := h.Source.Load(ctx); !errors.Is(err, keys.ErrSource) {
		t.Errorf("Load of a removed source = %v, %v; want ErrSource", s, err)
	}
}

func testCanceled(t *testing.T, h Harness) {
	ctx := context.Background()
	if _, err := h.Set(ctx, h.Algorithms[0]); err != nil {
		t.Fatal(err)
	}
	s, err := h.Source.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if got, err := h.Source.Load(canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("Load(canceled) = %v, %v; want context.Canceled", got, err)
	}
	if _, err := s.Sign(canceled, policy, crypto.SHA256); !errors.Is(err, context.Canceled) {
		t.Errorf("Sign(canceled) = %v; want context.Canceled", err)
	}
}

func testConcurrent(t *testing.T, h Harness) {
	ctx := context.Background()
	pub, err := h.Set(ctx, h.Algorithms[0])
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			s, err := h.Source.Load(ctx)
			if err != nil {
				errs <- err
				return
			}
			for range 4 {
				sig, err := s.Sign(ctx, policy, crypto.SHA256)
				if err == nil {
					err = keys.Verify(pub, policy, sig, crypto.SHA256)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
