package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDevLinks: `serve --dev` mints a permanent link, follows it to a URL
// the dev edge serves, revokes it, and still refuses it (410) after a
// restart on the same state folder, with the same dev link key. The
// commands it prints for links work as printed.
func TestDevLinks(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	out, stop := startDev(t, state, clock)
	stdout := out.String()
	apiKey, err := os.ReadFile(filepath.Join(state, "dev-api-key"))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(apiKey))
	linkKey, err := os.ReadFile(filepath.Join(state, "dev-link-key"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(state, "dev-link-key")); st.Mode().Perm() != 0o600 {
		t.Errorf("dev-link-key mode %v", st.Mode().Perm())
	}
	if strings.Contains(stdout, strings.TrimSpace(string(linkKey))) {
		t.Fatal("stdout holds the dev link key")
	}
	addrs := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindAllString(stdout, -1)
	api := addrs[0]
	edgeRE := regexp.MustCompile(`(http://127\.0\.0\.1:\d+)\$u`)
	em := edgeRE.FindStringSubmatch(stdout)
	if em == nil {
		t.Fatalf("no edge address in:\n%s", stdout)
	}
	edgeURL := em[1]

	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, api+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	follow := func(link string) *http.Response {
		t.Helper()
		resp, err := noRedirect.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	status, minted := call("POST", "/v1/links", `{"path":"/ebooks/intro.pdf","filename":"Intro.pdf"}`)
	if status != 201 {
		t.Fatalf("mint: %d %v", status, minted)
	}
	link, id := minted["link"].(string), minted["id"].(string)
	if !strings.HasPrefix(link, api+"/l/") {
		t.Fatalf("link %q is not on the issuer %s", link, api)
	}
	resp := follow(link)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 303 || !strings.HasPrefix(loc, "https://media.example.test/ebooks/intro.pdf?") {
		t.Fatalf("follow: %d %q", resp.StatusCode, loc)
	}
	got, err := http.Get(edgeURL + strings.TrimPrefix(loc, "https://media.example.test"))
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if got.StatusCode != 200 || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("the followed URL through the edge: %d", got.StatusCode)
	}
	if status, _ := call("DELETE", "/v1/links/"+id, ""); status != 200 {
		t.Fatalf("revoke: %d", status)
	}
	if resp := follow(link); resp.StatusCode != 410 {
		t.Errorf("follow after revoke: %d", resp.StatusCode)
	}
	_, other := call("POST", "/v1/links", `{"path":"/ebooks/intro.pdf"}`)
	if code := stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}

	// Restart on the same state: the revocation and the other link survive.
	out, stop = startDev(t, state, clock)
	defer stop()
	addrs = regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindAllString(out.String(), -1)
	api2 := addrs[0]
	if resp := follow(strings.Replace(link, api, api2, 1)); resp.StatusCode != 410 {
		t.Errorf("follow of the revoked link after a restart: %d", resp.StatusCode)
	}
	if resp := follow(strings.Replace(other["link"].(string), api, api2, 1)); resp.StatusCode != 303 {
		t.Errorf("follow of the other link after a restart: %d", resp.StatusCode)
	}
	if again, _ := os.ReadFile(filepath.Join(state, "dev-link-key")); !bytes.Equal(again, linkKey) {
		t.Error("the restart made a new dev link key")
	}

	// The printed commands: mint, follow (303), revoke, follow (410).
	lines := regexp.MustCompile(`(?m)^# 4\..*\n(.*)\n(.*)$`).FindStringSubmatch(out.String())
	if lines == nil {
		t.Fatalf("no link commands printed:\n%s", out.String())
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is required to check the printed commands: apt-get install curl")
	}
	res, err := exec.Command("bash", "-c", lines[1]+"\n"+lines[2]).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, res)
	}
	if s := string(res); !strings.HasPrefix(s, "HTTP/1.1 303") || !strings.Contains(s, `"state":"revoked"`) || !strings.HasSuffix(strings.TrimSpace(s), "HTTP/1.1 410 Gone") {
		t.Errorf("the printed link commands answered:\n%s", s)
	}
}
