package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	kvs "github.com/aws/aws-sdk-go-v2/service/cloudfrontkeyvaluestore"

	"github.com/cfissuer/cfissuer/internal/awstest"
	"github.com/cfissuer/cfissuer/internal/denylist"
	"github.com/cfissuer/cfissuer/policy"
)

// devAPI talks to a `serve --dev` over HTTP.
type devAPI struct {
	t        *testing.T
	api, key string
	edge     string
}

func (d *devAPI) post(path, body string) (int, map[string]any) {
	d.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, d.api+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+d.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		d.t.Fatalf("POST %s: %d %s", path, res.StatusCode, raw)
	}
	return res.StatusCode, out
}

type devGrant struct {
	id     string
	path   string // URL grants: the path and query sent to the edge
	cookie string // cookie grants: the Cookie header
}

func (d *devAPI) url(subject string) devGrant {
	d.t.Helper()
	st, out := d.post("/v1/urls", fmt.Sprintf(`{"path":"/ebooks/intro.pdf","subject":%q}`, subject))
	if st != 200 {
		d.t.Fatalf("POST /v1/urls: %d %v", st, out)
	}
	u := out["url"].(string)
	return devGrant{id: out["grant_id"].(string), path: u[len("https://media.example.test"):]}
}

func (d *devAPI) cookies(subject string) devGrant {
	d.t.Helper()
	st, out := d.post("/v1/cookies", fmt.Sprintf(`{"path_prefix":"/courses/go-101/","subject":%q}`, subject))
	if st != 200 {
		d.t.Fatalf("POST /v1/cookies: %d %v", st, out)
	}
	return devGrant{id: out["grant_id"].(string), cookie: out["cookie_header"].(string)}
}

// fetch requests the grant's resource at the edge and returns the status.
func (d *devAPI) fetch(g devGrant) int {
	d.t.Helper()
	target := d.edge + g.path
	if g.cookie != "" {
		target = d.edge + "/courses/go-101/index.m3u8"
	}
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	if g.cookie != "" {
		req.Header.Set("Cookie", g.cookie)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestRevokeThroughDevEdge drives `cfissuer serve --dev` over HTTP: the
// dev edge runs the shipped deny-list function over the store the issuer
// writes. Revoking a grant denies its URL, and revoking a cookie grant its
// cookies, at the next request, while other grants for the same resources
// still work; revoking a subject denies all of its grants. The printed
// revocation hint does the same with curl.
func TestRevokeThroughDevEdge(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	out, stop := startDev(t, state, &testClock{t: time.Now().Truncate(time.Second)})
	defer stop()
	stdout := out.String()
	key, err := os.ReadFile(filepath.Join(state, "dev-api-key"))
	if err != nil {
		t.Fatal(err)
	}
	hint := regexp.MustCompile(`(?m)^r=\$\(curl .*"subject".*\n.*$`).FindString(stdout)
	m := regexp.MustCompile(`curl -si "(http://127\.0\.0\.1:\d+)\$p"`).FindStringSubmatch(hint)
	if m == nil {
		t.Fatalf("no revocation hint in:\n%s", stdout)
	}
	d := &devAPI{t: t, api: regexp.MustCompile(`API: (http://\S+)`).FindStringSubmatch(stdout)[1], key: strings.TrimSpace(string(key)), edge: m[1]}

	aliceURL, bobURL, carolURL := d.url("alice"), d.url("bob"), d.url("carol")
	aliceC, bobC, carolC := d.cookies("alice"), d.cookies("bob"), d.cookies("carol")
	all := []devGrant{aliceURL, bobURL, carolURL, aliceC, bobC, carolC}
	for _, g := range all {
		if st := d.fetch(g); st != 200 {
			t.Fatalf("before any revocation, grant %s answered %d", g.id, st)
		}
	}
	for _, g := range []devGrant{aliceURL, aliceC} {
		if st, out := d.post("/v1/grants/"+g.id+"/revoke", ""); st != 200 {
			t.Fatalf("revoke %s: %d %v", g.id, st, out)
		}
	}
	for _, c := range []struct {
		g    devGrant
		want int
	}{{aliceURL, 403}, {aliceC, 403}, {bobURL, 200}, {bobC, 200}, {carolURL, 200}, {carolC, 200}} {
		if st := d.fetch(c.g); st != c.want {
			t.Errorf("after revoking alice's grants, %s answered %d, want %d", c.g.id, st, c.want)
		}
	}
	st, res := d.post("/v1/subjects/carol/revoke", "")
	if st != 200 || res["key"] != policy.SubjectKey("dev/carol") {
		t.Fatalf("revoke subject: %d %v", st, res)
	}
	for _, c := range []struct {
		g    devGrant
		want int
	}{{carolURL, 403}, {carolC, 403}, {d.url("carol"), 403}, {bobURL, 200}, {bobC, 200}} {
		if st := d.fetch(c.g); st != c.want {
			t.Errorf("after revoking subject carol, %s answered %d, want %d", c.g.id, st, c.want)
		}
	}

	// The printed hint, with curl: 200, the revocation, then 403.
	if _, err := exec.LookPath("curl"); err != nil {
		t.Log("curl is not installed: the printed revocation hint is checked through Go above only")
		return
	}
	lines := strings.SplitN(hint, "\n", 2)
	got, err := exec.Command("bash", "-c", strings.Replace(lines[0], "user-42", "dave", 1)+"\n"+lines[1]).CombinedOutput()
	if err != nil {
		t.Fatalf("hint: %v\n%s", err, got)
	}
	if !regexp.MustCompile(`(?s)^HTTP/1.1 200.*"denied_until".*HTTP/1.1 403`).Match(got) {
		t.Errorf("the revocation hint answered:\n%s", got)
	}
}

// TestRevocationKVSStore runs `cfissuer serve --config` with the deny list
// in a KeyValueStore (the emulation of internal/awstest, through the real
// client and the config's aws section) and revokes over HTTP.
func TestRevocationKVSStore(t *testing.T) {
	const arn = "arn:aws:cloudfront::123456789012:key-value-store/0b2c4e6a-1111-2222-3333-444455556666"
	emu := awstest.StartKVS(t, arn)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "behaviors.json"), []byte(rotationBehaviors), 0o600)
	abs, _ := filepath.Abs("../../testdata/keys/rsa2048.pem")
	sum := sha256.Sum256([]byte(loadCallerSecret))
	cfg := fmt.Sprintf(`behaviors: behaviors.json
log: {level: info, format: json}
aws: {region: us-east-1}
keys: [{id: KRSA, file: %q}]
callers:
  - {id: %s, secret_sha256: %s, revoke: true}
revocation: {store: kvs, kvs_arn: %q, endpoint: %q}
`, abs, loadCallerID, hex.EncodeToString(sum[:]), arn, emu.Endpoint)
	cfgFile := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgFile, []byte(cfg), 0o600)
	clock := &testClock{t: time.Date(2026, 3, 1, 12, 0, 7, 0, time.UTC)}
	s := startServe(t, cfgFile, clock)

	d := &devAPI{t: t, api: "http://" + s.addr, key: loadCallerID + "." + loadCallerSecret}
	st, out := d.post("/v1/urls", `{"path":"/a.mp4","subject":"u1"}`)
	if st != 200 {
		t.Fatalf("issue: %d %v", st, out)
	}
	gid := out["grant_id"].(string)
	if st, out := d.post("/v1/grants/"+gid+"/revoke", ""); st != 200 || out["denied_until"] != "2026-03-01T13:00:08Z" {
		t.Fatalf("revoke grant: %d %v (want denied_until now + L of 1h, rounded up)", st, out)
	}
	if st, out := d.post("/v1/subjects/u1/revoke", ""); st != 200 {
		t.Fatalf("revoke subject: %d %v", st, out)
	}
	store, _ := denylist.NewKVS(kvs.NewFromConfig(emu.Config(), denylist.WithEndpoint(emu.Endpoint)), arn)
	entries, err := store.Entries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	until := fmt.Sprint(clock.Now().Add(time.Hour).Unix() + 1)
	if entries[gid] != until || entries[policy.SubjectKey(loadCallerID+"/u1")] != until || len(entries) != 2 {
		t.Errorf("store entries = %v, want %s and the subject key until %s", entries, gid, until)
	}
}

