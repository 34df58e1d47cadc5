package edge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// startMoto runs moto's server on 127.0.0.1 with SigV4 checked after the
// first noAuth requests (INITIAL_NO_AUTH_ACTION_COUNT), and stops it when
// the test ends.
func startMoto(t *testing.T, noAuth int) string {
	t.Helper()
	if exec.Command("python3", "-c", "import moto.server").Run() != nil {
		// Never skipped: a test that silently does not run proves nothing.
		t.Fatal("moto is not installed (pip install 'moto[server]'); the S3 origin test needs it")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), fmt.Sprintf("INITIAL_NO_AUTH_ACTION_COUNT=%d", noAuth))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err == nil {
			c.Close()
			return endpoint
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto did not start: %s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// awsCall sends a SigV4-signed request to moto and returns status and body.
func awsCall(t *testing.T, creds aws.Credentials, service, method, u string, body []byte, form url.Values) (int, string) {
	t.Helper()
	var rd io.Reader
	ctype := ""
	if form != nil {
		body = []byte(form.Encode())
		ctype = "application/x-www-form-urlencoded"
	}
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	sum := sha256hex(body)
	req.Header.Set("X-Amz-Content-Sha256", sum)
	// S3 signs the path as sent (already percent-encoded), not escaped again.
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	if err := signer.SignHTTP(context.Background(), creds, req, sum, service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestS3Origin: a private bucket in moto with SigV4 enforced serves through
// the edge with the right credentials (as OAC), refuses the edge's origin
// request with a wrong secret, and refuses anonymous reads; an unsigned
// viewer request gets 403 MissingKey from the edge itself.
func TestS3Origin(t *testing.T) {
	// Three unauthenticated calls create the IAM user, its policy and its
	// access key; every later request must carry a valid signature.
	endpoint := startMoto(t, 3)
	bootstrap := aws.Credentials{AccessKeyID: "AKIABOOTSTRAP", SecretAccessKey: "unused"}
	for _, form := range []url.Values{
		{"Action": {"CreateUser"}, "UserName": {"edge"}, "Version": {"2010-05-08"}},
		{"Action": {"PutUserPolicy"}, "UserName": {"edge"}, "PolicyName": {"all"}, "Version": {"2010-05-08"},
			"PolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}},
	} {
		if st, body := awsCall(t, bootstrap, "iam", http.MethodPost, endpoint+"/", nil, form); st != 200 {
			t.Fatalf("IAM %s: %d %s", form.Get("Action"), st, body)
		}
	}
	st, body := awsCall(t, bootstrap, "iam", http.MethodPost, endpoint+"/", nil, url.Values{"Action": {"CreateAccessKey"}, "UserName": {"edge"}, "Version": {"2010-05-08"}})
	if st != 200 {
		t.Fatalf("CreateAccessKey: %d %s", st, body)
	}
	id := regexp.MustCompile(`<AccessKeyId>([^<]+)</AccessKeyId>`).FindStringSubmatch(body)
	secret := regexp.MustCompile(`<SecretAccessKey>([^<]+)</SecretAccessKey>`).FindStringSubmatch(body)
	if id == nil || secret == nil {
		t.Fatalf("CreateAccessKey: no key in the answer")
	}
	creds := aws.Credentials{AccessKeyID: id[1], SecretAccessKey: secret[1]}
	wrong := aws.Credentials{AccessKeyID: id[1], SecretAccessKey: secret[1] + "x"}

	object := []byte("%PDF-1.4 an ebook in a private bucket")
	if st, body := awsCall(t, creds, "s3", http.MethodPut, endpoint+"/media", nil, nil); st != 200 {
		t.Fatalf("CreateBucket: %d %s", st, body)
	}
	if st, body := awsCall(t, creds, "s3", http.MethodPut, endpoint+"/media/ebooks/intro%20one.pdf", object, nil); st != 200 {
		t.Fatalf("PutObject: %d %s", st, body)
	}
	// SigV4 really is checked: a wrong secret is refused by moto itself.
	if st, _ := awsCall(t, wrong, "s3", http.MethodGet, endpoint+"/media/ebooks/intro%20one.pdf", nil, nil); st != 403 {
		t.Fatalf("moto accepted a wrong secret (%d): INITIAL_NO_AUTH_ACTION_COUNT did not take effect", st)
	}
	// The bucket refuses anonymous reads.
	if resp, err := http.Get(endpoint + "/media/ebooks/intro%20one.pdf"); err != nil || resp.StatusCode != 403 {
		t.Fatalf("anonymous read: %v %v, want 403", resp.StatusCode, err)
	}

	f := newFixture(t)
	now := time.Unix(testNow, 0)
	start := func(c aws.Credentials) *Server {
		srv, err := NewServer("127.0.0.1:0", f.v, &S3Origin{Endpoint: endpoint, Bucket: "media", Credentials: c}, ServerOptions{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Open(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return srv
	}
	get := func(srv *Server, viewerURL string) (int, string, string) {
		resp, err := http.Get(srv.URL() + strings.TrimPrefix(viewerURL, viewer))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("X-Cache")
	}
	et := &edgeTest{f: f}
	signed := et.sign(t, viewer+"/ebooks/intro%20one.pdf", testNow+600)

	good := start(creds)
	if st, body, xc := get(good, signed); st != 200 || body != string(object) || xc != "Miss from cloudfront" {
		t.Fatalf("signed URL through the edge: %d %q %q", st, body, xc)
	}
	if st, body, _ := get(good, viewer+"/ebooks/intro%20one.pdf"); st != 403 || !strings.Contains(body, "<Code>MissingKey</Code>") {
		t.Fatalf("unsigned: %d %q", st, body)
	}
	bad := start(wrong)
	if st, body, _ := get(bad, signed); st != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("edge with a wrong secret: %d %q, want moto's 403 SignatureDoesNotMatch", st, body)
	}
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
