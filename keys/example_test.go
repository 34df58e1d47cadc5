package keys_test

import (
	"context"
	"crypto"
	"fmt"

	"github.com/cfissuer/cfissuer/keys"
)

func Example() {
	src := keys.File{Path: "../testdata/keys/ec-p256-sec1.pem", KeyID: "K2JCJMDEHXQW5F"}
	signer, err := src.Load(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	policy := []byte(`{"Statement":[{"Resource":"https://media.example.com/a.pdf","Condition":{"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`)
	sig, _ := signer.Sign(context.Background(), policy, crypto.SHA256)
	fmt.Println(signer.KeyID(), signer.Algorithm(), keys.Verify(signer.Public(), policy, sig, crypto.SHA256) == nil)
	// Output: K2JCJMDEHXQW5F ECDSA true
}
