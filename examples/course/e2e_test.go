//go:build e2e

package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cfissuer/cfissuer/examples/internal/devstack"
	"github.com/cfissuer/cfissuer/examples/internal/e2etest"
	"github.com/cfissuer/cfissuer/examples/internal/issuerapi"
	"github.com/cfissuer/cfissuer/examples/internal/webapp"
)

const hlsJS = "../web/node_modules/hls.js/dist/hls.min.js"

// startApp starts the stack and the course app over TLS.
func startApp(t *testing.T) (*devstack.Stack, *e2etest.Clock, string) {
	t.Helper()
	st, clock := e2etest.Start(t)
	h, err := newApp(webapp.Env{Issuer: &issuerapi.Client{BaseURL: st.IssuerURL, APIKey: st.APIKey},
		MediaOrigin: st.Behaviors.ViewerOrigin, Logger: slog.New(slog.DiscardHandler)}, hlsJS)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := st.ServeTLS("127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	return st, clock, addr
}

// student is a viewer with a cookie jar: signed in to the app, it holds the
// media cookies the app relays, as a browser would.
type student struct {
	t      *testing.T
	client *http.Client
	jar    *cookiejar.Jar
}

func newStudent(t *testing.T, st *devstack.Stack, appAddr string) *student {
	jar, _ := cookiejar.New(nil)
	c := st.TLS.Client(map[string]string{devstack.AppHost + ":443": appAddr, devstack.MediaHost + ":443": st.EdgeTLSAddr})
	c.Jar = jar
	s := &student{t: t, client: c, jar: jar}
	s.do("POST", "https://"+devstack.AppHost+"/login", "user=ada", http.StatusSeeOther)
	return s
}

func (s *student) do(method, u, form string, want int) *http.Response {
	s.t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(form))
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		s.t.Fatalf("%s %s: %d, want %d", method, u, resp.StatusCode, want)
	}
	return resp
}

