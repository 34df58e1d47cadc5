// Command ebooks is journey 2 of cfissuer: CDN-cached ebook downloads with
// signed URLs. "Download" asks cfissuer for a signed URL to
// /ebooks/<file>.pdf with the file name the browser should save, and
// redirects to it (303). The URL is stable within the behavior's window, so
// everyone downloading the same file in the same window gets the same URL
// and the CDN's cache hits for all but the first.
//
//	make example-ebooks
package main

import (
	"html/template"
	"net/http"

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
<ul>{{range .Books}}<li>{{.Title}}: <a id="download-{{.File}}" href="/download/{{.File}}">Download</a></li>{{end}}</ul></body></html>
`))

func main() {
	webapp.Main("ebooks", func(env webapp.Env) (http.Handler, error) { return newApp(env), nil })
}

type app struct {
	env      webapp.Env
	sessions webapp.Sessions
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
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	indexPage.Execute(w, map[string]any{"User": user, "Books": catalog})
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
