package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cfissuer/cfissuer/keys"
)

func runKeygen(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "keygen", "keygen --type rsa|ecdsa --out DIR [--force]")
	typ := fs.String("type", "rsa", "key type: rsa (RSA-2048) or ecdsa (P-256)")
	out := fs.String("out", "", "directory to write private.pem (mode 0600) and public.pem to (required)")
	force := fs.Bool("force", false, "overwrite existing key files")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	if *out == "" {
		return fmt.Errorf("%w: --out DIR is required", errUsage)
	}
	var alg keys.Algorithm
	switch strings.ToLower(*typ) {
	case "rsa":
		alg = keys.RSA
	case "ecdsa", "ec":
		alg = keys.ECDSA
	default:
		return fmt.Errorf("%w: --type must be rsa or ecdsa, not %q", errUsage, *typ)
	}
	privPath := filepath.Join(*out, "private.pem")
	pubPath := filepath.Join(*out, "public.pem")
	if !*force {
		for _, p := range []string{privPath, pubPath} {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("%s already exists; keep it, or pass --force to replace it (the old key is lost)", p)
			}
		}
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	key, err := keys.Generate(alg)
	if err != nil {
		return err
	}
	privPEM, err := key.MarshalPEM()
	if err != nil {
		return err
	}
	pubPEM, err := keys.PublicKeyPEM(key.Public())
	if err != nil {
		return err
	}
	// Public key first: if the private key cannot be written, the old
	// private key (with --force) is still in place and nothing is lost.
	if err := writeFileAtomic(pubPath, pubPEM, 0o644); err != nil {
		return err
	}
	if err := writeFileAtomic(privPath, privPEM, 0o600); err != nil {
		return err
	}
	clear(privPEM)
	fmt.Fprintf(e.stdout, "private key: %s\npublic key:  %s\nalgorithm:   %s\nfingerprint: %s\n", privPath, pubPath, alg, key.Fingerprint())
	fmt.Fprintln(e.stdout, "Upload public.pem as a CloudFront public key (or give it to the Terraform module's public_keys) and use its ID as --key-id.")
	return nil
}

// writeFileAtomic writes data to a temporary file in the same directory
// and renames it over path, so a crash leaves the old file or the new one,
// never half of either.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}

func runKeysExport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "keys export", "keys export --key-file F [--passphrase-file F | --passphrase-env NAME]")
	var ks keyFlags
	ks.register(fs, false)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	ks.keyID = "EXPORT" // not used: export needs no CloudFront key ID
	s, err := ks.load(ctx, e)
	if err != nil {
		return err
	}
	pub, err := keys.PublicKeyPEM(s.Public())
	if err != nil {
		return err
	}
	fp, err := keys.Fingerprint(s.Public())
	if err != nil {
		return err
	}
	e.stdout.Write(pub)
	fmt.Fprintf(e.stderr, "algorithm: %s\nfingerprint: %s\n", s.Algorithm(), fp)
	return nil
}

// keyFlags are the flags that name a signing key.
type keyFlags struct {
	file, envVar, keyID string
	passFile, passEnv   string
}

func (k *keyFlags) register(fs interface {
	StringVar(*string, string, string, string)
}, withKeyID bool) {
	fs.StringVar(&k.file, "key-file", "", "PEM private key file (PKCS#1, PKCS#8, SEC1 or encrypted PKCS#8)")
	fs.StringVar(&k.envVar, "key-env", "", "environment variable holding the PEM private key (instead of --key-file)")
	fs.StringVar(&k.passFile, "passphrase-file", "", "file holding the passphrase of an encrypted key")
	fs.StringVar(&k.passEnv, "passphrase-env", "", "environment variable holding the passphrase of an encrypted key")
	if withKeyID {
		fs.StringVar(&k.keyID, "key-id", "", "CloudFront public key ID, the Key-Pair-Id (required)")
	}
}

func (k *keyFlags) load(ctx context.Context, e *env) (keys.Signer, error) {
	if k.keyID == "" {
		return nil, fmt.Errorf("%w: --key-id is required (the CloudFront public key ID, like K2JCJMDEHXQW5F)", errUsage)
	}
	if err := keys.CheckKeyID(k.keyID); err != nil {
		return nil, fmt.Errorf("%w: --key-id: %v", errUsage, err)
	}
	var pass keys.Passphrase
	switch {
	case k.passFile != "" && k.passEnv != "":
		return nil, fmt.Errorf("%w: give --passphrase-file or --passphrase-env, not both", errUsage)
	case k.passFile != "":
		pass = keys.PassphraseFile(k.passFile)
	case k.passEnv != "":
		pass = keys.PassphraseEnv(k.passEnv)
	}
	var src keys.Source
	switch {
	case k.file != "" && k.envVar != "":
		return nil, fmt.Errorf("%w: give --key-file or --key-env, not both", errUsage)
	case k.file != "":
		src = keys.File{Path: k.file, KeyID: k.keyID, Passphrase: pass}
	case k.envVar != "":
		src = keys.Env{Name: k.envVar, KeyID: k.keyID, Passphrase: pass}
	default:
		return nil, fmt.Errorf("%w: --key-file FILE (or --key-env NAME) is required", errUsage)
	}
	s, err := src.Load(ctx)
	if errors.Is(err, keys.ErrPassphraseRequired) {
		return nil, fmt.Errorf("%w (--passphrase-file or --passphrase-env)", err)
	}
	return s, err
}
