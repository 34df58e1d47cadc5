package deploytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cfissuer/cfissuer/internal/awstest"
	"github.com/cfissuer/cfissuer/internal/links"
)

// fleet is what every replica shares: one key in Secrets Manager, one links table, one link key, one
// caller, all in one moto.
type fleet struct {
	moto   *awstest.Server
	dir    string   // config.yaml and behaviors.json
	env    []string // AWS credentials and the link key
	apiKey string
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	ctx := ctxTimeout(t, 2*time.Minute)
	moto := awstest.Start(t)
	cfg := moto.Config()
	pem, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "keys", "rsa2048.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("cfissuer/signing"), SecretString: aws.String(string(pem)),
	}); err != nil {
		t.Fatal(err)
	}
	if err := links.CreateDynamoDBTable(ctx, dynamodb.NewFromConfig(cfg), "cfissuer-links"); err != nil {
		t.Fatal(err)
	}
	secret := "s3cret-for-the-fleet"
	sum := sha256.Sum256([]byte(secret))
	f := &fleet{moto: moto, dir: t.TempDir(), apiKey: "app." + secret}
	linkKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, 32))
	f.env = []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=" + awstest.Region,
		"AWS_EC2_METADATA_DISABLED=true", "LINK_KEY_1=" + linkKey}
	writeFile(t, filepath.Join(f.dir, "behaviors.json"), behaviorsJSON)
	writeFile(t, filepath.Join(f.dir, "config.yaml"), f.config(hex.EncodeToString(sum[:])))
	return f
}

func (f *fleet) config(secretSHA256 string) string {
	return fmt.Sprintf(`listen: 127.0.0.1:0
behaviors: behaviors.json
aws: {region: %s, endpoint: %s}
keys:
  - {id: KRSA, secretsmanager: {secret_id: cfissuer/signing}}
callers:
  - {id: app, secret_sha256: %s}
links:
  base_url: https://issuer.example.test
  store: dynamodb
  table: cfissuer-links
  rate: 1000
  burst: 1000
  keys:
    - {id: l1, env: LINK_KEY_1}
`, awstest.Region, f.moto.Endpoint, secretSHA256)
}

