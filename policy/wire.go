package policy

// CloudFront's signing parameters in a signed URL's query.
const (
	ParamExpires   = "Expires"        // canned policy: the expiry, Unix seconds
	ParamPolicy    = "Policy"         // custom policy: the policy, CloudFront base64
	ParamSignature = "Signature"      // the signature, CloudFront base64
	ParamKeyPairID = "Key-Pair-Id"    // the CloudFront public key ID
	ParamHash      = "Hash-Algorithm" // SHA256; absent means SHA1
)

// CloudFront's signed-cookie names, the same five values as cookies.
const (
	CookieExpires   = "CloudFront-Expires"
	CookiePolicy    = "CloudFront-Policy"
	CookieSignature = "CloudFront-Signature"
	CookieKeyPairID = "CloudFront-Key-Pair-Id"
	CookieHash      = "CloudFront-Hash-Algorithm"
)

// ReservedQueryNames are the query parameter names CloudFront uses for
// signing. A caller's own query string must not use them.
var ReservedQueryNames = []string{ParamExpires, ParamPolicy, ParamSignature, ParamKeyPairID, ParamHash}
