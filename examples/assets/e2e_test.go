//go:build e2e

package main

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cfissuer/cfissuer/examples/internal/devstack"
	"github.com/cfissuer/cfissuer/examples/internal/e2etest"
	"github.com/cfissuer/cfissuer/examples/internal/issuerapi"
	"github.com/cfissuer/cfissuer/examples/internal/webapp"
)

// TestAssetsInChromium: the page loads its signed logo and style sheet
// once; two link clicks later the edge has seen no other asset request
// (the browser's cache served them). When the window rolls over, the pages
// name new URLs and the assets load again, never broken, even after the
// old URLs expire.
func TestAssetsInChromium(t *testing.T) {
	st, clock := e2etest.Start(t)
	h := newApp(webapp.Env{Issuer: &issuerapi.Client{BaseURL: st.IssuerURL, APIKey: st.APIKey},
		MediaOrigin: st.Behaviors.ViewerOrigin, Logger: slog.New(slog.DiscardHandler)})
	appAddr, err := st.ServeTLS("127.0.0.1:0", h)
	if err != nil {
		t.Fatal(err)
	}
	ctx := e2etest.Browser(t, st, appAddr)
	app := "https://" + devstack.AppHost

	direct := 0 // the test's own requests, not the browser's
	assetRequests := func() (n int) {
		for _, r := range st.EdgeRequests()[direct:] {
			if strings.HasPrefix(r.Path, "/assets/") {
				n++
				if r.Status != http.StatusOK {
					t.Errorf("edge: %s %s: %d, want 200", r.Method, r.Path, r.Status)
				}
			}
		}
		return n
	}
	// rendered waits for the page's logo and style sheet and checks that
	// both arrived: the image decoded, the style applied.
	rendered := func(what, heading string) (logo string) {
		t.Helper()
		e2etest.Step(t, ctx, what, chromedp.WaitVisible("#logo", chromedp.ByID),
			chromedp.Poll(`document.readyState === "complete" && document.getElementById("logo").complete`, nil, chromedp.WithPollingInterval(50*time.Millisecond)))
		var got struct {
			Heading    string
			Width      int
			Background string
			Logo       string
		}
		e2etest.Step(t, ctx, what, chromedp.Evaluate(`({heading: document.querySelector("h1").textContent,
			width: document.getElementById("logo").naturalWidth,
			background: getComputedStyle(document.body).backgroundColor,
			logo: document.getElementById("logo").src})`, &got))
		if got.Heading != heading {
			t.Fatalf("%s: on page %q, want %q", what, got.Heading, heading)
		}
		if got.Width == 0 {
			t.Errorf("%s: the logo is a broken image", what)
		}
		if got.Background != "rgb(240, 244, 250)" {
			t.Errorf("%s: body background %q: the style sheet did not apply", what, got.Background)
		}
		return got.Logo
	}

	e2etest.Step(t, ctx, "open the home page", chromedp.Navigate(app+"/"))
	logo := rendered("first load", "Home")
	if n := assetRequests(); n != 2 {
		t.Fatalf("first load: %d asset requests at the edge, want 2 (logo and style sheet)", n)
	}
	e2etest.Step(t, ctx, "click About", chromedp.Click("#nav-about", chromedp.ByID))
	if rendered("About", "About") != logo {
		t.Error("the logo's signed URL changed within the window")
	}
	e2etest.Step(t, ctx, "click Contact", chromedp.Click("#nav-contact", chromedp.ByID))
	rendered("Contact", "Contact")
	if n := assetRequests(); n != 2 {
		t.Errorf("after two more pages in the window: %d asset requests at the edge, want still 2 (the browser's cache)", n)
	}

	var png []byte
	e2etest.Step(t, ctx, "screenshot", chromedp.CaptureScreenshot(&png))
	if err := os.WriteFile(filepath.Join(e2etest.Artifacts(t), "assets.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}

	// assets: browser_max_age 86400 + margin 3600, window 86400. Two days
	// on, the old URLs have expired (the edge refuses them) and the window
	// has rolled over: the next page names new URLs, which load.
	clock.Add(49*time.Hour + time.Second)
	client := st.TLS.Client(map[string]string{devstack.MediaHost + ":443": st.EdgeTLSAddr})
	resp, err := client.Get(logo)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the first window's logo URL two days later: %d, want 403", resp.StatusCode)
	}
	direct = len(st.EdgeRequests())
	before := assetRequests()
	e2etest.Step(t, ctx, "click Home", chromedp.Click("#nav-home", chromedp.ByID))
	if rendered("next window", "Home") == logo {
		t.Error("after the window rolled over the page still names the old logo URL")
	}
	if n := assetRequests() - before; n != 2 {
		t.Errorf("next window: %d asset requests at the edge, want 2 (new URLs, fetched once)", n)
	}
}