func TestRevocationConfig(t *testing.T) {
	const arn = "arn:aws:cloudfront::123456789012:key-value-store/0b2c4e6a-1111-2222-3333-444455556666"
	for _, tc := range []struct {
		rc    RevocationConfig
		field string // "" when valid
	}{
		{RevocationConfig{}, ""},
		{RevocationConfig{Store: "memory"}, ""},
		{RevocationConfig{Store: "kvs", KVSARN: arn}, ""},
		{RevocationConfig{Store: "kvs", KVSARN: arn, Endpoint: "http://127.0.0.1:1"}, ""},
		{RevocationConfig{Store: "kvs"}, "revocation.kvs_arn"},
		{RevocationConfig{Store: "kvs", KVSARN: "arn:aws:cloudfront::123456789012:function/deny"}, "revocation.kvs_arn"},
		{RevocationConfig{Store: "memory", KVSARN: arn}, "revocation.kvs_arn"},
		{RevocationConfig{KVSARN: arn}, "revocation.store"},
		{RevocationConfig{Store: "dynamodb"}, "revocation.store"},
	} {
		err := tc.rc.validate()
		var ce *ServeConfigError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.rc, err)
		case tc.field != "" && (!errors.As(err, &ce) || ce.Field != tc.field):
			t.Errorf("%+v: error %v, want one on %s", tc.rc, err, tc.field)
		}
	}
	// revoke and revocation parse from YAML, and reach the callers.
	c, err := ParseServeConfig(strings.NewReader("callers: [{id: a, secret_sha256: x, revoke: true}]\nrevocation: {store: memory}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Callers[0].Revoke || c.Revocation.Store != "memory" {
		t.Errorf("parsed %+v", c)
	}
	list, err := c.CallerList(&policy.Behaviors{})
	if err != nil || !list[0].Revoke {
		t.Errorf("CallerList = %+v, %v; want revoke carried", list, err)
	}
}
