// Command assets is journey 3 of cfissuer: browser-cached asset links. Its
// server-rendered pages embed signed <img> and <link rel="stylesheet"> URLs
// on the media domain, asked for in one batch per page. Within a window the
// URLs are byte-identical, so moving between pages downloads no asset
// again; when the window rolls over the pages carry new URLs, valid for at
// least browser_max_age + margin, so a cached asset is never revalidated
// with an expired URL.
//
//	make example-assets
package main

import (
	"html/template"
	"net/http"

	"github.com/cfissuer/cfissuer/examples/internal/issuerapi"
	"github.com/cfissuer/cfissuer/examples/internal/webapp"
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<link rel="stylesheet" href="{{.CSS}}"></head>
<body><header><img id="logo" src="{{.Logo}}" alt="logo"><h1>{{.Title}}</h1></header>
<nav><a id="nav-home" href="/">Home</a><a id="nav-about" href="/about">About</a><a id="nav-contact" href="/contact">Contact</a></nav>
<p>{{.Text}}</p></body></html>
`))

var pages = map[string][2]string{
	"/":        {"Home", "Every page embeds the same signed logo and style sheet."},
	"/about":   {"About", "Within one window their URLs do not change, so the browser's cache serves them."},
	"/contact": {"Contact", "When the window rolls over, the pages name new URLs and the browser fetches them once."},
}

func main() {
	webapp.Main("assets", func(env webapp.Env) (http.Handler, error) { return newApp(env), nil })
}

func newApp(env webapp.Env) http.Handler {
	mux := http.NewServeMux()
	for path, p := range pages {
		mux.HandleFunc(pattern(path), func(w http.ResponseWriter, r *http.Request) {
			us, err := env.Issuer.URLs(r.Context(), []issuerapi.URLRequest{{Path: "/assets/logo.svg"}, {Path: "/assets/site.css"}})
			if err != nil {
				env.Logger.Error("signed URLs", "err", err)
				http.Error(w, "the asset service is unavailable", http.StatusBadGateway)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			// The page itself names credentials that change with the window.
			w.Header().Set("Cache-Control", "no-cache")
			page.Execute(w, map[string]any{"Title": p[0], "Text": p[1], "Logo": us[0].URL, "CSS": us[1].URL})
		})
	}
	return mux
}

// pattern is the ServeMux pattern that matches path exactly.
func pattern(path string) string {
	if path == "/" {
		return "GET /{$}"
	}
	return "GET " + path
}
