// Package httpapi is the issuer's HTTP API (docs/openapi.json): a
// gorilla/mux router over an issuer.Issuer, with API-key authentication,
// per-caller rate limits, one error→status table, Prometheus metrics and
// graceful shutdown. It is the only package that imports gorilla/mux.
//
// Routes: POST /v1/urls (one or a batch), POST and DELETE /v1/cookies, GET
// /v1/redirect, POST /v1/explain (the edge verifier's verdict), GET /v1/keys,
// /healthz, /readyz, /metrics and /openapi.json; with LinkOptions, permanent
// links: POST /v1/links, GET and DELETE /v1/links/{id}, and GET /l/{token},
// which needs no API key, is rate-limited per client IP and answers 303 to
// a fresh signed URL or a plain 404/410 page. With Options.Deny, callers
// with Revoke may POST /v1/grants/{id}/revoke and /v1/subjects/{id}/revoke
// (subjects are namespaced by caller ID). Every status comes from
// errorTable in errors.go.
//
// A Server is safe for concurrent use. Open listens and serves (port 0
// works); Close shuts down, letting in-flight requests finish.
package httpapi
