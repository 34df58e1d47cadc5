package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/cfissuer/cfissuer/internal/httpapi"
	"github.com/cfissuer/cfissuer/internal/lambdahttp"
)

// ssmPrefix marks an environment variable's value as an SSM parameter in
// Lambda ("ssm:/cfissuer/prod/config:3", a name with an optional version),
// where the function's package holds only the binary.
const ssmPrefix = "ssm:"

// lambdaDocs are the variables whose parameters are documents, fetched into
// files; any other variable gets the parameter's value.
var lambdaDocs = map[string]bool{"CFISSUER_CONFIG": true, "CFISSUER_BEHAVIORS": true}

// lambdaEnv prepares `cfissuer serve` in a Lambda execution environment.
// Every variable of environ whose value is "ssm:NAME" is fetched once (the
// SDK's configuration chain: the function's role, and AWS_ENDPOINT_URL in
// tests; SecureString parameters decrypted): CFISSUER_CONFIG and
// CFISSUER_BEHAVIORS into files under dir, the returned env answering with
// their paths, and any other variable (a link key's env, say) replaced by
// the value itself in the process environment, which it never leaves.
func lambdaEnv(ctx context.Context, e *env, environ []string, dir string) (*env, error) {
	values := map[string]string{}
	var client *ssm.Client
	for _, kv := range environ {
		name, v, _ := strings.Cut(kv, "=")
		ref, ok := strings.CutPrefix(v, ssmPrefix)
		if !ok || e.getenv(name) != v {
			continue
		}
		if client == nil {
			cfg, err := awsconfig.LoadDefaultConfig(ctx)
			if err != nil {
				return nil, fmt.Errorf("%s: aws configuration: %w", name, err)
			}
			client = ssm.NewFromConfig(cfg)
		}
		out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(ref), WithDecryption: aws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("%s: ssm parameter %s: %w", name, ref, err)
		}
		if out.Parameter == nil || out.Parameter.Value == nil {
			return nil, fmt.Errorf("%s: ssm parameter %s has no value", name, ref)
		}
		values[name] = *out.Parameter.Value
		if !lambdaDocs[name] {
			// Key sources read their variable from the process environment
			// (keys.Env, links.KeyEnv), so it is replaced there, once, before
			// anything else runs.
			if err := os.Setenv(name, *out.Parameter.Value); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		if lambdaDocs[name] {
			path := filepath.Join(dir, strings.ToLower(strings.TrimPrefix(name, "CFISSUER_"))+".json")
			if err := writeFileAtomic(path, []byte(*out.Parameter.Value), 0o600); err != nil {
				return nil, err
			}
			values[name] = path
		}
	}
	if len(values) == 0 {
		return e, nil
	}
	le := *e
	le.getenv = func(k string) string {
		if v, ok := values[k]; ok {
			return v
		}
		return e.getenv(k)
	}
	return &le, nil
}

// lambdaDir is where lambdaEnv writes: /tmp is the only writable folder of
// a Lambda execution environment.
func lambdaDir() (string, error) {
	return os.MkdirTemp("", "cfissuer-")
}

// serveLambda serves the issuer's router to Lambda's Runtime API until the
// execution environment ends; keys and config were loaded once, before.
// lambda.StartWithOptions does not return.
func serveLambda(ctx context.Context, srv *httpapi.Server, logger *slog.Logger) error {
	h, err := lambdahttp.New(srv.Handler())
	if err != nil {
		return err
	}
	logger.Info("issuer serving Lambda events", slog.String(logKeyWhat, "function URL or API Gateway HTTP API"))
	lambda.StartWithOptions(h.Invoke, lambda.WithContext(ctx))
	return nil
}
