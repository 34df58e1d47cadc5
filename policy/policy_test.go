package policy

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

var (
	t0 = time.Unix(1_800_000_000, 0).UTC()
	t1 = time.Unix(1_799_990_000, 0).UTC()
)

func TestMarshalExactBytes(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want string
	}{
		{"canned", Policy{Kind: Canned, Resource: "https://d.example/a.pdf", Expires: t0},
			`{"Statement":[{"Resource":"https://d.example/a.pdf","Condition":{"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`},
		{"canned with query", Policy{Kind: Canned, Resource: "https://d.example/a.pdf?x=1&y=%20", Expires: t0},
			`{"Statement":[{"Resource":"https://d.example/a.pdf?x=1&y=%20","Condition":{"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`},
		{"custom expiry only", Policy{Kind: Custom, Resource: "https://d.example/c/*", Expires: t0},
			`{"Statement":[{"Resource":"https://d.example/c/*","Condition":{"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`},
		{"custom all conditions, Go SDK order", Policy{Kind: Custom, Resource: "http*://d.example/c/*", Expires: t0, NotBefore: t1, SourceIP: netip.MustParsePrefix("192.0.2.0/24")},
			`{"Statement":[{"Resource":"http*://d.example/c/*","Condition":{"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1799990000},"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`},
		{"no HTML escaping of & < >", Policy{Kind: Custom, Resource: "https://d.example/a?x=1&y=2", Expires: t0},
			`{"Statement":[{"Resource":"https://d.example/a?x=1&y=2","Condition":{"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestValidateErrors(t *testing.T) {
	v6 := netip.MustParsePrefix("2001:db8::/32")
	tests := []struct {
		name string
		p    Policy
		want error
	}{
		{"no resource", Policy{Expires: t0}, ErrNoResource},
		{"no expiry", Policy{Resource: "https://a/b"}, ErrNoExpiry},
		{"milliseconds", Policy{Resource: "https://a/b", Expires: time.Unix(1_800_000_000_000, 0)}, ErrEpochRange},
		{"past 2038", Policy{Resource: "https://a/b", Expires: time.Unix(MaxEpoch+1, 0)}, ErrEpochRange},
		{"before 1970", Policy{Resource: "https://a/b", Expires: time.Unix(-5, 0)}, ErrEpochRange},
		{"not-before after expiry", Policy{Kind: Custom, Resource: "https://a/b", Expires: t1, NotBefore: t0}, ErrNotBeforeAfterEnd},
		{"not-before equal to expiry", Policy{Kind: Custom, Resource: "https://a/b", Expires: t0, NotBefore: t0}, ErrNotBeforeAfterEnd},
		{"IPv6", Policy{Kind: Custom, Resource: "https://a/b", Expires: t0, SourceIP: v6}, ErrIPv6},
		{"canned with not-before", Policy{Kind: Canned, Resource: "https://a/b", Expires: t0, NotBefore: t1}, ErrCannedCondition},
		{"canned with IP", Policy{Kind: Canned, Resource: "https://a/b", Expires: t0, SourceIP: netip.MustParsePrefix("192.0.2.1/32")}, ErrCannedCondition},
		{"canned with wildcard", Policy{Kind: Canned, Resource: "https://a/b/*", Expires: t0}, ErrCannedWildcard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.Marshal()
			if !errors.Is(err, tt.want) {
				t.Errorf("Marshal() error = %v, want %v", err, tt.want)
			}
		})
	}
	// A '?' is a query delimiter in a canned URL, not a wildcard.
	if _, err := (Policy{Kind: Canned, Resource: "https://a/b?x=1", Expires: t0}).Marshal(); err != nil {
		t.Errorf("canned policy with a query: %v", err)
	}
	// Bounds of the epoch range are accepted.
	if _, err := (Policy{Resource: "https://a/b", Expires: time.Unix(MaxEpoch, 0)}).Marshal(); err != nil {
		t.Errorf("expiry at MaxEpoch: %v", err)
	}
}

func TestParseIP(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"192.0.2.7", "192.0.2.7/32", nil},
		{"192.0.2.0/24", "192.0.2.0/24", nil},
		{"192.0.2.7/24", "192.0.2.7/24", nil}, // kept as written
		{"0.0.0.0/0", "0.0.0.0/0", nil},
		{"2001:db8::1", "", ErrIPv6},
		{"2001:db8::/32", "", ErrIPv6},
		{"::ffff:192.0.2.1", "", ErrIPv6},
		{"192.0.2.300", "", errAny},
		{"192.0.2.0/33", "", errAny},
		{"example.com", "", errAny},
		{"", "", errAny},
	}
	for _, tt := range tests {
		got, err := ParseIP(tt.in)
		switch {
		case tt.err == nil && err != nil:
			t.Errorf("ParseIP(%q): %v", tt.in, err)
		case tt.err == errAny && err == nil, tt.err != nil && tt.err != errAny && !errors.Is(err, tt.err):
			t.Errorf("ParseIP(%q) error = %v, want %v", tt.in, err, tt.err)
		case tt.err == nil && got.String() != tt.want:
			t.Errorf("ParseIP(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

var errAny = errors.New("any error")

// TestMarshalMatchesAWSSDK compares our policy bytes with the AWS SDK for
// Go's over many random policies: its Policy.Sign returns the base64 of the
// JSON it built, and a recording signer captures the digest it signed.
func TestMarshalMatchesAWSSDK(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		p := Policy{Kind: Custom, Resource: fmt.Sprintf("https://d%d.example/p/%d/*.ts?q=%d&r=a&b", i, r.IntN(1e6), r.IntN(100)), Expires: time.Unix(int64(1e9+r.IntN(1e9)), 0)}
		st := sign.Statement{Resource: p.Resource, Condition: sign.Condition{DateLessThan: sign.NewAWSEpochTime(p.Expires)}}
		if i%2 == 0 {
			p.NotBefore = p.Expires.Add(-time.Duration(1+r.IntN(1e5)) * time.Second)
			st.Condition.DateGreaterThan = sign.NewAWSEpochTime(p.NotBefore)
		}
		if i%3 == 0 {
			p.SourceIP = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), 0, 0}), 16)
			st.Condition.IPAddress = &sign.IPAddress{SourceIP: p.SourceIP.String()}
		}
		if i%5 == 0 {
			p = Policy{Kind: Canned, Resource: fmt.Sprintf("https://d.example/e/%d.pdf", i), Expires: p.Expires}
			st = sign.Statement{Resource: p.Resource, Condition: sign.Condition{DateLessThan: sign.NewAWSEpochTime(p.Expires)}}
		}
		ours, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		_, sdkB64, err := (&sign.Policy{Statements: []sign.Statement{st}}).Sign(nopSigner{})
		if err != nil {
			t.Fatal(err)
		}
		if got := EncodeBase64(ours); got != string(sdkB64) {
			raw, _ := DecodeBase64(string(sdkB64))
			t.Fatalf("policy %d differs from the AWS SDK's:\nours %s\nsdk  %s", i, ours, raw)
		}
	}
}

// nopSigner lets the SDK build and encode a policy without a real key.
type nopSigner struct{}

func (nopSigner) Public() crypto.PublicKey { return &rsa.PublicKey{} }
func (nopSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return []byte("sig"), nil
}

func TestBase64(t *testing.T) {
	// 0xfb 0xff 0xbf encodes to "+/+/" in standard base64.
	in := []byte{0xfb, 0xff, 0xbf, 0xfb, 0xff}
	enc := EncodeBase64(in)
	if enc != "-~-~-~8_" {
		t.Errorf("EncodeBase64 = %q, want %q", enc, "-~-~-~8_")
	}
	got, err := DecodeBase64(enc)
	if err != nil || string(got) != string(in) {
		t.Errorf("DecodeBase64(%q) = %x, %v", enc, got, err)
	}
	for _, bad := range []string{"+/+/", "-~-~-~8=", "-~-~-~8", "-~-~ -~8_", "!!!!", "-~-~-~8_\n"} {
		if _, err := DecodeBase64(bad); !errors.Is(err, ErrBase64) {
			t.Errorf("DecodeBase64(%q) error = %v, want ErrBase64", bad, err)
		}
	}
}
