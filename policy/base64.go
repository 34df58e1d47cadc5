package policy

import (
	"encoding/base64"
	"errors"
	"strings"
)

// ErrBase64 is returned when a Policy or Signature value is not in
// CloudFront's base64 alphabet.
var ErrBase64 = errors.New("policy: not CloudFront base64")

// EncodeBase64 returns b in the encoding CloudFront uses for the Policy and
// Signature values: standard base64 (RFC 2045) with padding, then '+' → '-',
// '=' → '_' and '/' → '~'. It is not base64url.
func EncodeBase64(b []byte) string {
	return string(AppendBase64(nil, b))
}

// AppendBase64 appends the CloudFront base64 encoding of src to dst.
func AppendBase64(dst, src []byte) []byte {
	n := len(dst)
	dst = base64.StdEncoding.AppendEncode(dst, src)
	for i := n; i < len(dst); i++ {
		switch dst[i] {
		case '+':
			dst[i] = '-'
		case '=':
			dst[i] = '_'
		case '/':
			dst[i] = '~'
		}
	}
	return dst
}

var cfReplacer = strings.NewReplacer("-", "+", "_", "=", "~", "/")

// DecodeBase64 reverses EncodeBase64. Like CloudFront, it is strict: the
// standard alphabet characters '+', '/' and '=' are refused (they mean the
// value was not substituted, or was decoded by something on the way), and so
// are missing padding and whitespace.
func DecodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "+/=\r\n \t") {
		return nil, ErrBase64
	}
	b, err := base64.StdEncoding.Strict().DecodeString(cfReplacer.Replace(s))
	if err != nil {
		return nil, ErrBase64
	}
	return b, nil
}
