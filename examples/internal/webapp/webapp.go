// Package webapp holds what the three example apps share: a fake login
// (a session cookie naming the user, kept in memory) and the command-line
// start-up that either talks to a real cfissuer or, with no -issuer, starts
// a local issuer and edge (devstack) and serves the app on
// https://app.example.test.
package webapp

import (
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"sync"
)

// SessionCookie is the app's own session cookie (host-only, on the app).
const SessionCookie = "session"

// Sessions is a fake login: any user name is accepted. It is safe for
// concurrent use.
type Sessions struct {
	mu    sync.Mutex
	users map[string]string
}

// User returns the logged-in user of r, or "".
func (s *Sessions) User(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[c.Value]
}

// Login starts a session for user and sets its cookie.
func (s *Sessions) Login(w http.ResponseWriter, user string) {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	s.mu.Lock()
	if s.users == nil {
		s.users = map[string]string{}
	}
	s.users[id] = user
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// Logout ends r's session and deletes its cookie.
func (s *Sessions) Logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		s.mu.Lock()
		delete(s.users, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// HandleLogin serves GET (the form) and POST (user=name, then a 303 to
// next or /).
func (s *Sessions) HandleLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		user := r.PostFormValue("user")
		if user == "" {
			http.Error(w, "user is required", http.StatusBadRequest)
			return
		}
		s.Login(w, user)
		next := r.PostFormValue("next")
		if next == "" || next[0] != '/' || (len(next) > 1 && next[1] == '/') {
			next = "/"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	loginPage.Execute(w, r.URL.Query().Get("next"))
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><h1>Sign in</h1>
<form method="post" action="/login"><input type="hidden" name="next" value="{{.}}">
<label>Name <input name="user" id="user" value="student"></label> <button id="login" type="submit">Sign in</button></form>
<p>A fake login: any name works.</p></body></html>
`))
