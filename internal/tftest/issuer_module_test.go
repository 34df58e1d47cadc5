//go:build terraform

package tftest

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// startMotoScript starts a launcher of the extended moto (moto_cf_ext.py, or moto_lambda_ext.py which adds to it) on
// 127.0.0.1 on a free port, with extra environment for the server, and stops it when the test ends.
func startMotoScript(t *testing.T, script string, extraEnv ...string) *motoServer {
	t.Helper()
	cmd := exec.Command("python3", script)
	cmd.Env = append(os.Environ(), extraEnv...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stdin.Close() // the server exits when its stdin closes
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("moto stderr (last 4000 bytes):\n%s", tail(stderr.String(), 4000))
		}
	})
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		l, _ := r.ReadString('\n')
		line <- strings.TrimSpace(l)
		io.Copy(io.Discard, r)
	}()
	select {
	case l := <-line:
		addr, ok := strings.CutPrefix(l, "listening on ")
		if !ok || !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Fatalf("moto did not start (pip install 'moto[server]==5.2.1'): %q\n%s", l, stderr.String())
		}
		return &motoServer{endpoint: "http://" + addr}
	case <-time.After(60 * time.Second):
		t.Fatalf("moto did not start within 60s:\n%s", stderr.String())
	}
	return nil
}

// providerBlockFor points the AWS provider's given services at moto. max_retries = 1: an emulator gap fails fast
// instead of retrying for minutes.
func (m *motoServer) providerBlockFor(services ...string) string {
	var endpoints strings.Builder
	for _, svc := range services {
		fmt.Fprintf(&endpoints, "    %-10s = %q\n", svc, m.endpoint)
	}
	return `provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
  max_retries                 = 1
  endpoints {
` + endpoints.String() + `  }
}
`
}

