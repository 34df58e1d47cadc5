package keys

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretsManagerAPI is the part of *secretsmanager.Client that
// SecretsManager uses.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// ErrSecretFormat is wrapped when a secret or parameter holds something
// other than what its source was told to expect (a JSON field that is
// missing, a parameter that is not a SecureString). The message never
// holds the secret's value.
var ErrSecretFormat = errors.New("keys: secret is not in the expected form")

// SecretsManager loads a PEM private key from an AWS Secrets Manager
// secret: its SecretString, or its SecretBinary, holds the PEM; with
// JSONField set, the secret is a JSON object and the PEM is that field's
// string value. Each Load fetches the secret again, so a reload picks up a
// new version.
type SecretsManager struct {
	Client   SecretsManagerAPI // a *secretsmanager.Client
	SecretID string            // name or ARN
	// VersionStage selects the version; "" means AWSCURRENT.
	VersionStage string
	// JSONField names the field holding the PEM when the secret is a JSON
	// object (as the console's key/value secrets are); "" means the whole
	// secret is the PEM.
	JSONField  string
	KeyID      string
	Passphrase Passphrase
	// Timeout bounds the fetch when ctx has no deadline; zero means
	// DefaultFetchTimeout.
	Timeout time.Duration
}

// Load implements Source. Errors fetching the secret wrap ErrSource.
func (s SecretsManager) Load(ctx context.Context) (Signer, error) {
	if s.Client == nil || s.SecretID == "" {
		return nil, fmt.Errorf("%w: secrets manager: no client or secret ID", ErrSource)
	}
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.SecretID)}
	if s.VersionStage != "" {
		in.VersionStage = aws.String(s.VersionStage)
	}
	cctx, cancel := withDefaultTimeout(ctx, cmp.Or(s.Timeout, DefaultFetchTimeout))
	defer cancel()
	out, err := s.Client.GetSecretValue(cctx, in)
	if err != nil {
		return nil, fmt.Errorf("%w: secrets manager secret %s: %w", ErrSource, s.SecretID, err)
	}
	var data []byte
	switch {
	case out.SecretString != nil:
		data = []byte(*out.SecretString)
	case out.SecretBinary != nil:
		data = out.SecretBinary
	default:
		return nil, fmt.Errorf("%w: secrets manager secret %s has neither a string nor a binary value", ErrSecretFormat, s.SecretID)
	}
	where := "secrets manager secret " + s.SecretID
	if s.JSONField != "" {
		var err error
		if data, err = jsonField(data, s.JSONField); err != nil {
			return nil, fmt.Errorf("keys: %s: %w", where, err)
		}
		where += " field " + s.JSONField
	}
	return load(ctx, data, s.KeyID, s.Passphrase, where)
}

// jsonField returns the string value of field in a JSON object. Its
// errors never quote the document: json's own syntax errors can hold
// fragments of it, so they are replaced.
func jsonField(doc []byte, field string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(doc, &obj); err != nil {
		return nil, fmt.Errorf("%w: the secret is not a JSON object, so field %q cannot be read", ErrSecretFormat, field)
	}
	raw, ok := obj[field]
	if !ok {
		return nil, fmt.Errorf("%w: the JSON secret has no field %q", ErrSecretFormat, field)
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%w: field %q of the JSON secret is not a string", ErrSecretFormat, field)
	}
	return []byte(v), nil
}
