//go:build e2e

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"html"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cfissuer/cfissuer/examples/internal/devstack"
	"github.com/cfissuer/cfissuer/examples/internal/e2etest"
	"github.com/cfissuer/cfissuer/examples/internal/issuerapi"
	"github.com/cfissuer/cfissuer/examples/internal/webapp"
)

// curl runs curl against the app and the edge under their real names,
// trusting the test CA, in dir; it returns the headers of every response
// (curl -D) and the body written to stdout, if any.
type curl struct {
	t                  *testing.T
	bin, ca, app, edge string
}

func (c *curl) run(dir string, args ...string) (headers, stdout string) {
	c.t.Helper()
	hdr := filepath.Join(dir, ".headers")
	base := []string{"--silent", "--show-error", "--cacert", c.ca, "--dump-header", hdr,
		"--connect-to", devstack.AppHost + ":443:" + c.app, "--connect-to", devstack.MediaHost + ":443:" + c.edge}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append(base, args...)...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("curl: %v: %s", err, errOut.String()) // curl prints no URL on error here
	}
	h, err := os.ReadFile(hdr)
	if err != nil {
		c.t.Fatal(err)
	}
	os.Remove(hdr)
	return string(h), out.String()
}

// header returns the values of name in curl's header dump, one per
// response that had it.
func header(dump, name string) []string {
	var out []string
	for line := range strings.SplitSeq(dump, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && strings.EqualFold(k, name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// TestDownloadWithCurl: two users download the ebook with curl in one
// window: the app's Download redirects both (303) to the same signed URL,
// the edge's cache misses for the first and hits for the second, and the
// file arrives intact under the name the app chose. After the URL expires
// it is refused with 403, while the page's permanent link (the issuer's
// /l/{token}) still hands out a fresh signed URL that downloads the file.
func TestDownloadWithCurl(t *testing.T) {
	st, clock := e2etest.Start(t)
	h := newApp(webapp.Env{Issuer: &issuerapi.Client{BaseURL: st.IssuerURL, APIKey: st.APIKey},
		MediaOrigin: st.Behaviors.ViewerOrigin, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	appAddr, err := st.ServeTLS("127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := st.TLS.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	c := &curl{t: t, bin: e2etest.Need(t, "curl"), ca: ca, app: appAddr, edge: st.EdgeTLSAddr}
	want, err := os.ReadFile(e2etest.Content("ebooks/intro.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	const saved = "Introduction to Go.pdf"

	download := func(user string) (location, xcache string) {
		t.Helper()
		dir := t.TempDir()
		c.run(dir, "--cookie-jar", "jar", "--data", "user="+user, "https://"+devstack.AppHost+"/login")
		// -L follows the 303; -O -J saves under the Content-Disposition name.
		hdr, _ := c.run(dir, "--cookie", "jar", "--location", "--remote-name", "--remote-header-name", "--fail",
			"https://"+devstack.AppHost+"/download/intro.pdf")
		if !strings.Contains(hdr, " 303") {
			t.Errorf("%s: the app answered without a 303:\n%s", user, statusLines(hdr))
		}
		got, err := os.ReadFile(filepath.Join(dir, saved))
		if err != nil {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("%s: %v; the folder holds %v", user, err, entries)
		}
		if sha256.Sum256(got) != sha256.Sum256(want) {
			t.Errorf("%s: the saved file (%d bytes) differs from the origin's (%d bytes)", user, len(got), len(want))
		}
		locs, caches := header(hdr, "Location"), header(hdr, "X-Cache")
		if len(locs) != 1 || len(caches) != 1 {
			t.Fatalf("%s: Location %d times, X-Cache %d times, want once each", user, len(locs), len(caches))
		}
		return locs[0], caches[0]
	}

	// The page's permanent link, before any window passes.
	pageDir := t.TempDir()
	c.run(pageDir, "--cookie-jar", "jar", "--data", "user=ada", "https://"+devstack.AppHost+"/login")
	permalink := func() string {
		t.Helper()
		_, page := c.run(pageDir, "--cookie", "jar", "--fail", "https://"+devstack.AppHost+"/")
		m := regexp.MustCompile(`id="permalink-intro.pdf" href="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("the ebook page has no permanent link for intro.pdf:\n%s", page)
		}
		return html.UnescapeString(m[1])
	}
	link := permalink()
	if !strings.HasPrefix(link, st.IssuerURL+"/l/") {
		t.Fatalf("the permanent link is not the issuer's /l/{token}")
	}

	loc1, cache1 := download("ada")
	loc2, cache2 := download("grace")
	if loc1 != loc2 {
		t.Error("two users in one window were redirected to different signed URLs")
	}
	if !strings.HasPrefix(loc1, st.MediaURL("/ebooks/intro.pdf?")) {
		t.Errorf("the redirect is not to the ebook on the media domain")
	}
	if cache1 != "Miss from cloudfront" || cache2 != "Hit from cloudfront" {
		t.Errorf("X-Cache: first %q, second %q; want a miss, then a hit", cache1, cache2)
	}

	// ebooks: browser_max_age 3600 + margin 300 + window 3600: past that,
	// the URL has expired.
	clock.Add(7501 * time.Second)
	dir := t.TempDir()
	hdr, body := c.run(dir, loc1)
	if !strings.Contains(statusLines(hdr), " 403") || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Errorf("the old signed URL after expiry: %s %s, want 403 AccessDenied", statusLines(hdr), body)
	}

	// The page still carries the same permanent link, and following it
	// hands out a fresh signed URL that works.
	if permalink() != link {
		t.Error("the permanent link on the page changed")
	}
	hdr, _ = c.run(dir, "--location", "--remote-name", "--remote-header-name", "--fail", link)
	locs := header(hdr, "Location")
	if !strings.Contains(hdr, " 303") || len(locs) != 1 || locs[0] == loc1 || !strings.HasPrefix(locs[0], st.MediaURL("/ebooks/intro.pdf?")) {
		t.Errorf("following the permanent link after expiry: %s; want a 303 to a new signed URL for the ebook", statusLines(hdr))
	}
	got, err := os.ReadFile(filepath.Join(dir, saved))
	if err != nil {
		t.Fatalf("through the permanent link: %v", err)
	}
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Error("through the permanent link: the saved file differs from the origin's")
	}
}

// statusLines keeps the status lines of a header dump.
func statusLines(dump string) string {
	var out []string
	for line := range strings.SplitSeq(dump, "\n") {
		if strings.HasPrefix(line, "HTTP/") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return strings.Join(out, " | ")
}
