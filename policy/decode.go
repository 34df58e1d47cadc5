package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// MalformedError is returned by Parse and Decode when a received policy is
// not one CloudFront would accept (CloudFront answers such a request with
// 403 MalformedPolicy). Reason says what is wrong, for a person debugging it;
// it never holds the policy itself.
type MalformedError struct {
	Reason string
}

func (e *MalformedError) Error() string { return "policy: malformed policy: " + e.Reason }

func malformed(format string, a ...any) error {
	return &MalformedError{Reason: fmt.Sprintf(format, a...)}
}

// Decode decodes a received Policy query parameter or CloudFront-Policy
// cookie value. It returns the parsed policy and the exact JSON bytes the
// signature must cover: a verifier checks the signature over those bytes as
// received, never over a re-encoding.
func Decode(value string) (Policy, []byte, error) {
	raw, err := DecodeBase64(value)
	if err != nil {
		return Policy{}, nil, &MalformedError{Reason: "the value is not CloudFront base64"}
	}
	p, err := Parse(raw)
	return p, raw, err
}

// Parse parses custom-policy JSON strictly: exactly one Statement, only the
// keys CloudFront documents (Resource, Condition, DateLessThan,
// DateGreaterThan, IpAddress, AWS:EpochTime, AWS:SourceIp), no duplicate
// keys, DateLessThan present, epoch times as integers within MaxEpoch, and an
// IPv4 address or CIDR range in AWS:SourceIp. Condition keys may come in any
// order; insignificant whitespace is allowed. The returned policy has Kind
// Custom and an empty Resource when the statement has none.
func Parse(data []byte) (Policy, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var p Policy
	p.Kind = Custom
	seenStatement := false
	err := object(d, "the policy", func(key string) error {
		if key != "Statement" {
			return malformed("unknown top-level key %q", key)
		}
		seenStatement = true
		if err := delim(d, '[', "Statement"); err != nil {
			return err
		}
		if !d.More() {
			return malformed("Statement is empty; it must hold exactly one statement")
		}
		if err := statement(d, &p); err != nil {
			return err
		}
		if d.More() {
			return malformed("Statement holds more than one statement; CloudFront allows exactly one")
		}
		return delim(d, ']', "Statement")
	})
	if err != nil {
		return Policy{}, err
	}
	if _, err := d.Token(); err != io.EOF {
		return Policy{}, malformed("trailing data after the policy object")
	}
	if !seenStatement {
		return Policy{}, malformed("no Statement")
	}
	if p.Expires.IsZero() {
		return Policy{}, malformed("no Condition.DateLessThan; it is required")
	}
	return p, nil
}

func statement(d *json.Decoder, p *Policy) error {
	seenCondition := false
	err := object(d, "the statement", func(key string) error {
		switch key {
		case "Resource":
			s, err := str(d, "Resource")
			if err != nil {
				return err
			}
			if s == "" {
				return malformed("Resource is empty")
			}
			p.Resource = s
			return nil
		case "Condition":
			seenCondition = true
			return condition(d, p)
		default:
			return malformed("unknown statement key %q", key)
		}
	})
	if err != nil {
		return err
	}
	if !seenCondition {
		return malformed("the statement has no Condition")
	}
	return nil
}

func condition(d *json.Decoder, p *Policy) error {
	return object(d, "Condition", func(key string) error {
		switch key {
		case "DateLessThan", "DateGreaterThan":
			var t time.Time
			err := object(d, key, func(k string) error {
				if k != "AWS:EpochTime" {
					return malformed("unknown key %q in %s", k, key)
				}
				var err error
				t, err = epoch(d, key)
				return err
			})
			if err != nil {
				return err
			}
			if t.IsZero() {
				return malformed("%s has no AWS:EpochTime", key)
			}
			if key == "DateLessThan" {
				p.Expires = t
			} else {
				p.NotBefore = t
			}
			return nil
		case "IpAddress":
			seen := false
			err := object(d, key, func(k string) error {
				if k != "AWS:SourceIp" {
					return malformed("unknown key %q in IpAddress", k)
				}
				seen = true
				s, err := str(d, "AWS:SourceIp")
				if err != nil {
					return err
				}
				pfx, err := ParseIP(s)
				if err != nil {
					if errors.Is(err, ErrIPv6) {
						return malformed("AWS:SourceIp %q is IPv6; CloudFront accepts IPv4 only", s)
					}
					return malformed("AWS:SourceIp %q is not an IPv4 address or CIDR range", s)
				}
				p.SourceIP = pfx
				return nil
			})
			if err != nil {
				return err
			}
			if !seen {
				return malformed("IpAddress has no AWS:SourceIp")
			}
			return nil
		default:
			return malformed("unknown condition %q", key)
		}
	})
}

// object reads a JSON object, calling fn for each key with the decoder
// positioned at its value; duplicate keys are malformed.
func object(d *json.Decoder, what string, fn func(key string) error) error {
	if err := delim(d, '{', what); err != nil {
		return err
	}
	seen := make(map[string]bool, 4)
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return malformed("invalid JSON in %s", what)
		}
		key, _ := tok.(string)
		if seen[key] {
			return malformed("duplicate key %q in %s", key, what)
		}
		seen[key] = true
		if err := fn(key); err != nil {
			return err
		}
	}
	return delim(d, '}', what)
}

func delim(d *json.Decoder, want json.Delim, what string) error {
	tok, err := d.Token()
	if err != nil {
		return malformed("invalid JSON in %s", what)
	}
	if got, ok := tok.(json.Delim); !ok || got != want {
		return malformed("%s: expected %q", what, string(want))
	}
	return nil
}

func str(d *json.Decoder, what string) (string, error) {
	tok, err := d.Token()
	if err != nil {
		return "", malformed("invalid JSON in %s", what)
	}
	s, ok := tok.(string)
	if !ok {
		return "", malformed("%s is not a string", what)
	}
	return s, nil
}

func epoch(d *json.Decoder, what string) (time.Time, error) {
	tok, err := d.Token()
	if err != nil {
		return time.Time{}, malformed("invalid JSON in %s", what)
	}
	n, ok := tok.(json.Number)
	if !ok {
		return time.Time{}, malformed("%s AWS:EpochTime is not a number", what)
	}
	v, err := n.Int64()
	if err != nil {
		return time.Time{}, malformed("%s AWS:EpochTime %s is not a whole number of seconds", what, n)
	}
	if v < 1 || v > MaxEpoch {
		return time.Time{}, malformed("%s AWS:EpochTime %d is outside 1..%d (milliseconds instead of seconds?)", what, v, MaxEpoch)
	}
	return time.Unix(v, 0).UTC(), nil
}
