// Package edge is a local CloudFront edge: a verifier that decides signed
// URLs and cookies exactly as CloudFront documents (CLOUDFRONT.md §5, §6 and
// §8), and an HTTP server that puts it in front of content from a directory
// or an S3-compatible origin, so the whole product runs and is tested on one
// machine.
//
// # Verifier
//
//	v, err := edge.NewVerifier(behaviors, []edge.Key{{ID: "K2JCJMDEHXQW5F", Public: pub}}, edge.Options{})
//	d := v.Check(edge.Request{Scheme: "https", Host: "media.example.com", RawPath: "/ebooks/a.pdf",
//		RawQuery: "Expires=…&Signature=…&Key-Pair-Id=…", ClientIP: ip}, now)
//	if !d.Allowed() {
//		// d.Denial.Code is what CloudFront answers (MissingKey, InvalidKey,
//		// MalformedSignature, MalformedPolicy, AccessDenied);
//		// errors.Is(d.Denial, edge.ErrExpired) and d.Denial.Detail say why.
//	}
//
// Check routes the path to the first matching behavior; a public behavior
// is served without checks. Any of Expires, Policy, Signature or Key-Pair-Id
// in the query makes it a signed-URL request and cookies are ignored;
// otherwise the CloudFront-* cookies are checked. A canned policy is rebuilt
// from the request (scheme, host, raw path, raw query minus the signing
// parameters); a custom policy is verified over its bytes as received. RSA
// PKCS#1 v1.5 and ECDSA DER over SHA-1 or SHA-256 are accepted (ECDSA with
// either hash: which one CloudFront requires is unconfirmed). Conditions are
// checked on whole seconds with an optional clock skew (default none).
// Decision.Query is the query without the signing parameters, for the cache
// key and the origin request. Where CloudFront's behavior is unconfirmed the
// choice made is written next to the code that makes it (search for
// "unconfirmed"); the tests name each one.
//
// Verify is a one-shot NewVerifier and Check, for POST /v1/explain and the
// CLI.
//
// # Server
//
// NewServer wraps a Verifier and an Origin (DirOrigin over any fs.FS, the
// embedded sample content by default; or S3Origin, which signs its requests
// with SigV4 as Origin Access Control does) in an http.Handler that behaves
// like a distribution: 403s as CloudFront's XML, Cache-Control max-age from
// the behavior, an in-memory cache keyed like CloudFront's (path plus the
// behavior's cache_query_strings, never the signing parameters or cookies)
// that reports X-Cache hit or miss, Range, HEAD and conditional requests
// served from the cached object, and CORS headers for the behavior's
// cors_origins on every response, 403s included. Open listens (port 0
// works) and serves; Close shuts down gracefully. Config and ParseConfig
// read the edge's own configuration file (listen address, viewer origin,
// trusted keys, origin).
//
// # Concurrency and errors
//
// Verifier, Server and the origins are safe for concurrent use. A Denial
// wraps one of the Err… sentinels (ErrNoKeyPairID, ErrUnknownKey,
// ErrSignatureEncoding, ErrPolicyMalformed, ErrSignature, ErrWrongHash,
// ErrExpired, ErrNotYetValid, ErrIPMismatch, ErrResource, …): test with
// errors.Is, never on the message. NewVerifier's errors wrap ErrConfig, and
// configuration errors are *ConfigError. No error, Detail or log line holds a
// signature, an encoded policy or a cookie value; Decision.PolicyJSON is part
// of a credential and is meant for the person debugging only.
package edge
