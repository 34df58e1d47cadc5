package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// AWSConfig selects how the AWS key sources reach AWS: the SDK's standard
// configuration chain (environment, shared config and credentials files,
// IMDS or ECS roles), with an optional region, profile and an endpoint
// override for tests against an emulator.
type AWSConfig struct {
	Region   string `yaml:"region,omitempty"`
	Profile  string `yaml:"profile,omitempty"`
	Endpoint string `yaml:"endpoint,omitempty"`
}

// SecretsManagerKeyConfig is a key in AWS Secrets Manager.
type SecretsManagerKeyConfig struct {
	SecretID     string `yaml:"secret_id"`
	VersionStage string `yaml:"version_stage,omitempty"`
	JSONField    string `yaml:"json_field,omitempty"`
}

// SSMKeyConfig is a key in an SSM Parameter Store SecureString.
type SSMKeyConfig struct {
	Name string `yaml:"name"`
}

// KMSKeyConfig is an asymmetric AWS KMS key (ID, ARN, alias or alias ARN).
type KMSKeyConfig struct {
	Key string `yaml:"key"`
}

// validateSource checks that the key has exactly one source, complete.
func (k KeyConfig) validateSource(f string) error {
	for _, n := range []struct{ field, v string }{{"file", k.File}, {"env", k.Env}, {"passphrase_file", k.PassphraseFile}, {"passphrase_env", k.PassphraseEnv}} {
		if err := checkName(f+"."+n.field, n.v); err != nil {
			return err
		}
	}
	var set []string
	for name, on := range map[string]bool{"file": k.File != "", "env": k.Env != "", "secretsmanager": k.SecretsManager != nil, "ssm": k.SSM != nil, "kms": k.KMS != nil} {
		if on {
			set = append(set, name)
		}
	}
	if len(set) != 1 {
		return &ServeConfigError{f, fmt.Sprintf("give exactly one of file, env, secretsmanager, ssm and kms (got %d)", len(set))}
	}
	switch {
	case k.SecretsManager != nil && k.SecretsManager.SecretID == "":
		return &ServeConfigError{f + ".secretsmanager.secret_id", "is required"}
	case k.SSM != nil && k.SSM.Name == "":
		return &ServeConfigError{f + ".ssm.name", "is required"}
	case k.KMS != nil && k.KMS.Key == "":
		return &ServeConfigError{f + ".kms.key", "is required (key ID, ARN or alias/NAME)"}
	case k.KMS != nil && (k.PassphraseFile != "" || k.PassphraseEnv != ""):
		return &ServeConfigError{f, "a kms key has no passphrase: its private key never leaves KMS"}
	}
	return nil
}

// checkName refuses a file or variable name that holds key material
// instead (a PEM block pasted into file: or env:). Its error names the
// field and never the value: a load error would echo the name ("open
// -----BEGIN PRIVATE KEY-----…"), at start and in every reload log line.
func checkName(field, v string) error {
	if strings.ContainsAny(v, "\r\n") || strings.Contains(v, "-----") {
		return &ServeConfigError{field, "holds key material (several lines or a PEM block), not a name: put the key in a file or environment variable and give its name here (the value is not shown)"}
	}
	return nil
}

// awsClients builds the AWS clients once per Ring call, when a key needs
// them.
type awsClients struct {
	cfg *aws.Config
}

func (a *awsClients) config(ctx context.Context, c AWSConfig) (aws.Config, error) {
	if a.cfg != nil {
		return *a.cfg, nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(c.Profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("%w: aws configuration: %w", keys.ErrSource, err)
	}
	if c.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(c.Endpoint)
	}
	a.cfg = &cfg
	return cfg, nil
}

// source returns the key's source.
func (c *ServeConfig) source(ctx context.Context, k KeyConfig, base string, pass keys.Passphrase, a *awsClients) (keys.Source, error) {
	switch {
	case k.File != "":
		return keys.File{Path: resolvePath(base, k.File), KeyID: k.ID, Passphrase: pass}, nil
	case k.Env != "":
		return keys.Env{Name: k.Env, KeyID: k.ID, Passphrase: pass}, nil
	}
	cfg, err := a.config(ctx, c.AWS)
	if err != nil {
		return nil, err
	}
	switch {
	case k.SecretsManager != nil:
		sm := k.SecretsManager
		return keys.SecretsManager{Client: secretsmanager.NewFromConfig(cfg), SecretID: sm.SecretID, VersionStage: sm.VersionStage,
			JSONField: sm.JSONField, KeyID: k.ID, Passphrase: pass}, nil
	case k.SSM != nil:
		return keys.SSM{Client: ssm.NewFromConfig(cfg), Name: k.SSM.Name, KeyID: k.ID, Passphrase: pass}, nil
	case k.KMS != nil:
		return keys.KMS{Client: kms.NewFromConfig(cfg), KeyARN: k.KMS.Key, KeyID: k.ID}, nil
	}
	return nil, fmt.Errorf("no key source") // Validate rules this out
}

