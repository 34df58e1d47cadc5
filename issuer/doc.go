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
//
// # The service
//
// An Issuer (New(ring, behaviors, Options)) is what the HTTP API calls. For
// each request it finds the signed behavior that covers the resource
// (policy.Behaviors.Cover: a resource no signed behavior covers is
// refused), checks the caller's scope (behaviors, path prefixes, longest
// lifetime; a wildcard never widens beyond a prefix), takes the expiry from
// the behavior's window rule, picks a key from the keys.Ring that is active
// and outlives that expiry, and signs through SignURL or SignCookies with
// the picked key wrapped in an LRU signature cache keyed by (key ID, hash,
// exact policy bytes), so a repeat request in the same window gets the
// byte-identical credential without signing. Every issuance gets a grant
// ID, logged with the caller, behavior, resource, key ID and expiry.
// Callers authenticates API keys "id.secret" (SHA-256 of the secret,
// compared in constant time) and applies per-caller token buckets.
//
// An Issuer and Callers are safe for concurrent use; Update swaps the ring
// and behaviors at once (for reloads). Their errors wrap ErrUnknownBehavior,
// ErrBehaviorMismatch, ErrAccessMismatch, ErrOutOfScope, ErrLifetime,
// ErrUnauthenticated, ErrRateLimited (a *RateLimitError), keys.ErrNoActiveKey
// or the policy package's coverage errors; bad request input is an
// *InputError naming the field.
package issuer
