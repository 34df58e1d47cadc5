// Package policy builds, encodes and decodes CloudFront policies, and owns
// the behaviors contract that the issuer, the edge, the Terraform module and
// the tests share.
//
// The package is pure: no I/O beyond an io.Reader handed to it, no clock
// (every function that needs the time takes now), no logging.
//
// # Policies
//
// A Policy is the single statement CloudFront checks. Marshal returns its
// exact bytes: for a canned policy the bytes CloudFront rebuilds from the
// request, for a custom policy compact JSON with the AWS SDK for Go's
// condition order. EncodeBase64 and DecodeBase64 implement CloudFront's
// base64 ('+' → '-', '=' → '_', '/' → '~', padding kept). Decode and Parse read
// a received custom policy strictly, as a verifier must.
//
// # Resources and encoding
//
// EncodeKey turns an S3 object key into the percent-encoded path a browser
// requests. CanonicalURL validates a URL that is already encoded and leaves
// its encoding alone; CanonicalResource does the same for custom-policy
// resources, which may hold the wildcards '*' and '?'. Glob matches a
// resource against a URL with CloudFront's wildcard rules.
//
// # Behaviors
//
// Behaviors is the behaviors file (JSON Schema in
// docs/behaviors.schema.json): the viewer origin, the trusted key IDs and
// the cache behaviors in order, the last one being the default "*".
// ParseBehaviors fills in the defaults of PRODUCT.md's table and validates,
// returning a *FieldError that names the field. Match picks a behavior for a
// path as CloudFront does (first match wins); Cover decides whether a
// resource, or every path a wildcard resource can match, falls under one
// signed behavior, so the issuer never signs what CloudFront would not check.
//
// # Expiry windows
//
// Expiry aligns an expiry to a window: expires = ceil((now+V)/W)·W, so all
// grants in a window share one expiry, one policy and one signature.
//
// # Concurrency and errors
//
// All functions are safe for concurrent use; a *Behaviors is read-only after
// ParseBehaviors. Errors wrap exported sentinels (ErrCannedWildcard, ErrIPv6,
// ErrReservedQuery, ErrDotSegment, ErrNotCovered, …) or are typed
// (*FieldError, *MalformedError, *CoverError): use errors.Is and errors.As.
package policy
