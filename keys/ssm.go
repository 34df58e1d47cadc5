package keys

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSMAPI is the part of *ssm.Client that SSM uses.
type SSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// SSM loads a PEM private key from an AWS Systems Manager Parameter Store
// SecureString parameter, decrypted with its KMS key. A parameter of type
// String or StringList is refused with ErrSecretFormat: a private key in a
// plain parameter is readable by anyone who can describe parameters, and
// should be moved before it is used.
type SSM struct {
	Client     SSMAPI // an *ssm.Client
	Name       string // the parameter name (or name:version, name:label)
	KeyID      string
	Passphrase Passphrase
	// Timeout bounds the fetch when ctx has no deadline; zero means
	// DefaultFetchTimeout.
	Timeout time.Duration
}

// Load implements Source. Errors fetching the parameter wrap ErrSource.
func (s SSM) Load(ctx context.Context) (Signer, error) {
	if s.Client == nil || s.Name == "" {
		return nil, fmt.Errorf("%w: ssm: no client or parameter name", ErrSource)
	}
	cctx, cancel := withDefaultTimeout(ctx, cmp.Or(s.Timeout, DefaultFetchTimeout))
	defer cancel()
	out, err := s.Client.GetParameter(cctx, &ssm.GetParameterInput{Name: aws.String(s.Name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("%w: ssm parameter %s: %w", ErrSource, s.Name, err)
	}
	p := out.Parameter
	if p == nil || p.Value == nil {
		return nil, fmt.Errorf("%w: ssm parameter %s has no value", ErrSecretFormat, s.Name)
	}
	if p.Type != ssmtypes.ParameterTypeSecureString {
		return nil, fmt.Errorf("%w: ssm parameter %s is a %s; store private keys as SecureString", ErrSecretFormat, s.Name, p.Type)
	}
	return load(ctx, []byte(*p.Value), s.KeyID, s.Passphrase, "ssm parameter "+s.Name)
}