// roundRobin sends each request to the next replica and, when a replica cannot be reached or drops
// the connection, once more to the one after it.
type roundRobin struct {
	addrs   []string
	next    atomic.Uint64
	retries atomic.Int64
	client  *http.Client
	apiKey  string
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (rr *roundRobin) do(method, path, body string) (*reply, error) {
	i := rr.next.Add(1)
	r, err := rr.to(rr.addrs[i%uint64(len(rr.addrs))], method, path, body)
	if err != nil {
		rr.retries.Add(1)
		r, err = rr.to(rr.addrs[(i+1)%uint64(len(rr.addrs))], method, path, body)
	}
	return r, err
}

func (rr *roundRobin) to(addr, method, path, body string) (*reply, error) {
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+rr.apiKey)
	resp, err := rr.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func jsonField(t *testing.T, body []byte, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	s, _ := m[name].(string)
	return s
}

// TestReplicas starts three issuers with the same config (key in Secrets Manager, links in one
// DynamoDB table) behind a round-robin client.
func TestReplicas(t *testing.T) {
	f := newFleet(t)
	var procs []*proc
	var addrs []string
	for range 3 {
		p := start(t, t.TempDir(), f.env, true, "serve", "--config", filepath.Join(f.dir, "config.yaml"))
		procs, addrs = append(procs, p), append(addrs, p.addr)
	}
	rr := &roundRobin{addrs: addrs, apiKey: f.apiKey, client: &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}

	t.Run("byte-identical", func(t *testing.T) {
		// Each replica in turn, for a URL and for cookies; all within one window (1 h and 10 min).
		var urls, cookies []string
		for range addrs {
			r, err := rr.do("POST", "/v1/urls", `{"path":"/ebooks/intro.pdf"}`)
			if err != nil || r.status != 200 {
				t.Fatalf("POST /v1/urls: %v %+v", err, r)
			}
			urls = append(urls, jsonField(t, r.body, "url"))
			r, err = rr.do("POST", "/v1/cookies", `{"path_prefix":"/courses/go-101/"}`)
			if err != nil || r.status != 200 {
				t.Fatalf("POST /v1/cookies: %v %+v", err, r)
			}
			if n := len(r.header.Values("Set-Cookie")); n < 3 {
				t.Fatalf("%d Set-Cookie headers, want 3 or more", n)
			}
			cookies = append(cookies, strings.Join(r.header.Values("Set-Cookie"), "\n"))
		}
		for i := 1; i < len(addrs); i++ {
			if urls[i] != urls[0] || urls[0] == "" {
				t.Errorf("replica %d signed\n%s\nreplica 0 signed\n%s", i, urls[i], urls[0])
			}
			if cookies[i] != cookies[0] {
				t.Errorf("replica %d set cookies\n%s\nreplica 0\n%s", i, cookies[i], cookies[0])
			}
		}
		if !strings.Contains(urls[0], "Signature=") || !strings.Contains(urls[0], "Key-Pair-Id=KRSA") {
			t.Errorf("not a signed URL: %s", urls[0])
		}
	})

	t.Run("revocation", func(t *testing.T) {
		mint, err := rr.to(addrs[0], "POST", "/v1/links", `{"path":"/ebooks/intro.pdf"}`)
		if err != nil || mint.status != http.StatusCreated {
			t.Fatalf("mint on replica 0: %v %+v", err, mint)
		}
		id := jsonField(t, mint.body, "id")
		_, token, _ := strings.Cut(jsonField(t, mint.body, "link"), "/l/")
		for i, a := range addrs {
			if r, err := rr.to(a, "GET", "/l/"+token, ""); err != nil || r.status != http.StatusSeeOther {
				t.Fatalf("follow on replica %d before revocation: %v %+v", i, err, r)
			}
		}
		if r, err := rr.to(addrs[1], "DELETE", "/v1/links/"+id, ""); err != nil || r.status != http.StatusOK {
			t.Fatalf("revoke on replica 1: %v %+v", err, r)
		}
		for i, a := range addrs {
			if r, err := rr.to(a, "GET", "/l/"+token, ""); err != nil || r.status != http.StatusGone {
				t.Errorf("follow on replica %d after revocation on replica 1: %v %+v, want 410", i, err, r)
			}
		}
	})

	t.Run("lose one under load", func(t *testing.T) {
		const total, workers = 600, 4
		var sent, failed atomic.Int64
		killAt := int64(total / 3)
		var kill sync.Once
		var want string
		if r, err := rr.to(addrs[0], "POST", "/v1/urls", `{"path":"/ebooks/load.pdf"}`); err == nil && r.status == 200 {
			want = jsonField(t, r.body, "url")
		} else {
			t.Fatalf("first issuance: %v %+v", err, r)
		}
		var wg sync.WaitGroup
		errs := make(chan error, total)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for sent.Add(1) <= total {
					if sent.Load() >= killAt {
						kill.Do(func() { procs[2].cmd.Process.Kill() })
					}
					r, err := rr.do("POST", "/v1/urls", `{"path":"/ebooks/load.pdf"}`)
					switch {
					case err != nil:
						failed.Add(1)
						errs <- err
					case r.status != 200:
						failed.Add(1)
						errs <- fmt.Errorf("status %d: %s", r.status, r.body)
					case jsonField(t, r.body, "url") != want:
						failed.Add(1)
						errs <- errors.New("a different URL for the same request")
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		<-procs[2].done
		if failed.Load() != 0 {
			t.Fatalf("%d of %d requests lost with one retry", failed.Load(), total)
		}
		if rr.retries.Load() == 0 {
			t.Fatal("no request was retried: the killed replica was never asked, so the test proved nothing")
		}
		t.Logf("%d requests, none lost; %d retried after replica 2 was killed", total, rr.retries.Load())
	})
}

// TestLambda runs the same binary in Lambda mode (AWS_LAMBDA_RUNTIME_API) against a Runtime API
// served here, with its config, behaviors and link key in SSM parameters and its signing key in
// Secrets Manager, and checks that it answers as the HTTP replicas do.
func TestLambda(t *testing.T) {
	f := newFleet(t)
	ctx := ctxTimeout(t, 2*time.Minute)
	sm := ssm.NewFromConfig(f.moto.Config())
	put := func(name, value string, typ ssmtypes.ParameterType) {
		if _, err := sm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: typ}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(f.dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	put("/cfissuer/config", strings.Replace(string(cfg), "behaviors: behaviors.json\n", "", 1), ssmtypes.ParameterTypeString)
	put("/cfissuer/behaviors", behaviorsJSON, ssmtypes.ParameterTypeString)
	var linkKey string
	for _, kv := range f.env {
		if v, ok := strings.CutPrefix(kv, "LINK_KEY_1="); ok {
			linkKey = v
		}
	}
	put("/cfissuer/link-key", linkKey, ssmtypes.ParameterTypeSecureString)

	rt := newRuntimeAPI(t)
	env := []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=" + awstest.Region,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=" + f.moto.Endpoint,
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(rt.srv.URL, "http://"),
		"CFISSUER_CONFIG=ssm:/cfissuer/config", "CFISSUER_BEHAVIORS=ssm:/cfissuer/behaviors:1", "LINK_KEY_1=ssm:/cfissuer/link-key"}
	work := t.TempDir()
	p := start(t, work, env, false, "serve")

	// The same requests through one HTTP replica, to compare.
	h := start(t, t.TempDir(), f.env, true, "serve", "--config", filepath.Join(f.dir, "config.yaml"))
	rr := &roundRobin{addrs: []string{h.addr}, apiKey: f.apiKey, client: &http.Client{Timeout: 20 * time.Second}}
	wantURL, err := rr.do("POST", "/v1/urls", `{"path":"/ebooks/intro.pdf"}`)
	if err != nil || wantURL.status != 200 {
		t.Fatalf("HTTP replica: %v %+v", err, wantURL)
	}
	wantCookies, err := rr.do("POST", "/v1/cookies", `{"path_prefix":"/courses/go-101/"}`)
	if err != nil || wantCookies.status != 200 {
		t.Fatalf("HTTP replica: %v %+v", err, wantCookies)
	}

	invoke := func(method, path, body string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		var ev events.APIGatewayV2HTTPRequest
		raw, err := os.ReadFile("../lambdahttp/testdata/function-url-request.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		p, q, _ := strings.Cut(path, "?")
		ev.RawPath, ev.RawQueryString, ev.Cookies, ev.QueryStringParameters = p, q, nil, nil
		ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = method, p
		ev.Headers = map[string]string{"authorization": "Bearer " + f.apiKey, "content-type": "application/json"}
		ev.Body, ev.IsBase64Encoded = body, false
		return rt.invoke(t, ev, p)
	}
	if r := invoke("GET", "/readyz", ""); r.StatusCode != 200 {
		t.Fatalf("/readyz through Lambda: %+v", r)
	}
	r := invoke("POST", "/v1/urls", `{"path":"/ebooks/intro.pdf"}`)
	if r.StatusCode != 200 || jsonField(t, []byte(r.Body), "url") != jsonField(t, wantURL.body, "url") {
		t.Errorf("URL through Lambda:\n%s\nthrough HTTP:\n%s", r.Body, wantURL.body)
	}
	r = invoke("POST", "/v1/cookies", `{"path_prefix":"/courses/go-101/"}`)
	if got, want := strings.Join(r.Cookies, "\n"), strings.Join(wantCookies.header.Values("Set-Cookie"), "\n"); r.StatusCode != 200 || got != want || len(r.Cookies) < 3 {
		t.Errorf("cookies through Lambda:\n%s\nthrough HTTP:\n%s", got, want)
	}
	// A link minted through Lambda (link key from a SecureString), revoked through HTTP: refused by both.
	r = invoke("POST", "/v1/links", `{"path":"/ebooks/intro.pdf"}`)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("mint through Lambda: %+v", r)
	}
	id := jsonField(t, []byte(r.Body), "id")
	_, token, _ := strings.Cut(jsonField(t, []byte(r.Body), "link"), "/l/")
	if r := invoke("GET", "/l/"+token, ""); r.StatusCode != http.StatusSeeOther || r.Headers["Location"] == "" {
		t.Fatalf("follow through Lambda: %+v", r)
	}
	if d, err := rr.do("DELETE", "/v1/links/"+id, ""); err != nil || d.status != 200 {
		t.Fatalf("revoke through HTTP: %v %+v", err, d)
	}
	if r := invoke("GET", "/l/"+token, ""); r.StatusCode != http.StatusGone {
		t.Errorf("follow through Lambda after revocation through HTTP: %d, want 410", r.StatusCode)
	}
	if strings.Contains(p.output(), linkKey) || strings.Contains(p.output(), "BEGIN") {
		t.Error("the Lambda process logged a secret")
	}
	if rt.initErrors.Load() != 0 {
		t.Errorf("%d init errors reported to the Runtime API", rt.initErrors.Load())
	}
}

// runtimeAPI serves Lambda's Runtime API (2018-06-01) on 127.0.0.1: it hands out one queued event per
// GET .../invocation/next and collects each POST .../response.
type runtimeAPI struct {
	srv        *httptest.Server
	events     chan []byte
	responses  sync.Map // request ID → chan []byte
	seq        atomic.Int64
	initErrors atomic.Int64
}

func newRuntimeAPI(t *testing.T) *runtimeAPI {
	rt := &runtimeAPI{events: make(chan []byte)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case ev := <-rt.events:
			var head struct{ ID string }
			json.Unmarshal(ev[:bytes.IndexByte(ev, '\n')], &head)
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", head.ID)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(30*time.Second).UnixMilli()))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:cfissuer")
			w.Write(ev[bytes.IndexByte(ev, '\n')+1:])
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/{kind}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.PathValue("kind") == "error" {
			body = append([]byte("error:"), body...)
		}
		if ch, ok := rt.responses.Load(r.PathValue("id")); ok {
			ch.(chan []byte) <- body
		}
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		rt.initErrors.Add(1)
		w.WriteHeader(http.StatusAccepted)
	})
	rt.srv = httptest.NewServer(mux)
	t.Cleanup(rt.srv.Close)
	return rt
}

func (rt *runtimeAPI) invoke(t *testing.T, ev events.APIGatewayV2HTTPRequest, what string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	id := fmt.Sprintf("req-%d", rt.seq.Add(1))
	ch := make(chan []byte, 1)
	rt.responses.Store(id, ch)
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case rt.events <- append([]byte(fmt.Sprintf(`{"ID":%q}`, id)+"\n"), payload...):
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: the function never asked for the next event", what)
	}
	select {
	case body := <-ch:
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatalf("%s: the function answered %s", what, body)
		}
		return resp
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: no response within 60s", what)
	}
	return events.APIGatewayV2HTTPResponse{}
}
