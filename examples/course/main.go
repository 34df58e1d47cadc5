// Command course is journey 1 of cfissuer: a video course over HLS with
// signed cookies. A student signs in (a fake login), opens a lesson, and the
// app asks cfissuer for cookies scoped to /courses/<id>/ (a custom policy
// with a wildcard, so the master playlist, both renditions and every
// segment are covered) and relays them to the browser for the media domain.
// The lesson page plays the stream through the edge with hls.js, refreshes
// the cookies before they expire (the issuer's refresh_after), retries a
// request refused with 403 once after a refresh, and signs out by clearing
// them.
//
//	make example-course     # local issuer, edge and content; prints how to open it
//	go run ./course -issuer https://issuer.internal -api-key-file key -media https://media.example.com
package main

import (
	"net/http"

	"github.com/cfissuer/cfissuer/examples/internal/webapp"
)

func main() {
	webapp.Main("course", func(env webapp.Env) (http.Handler, error) {
		return newApp(env, "web/node_modules/hls.js/dist/hls.min.js")
	})
}
