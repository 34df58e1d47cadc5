package policy

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Grant identity, for revocation at the edge (terraform/functions/deny.js).
// Every ID below is carried by something CloudFront's signature covers, so a
// viewer cannot change it without losing access:
//
//   - a signed URL carries ParamGrant ("gid") in its query, inside the
//     signed resource: gid=<URL grant ID>[.<subject key>];
//   - signed cookies are identified by their CloudFront-Signature (the
//     cookie grant ID is a hash of it), and a subject by the custom
//     policy's DateGreaterThan, set to the subject's tag: an instant before
//     2004 (1 to 2^30), which only ever lies in the past.
//
// The IDs are deterministic: the same request in the same window gets the
// same URL or cookies, so caches keep hitting. Grant IDs and subject keys
// are not secrets (they grant nothing).

// ParamGrant is the query parameter of a signed URL that carries its grant
// ID and, optionally, its subject key.
const ParamGrant = "gid"

// SubjectTagMax is the largest subject tag: a DateGreaterThan at or below
// it is read as a subject tag by the edge function.
const SubjectTagMax = 1 << 30

// SubjectTag returns the tag of a subject (a user or session ID), in
// [1, SubjectTagMax]. Tags of distinct subjects collide with probability
// 2^-30 per pair: revoking one would then deny both until the entry expires.
func SubjectTag(subject string) int64 {
	sum := sha256.Sum256([]byte("cfissuer subject\x00" + subject))
	return int64(binary.BigEndian.Uint32(sum[:4])%(SubjectTagMax-1)) + 1
}

// SubjectKey returns the deny-list key of a subject: "s" and its tag.
func SubjectKey(subject string) string { return SubjectTagKey(SubjectTag(subject)) }

// SubjectTagKey returns the deny-list key of a subject tag.
func SubjectTagKey(tag int64) string { return "s" + strconv.FormatInt(tag, 10) }

// SubjectNotBefore returns the DateGreaterThan that carries a subject's
// tag in a cookie policy.
func SubjectNotBefore(subject string) time.Time { return time.Unix(SubjectTag(subject), 0).UTC() }

// URLGrantID returns the grant ID of a signed URL: "g" and 20 hex digits
// (80 bits) of SHA-256 over the subject, the canonical URL (without the
// gid parameter) and the expiry.
func URLGrantID(subject, canonicalURL string, expires time.Time) string {
	// The hashed bytes are built in one buffer (on the stack for URLs of
	// usual length) and the ID in another: one allocation, the result.
	var buf [512]byte
	msg := append(buf[:0], "cfissuer grant\x00"...)
	msg = append(msg, subject...)
	msg = append(msg, 0)
	msg = append(msg, canonicalURL...)
	msg = append(msg, 0)
	msg = strconv.AppendInt(msg, expires.Unix(), 10)
	sum := sha256.Sum256(msg)
	var id [21]byte
	id[0] = 'g'
	hex.Encode(id[1:], sum[:10])
	return string(id[:])
}

// CookieGrantID returns the grant ID of a set of signed cookies: "c" and the
// first 20 hex digits of SHA-256 of the CloudFront-Signature cookie's value,
// as the edge function computes it. The hash reveals nothing of the
// signature.
func CookieGrantID(signatureCookie string) string {
	sum := sha256.Sum256([]byte(signatureCookie))
	return "c" + hex.EncodeToString(sum[:])[:20]
}

// GrantParamValue returns the gid value for a URL grant: the grant ID, then
// ".subject key" when there is a subject.
func GrantParamValue(grantID, subject string) string {
	if subject == "" {
		return grantID
	}
	return grantID + "." + SubjectKey(subject)
}

// IsDenyKey reports whether k has the form of a deny-list key: a grant ID
// ("g…", "c…") or a subject key ("s…"), lower-case letters and digits, 2 to
// 41 bytes, as the edge function accepts.
func IsDenyKey(k string) bool {
	if len(k) < 2 || len(k) > 41 || !strings.ContainsRune("gcs", rune(k[0])) {
		return false
	}
	for i := 1; i < len(k); i++ {
		if c := k[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}
