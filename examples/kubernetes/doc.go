// Package kubernetes holds the example Kubernetes manifests for cfissuer
// (cfissuer.yaml) and their offline check: every document decodes strictly
// into its Kubernetes API type (k8s.io/api, pinned in this module's go.mod),
// so an unknown or misspelt field, a wrong type or an unknown kind fails,
// and the objects agree with each other (selectors, volumes, probes). It is
// a module of its own so that the issuer's module does not carry the
// Kubernetes API types; `make test` runs it.
package kubernetes
