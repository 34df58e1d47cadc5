package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/cfissuer/cfissuer/keys"
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