// cookieHeader is the Cookie header the student's browser would send for
// the course's playlist.
func (s *student) cookieHeader(course string) string {
	u, _ := url.Parse("https://" + devstack.MediaHost + "/courses/" + course + "/index.m3u8")
	var parts []string
	for _, c := range s.jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// ffmpeg reads the whole master playlist of course through the edge's TLS
// listener as a real HLS client with cookie (and the viewer Host) and
// decodes every video frame of both renditions, writing one CRC line per
// frame. It returns the frame count per output stream, and ffmpeg's error
// output (which never holds the cookie at this log level).
func ffmpeg(t *testing.T, st *devstack.Stack, course, cookie string) (map[string]int, string, error) {
	t.Helper()
	bin := e2etest.Need(t, "ffmpeg")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := st.TLS.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	headers := "Host: " + devstack.MediaHost + "\r\n"
	if cookie != "" {
		headers += "Cookie: " + cookie + "\r\n"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-tls_verify", "1", "-ca_file", ca, "-headers", headers,
		"-i", "https://"+st.EdgeTLSAddr+"/courses/"+course+"/index.m3u8",
		"-map", "0:v", "-f", "framecrc", "-")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	frames := map[string]int{}
	for line := range strings.SplitSeq(stdout.String(), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		stream, _, _ := strings.Cut(line, ",")
		frames[stream]++
	}
	return frames, stderr.String(), err
}

// segments lists the media files of course's stream: every rendition's
// playlist and segments.
func segments(t *testing.T, course string) []string {
	var out []string
	root := e2etest.Content("courses/" + course)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, "/courses/"+course+"/"+filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStreamWithFFmpeg: ffmpeg plays the whole lesson with the cookies the
// app relays; without cookies, or with another course's, it gets 403; after
// the cookies expire it gets 403 until the app's refresh endpoint hands out
// fresh ones.
func TestStreamWithFFmpeg(t *testing.T) {
	st, clock, appAddr := startApp(t)
	ada := newStudent(t, st, appAddr)
	ada.do("GET", "https://"+devstack.AppHost+"/courses/go-101/", "", http.StatusOK)
	cookie := ada.cookieHeader("go-101")
	if cookie == "" {
		t.Fatal("the lesson page set no cookie the browser would send to media.example.test")
	}
	wantFrames := 25 * devstack.LessonSeconds

	playsWhole := func(what, cookie string) {
		t.Helper()
		before := len(st.EdgeRequests())
		frames, stderr, err := ffmpeg(t, st, "go-101", cookie)
		if err != nil || stderr != "" {
			t.Fatalf("%s: ffmpeg: %v\n%s", what, err, stderr)
		}
		if len(frames) != 2 || frames["0"] != wantFrames || frames["1"] != wantFrames {
			t.Errorf("%s: decoded frames per rendition %v, want %d in each of 2", what, frames, wantFrames)
		}
		fetched := map[string]int{}
		for _, r := range st.EdgeRequests()[before:] {
			fetched[r.Path] = r.Status
		}
		for _, p := range segments(t, "go-101") {
			if fetched[p] != http.StatusOK && fetched[p] != http.StatusPartialContent { // ffmpeg asks for Range: bytes=0-
				t.Errorf("%s: %s: status %d through the edge, want 200 or 206", what, p, fetched[p])
			}
		}
	}
	refused := func(what, cookie string) {
		t.Helper()
		frames, stderr, err := ffmpeg(t, st, "go-101", cookie)
		if err == nil || !strings.Contains(stderr, "403") {
			t.Errorf("%s: ffmpeg got %v (frames %v), want an error with 403; stderr:\n%s", what, err, frames, stderr)
		}
	}

	playsWhole("with the lesson's cookies", cookie)
	refused("without cookies", "")

	bob := newStudent(t, st, appAddr)
	bob.do("GET", "https://"+devstack.AppHost+"/courses/rust-201/", "", http.StatusOK)
	if bob.cookieHeader("go-101") != "" {
		t.Error("rust-201's cookies would be sent for go-101: their Path is not the course's")
	}
	refused("with cookies for another course", bob.cookieHeader("rust-201"))

	// The cookies are valid for browser_max_age + margin + less than one
	// window (60 + 300 + 600 s): 16 minutes later they have expired.
	clock.Add(16 * time.Minute)
	refused("after the cookies expired", cookie)
	ada.do("POST", "https://"+devstack.AppHost+"/courses/go-101/refresh", "", http.StatusOK)
	fresh := ada.cookieHeader("go-101")
	if fresh == cookie {
		t.Fatal("the refresh endpoint did not replace the cookies")
	}
	playsWhole("after a refresh", fresh)
}

// TestLessonInChromium: a student signs in, opens the lesson and hls.js
// plays it through the edge with the relayed cookies; after the cookies
// expire, a seek makes the player fetch again, the 403 goes through the
// retry hook (a refresh) and playback goes on; signing out clears the
// cookies.
func TestLessonInChromium(t *testing.T) {
	st, clock, appAddr := startApp(t)
	ctx := e2etest.Browser(t, st, appAddr)
	app := "https://" + devstack.AppHost

	e2etest.Step(t, ctx, "sign in and open the lesson",
		chromedp.Navigate(app+"/courses/go-101/"),
		chromedp.WaitVisible("#login", chromedp.ByID),
		chromedp.Click("#login", chromedp.ByID),
		chromedp.WaitVisible("#video", chromedp.ByID),
	)
	var loc string
	e2etest.Step(t, ctx, "location", chromedp.Location(&loc))
	if loc != app+"/courses/go-101/" {
		t.Fatalf("after sign-in the browser is at %s", loc)
	}

	// Headless Debian Chromium decodes H.264: the playhead advances.
	waitFor(t, ctx, "the video plays past 2s", `document.getElementById("video").currentTime > 2`)
	var mediaCookies []*network.Cookie
	e2etest.Step(t, ctx, "cookies", chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		mediaCookies, err = network.GetCookies().WithURLs([]string{"https://" + devstack.MediaHost + "/courses/go-101/index.m3u8"}).Do(ctx)
		return err
	}))
	if len(mediaCookies) < 3 {
		t.Fatalf("the browser holds %d cookies for the lesson on the media domain, want CloudFront-Policy, -Signature, -Key-Pair-Id", len(mediaCookies))
	}
	for _, c := range mediaCookies {
		if !c.Secure || !c.HTTPOnly || c.Path != "/courses/go-101/" || c.SameSite != network.CookieSameSiteLax {
			t.Errorf("cookie %s: secure %v httponly %v path %q samesite %v", c.Name, c.Secure, c.HTTPOnly, c.Path, c.SameSite)
		}
	}
	shot := screenshot(t, ctx, "lesson.png")
	t.Logf("screenshot: %s", shot)

	// Expire the cookies, then seek to a part not buffered yet: the
	// fragment request gets 403, the hook refreshes the cookies and the
	// player loads it again.
	clock.Add(16 * time.Minute) // past browser_max_age + margin + window
	e2etest.Step(t, ctx, "seek", chromedp.Evaluate(`document.getElementById("video").currentTime = 9; true`, nil))
	waitFor(t, ctx, "playback goes on after the refresh", `document.getElementById("video").currentTime > 10`)
	var got struct {
		Refreshes, Retries int
		Errors             []struct {
			Details string
			Code    int
		}
	}
	e2etest.Step(t, ctx, "lesson state", chromedp.Evaluate(`({refreshes: lesson.refreshes, retries: lesson.retries, errors: lesson.errors})`, &got))
	if got.Refreshes < 1 || got.Retries < 1 || !slices.ContainsFunc(got.Errors, func(e struct {
		Details string
		Code    int
	}) bool {
		return e.Code == 403
	}) {
		t.Errorf("after expiry: refreshes %d, retries %d, errors %+v; want a 403 that the hook answered with a refresh", got.Refreshes, got.Retries, got.Errors)
	}
	for _, r := range st.EdgeRequests() {
		if r.Status != http.StatusOK && r.Status != http.StatusForbidden && r.Status != http.StatusPartialContent {
			t.Errorf("edge: %s %s: %d", r.Method, r.Path, r.Status)
		}
	}

	e2etest.Step(t, ctx, "sign out", chromedp.Click("#signout", chromedp.ByID), chromedp.WaitVisible("#login", chromedp.ByID))
	e2etest.Step(t, ctx, "cookies after sign-out", chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		mediaCookies, err = network.GetCookies().WithURLs([]string{"https://" + devstack.MediaHost + "/courses/go-101/index.m3u8"}).Do(ctx)
		return err
	}))
	if len(mediaCookies) != 0 {
		names := []string{}
		for _, c := range mediaCookies {
			names = append(names, c.Name)
		}
		t.Errorf("after sign-out the browser still holds %v for the lesson", names)
	}
}

// waitFor polls a JavaScript condition until it holds; the step's
// deadline fails the test if it never does.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx, chromedp.Poll(cond, nil, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		var state string
		chromedp.Run(ctx, chromedp.Evaluate(`JSON.stringify({time: document.getElementById("video").currentTime,
			status: document.getElementById("status").textContent, refreshes: lesson.refreshes, retries: lesson.retries,
			errors: lesson.errors, loads: lesson.loads.slice(-4).map(l => l.url.split("?")[0])})`, &state))
		t.Fatalf("%s: %v; player: %s", what, err, state)
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	var png []byte
	e2etest.Step(t, ctx, "screenshot", chromedp.CaptureScreenshot(&png))
	p := filepath.Join(e2etest.Artifacts(t), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var _ = fmt.Sprint
