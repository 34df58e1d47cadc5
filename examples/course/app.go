package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"slices"

	"github.com/cfissuer/cfissuer/examples/internal/devstack"
	"github.com/cfissuer/cfissuer/examples/internal/webapp"
)

//go:embed lesson.html
var lessonHTML string

var (
	lessonPage = template.Must(template.New("lesson").Parse(lessonHTML))
	indexPage  = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Courses</title></head>
<body><h1>Courses</h1><p>Signed in as {{.User}}.</p>
<ul>{{range .Courses}}<li><a id="course-{{.}}" href="/courses/{{.}}/">{{.}}</a></li>{{end}}</ul></body></html>
`))
)

// app is the course app: a fake login, a lesson page per course, the
// cookie refresh endpoint the player calls and a sign-out.
type app struct {
	env      webapp.Env
	sessions webapp.Sessions
	hlsJS    string
}

func newApp(env webapp.Env, hlsJS string) (http.Handler, error) {
	if _, err := os.Stat(hlsJS); err != nil {
		return nil, fmt.Errorf("hls.js: %w (make e2e-deps installs it)", err)
	}
	a := &app{env: env, hlsJS: hlsJS}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", a.sessions.HandleLogin)
	mux.HandleFunc("GET /{$}", a.handleIndex)
	mux.HandleFunc("GET /courses/{id}/{$}", a.handleLesson)
	mux.HandleFunc("POST /courses/{id}/refresh", a.handleRefresh)
	mux.HandleFunc("POST /courses/{id}/signout", a.handleSignOut)
	mux.HandleFunc("GET /static/hls.min.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		http.ServeFile(w, r, a.hlsJS)
	})
	return mux, nil
}

func (a *app) handleIndex(w http.ResponseWriter, r *http.Request) {
	user := a.sessions.User(r)
	if user == "" {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	indexPage.Execute(w, map[string]any{"User": user, "Courses": devstack.Courses})
}

// course returns the course of the request, answering 404 or a redirect
// to the login when there is none.
func (a *app) course(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if !slices.Contains(devstack.Courses, id) {
		http.NotFound(w, r)
		return "", false
	}
	if a.sessions.User(r) == "" {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/login?next=/courses/"+id+"/", http.StatusSeeOther)
		} else {
			http.Error(w, "sign in first", http.StatusUnauthorized)
		}
		return "", false
	}
	return id, true
}

// grant asks the issuer for the course's cookies and relays them; it
// returns the seconds until they should be refreshed.
func (a *app) grant(w http.ResponseWriter, r *http.Request, id string) (int64, bool) {
	c, err := a.env.Issuer.Cookies(r.Context(), "/courses/"+id+"/")
	if err != nil {
		a.env.Logger.Error("cookies", "course", id, "err", err)
		http.Error(w, "the media service is unavailable", http.StatusBadGateway)
		return 0, false
	}
	for _, ck := range c.SetCookies {
		http.SetCookie(w, ck)
	}
	w.Header().Set("Cache-Control", "no-store")
	return c.RefreshIn(), true
}

func (a *app) handleLesson(w http.ResponseWriter, r *http.Request) {
	id, ok := a.course(w, r)
	if !ok {
		return
	}
	// The cookies are set with the page, so they are on the browser before
	// the player's first request.
	refreshIn, ok := a.grant(w, r, id)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	lessonPage.Execute(w, map[string]any{
		"Course":    id,
		"Source":    a.env.MediaOrigin + "/courses/" + id + "/index.m3u8",
		"Refresh":   "/courses/" + id + "/refresh",
		"SignOut":   "/courses/" + id + "/signout",
		"RefreshIn": refreshIn,
	})
}

func (a *app) handleRefresh(w http.ResponseWriter, r *http.Request) {
	id, ok := a.course(w, r)
	if !ok {
		return
	}
	refreshIn, ok := a.grant(w, r, id)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]int64{"refresh_in": refreshIn})
}

func (a *app) handleSignOut(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if slices.Contains(devstack.Courses, id) {
		cs, err := a.env.Issuer.ClearCookies(r.Context(), "/courses/"+id+"/")
		if err != nil && !errors.Is(err, http.ErrNoCookie) {
			a.env.Logger.Error("clear cookies", "course", id, "err", err)
		}
		for _, c := range cs {
			http.SetCookie(w, c)
		}
	}
	a.sessions.Logout(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
