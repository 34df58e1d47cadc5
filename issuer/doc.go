// Package issuer signs CloudFront URLs and cookies.
//
// SignURL and SignCookies take a keys.Signer and a request (the URL or
// resource, the expiry, optional conditions, the hash) and return the
// signed URL or the cookies with the policy they carry. They choose a
// canned policy when one suffices and a custom one otherwise, refuse a
// wildcard where CloudFront could only answer 403, validate the resource
// with the policy package's canonical encoder, and check the results against
// CloudFront's URL and browsers' cookie size limits.
//
// Keys: RSA (SHA-1 by default, or SHA-256) and ECDSA (SHA-256 only). With
// SHA-256, URLs carry Hash-Algorithm=SHA256 and cookies a
// CloudFront-Hash-Algorithm cookie; CloudFront reads SHA-1 when they are
// absent. RSA-SHA1 signatures from in-memory keys are produced by the AWS SDK
// for Go's feature/cloudfront/sign package over the same policy bytes.
//
// The functions are safe for concurrent use. Errors wrap ErrECDSASHA1,
// ErrResourceMismatch, ErrNoURL and ErrNoSigner, or the policy and keys
// packages' sentinels (policy.ErrCannedWildcard, policy.ErrReservedQuery,
// policy.ErrTooLarge, keys.ErrUnsupportedHash, …): test with errors.Is. No
// error holds a signature, a policy or key material.
package issuer
