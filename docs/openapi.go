// Package docs holds documents the programs serve: the issuer's OpenAPI
// description, embedded so that the binary serves exactly the file in the
// repository.
package docs

import _ "embed"

// OpenAPI is docs/openapi.json, the issuer HTTP API's OpenAPI 3.1
// description, served at /openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte
