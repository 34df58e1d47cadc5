package policy

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParse(t *testing.T) {
	const exp = `{"DateLessThan":{"AWS:EpochTime":1800000000}}`
	ok := []struct {
		name, json string
		want       Policy
	}{
		{"minimal", `{"Statement":[{"Resource":"https://a/*","Condition":` + exp + `}]}`,
			Policy{Kind: Custom, Resource: "https://a/*", Expires: t0}},
		{"whitespace", " {\n \"Statement\" : [ { \"Resource\" : \"https://a/*\" , \"Condition\" : " + exp + " } ] }\n",
			Policy{Kind: Custom, Resource: "https://a/*", Expires: t0}},
		{"no resource", `{"Statement":[{"Condition":` + exp + `}]}`, Policy{Kind: Custom, Expires: t0}},
		{"condition order free", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1800000000},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1799990000}},"Resource":"https://a/b"}]}`,
			Policy{Kind: Custom, Resource: "https://a/b", Expires: t0, NotBefore: t1, SourceIP: mustIP("192.0.2.0/24")}},
		{"single IP", `{"Statement":[{"Resource":"https://a/b","Condition":{"IpAddress":{"AWS:SourceIp":"192.0.2.9"},"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`,
			Policy{Kind: Custom, Resource: "https://a/b", Expires: t0, SourceIP: mustIP("192.0.2.9/32")}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.want.Kind || got.Resource != tt.want.Resource || !got.Expires.Equal(tt.want.Expires) ||
				!got.NotBefore.Equal(tt.want.NotBefore) || got.SourceIP != tt.want.SourceIP {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}

	bad := []struct{ name, json string }{
		{"empty", ``},
		{"not an object", `[]`},
		{"no statement", `{}`},
		{"statement not array", `{"Statement":{}}`},
		{"empty statement list", `{"Statement":[]}`},
		{"two statements", `{"Statement":[{"Resource":"https://a/*","Condition":` + exp + `},{"Resource":"https://b/*","Condition":` + exp + `}]}`},
		{"unknown top-level key", `{"Statement":[{"Resource":"https://a/*","Condition":` + exp + `}],"Version":"2012"}`},
		{"unknown statement key", `{"Statement":[{"Resource":"https://a/*","Effect":"Allow","Condition":` + exp + `}]}`},
		{"unknown condition", `{"Statement":[{"Resource":"https://a/*","Condition":{"DateLessThan":{"AWS:EpochTime":1800000000},"StringEquals":{}}}]}`},
		{"no condition", `{"Statement":[{"Resource":"https://a/*"}]}`},
		{"no DateLessThan", `{"Statement":[{"Resource":"https://a/*","Condition":{"DateGreaterThan":{"AWS:EpochTime":1}}}]}`},
		{"milliseconds", `{"Statement":[{"Resource":"https://a/*","Condition":{"DateLessThan":{"AWS:EpochTime":1800000000000}}}]}`},
		{"fractional seconds", `{"Statement":[{"Resource":"https://a/*","Condition":{"DateLessThan":{"AWS:EpochTime":1800000000.5}}}]}`},
		{"exponent", `{"Statement":[{"Resource":"https://a/*","Condition":{"DateLessThan":{"AWS:EpochTime":1.8e9}}}]}`},
		{"string epoch", `{"Statement":[{"Resource":"https://a/*","Condition":{"DateLessThan":{"AWS:EpochTime":"1800000000"}}}]}`},
		{"negative epoch", `{"Statement":[{"Resource":"https://a/*","Condition":{"DateLessThan":{"AWS:EpochTime":-1}}}]}`},
		{"wrong epoch key", `{"Statement":[{"Resource":"https://a/*","Condition":{"DateLessThan":{"EpochTime":1800000000}}}]}`},
		{"empty DateLessThan", `{"Statement":[{"Resource":"https://a/*","Condition":{"DateLessThan":{}}}]}`},
		{"IPv6", `{"Statement":[{"Resource":"https://a/*","Condition":{"IpAddress":{"AWS:SourceIp":"2001:db8::/32"},"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`},
		{"bad IP", `{"Statement":[{"Resource":"https://a/*","Condition":{"IpAddress":{"AWS:SourceIp":"300.1.1.1"},"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`},
		{"empty IpAddress", `{"Statement":[{"Resource":"https://a/*","Condition":{"IpAddress":{},"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`},
		{"duplicate key", `{"Statement":[{"Resource":"https://a/*","Resource":"https://b/*","Condition":` + exp + `}]}`},
		{"duplicate DateLessThan", `{"Statement":[{"Resource":"https://a/*","Condition":{"DateLessThan":{"AWS:EpochTime":1},"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`},
		{"resource not string", `{"Statement":[{"Resource":["https://a/*"],"Condition":` + exp + `}]}`},
		{"empty resource", `{"Statement":[{"Resource":"","Condition":` + exp + `}]}`},
		{"trailing data", `{"Statement":[{"Resource":"https://a/*","Condition":` + exp + `}]}{}`},
		{"truncated", `{"Statement":[{"Resource":"https://a/*","Condition":` + exp},
		{"lower-case keys", `{"statement":[{"resource":"https://a/*","condition":` + exp + `}]}`},
	}
	for _, tt := range bad {
		t.Run("malformed/"+tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.json))
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("Parse() error = %v, want *MalformedError", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	p := Policy{Kind: Custom, Resource: "https://a/c/*", Expires: t0, SourceIP: mustIP("10.0.0.0/8")}
	raw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, gotRaw, err := Decode(EncodeBase64(raw))
	if err != nil {
		t.Fatal(err)
	}
	if string(gotRaw) != string(raw) || got.Resource != p.Resource || got.SourceIP != p.SourceIP {
		t.Errorf("Decode round trip: got %+v %s", got, gotRaw)
	}
	var me *MalformedError
	if _, _, err := Decode("not base64!"); !errors.As(err, &me) {
		t.Errorf("Decode(garbage) error = %v, want *MalformedError", err)
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts marshals to a
// policy that parses back to the same thing.
func FuzzDecode(f *testing.F) {
	f.Add(`{"Statement":[{"Resource":"https://a/*","Condition":{"DateLessThan":{"AWS:EpochTime":1800000000}}}]}`)
	f.Add(`{"Statement":[{"Condition":{"IpAddress":{"AWS:SourceIp":"1.2.3.4/8"},"DateGreaterThan":{"AWS:EpochTime":5},"DateLessThan":{"AWS:EpochTime":9}}}]}`)
	f.Add(`{"Statement":[]}`)
	f.Fuzz(func(t *testing.T, s string) {
		p, raw, err := Decode(EncodeBase64([]byte(s)))
		if err != nil {
			return
		}
		if string(raw) != s {
			t.Fatalf("raw bytes changed")
		}
		if p.Resource == "" {
			return // a policy without a resource is accepted but never produced
		}
		if !p.NotBefore.IsZero() && !p.NotBefore.Before(p.Expires) {
			return // decodable, but not something Marshal produces
		}
		again, err := p.Marshal()
		if err != nil {
			t.Fatalf("accepted policy does not marshal: %v", err)
		}
		q, err := Parse(again)
		if err != nil || q.Resource != p.Resource || !q.Expires.Equal(p.Expires) || !q.NotBefore.Equal(p.NotBefore) || q.SourceIP != p.SourceIP {
			t.Fatalf("round trip changed the policy: %+v → %+v (%v)", p, q, err)
		}
	})
}

func mustIP(s string) (p netip.Prefix) {
	p, err := ParseIP(s)
	if err != nil {
		panic(err)
	}
	return p
}
