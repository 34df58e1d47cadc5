// Package securitytest is the reliability and security suite of cfissuer
// (issue 10): it holds no code of its own, only tests that drive the real
// service (issuer, HTTP API, key sources) and check it from outside.
//
//   - TestScopeProperty: generated callers and requests, every credential
//     checked by internal/scopemodel, a model that imports nothing of this
//     module.
//   - TestBadInput: malformed requests through a listening server, each a
//     4xx that names the problem.
//   - TestNoSecretsInLogs: every endpoint at debug level, logs and error
//     responses scanned for key material, API keys, signatures, policies and
//     cookie values.
//   - TestKeySourceTimeouts: KMS and Secrets Manager endpoints that never
//     answer.
//   - TestLoad, TestAbuse: a bounded loopback load with figures, and
//     burst and unauthenticated traffic.
//
// `go test` runs the short form; `-soak` (make soak) runs 100,000 scope
// cases and a 60 s load, and prints the figures at the end.
package securitytest
