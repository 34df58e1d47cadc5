package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"time"

	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/edge/cffunc"
	"github.com/cfissuer/cfissuer/internal/denylist"
	"github.com/cfissuer/cfissuer/terraform/functions"
)

// RevocationConfig configures the grant deny-list (ServeConfig.Revocation)
// that POST /v1/grants/{id}/revoke and /v1/subjects/{id}/revoke write to,
// for callers with revoke: true. Revocation is off without a store:
//
//	revocation:
//	  store: kvs                    # kvs or memory [off]
//	  kvs_arn: arn:aws:cloudfront::123456789012:key-value-store/…  # Terraform's revocation_kvs_arn output [required for kvs]
//	  endpoint: https://…           # the KeyValueStore API endpoint (an emulator in tests) [aws.endpoint, else the SDK's]
//
// kvs writes to the CloudFront KeyValueStore that the distribution's
// viewer-request function reads (docs/REVOCATION.md), through the aws
// section's configuration chain; the role needs
// cloudfront-keyvaluestore:DescribeKeyValueStore, ListKeys and UpdateKeys
// on that store only. memory keeps entries in this process, where the
// local edge (--edge, and --dev) reads them: for development and tests.
// Read at start only (a reload does not change it).
type RevocationConfig struct {
	Store    string `yaml:"store,omitempty"`
	KVSARN   string `yaml:"kvs_arn,omitempty"`
	Endpoint string `yaml:"endpoint,omitempty"`
}

// Deny-list store kinds.
const (
	denyStoreMemory = "memory"
	denyStoreKVS    = "kvs"
)

var kvsARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:cloudfront::[0-9]{12}:key-value-store/[0-9a-f-]{36}$`)

func (c *RevocationConfig) validate() error {
	switch c.Store {
	case "":
		if c.KVSARN != "" || c.Endpoint != "" {
			return &ServeConfigError{"revocation.store", "is required (kvs or memory) when kvs_arn or endpoint is set"}
		}
	case denyStoreMemory:
		if c.KVSARN != "" {
			return &ServeConfigError{"revocation.kvs_arn", "applies to store: kvs only"}
		}
	case denyStoreKVS:
		if !kvsARNRE.MatchString(c.KVSARN) {
			return &ServeConfigError{"revocation.kvs_arn", fmt.Sprintf("%q is not a KeyValueStore ARN (arn:aws:cloudfront::ACCOUNT:key-value-store/ID, Terraform's revocation_kvs_arn output)", c.KVSARN)}
		}
	default:
		return &ServeConfigError{"revocation.store", fmt.Sprintf("must be kvs or memory, not %q", c.Store)}
	}
	return nil
}

// denyList opens the configured store and returns the deny list over it,
// and the store itself when it is in memory (for the local edge's
// function to read); both nil when revocation is off.
func (c *ServeConfig) denyList(ctx context.Context, now func() time.Time, logger *slog.Logger) (*denylist.List, *denylist.Memory, error) {
	rc := c.Revocation
	var store denylist.Store
	var mem *denylist.Memory
	switch rc.Store {
	case "":
		return nil, nil, nil
	case denyStoreMemory:
		mem = denylist.NewMemory()
		store = mem
	case denyStoreKVS:
		cfg, err := (&awsClients{}).config(ctx, c.AWS)
		if err != nil {
			return nil, nil, err
		}
		var opts []func(*kvs.Options)
		if ep := cmp.Or(rc.Endpoint, c.AWS.Endpoint); ep != "" {
			opts = append(opts, denylist.WithEndpoint(ep))
		}
		if store, err = denylist.NewKVS(kvs.NewFromConfig(cfg, opts...), rc.KVSARN); err != nil {
			return nil, nil, fmt.Errorf("config: revocation: %w", err)
		}
	}
	l, err := denylist.New(store, denylist.Options{Now: now, Logger: logger})
	if err != nil {
		return nil, nil, fmt.Errorf("config: revocation: %w", err)
	}
	return l, mem, nil
}

// denyFunction returns the local edge's viewer-request hook: the Terraform
// module's deny-list function (terraform/functions/deny.js) run over the
// in-memory store the issuer writes, on the edge's clock; nil when the
// store is nil (revocation off, or a KeyValueStore the local edge cannot
// read).
func denyFunction(deny *denylist.Memory, now func() time.Time) (func(context.Context, edge.Request) (*edge.FunctionResponse, error), error) {
	if deny == nil {
		return nil, nil
	}
	fn, err := cffunc.New(functions.Deny, deny, cffunc.Options{Now: now})
	if err != nil {
		return nil, err
	}
	return fn.ViewerRequest, nil
}

// printRevokeHints prints a revocation round trip for make run: a URL for a
// subject fetched through the edge (200), its grant revoked, fetched again
// (403).
func printRevokeHints(w io.Writer, auth, api, edgeURL string) {
	fmt.Fprintf(w, "\n# 5. Revoke a grant before it expires: the same URL answers 403 at the edge on the next request:\n")
	fmt.Fprintf(w, "r=$(curl -s %s -d '{\"path\":\"/ebooks/intro.pdf\",\"subject\":\"user-42\"}' %s/v1/urls); g=$(echo \"$r\" | sed -E 's|.*\"grant_id\":\"([^\"]*)\".*|\\1|'); p=$(echo \"$r\" | sed -E 's|.*\"url\":\"https?://[^/]*([^\"]*)\".*|\\1|')\n", auth, api)
	fmt.Fprintf(w, "curl -si \"%s$p\" | head -n 1; curl -s %s -X POST %s/v1/grants/$g/revoke; curl -si \"%s$p\" | head -n 1\n", edgeURL, auth, api, edgeURL)
	fmt.Fprintf(w, "curl -s %s -X POST %s/v1/subjects/user-42/revoke   # everything issued for user-42\n", auth, api)
}
