package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// MaxEpoch is the largest epoch time CloudFront accepts in a policy: policies
// carry whole seconds in a signed 32-bit range. A value in milliseconds (a
// classic bug in other signers) is far above it and gets MalformedPolicy.
const MaxEpoch = 2147483647

// Kind tells a canned policy from a custom one.
type Kind int

const (
	// Canned is the short policy CloudFront rebuilds from the request
	// itself: one exact URL and an expiry, nothing else.
	Canned Kind = iota
	// Custom is a policy sent along with the request (the Policy query
	// parameter or the CloudFront-Policy cookie): a resource that may hold
	// wildcards, an expiry, and optionally a start time and an IPv4 range.
	Custom
)

// String returns "canned" or "custom".
func (k Kind) String() string {
	if k == Canned {
		return "canned"
	}
	return "custom"
}

// A Policy is the single statement of a CloudFront policy.
//
// The zero value of NotBefore and SourceIP means the condition is absent. An
// empty Resource is only ever the result of decoding a received custom policy
// that omits it (which grants everything the key signs for); Marshal refuses to
// produce such a policy.
type Policy struct {
	Kind      Kind
	Resource  string       // the URL, or for custom policies a wildcard pattern
	Expires   time.Time    // DateLessThan: the request must start before it
	NotBefore time.Time    // DateGreaterThan: the request must start after it
	SourceIP  netip.Prefix // IpAddress: the IPv4 range the viewer must come from
}

// Errors returned when a policy cannot be built. Test for them with errors.Is.
var (
	ErrNoResource        = errors.New("policy: resource is required")
	ErrNoExpiry          = errors.New("policy: expiry (DateLessThan) is required")
	ErrEpochRange        = errors.New("policy: time is outside CloudFront's epoch range (whole seconds, 1 to 2147483647)")
	ErrNotBeforeAfterEnd = errors.New("policy: not-before is not earlier than the expiry")
	ErrIPv6              = errors.New("policy: CloudFront's IpAddress condition is IPv4 only")
	ErrCannedCondition   = errors.New("policy: a canned policy has only a resource and an expiry")
	ErrCannedWildcard    = errors.New("policy: a canned policy cannot hold a wildcard")
)

// Validate checks the policy against CloudFront's rules for its kind. It
// does not check the resource's syntax: CanonicalURL and CanonicalResource do.
func (p Policy) Validate() error {
	if p.Resource == "" {
		return ErrNoResource
	}
	if p.Expires.IsZero() {
		return ErrNoExpiry
	}
	if err := checkEpoch("expiry", p.Expires); err != nil {
		return err
	}
	if !p.NotBefore.IsZero() {
		if err := checkEpoch("not-before", p.NotBefore); err != nil {
			return err
		}
		if p.NotBefore.Unix() >= p.Expires.Unix() {
			return fmt.Errorf("%w: not-before %d, expiry %d", ErrNotBeforeAfterEnd, p.NotBefore.Unix(), p.Expires.Unix())
		}
	}
	if p.SourceIP.IsValid() && !p.SourceIP.Addr().Is4() {
		return fmt.Errorf("%w: bind to an IPv4 address or range such as 192.0.2.0/24, or leave the IP condition out", ErrIPv6)
	}
	if p.Kind == Canned {
		if !p.NotBefore.IsZero() || p.SourceIP.IsValid() {
			return fmt.Errorf("%w: use a custom policy for not-before or an IP range", ErrCannedCondition)
		}
		// In a canned policy '?' is the URL's query delimiter (CloudFront
		// rebuilds the policy from the request); only '*' is a wildcard.
		if strings.Contains(p.Resource, "*") {
			return fmt.Errorf("%w: use a custom policy for a wildcard resource", ErrCannedWildcard)
		}
	}
	return nil
}

func checkEpoch(what string, t time.Time) error {
	if s := t.Unix(); s < 1 || s > MaxEpoch {
		return fmt.Errorf("%w: %s is %d", ErrEpochRange, what, s)
	}
	return nil
}

// ParseIP parses the value of an IP condition: an IPv4 address (taken as /32)
// or an IPv4 CIDR range. The range is kept as written, so "192.0.2.7/24" stays
// "192.0.2.7/24" in the policy bytes. IPv6 is refused with ErrIPv6.
func ParseIP(s string) (netip.Prefix, error) {
	var pfx netip.Prefix
	if addr, err := netip.ParseAddr(s); err == nil {
		pfx = netip.PrefixFrom(addr, addr.BitLen())
	} else if pfx, err = netip.ParsePrefix(s); err != nil {
		return netip.Prefix{}, fmt.Errorf("policy: %q is not an IPv4 address or CIDR range", s)
	}
	if !pfx.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%w: %q; bind to an IPv4 address or range, or leave the IP condition out", ErrIPv6, s)
	}
	return pfx, nil
}

// Marshal returns the exact policy bytes CloudFront signs and checks.
//
// Canned policies come out byte for byte as CloudFront rebuilds them from
// the request:
//
//	{"Statement":[{"Resource":"<url>","Condition":{"DateLessThan":{"AWS:EpochTime":<n>}}}]}
//
// Custom policies have no whitespace and no HTML escaping, with conditions
// in the order the AWS SDK for Go writes them (IpAddress, DateGreaterThan,
// DateLessThan), so its signatures and ours agree byte for byte.
func (p Policy) Marshal() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p.AppendJSON(make([]byte, 0, 96+len(p.Resource))), nil
}

// AppendJSON appends the policy's JSON to b without validating it: callers
// that have already called Validate use it to avoid a second pass.
func (p Policy) AppendJSON(b []byte) []byte {
	b = append(b, `{"Statement":[{"Resource":`...)
	b = appendJSONString(b, p.Resource)
	b = append(b, `,"Condition":{`...)
	if p.Kind == Custom {
		if p.SourceIP.IsValid() {
			b = append(b, `"IpAddress":{"AWS:SourceIp":"`...)
			b = p.SourceIP.AppendTo(b)
			b = append(b, `"},`...)
		}
		if !p.NotBefore.IsZero() {
			b = append(b, `"DateGreaterThan":{"AWS:EpochTime":`...)
			b = strconv.AppendInt(b, p.NotBefore.Unix(), 10)
			b = append(b, `},`...)
		}
	}
	b = append(b, `"DateLessThan":{"AWS:EpochTime":`...)
	b = strconv.AppendInt(b, p.Expires.Unix(), 10)
	return append(b, `}}}]}`...)
}

// appendJSONString appends s as a JSON string the way encoding/json does
// with HTML escaping off. Resources that passed CanonicalURL or
// CanonicalResource are printable ASCII without '"' or '\', so in practice
// this only copies; the escaping keeps Marshal's output valid JSON for any
// input.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