// sourceName describes where a key comes from, for logs and the plan.
func (k KeyConfig) sourceName() string {
	switch {
	case k.File != "":
		return "file " + k.File
	case k.Env != "":
		return "env " + k.Env
	case k.SecretsManager != nil:
		return "secretsmanager " + k.SecretsManager.SecretID
	case k.SSM != nil:
		return "ssm " + k.SSM.Name
	case k.KMS != nil:
		return "kms " + k.KMS.Key
	}
	return ""
}

// errPlanWarnings makes `keys plan --strict` exit 1 when the plan has
// warnings.
var errPlanWarnings = errors.New("the rotation plan has warnings")

// runKeysPlan prints the rotation schedule of a serve config's keys and
// warns about its gaps. It reads only the config and the behaviors file
// (for L and the key group's key_ids), never a key source, so it runs in
// CI without AWS credentials or secrets.
func runKeysPlan(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "keys plan", "keys plan --config FILE [--behaviors FILE] [--at TIME] [--margin DURATION] [--strict]")
	configFile := fs.String("config", "", "the serve config (env CFISSUER_CONFIG)")
	behaviorsFile := fs.String("behaviors", "", "behaviors file (default: the config's); gives L and the key group's key_ids")
	at := fs.String("at", "", "plan from this time (RFC 3339; default now)")
	margin := fs.Duration("margin", 0, "how long before activating a key must be deployed, and how much longer than L a key stays trusted after it stops signing (default 1h)")
	strict := fs.Bool("strict", false, "exit 1 if the plan has warnings")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	if *configFile == "" {
		*configFile = e.getenv("CFISSUER_CONFIG")
	}
	if *configFile == "" {
		return fmt.Errorf("%w: --config FILE is required", errUsage)
	}
	now := e.now()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return fmt.Errorf("%w: --at: %v", errUsage, err)
		}
	}
	raw, err := os.ReadFile(*configFile)
	if err != nil {
		return err
	}
	cfg, bs, _, err := configAndBehaviors(*configFile, raw, *behaviorsFile)
	if err != nil {
		return err
	}
	var sched []keys.Schedule
	var revoked []string
	for _, k := range cfg.Keys {
		if k.RevokedAt != nil { // killed (keys revoke): never loaded
			revoked = append(revoked, k.ID)
			continue
		}
		s := keys.Schedule{KeyID: k.ID}
		if k.ActivateAt != nil {
			s.ActivateAt = *k.ActivateAt
		}
		if k.RetireAt != nil {
			s.RetireAt = *k.RetireAt
		}
		sched = append(sched, s)
	}
	opts := keys.PlanOptions{Margin: *margin}
	if len(bs.KeyIDs) > 0 {
		opts.KeyGroup = bs.KeyIDs
	}
	p, err := keys.NewPlan(sched, issuer.LongestLifetime(bs), now, opts)
	if err != nil {
		return err
	}
	if err := p.WriteText(e.stdout); err != nil {
		return err
	}
	if opts.KeyGroup == nil {
		fmt.Fprintln(e.stdout, "(The behaviors file has no key_ids: the deployed key group was not checked.)")
	}
	stale := 0
	for _, id := range revoked {
		if slices.Contains(bs.KeyIDs, id) {
			stale++
			fmt.Fprintf(e.stdout, "[revoked-in-group] key %s is revoked but still in the key group: remove it from Terraform's public_keys and apply (cfissuer keys revoke prints the change)\n", id)
		} else {
			fmt.Fprintf(e.stdout, "(key %s is revoked: not loaded, not planned)\n", id)
		}
	}
	if *strict && len(p.Warnings)+stale > 0 {
		return errPlanWarnings
	}
	return nil
}

// configAndBehaviors parses a serve config (raw, read from configFile) and
// the behaviors file it names, or behaviorsOverride when that is set, and
// returns the behaviors file's path too: what `keys plan` and `keys revoke`
// both reason about, without reading any key source.
func configAndBehaviors(configFile string, raw []byte, behaviorsOverride string) (cfg *ServeConfig, bs *policy.Behaviors, bpath string, err error) {
	cfg, err = ParseServeConfig(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, "", err
	}
	bpath = resolvePath(filepath.Dir(configFile), cfg.Behaviors)
	if behaviorsOverride != "" {
		bpath = behaviorsOverride
	}
	if bpath == "" {
		return nil, nil, "", fmt.Errorf("%w: the config names no behaviors file; give --behaviors", errUsage)
	}
	bf, err := os.Open(bpath)
	if err != nil {
		return nil, nil, "", fmt.Errorf("behaviors: %w", err)
	}
	defer bf.Close()
	if bs, err = policy.ParseBehaviors(bf); err != nil {
		return nil, nil, "", err
	}
	return cfg, bs, bpath, nil
}
