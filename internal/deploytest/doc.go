// Package deploytest tests cfissuer as it is deployed: the exact static
// binary the Dockerfile and the Lambda package build (`make static`, built
// once in TestMain), run as separate processes on 127.0.0.1. It checks the
// Dockerfile's shape, that the binary is static and writes nothing (so a
// read-only root file system holds it), the Kubernetes example's config,
// Lambda mode against a Runtime API served by the test, and three replicas
// with one key source and one DynamoDB table (moto) behind a round-robin
// client. No container engine runs here: the image itself is not built.
//
// The package has tests only.
package deploytest