// lambdaPackage writes a Lambda package with a placeholder bootstrap and returns its base64 SHA-256 (Lambda's
// CodeSha256). moto's CreateFunction stores the package without running it, so the placeholder never executes.
func lambdaPackage(t *testing.T, path string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("#!/bin/sh\n# placeholder: moto stores the package and never runs it\nexit 1\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return base64.StdEncoding.EncodeToString(sum[:])
}

// awsCall calls one moto API directly. moto checks no signature but routes by the Authorization header's credential
// scope; a non-empty target is an X-Amz-Target (JSON protocol), a body starting with "Action=" a query call.
func (m *motoServer) awsCall(t *testing.T, service, method, path, target, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, m.endpoint+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
	switch {
	case target != "":
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if service == "dynamodb" {
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		}
	case strings.HasPrefix(body, "Action="):
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return resp.StatusCode, out.String()
}

// awsJSON is awsCall that wants a 2xx (moto answers GetFunctionUrlConfig with 201) and decodes the JSON answer into v.
func (m *motoServer) awsJSON(t *testing.T, v any, service, method, path, target, body string) {
	t.Helper()
	st, out := m.awsCall(t, service, method, path, target, body)
	if st/100 != 2 {
		t.Fatalf("moto %s %s %s%s: %d %s", service, method, path, target, st, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("moto %s %s: %v\n%s", service, target, err, out)
	}
}

// lambdaFunction is the part of Lambda's GetFunction answer the test checks.
type lambdaFunction struct {
	Configuration struct {
		Runtime, Handler, CodeSha256 string
		Architectures                []string
		MemorySize                   int
		Environment                  struct{ Variables map[string]string }
		LoggingConfig                struct{ LogFormat, LogGroup string }
	}
	Concurrency *struct{ ReservedConcurrentExecutions int }
}

func issuerRootConfig(m *motoServer, moduleArgs string) string {
	return m.providerBlockFor("lambda", "iam", "dynamodb", "ssm", "logs", "kms", "sts") + `
module "issuer" {
  source        = "../terraform/modules/issuer"
  name          = "issuer-moto"
  package_file  = "${path.root}/bootstrap.zip"
  issuer_config = jsonencode({ viewer_origin = "https://media.example.com", key_ids = ["K2JCJMDEHXQW5F"], behaviors = [{ name = "site", path_pattern = "*", access = "public" }] })
  callers       = [{ id = "app", secret_sha256 = "1df4b07d05b9b3b1115b4b6b22af319a2f99564a2fa2573a34896063c7513c10", behaviors = ["site"] }]
` + moduleArgs + `}

output "config" { value = module.issuer.config }
output "function_url" { value = module.issuer.function_url }
`
}

// TestIssuerModuleMoto applies terraform/modules/issuer against the extended moto (moto_lambda_ext.py: moto_cf_ext
// plus Lambda's LoggingConfig) with a placeholder package: the defaults (a KMS key, public Function URL), an empty
// re-plan, an in-place update to a secret key with links, revocation and an IAM-authenticated URL, an empty re-plan,
// and a destroy after which moto holds nothing. Every resource of the module is applied; none is left out.
func TestIssuerModuleMoto(t *testing.T) {
	t.Parallel()
	env := terraformEnv(t)
	// An unreachable docker: moto's Lambda would need one to run a function, never to create, read or delete one.
	moto := startMotoScript(t, "moto/moto_lambda_ext.py", "DOCKER_HOST=unix:///nonexistent/docker.sock")
	dir := filepath.Join(copyModule(t), "issuer-moto")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	codeSHA := lambdaPackage(t, filepath.Join(dir, "bootstrap.zip"))
	main := filepath.Join(dir, "main.tf")

	getFunction := func() lambdaFunction {
		var fn lambdaFunction
		moto.awsJSON(t, &fn, "lambda", "GET", "/2015-03-31/functions/issuer-moto", "", "")
		return fn
	}
	functionURLAuth := func() string {
		var u struct{ AuthType string }
		moto.awsJSON(t, &u, "lambda", "GET", "/2021-10-31/functions/issuer-moto/url", "", "")
		return u.AuthType
	}
	parameter := func(name string) (value string, version int) {
		var p struct {
			Parameter struct {
				Value   string
				Version int
			}
		}
		moto.awsJSON(t, &p, "ssm", "POST", "/", "AmazonSSM.GetParameter", `{"Name":"`+name+`"}`)
		return p.Parameter.Value, p.Parameter.Version
	}

	// 1. The defaults: one KMS key, a public Function URL.
	writeFile(t, main, issuerRootConfig(moto, `  signing_keys  = { K2JCJMDEHXQW5F = { kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" } }
`))
	mustTerraform(t, env, dir, "init", "-input=false", "-no-color")
	mustTerraform(t, env, dir, "apply", "-auto-approve", "-input=false", "-no-color")
	planIsEmpty(t, env, dir)

	fn := getFunction()
	c := fn.Configuration
	if c.Runtime != "provided.al2023" || c.Handler != "bootstrap" || !reflect.DeepEqual(c.Architectures, []string{"arm64"}) {
		t.Errorf("function: runtime %q handler %q architectures %q, want provided.al2023, bootstrap, [arm64]", c.Runtime, c.Handler, c.Architectures)
	}
	if c.CodeSha256 != codeSHA {
		t.Errorf("function CodeSha256 = %q, want the package's %q", c.CodeSha256, codeSHA)
	}
	if c.LoggingConfig.LogGroup != "/aws/lambda/issuer-moto" || c.LoggingConfig.LogFormat != "Text" {
		t.Errorf("function logging config = %+v, want Text to /aws/lambda/issuer-moto", c.LoggingConfig)
	}
	if got := c.Environment.Variables["CFISSUER_CONFIG"]; got != "ssm:/issuer-moto/config:1" {
		t.Errorf("CFISSUER_CONFIG = %q, want the versioned parameter ssm:/issuer-moto/config:1", got)
	}
	if fn.Concurrency != nil {
		t.Errorf("reserved concurrency %+v, want none (unreserved by default)", fn.Concurrency)
	}
	if got := functionURLAuth(); got != "NONE" {
		t.Errorf("function URL auth type %q, want NONE", got)
	}
	config := strings.TrimSpace(mustTerraform(t, env, dir, "output", "-raw", "config"))
	if value, _ := parameter("/issuer-moto/config"); value != config {
		t.Errorf("config parameter holds %q, want the module's config output %q", value, config)
	}
	var ttl struct {
		TimeToLiveDescription struct{ TimeToLiveStatus, AttributeName string }
	}
	moto.awsJSON(t, &ttl, "dynamodb", "POST", "/", "DynamoDB_20120810.DescribeTimeToLive", `{"TableName":"issuer-moto-links"}`)
	if d := ttl.TimeToLiveDescription; d.TimeToLiveStatus != "ENABLED" || d.AttributeName != "expires_ttl" {
		t.Errorf("links table TTL = %+v, want ENABLED on expires_ttl", d)
	}
	var pitr struct {
		ContinuousBackupsDescription struct {
			PointInTimeRecoveryDescription struct{ PointInTimeRecoveryStatus string }
		}
	}
	moto.awsJSON(t, &pitr, "dynamodb", "POST", "/", "DynamoDB_20120810.DescribeContinuousBackups", `{"TableName":"issuer-moto-links"}`)
	if st := pitr.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus; st != "ENABLED" {
		t.Errorf("links table point-in-time recovery = %q, want ENABLED", st)
	}
	var groups struct {
		LogGroups []struct {
			LogGroupName    string
			RetentionInDays int
		}
	}
	moto.awsJSON(t, &groups, "logs", "POST", "/", "Logs_20140328.DescribeLogGroups", `{}`)
	if len(groups.LogGroups) != 1 || groups.LogGroups[0].LogGroupName != "/aws/lambda/issuer-moto" || groups.LogGroups[0].RetentionInDays != 30 {
		t.Errorf("log groups = %+v, want /aws/lambda/issuer-moto with 30 days", groups.LogGroups)
	}

	// 2. In place: a secret key, permanent links, revocation, an IAM-authenticated URL, other sizes. The config
	// parameter gets a new version and the function's environment follows it in the same apply.
	writeFile(t, main, issuerRootConfig(moto, `  signing_keys           = { K2JCJMDEHXQW5F = { secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cf-signing-AbCdEf", json_field = "private_key" } }
  link_key_parameters    = { l1 = "/issuer-moto/link-key-1" }
  links_base_url         = "https://issuer.example.com"
  revocation_kvs_arn     = "arn:aws:cloudfront::123456789012:key-value-store/0123abcd-0000-1111-2222-333344445555"
  function_url_auth_type = "AWS_IAM"
  log_retention_days     = 14
  memory_size            = 1024
  reserved_concurrency   = 5
`))
	log := mustTerraform(t, env, dir, "apply", "-auto-approve", "-input=false", "-no-color")
	if !strings.Contains(log, "Resources: 0 added, 5 changed, 0 destroyed.") {
		t.Fatalf("the update must change the config parameter, policy, function, URL and log group in place, nothing else:\n%s", log)
	}
	planIsEmpty(t, env, dir)

	fn = getFunction()
	c = fn.Configuration
	if got := c.Environment.Variables["CFISSUER_CONFIG"]; got != "ssm:/issuer-moto/config:2" {
		t.Errorf("CFISSUER_CONFIG after a config change = %q, want ssm:/issuer-moto/config:2", got)
	}
	if got := c.Environment.Variables["CFISSUER_LINK_KEY_L1"]; got != "ssm:/issuer-moto/link-key-1" {
		t.Errorf("CFISSUER_LINK_KEY_L1 = %q, want ssm:/issuer-moto/link-key-1", got)
	}
	if c.MemorySize != 1024 || fn.Concurrency == nil || fn.Concurrency.ReservedConcurrentExecutions != 5 {
		t.Errorf("memory %d, concurrency %+v, want 1024 and 5", c.MemorySize, fn.Concurrency)
	}
	if got := functionURLAuth(); got != "AWS_IAM" {
		t.Errorf("function URL auth type %q, want AWS_IAM", got)
	}
	config = strings.TrimSpace(mustTerraform(t, env, dir, "output", "-raw", "config"))
	if value, version := parameter("/issuer-moto/config"); value != config || version != 2 || !strings.Contains(value, `"table":"issuer-moto-links"`) {
		t.Errorf("config parameter v%d holds %q, want v2 with the module's config output %q", version, value, config)
	}
	// The role's policy as IAM holds it: a secret, the link key parameter and the deny-list store, no KMS key.
	st, policyXML := moto.awsCall(t, "iam", "POST", "/", "", "Action=GetRolePolicy&Version=2010-05-08&RoleName=issuer-moto&PolicyName=issuer")
	m := regexp.MustCompile(`<PolicyDocument>([^<]*)</PolicyDocument>`).FindStringSubmatch(policyXML)
	if st != http.StatusOK || m == nil {
		t.Fatalf("GetRolePolicy: %d %s", st, policyXML)
	}
	doc, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	var policy struct{ Statement []struct{ Sid string } }
	if err := json.Unmarshal([]byte(doc), &policy); err != nil {
		t.Fatalf("role policy: %v\n%s", err, doc)
	}
	var sids []string
	for _, s := range policy.Statement {
		sids = append(sids, s.Sid)
	}
	sort.Strings(sids)
	if want := []string{"ConfigParameters", "DenyList", "Links", "Logs", "ReadSigningSecrets"}; !reflect.DeepEqual(sids, want) {
		t.Errorf("role policy statements %q, want %q:\n%s", sids, want, doc)
	}
	if !strings.Contains(doc, "parameter/issuer-moto/link-key-1") || !strings.Contains(doc, "key-value-store/0123abcd-0000-1111-2222-333344445555") {
		t.Errorf("role policy lacks the link key parameter or the deny-list store:\n%s", doc)
	}

	// 3. Destroy: nothing left in state or in moto.
	mustTerraform(t, env, dir, "destroy", "-auto-approve", "-input=false", "-no-color")
	if out := strings.TrimSpace(mustTerraform(t, env, dir, "state", "list")); out != "" {
		t.Errorf("state after destroy:\n%s", out)
	}
	for _, q := range []struct{ service, method, path, target, body, empty string }{
		{"lambda", "GET", "/2015-03-31/functions/", "", "", `"Functions": []`},
		{"dynamodb", "POST", "/", "DynamoDB_20120810.ListTables", `{}`, `"TableNames": []`},
		{"ssm", "POST", "/", "AmazonSSM.DescribeParameters", `{}`, `"Parameters": []`},
		{"logs", "POST", "/", "Logs_20140328.DescribeLogGroups", `{}`, `"logGroups": []`},
		{"iam", "POST", "/", "", "Action=ListRoles&Version=2010-05-08", "<Roles/>"},
	} {
		if st, body := moto.awsCall(t, q.service, q.method, q.path, q.target, q.body); st != http.StatusOK || !strings.Contains(body, q.empty) {
			t.Errorf("moto %s after destroy: %d %s, want %s", q.service, st, body, q.empty)
		}
	}
	if st, body := moto.awsCall(t, "lambda", "GET", "/2021-10-31/functions/issuer-moto/url", "", ""); st != http.StatusNotFound {
		t.Errorf("function URL after destroy: %d %s, want 404", st, body)
	}
}
