//go:build terraform

package tftest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/policy"
)

// repoRoot is the repository's top directory (go test runs in the package directory).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// terraformEnv checks the tools and returns the environment every terraform command runs with.
func terraformEnv(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Fatal("terraform is not installed: install Terraform >= 1.9 (https://developer.hashicorp.com/terraform/install); CI images ship 1.11 in /usr/local/bin")
	}
	cfg := os.Getenv("TF_CLI_CONFIG_FILE")
	if cfg == "" {
		t.Fatal("TF_CLI_CONFIG_FILE is not set: run `make test-terraform`, which writes .cache/terraform.rc (provider mirror or registry)")
	}
	if _, err := os.Stat(cfg); err != nil {
		t.Fatalf("TF_CLI_CONFIG_FILE: %v: run `make test-terraform`, which writes it", err)
	}
	return append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0", "AWS_EC2_METADATA_DISABLED=true")
}

// terraform runs one terraform command in dir and returns its combined output.
func terraform(t *testing.T, env []string, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("terraform", args...)
	cmd.Dir, cmd.Env = dir, env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("terraform %s (%s): %.1fs", args[0], filepath.Base(dir), time.Since(start).Seconds())
	return string(out), err
}

func mustTerraform(t *testing.T, env []string, dir string, args ...string) string {
	t.Helper()
	out, err := terraform(t, env, dir, args...)
	if err != nil {
		t.Fatalf("terraform %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return out
}

// planIsEmpty fails the test unless a plan in dir has no changes (exit code 0 with -detailed-exitcode).
func planIsEmpty(t *testing.T, env []string, dir string) {
	t.Helper()
	out, err := terraform(t, env, dir, "plan", "-detailed-exitcode", "-no-color", "-input=false")
	if err != nil {
		t.Fatalf("plan is not empty (%v):\n%s", err, out)
	}
}

// copyModule copies terraform/ and examples/behaviors.json (which the example reads) into a temporary directory, so
// nothing is written into the repository. It returns the copy's top directory.
func copyModule(t *testing.T) string {
	t.Helper()
	root, dst := repoRoot(t), t.TempDir()
	err := filepath.WalkDir(filepath.Join(root, "terraform"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		name := d.Name()
		if d.IsDir() && name == ".terraform" {
			return filepath.SkipDir
		}
		if strings.Contains(name, ".tfstate") || name == ".terraform.lock.hcl" {
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dst, "examples"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(filepath.Join(root, "examples", "behaviors.json"), filepath.Join(dst, "examples", "behaviors.json")); err != nil {
		t.Fatal(err)
	}
	return dst
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(data))
}

func TestFormat(t *testing.T) {
	t.Parallel()
	env := terraformEnv(t)
	// -check writes nothing; -diff shows what to fix.
	if out, err := terraform(t, env, repoRoot(t), "fmt", "-check", "-recursive", "-diff", "-no-color", "terraform"); err != nil {
		t.Fatalf("terraform fmt -check -recursive terraform: not formatted (run terraform fmt -recursive terraform):\n%s", out)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	env := terraformEnv(t)
	work := copyModule(t)
	for _, dir := range []string{"terraform", "terraform/examples/complete"} {
		t.Run(dir, func(t *testing.T) {
			d := filepath.Join(work, dir)
			mustTerraform(t, env, d, "init", "-backend=false", "-input=false", "-no-color")
			mustTerraform(t, env, d, "validate", "-no-color")
		})
	}
}

// TestModuleTests runs terraform/tests/*.tftest.hcl (mocked provider) and checks that every run block passed:
// a skipped run (after an earlier failure in its file) does not count.
func TestModuleTests(t *testing.T) {
	t.Parallel()
	env := terraformEnv(t)
	work := filepath.Join(copyModule(t), "terraform")
	mustTerraform(t, env, work, "init", "-backend=false", "-input=false", "-no-color")
	out, err := terraform(t, env, work, "test", "-no-color")
	if err != nil {
		t.Fatalf("terraform test: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(work, "tests", "*.tftest.hcl"))
	runs := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		runs += len(regexp.MustCompile(`(?m)^run "`).FindAll(data, -1))
	}
	m := regexp.MustCompile(`Success! (\d+) passed, 0 failed\.`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("terraform test: no success line:\n%s", out)
	}
	if passed, _ := strconv.Atoi(m[1]); passed != runs || runs < 40 {
		t.Fatalf("terraform test: %d runs passed, want all %d run blocks of %d files:\n%s", passed, runs, len(files), out)
	}
	t.Logf("terraform test: %d runs passed in %d files", runs, len(files))
}

func TestTfsec(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	bin := filepath.Join(root, ".cache", "bin", "tfsec")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("tfsec is not installed at %s: run `make test-terraform`, which installs github.com/aquasecurity/tfsec/cmd/tfsec@v1.26.0", bin)
	}
	cmd := exec.Command(bin, filepath.Join(root, "terraform"), "--no-color", "--concise-output")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tfsec found problems (fix them, or ignore one inline with a reason):\n%s", out)
	}

	// Every inline ignore says why.
	reason := regexp.MustCompile(`tfsec:ignore:[a-z0-9-]+ +\S.{20,}`)
	err := filepath.WalkDir(filepath.Join(root, "terraform"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".tf") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "tfsec:ignore:") && !reason.MatchString(line) {
				t.Errorf("%s:%d: a tfsec ignore without a reason: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMotoExtension runs the extension's self-test: every CloudFront call the module makes, through botocore.
func TestMotoExtension(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("python3", "-m", "unittest", "discover", "-s", "moto", "-p", "test_*.py")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("moto extension self-test (needs pip packages moto[server]==5.2.1 and botocore): %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^Ran [1-9]\d* tests?`).Match(out) {
		t.Fatalf("moto extension self-test ran nothing:\n%s", out)
	}
}

// ------------------------------------------------------------------------------------------------------------ moto

type motoServer struct {
	endpoint string // http://127.0.0.1:PORT
}

// lockedBuffer collects the server's stderr while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startMoto starts the extended moto on 127.0.0.1 on a free port (the server binds port 0 and prints it) and stops
// it when the test ends. The server also exits when its stdin closes, so a killed test leaves nothing behind.
func startMoto(t *testing.T) *motoServer {
	t.Helper()
	return startMotoScript(t, "moto/moto_cf_ext.py")
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// cloudFront calls moto's CloudFront API. moto checks no signature by default but routes by the credential scope
// of the Authorization header, so the header names the service and nothing else.
func (m *motoServer) cloudFront(t *testing.T, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, m.endpoint+"/2020-05-31/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/cloudfront/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// reset empties every moto backend, which is much faster than destroying a distribution (~45 s of provider waits).
func (m *motoServer) reset(t *testing.T) {
	t.Helper()
	resp, err := http.Post(m.endpoint+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto reset: %s", resp.Status)
	}
}

// providerBlock points the AWS provider at moto for the distribution module's services. max_retries = 1: an
// emulator gap fails fast instead of retrying for minutes.
func (m *motoServer) providerBlock() string {
	return m.providerBlockFor("cloudfront", "s3", "kms", "sts", "iam")
}

func publicKeyPEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// before fails the test unless first appears in log, and before second.
func before(t *testing.T, log, first, second string) {
	t.Helper()
	i, j := strings.Index(log, first), strings.Index(log, second)
	if i < 0 || j < 0 || i > j {
		t.Fatalf("want %q before %q in the apply log:\n%s", first, second, log)
	}
}

// TestMoto applies the module against moto: a minimal configuration first (then moto is reset), and
// examples/complete with key rotation and the one full destroy.
func TestMoto(t *testing.T) {
	t.Parallel()
	env := terraformEnv(t)
	moto := startMoto(t)
	work := copyModule(t)

	t.Run("minimal", func(t *testing.T) {
		dir := filepath.Join(work, "minimal")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "main.tf"), moto.providerBlock()+`
variable "behaviors" { type = any }
variable "public_keys" { type = map(string) }

module "cfissuer" {
  source              = "../terraform"
  name                = "minimal"
  behaviors           = var.behaviors
  public_keys         = var.public_keys
  wait_for_deployment = false
}

output "issuer_config" { value = module.cfissuer.issuer_config }
output "distribution_domain_name" { value = module.cfissuer.distribution_domain_name }
`)
		ebooks := map[string]any{"name": "ebooks", "path_pattern": "/ebooks/*", "access": "signed-url", "ip_binding": true}
		assets := map[string]any{"name": "assets", "path_pattern": "/assets/*", "access": "signed-url"}
		site := map[string]any{"name": "site", "path_pattern": "*", "access": "public"}
		keys := map[string]string{"k1": publicKeyPEM(t)}
		writeJSON(t, filepath.Join(dir, "terraform.tfvars.json"), map[string]any{"behaviors": []any{ebooks, assets, site}, "public_keys": keys})

		mustTerraform(t, env, dir, "init", "-input=false", "-no-color")
		mustTerraform(t, env, dir, "apply", "-auto-approve", "-input=false", "-no-color")
		planIsEmpty(t, env, dir)

		domain := strings.TrimSpace(mustTerraform(t, env, dir, "output", "-raw", "distribution_domain_name"))
		bs := loadIssuerConfig(t, []byte(mustTerraform(t, env, dir, "output", "-raw", "issuer_config")))
		if want := "https://" + domain; bs.ViewerOrigin != want || !strings.HasSuffix(domain, ".cloudfront.net") {
			t.Errorf("viewer_origin = %q, want %q (no aliases: the distribution's domain)", bs.ViewerOrigin, want)
		}
		if b := bs.Lookup("ebooks"); b == nil || !b.IPBinding {
			t.Errorf("ebooks lost ip_binding in issuer_config: %+v", b)
		}

		// Removing a behavior: the distribution must stop using its policies before they are deleted (moto refuses
		// CachePolicyInUse like CloudFront).
		writeJSON(t, filepath.Join(dir, "terraform.tfvars.json"), map[string]any{"behaviors": []any{ebooks, site}, "public_keys": keys})
		log := mustTerraform(t, env, dir, "apply", "-auto-approve", "-input=false", "-no-color")
		before(t, log, "aws_cloudfront_distribution.this: Modifications complete", `aws_cloudfront_cache_policy.this["assets"]: Destroying`)
		planIsEmpty(t, env, dir)
	})

	// The next scenario starts from an empty moto; the minimal one is not destroyed.
	moto.reset(t)

	t.Run("complete", func(t *testing.T) {
		dir := filepath.Join(work, "terraform", "examples", "complete")
		writeFile(t, filepath.Join(dir, "moto_override.tf"), moto.providerBlock())
		const certARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
		vars := filepath.Join(dir, "terraform.tfvars.json")
		writeJSON(t, vars, map[string]any{"acm_certificate_arn": certARN})

		mustTerraform(t, env, dir, "init", "-input=false", "-no-color")
		mustTerraform(t, env, dir, "apply", "-auto-approve", "-input=false", "-no-color")
		planIsEmpty(t, env, dir)

		var keyIDs map[string]string
		if err := json.Unmarshal([]byte(mustTerraform(t, env, dir, "output", "-json", "public_key_ids")), &keyIDs); err != nil {
			t.Fatal(err)
		}
		oldID := keyIDs["2026-01"]

		// issuer_config is the behaviors file the issuer loads: valid against the schema, loaded by the real
		// loader, and the same behaviors as examples/behaviors.json with the distribution's key ID.
		got := loadIssuerConfig(t, []byte(mustTerraform(t, env, dir, "output", "-raw", "issuer_config")))
		src, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "behaviors.json"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := policy.ParseBehaviors(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		if got.ViewerOrigin != want.ViewerOrigin {
			t.Errorf("viewer_origin = %q, want %q", got.ViewerOrigin, want.ViewerOrigin)
		}
		if !reflect.DeepEqual(got.KeyIDs, []string{oldID}) {
			t.Errorf("key_ids = %q, want [%q]", got.KeyIDs, oldID)
		}
		if !reflect.DeepEqual(got.List, want.List) {
			t.Errorf("issuer_config behaviors differ from examples/behaviors.json:\n got %+v\nwant %+v", got.List, want.List)
		}

		// A PEM whitespace difference (CRLF, indentation, trailing blank lines) must not touch the key.
		keyPEM, err := os.ReadFile(filepath.Join(dir, "keys", "2026-01.pem"))
		if err != nil {
			t.Fatal(err)
		}
		messy := "  " + strings.ReplaceAll(string(keyPEM), "\n", "\r\n  ") + "\r\n\r\n"
		writeJSON(t, vars, map[string]any{"acm_certificate_arn": certARN, "public_keys": map[string]string{"2026-01": messy}})
		planIsEmpty(t, env, dir)

		// Rotation (CLOUDFRONT.md §4), step 1: add the new key.
		newPEM := publicKeyPEM(t)
		writeJSON(t, vars, map[string]any{"acm_certificate_arn": certARN, "public_keys": map[string]string{"2026-01": string(keyPEM), "2026-07": newPEM}})
		log := mustTerraform(t, env, dir, "apply", "-auto-approve", "-input=false", "-no-color")
		if !strings.Contains(log, "Resources: 1 added, 1 changed, 0 destroyed.") {
			t.Fatalf("adding a key must create it and update the key group in place, nothing else:\n%s", log)
		}
		if err := json.Unmarshal([]byte(mustTerraform(t, env, dir, "output", "-json", "public_key_ids")), &keyIDs); err != nil {
			t.Fatal(err)
		}
		newID := keyIDs["2026-07"]
		groupID := strings.TrimSpace(mustTerraform(t, env, dir, "output", "-raw", "key_group_id"))
		if st, body := moto.cloudFront(t, "GET", "key-group/"+groupID); st != 200 || !strings.Contains(body, oldID) || !strings.Contains(body, newID) {
			t.Fatalf("key group after adding a key: %d %s, want both %s and %s", st, body, oldID, newID)
		}
		// The emulator refuses to delete a key in use, as CloudFront does, so a wrong order below would fail.
		if st, body := moto.cloudFront(t, "DELETE", "public-key/"+oldID); st != http.StatusConflict || !strings.Contains(body, "PublicKeyInUse") {
			t.Fatalf("deleting a key still in the group: %d %s, want 409 PublicKeyInUse", st, body)
		}

		// Step 2: remove the old key. The group is updated first, then the key deleted.
		writeJSON(t, vars, map[string]any{"acm_certificate_arn": certARN, "public_keys": map[string]string{"2026-07": newPEM}})
		log = mustTerraform(t, env, dir, "apply", "-auto-approve", "-input=false", "-no-color")
		before(t, log, "aws_cloudfront_key_group.this[0]: Modifications complete", `aws_cloudfront_public_key.this["2026-01"]: Destroying`)
		if !strings.Contains(log, "Resources: 0 added, 1 changed, 1 destroyed.") {
			t.Fatalf("removing a key must update the key group and delete the key, nothing else:\n%s", log)
		}
		if st, _ := moto.cloudFront(t, "GET", "public-key/"+oldID); st != http.StatusNotFound {
			t.Errorf("old key after rotation: status %d, want 404", st)
		}
		planIsEmpty(t, env, dir)
		if got := loadIssuerConfig(t, []byte(mustTerraform(t, env, dir, "output", "-raw", "issuer_config"))); !reflect.DeepEqual(got.KeyIDs, []string{newID}) {
			t.Errorf("key_ids after rotation = %q, want [%q]", got.KeyIDs, newID)
		}

		// The one full destroy: everything goes, in an order CloudFront accepts.
		mustTerraform(t, env, dir, "destroy", "-auto-approve", "-input=false", "-no-color")
		if out := strings.TrimSpace(mustTerraform(t, env, dir, "state", "list")); out != "" {
			t.Errorf("state after destroy:\n%s", out)
		}
		for _, path := range []string{"distribution", "public-key", "key-group", "cache-policy", "response-headers-policy", "origin-access-control", "function", "key-value-store"} {
			if st, body := moto.cloudFront(t, "GET", path); st != 200 || !strings.Contains(body, "<Quantity>0</Quantity>") {
				t.Errorf("moto %s after destroy: %d %s, want none", path, st, body)
			}
		}
	})
}

// loadIssuerConfig checks an issuer_config output against docs/behaviors.schema.json (Python's jsonschema, an
// independent implementation) and loads it with the issuer's own loader, policy.ParseBehaviors.
func loadIssuerConfig(t *testing.T, data []byte) *policy.Behaviors {
	t.Helper()
	if errs := schemaErrors(t, data); errs != "" {
		t.Fatalf("issuer_config does not match docs/behaviors.schema.json:\n%s\n%s", errs, data)
	}
	// The schema check can fail: a null where the schema wants a string is refused.
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	broken := map[string]any{"viewer_origin": doc["viewer_origin"], "behaviors": doc["behaviors"], "key_ids": []any{nil}}
	brokenJSON, _ := json.Marshal(broken)
	if schemaErrors(t, brokenJSON) == "" {
		t.Fatal("the schema check accepted key_ids [null]: it checks nothing")
	}
	bs, err := policy.ParseBehaviors(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("policy.ParseBehaviors(issuer_config): %v\n%s", err, data)
	}
	return bs
}

const schemaCheck = `
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
doc = json.load(sys.stdin)
for e in Draft202012Validator(schema).iter_errors(doc):
    print("/".join(str(p) for p in e.absolute_path) + ": " + e.message)
`

func schemaErrors(t *testing.T, data []byte) string {
	t.Helper()
	cmd := exec.Command("python3", "-c", schemaCheck, filepath.Join(repoRoot(t), "docs", "behaviors.schema.json"))
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jsonschema (pip package jsonschema is required): %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}
