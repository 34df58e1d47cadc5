// Package functions embeds the CloudFront Functions that the Terraform module
// ships, so that the local edge (edge/cffunc) runs the very bytes Terraform
// uploads with file(). It holds no code besides the embedding; reading the
// variables is safe for concurrent use.
package functions

import _ "embed"

// Deny is the source of deny.js: the grant deny-list function
// (cloudfront-js-2.0, viewer request), read by the module as
// file("${path.module}/functions/deny.js").
//
//go:embed deny.js
var Deny string

// MaxSize is CloudFront's limit on a function's code, in bytes (the
// CloudFront Functions quotas: 10 KB).
const MaxSize = 10 * 1024
