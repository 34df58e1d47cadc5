package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/cfissuer/cfissuer/internal/httpapi"
	"github.com/cfissuer/cfissuer/internal/links"
)

// LinksConfig configures permanent links (ServeConfig.Links). Links are on
// when keys are given:
//
//	links:
//	  base_url: https://issuer.example.com  # links are <base_url>/l/{token} [the minting request's Host]
//	  store: file                   # file or dynamodb [file]
//	  state_dir: /var/lib/cfissuer  # file store: the folder of links.json [required for file]
//	  table: cfissuer-links         # dynamodb: the table (partition key "id", TTL on "expires_ttl") [required for dynamodb]
//	  default_ttl: 2160h            # lifetime of a link minted without expires_at [90 days]
//	  max_ttl: 8784h                # longest lifetime [366 days]
//	  rate: 2                       # follows per second per client IP [2]
//	  burst: 20                     # [20]
//	  client_ip_header: X-Forwarded-For  # only behind a proxy that sets it [none: the peer address]
//	  keys:                         # the first mints, all verify; base64 secrets of >= 32 bytes
//	    - {id: l2, file: /run/secrets/link-key-2}   # or env: LINK_KEY_2
//	    - {id: l1, env: LINK_KEY_1}  # a retired key: remove it max_ttl after it stopped minting
//
// DynamoDB is reached through the aws section's configuration chain.
type LinksConfig struct {
	BaseURL        string          `yaml:"base_url,omitempty"`
	Store          string          `yaml:"store,omitempty"`
	StateDir       string          `yaml:"state_dir,omitempty"`
	Table          string          `yaml:"table,omitempty"`
	DefaultTTL     Duration        `yaml:"default_ttl,omitempty"`
	MaxTTL         Duration        `yaml:"max_ttl,omitempty"`
	Rate           float64         `yaml:"rate,omitempty"`
	Burst          int             `yaml:"burst,omitempty"`
	ClientIPHeader string          `yaml:"client_ip_header,omitempty"`
	Keys           []LinkKeyConfig `yaml:"keys,omitempty"`
}

// LinkKeyConfig is one link key: its ID and where its secret is.
type LinkKeyConfig struct {
	ID   string `yaml:"id"`
	File string `yaml:"file,omitempty"`
	Env  string `yaml:"env,omitempty"`
}

// Link store kinds.
const (
	linkStoreFile     = "file"
	linkStoreDynamoDB = "dynamodb"
)

func (c *LinksConfig) validate() error {
	if len(c.Keys) == 0 {
		if c.Store != "" || c.Table != "" || c.StateDir != "" || c.BaseURL != "" {
			return &ServeConfigError{"links.keys", "at least one link key is required to turn links on"}
		}
		return nil
	}
	switch c.Store {
	case "", linkStoreFile:
		if c.StateDir == "" {
			return &ServeConfigError{"links.state_dir", "is required for the file store (the folder that keeps links.json)"}
		}
	case linkStoreDynamoDB:
		if c.Table == "" {
			return &ServeConfigError{"links.table", "is required for the dynamodb store"}
		}
	default:
		return &ServeConfigError{"links.store", fmt.Sprintf("must be file or dynamodb, not %q", c.Store)}
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return &ServeConfigError{"links.base_url", fmt.Sprintf("%q is not an http(s) URL such as https://issuer.example.com", c.BaseURL)}
		}
	}
	if c.DefaultTTL < 0 || c.MaxTTL < 0 || c.Rate < 0 || c.Burst < 0 {
		return &ServeConfigError{"links", "default_ttl, max_ttl, rate and burst must not be negative"}
	}
	ids := map[string]int{}
	for i, k := range c.Keys {
		f := fmt.Sprintf("links.keys[%d]", i)
		if _, err := links.NewKey(k.ID, make([]byte, links.MinKeyBytes)); err != nil {
			return &ServeConfigError{f + ".id", fmt.Sprintf("%q must be 1-32 letters, digits, '_' or '-'", k.ID)}
		}
		if j, dup := ids[k.ID]; dup {
			return &ServeConfigError{f + ".id", fmt.Sprintf("%s is already links.keys[%d]", k.ID, j)}
		}
		ids[k.ID] = i
		if (k.File == "") == (k.Env == "") {
			return &ServeConfigError{f, "give exactly one of file and env"}
		}
		if err := checkName(f+".file", k.File); err != nil {
			return err
		}
		if err := checkName(f+".env", k.Env); err != nil {
			return err
		}
	}
	return nil
}

