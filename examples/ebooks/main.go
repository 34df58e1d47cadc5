// Command ebooks is journey 2 of cfissuer: CDN-cached ebook downloads with
// signed URLs. "Download" asks cfissuer for a signed URL to
// /ebooks/<file>.pdf with the file name the browser should save, and
// redirects to it (303). The URL is stable within the behavior's window, so
// everyone downloading the same file in the same window gets the same URL
// and the CDN's cache hits for all but the first. The page also carries a
// permanent link per book (cfissuer's /l/{token}, minted once): a stable
// address to bookmark or mail, behind which each follow gets a fresh
// short-lived signed URL.
//
//	make example-ebooks
package main

import (
	"context"
	"html/template"
	"net/http"
	"sync"

	"github.com/cfissuer/cfissuer/examples/internal/issuerapi"
	"github.com/cfissuer/cfissuer/examples/internal/webapp"
)

// ebook is one book of the catalog.
type ebook struct {
	File  string // under /ebooks/
	Title string
}

var catalog = []ebook{{File: "intro.pdf", Title: "Introduction to Go"}}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ebooks</title></head>
<body><h1>Ebooks</h1><p>Signed in as {{.User}}.</p>
<ul>{{range $b := .Books}}<li>{{$b.Title}}: <a id="download-{{$b.File}}" href="/download/{{$b.File}}">Download</a>
{{with index $.Links $b.File}} · <a id="permalink-{{$b.File}}" href="{{.}}">permanent link</a>{{end}}</li>{{end}}</ul></body></html>
`))

func main() {
	webapp.Main("ebooks", func(env webapp.Env) (http.Handler, error) { return newApp(env), nil })
}

type app struct {
	env      webapp.Env
	sessions webapp.Sessions

	mu    sync.Mutex
	links map[string]string // file → permanent link, minted once
}

func newApp(env webapp.Env) http.Handler {
	a := &app{env: env}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", a.sessions.HandleLogin)
	mux.HandleFunc("GET /{$}", a.handleIndex)
	mux.HandleFunc("GET /download/{file}", a.handleDownload)
	return mux
}

func (a *app) handleIndex(w http.ResponseWriter, r *http.Request) {
	user := a.sessions.User(r)
	if user == "" {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	permalinks := map[string]string{}
	for _, b := range catalog {
		l, err := a.permalink(r.Context(), b)
		if err != nil {
			a.env.Logger.Error("permanent link", "file", b.File, "err", err)
			continue // the Download button still works
		}
		permalinks[b.File] = l
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	indexPage.Execute(w, map[string]any{"User": user, "Books": catalog, "Links": permalinks})
}

// permalink returns the book's permanent link, minting it the first time.
// A real app would store it with the book.
func (a *app) permalink(ctx context.Context, b ebook) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if l, ok := a.links[b.File]; ok {
		return l, nil
	}
	l, err := a.env.Issuer.Link(ctx, issuerapi.URLRequest{Path: "/ebooks/" + b.File, Filename: b.Title + ".pdf"})
	if err != nil {
		return "", err
	}
	if a.links == nil {
		a.links = map[string]string{}
	}
	a.links[b.File] = l.Link
	return l.Link, nil
}

// handleDownload redirects a signed-in user to the book's signed URL.
func (a *app) handleDownload(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	var book *ebook
	for i := range catalog {
		if catalog[i].File == file {
			book = &catalog[i]
		}
	}
	if book == nil {
		http.NotFound(w, r)
		return
	}
	if a.sessions.User(r) == "" {
		http.Redirect(w, r, "/login?next=/download/"+file, http.StatusSeeOther)
		return
	}
	u, err := a.env.Issuer.URL(r.Context(), issuerapi.URLRequest{Path: "/ebooks/" + file, Filename: book.Title + ".pdf"})
	if err != nil {
		a.env.Logger.Error("signed URL", "file", file, "err", err)
		http.Error(w, "the download service is unavailable", http.StatusBadGateway)
		return
	}
	// The redirect names a credential: keep it out of shared caches and
	// out of the Referer of the next site.
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.URL, http.StatusSeeOther)
}