// linkOptions loads the link keys, opens the store and returns the
// server's LinkOptions; links off
// gives the zero LinkOptions.
func (c *ServeConfig) linkOptions(ctx context.Context, base string, now func() time.Time, logger *slog.Logger) (httpapi.LinkOptions, error) {
	lc := c.Links
	if len(lc.Keys) == 0 {
		return httpapi.LinkOptions{}, nil
	}
	var ks []links.Key
	for i, k := range lc.Keys {
		var src links.KeySource = links.KeyFile{ID: k.ID, Path: resolvePath(base, k.File)}
		if k.Env != "" {
			src = links.KeyEnv{ID: k.ID, Name: k.Env}
		}
		key, err := src.Load(ctx)
		if err != nil {
			return httpapi.LinkOptions{}, fmt.Errorf("config: links.keys[%d]: %w", i, err)
		}
		ks = append(ks, key)
	}
	ring, err := links.NewKeyring(ks...)
	if err != nil {
		return httpapi.LinkOptions{}, fmt.Errorf("config: links.keys: %w", err)
	}
	var store links.Store
	switch lc.Store {
	case linkStoreDynamoDB:
		cfg, err := (&awsClients{}).config(ctx, c.AWS)
		if err != nil {
			return httpapi.LinkOptions{}, err
		}
		store, err = links.NewDynamoDBStore(dynamodb.NewFromConfig(cfg), lc.Table, links.DynamoDBOptions{})
		if err != nil {
			return httpapi.LinkOptions{}, err
		}
	default:
		store, err = links.OpenFileStore(resolvePath(base, lc.StateDir), links.FileOptions{Now: now})
		if err != nil {
			return httpapi.LinkOptions{}, fmt.Errorf("config: links.state_dir: %w; point links.state_dir at a folder this user can create and write", err)
		}
	}
	m, err := links.New(ring, store, links.Options{Now: now, Logger: logger, DefaultTTL: time.Duration(lc.DefaultTTL), MaxTTL: time.Duration(lc.MaxTTL)})
	if err != nil {
		return httpapi.LinkOptions{}, fmt.Errorf("config: links: %w", err)
	}
	return httpapi.LinkOptions{Manager: m, Base: lc.BaseURL, Rate: lc.Rate, Burst: lc.Burst, ClientIPHeader: lc.ClientIPHeader}, nil
}

// devLinks makes the dev link key once (state/dev-link-key, 0600) and
// returns a links config with the file store in the state folder.
func devLinks(state string) (LinksConfig, error) {
	path := filepath.Join(state, "dev-link-key")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := writeFileAtomic(path, links.GenerateKey(), 0o600); err != nil {
			return LinksConfig{}, fmt.Errorf("dev link key: %w", err)
		}
	} else if err != nil {
		return LinksConfig{}, err
	}
	abs, err := filepath.Abs(state)
	if err != nil {
		return LinksConfig{}, err
	}
	return LinksConfig{StateDir: abs, Keys: []LinkKeyConfig{{ID: "dev", File: filepath.Join(abs, "dev-link-key")}}}, nil
}

// printLinkHints prints the permanent-link round trip for make run.
func printLinkHints(w io.Writer, auth, api string) {
	fmt.Fprintf(w, "\n# 4. A permanent link: mint it, follow it (303 to a fresh signed URL), revoke it, follow again (410):\n")
	fmt.Fprintf(w, "r=$(curl -s %s -d '{\"path\":\"/ebooks/intro.pdf\",\"note\":\"demo\"}' %s/v1/links); l=$(echo \"$r\" | sed -E 's|.*\"link\":\"([^\"]*)\".*|\\1|'); id=$(echo \"$r\" | sed -E 's|.*\"id\":\"([^\"]*)\".*|\\1|')\n", auth, api)
	fmt.Fprintf(w, "curl -si \"$l\" | head -n 4; curl -s %s -X DELETE %s/v1/links/$id; curl -si \"$l\" | head -n 1\n", auth, api)
}
