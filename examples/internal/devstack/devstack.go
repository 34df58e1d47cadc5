// Package devstack runs what the example apps talk to, in one process and on
// 127.0.0.1: the cfissuer HTTP API with a fresh signing key, one API key and
// permanent links (a fresh link key, a file store in a temporary folder),
// and the local CloudFront edge in front of a content folder, over plain
// HTTP and over TLS with a test certificate for app.example.test and
// media.example.test. The journey tests and the one-command runs of the
// examples both start it; in production the apps talk to a real cfissuer
// and CloudFront instead, and nothing here is used.
//
// A Stack is safe for concurrent use. The API key is a credential: Stack
// never logs it.
package devstack

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cfissuer/cfissuer/edge"
	"github.com/cfissuer/cfissuer/internal/httpapi"
	"github.com/cfissuer/cfissuer/internal/links"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// The viewer hosts of the journeys: the app and the distribution's
// alternate domain name (examples/behaviors.json).
const (
	AppHost   = "app.example.test"
	MediaHost = "media.example.test"
)

// KeyID is the CloudFront public key ID of the stack's signing key.
const KeyID = "KEXAMPLEDEV01"

// Options are the stack's optional knobs; the zero value of each is the
// documented default.
type Options struct {
	// Behaviors is the behaviors file; empty means ../behaviors.json
	// relative to the working directory (an example's own folder).
	Behaviors string
	// Content is the folder the edge serves; empty means the edge's
	// embedded sample content.
	Content string
	// Now is the clock of the issuer and the edge; nil means time.Now.
	Now func() time.Time
	// Logger receives the issuer's and the edge's lines; nil means
	// slog.Default().
	Logger *slog.Logger
	// EdgeTLSAddr is where the edge listens with TLS; empty means
	// 127.0.0.1:0.
	EdgeTLSAddr string
}

// Stack is a running issuer and edge.
type Stack struct {
	Behaviors *policy.Behaviors
	// IssuerURL is the issuer API's base URL (http://127.0.0.1:port).
	IssuerURL string
	// APIKey is the caller's API key: a credential, never log it.
	APIKey string
	// EdgeURL is the edge over plain HTTP (http://127.0.0.1:port); it
	// takes any Host to mean the viewer origin.
	EdgeURL string
	// EdgeTLSAddr is the edge's TLS listener (127.0.0.1:port), for
	// https://media.example.test.
	EdgeTLSAddr string
	// TLS is the test CA and the certificate every TLS listener serves.
	TLS *TLS

	api     *httpapi.Server
	linkDir string
	ed      *edge.Server
	log     requestLog
	servers []*http.Server
}

// Start starts the issuer and the edge. Close stops them.
func Start(opts Options) (st *Stack, err error) {
	if opts.Behaviors == "" {
		opts.Behaviors = "../behaviors.json"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	f, err := os.Open(opts.Behaviors)
	if err != nil {
		return nil, fmt.Errorf("devstack: behaviors: %w", err)
	}
	bs, err := policy.ParseBehaviors(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("devstack: behaviors: %w", err)
	}
	signer, err := newSigner()
	if err != nil {
		return nil, err
	}
	ring, err := keys.NewRing([]keys.RingKey{{Signer: signer}}, issuer.LongestLifetime(bs))
	if err != nil {
		return nil, err
	}
	is, err := issuer.New(ring, bs, issuer.Options{Now: opts.Now, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	apiKey, sum, err := issuer.NewAPIKey("example-app")
	if err != nil {
		return nil, err
	}
	callers, err := issuer.NewCallers([]issuer.Caller{{ID: "example-app", SecretSHA256: sum}})
	if err != nil {
		return nil, err
	}
	tlsc, err := NewTLS()
	if err != nil {
		return nil, err
	}
	st = &Stack{Behaviors: bs, APIKey: apiKey, TLS: tlsc}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	// Permanent links (/l/{token}): a fresh link key, and a file store in a
	// temporary folder that Close removes.
	if st.linkDir, err = os.MkdirTemp("", "cfissuer-devstack-links-"); err != nil {
		return nil, err
	}
	linkKey, err := links.NewKey("dev", links.GenerateKey())
	if err != nil {
		return nil, err
	}
	linkRing, err := links.NewKeyring(linkKey)
	if err != nil {
		return nil, err
	}
	linkStore, err := links.OpenFileStore(st.linkDir, links.FileOptions{Now: opts.Now})
	if err != nil {
		return nil, err
	}
	linkMgr, err := links.New(linkRing, linkStore, links.Options{Now: opts.Now, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	// The issuer listens before its address is known, so links are based
	// on the request's Host (127.0.0.1:port), as the API documents.
	st.api, err = httpapi.New(is, callers, httpapi.Options{Addr: "127.0.0.1:0", Logger: opts.Logger, Links: httpapi.LinkOptions{Manager: linkMgr}})
	if err != nil {
		return nil, err
	}
	if err := st.api.Open(); err != nil {
		return nil, err
	}
	st.IssuerURL = "http://" + st.api.Addr()

	v, err := edge.NewVerifier(bs, []edge.Key{{ID: signer.KeyID(), Public: signer.Public()}}, edge.Options{})
	if err != nil {
		return nil, err
	}
	var origin edge.Origin = edge.DirOrigin{FS: edge.SampleContent()}
	if opts.Content != "" {
		origin = edge.DirOrigin{FS: os.DirFS(opts.Content)}
	}
	st.ed, err = edge.NewServer("127.0.0.1:0", v, origin, edge.ServerOptions{Logger: opts.Logger, Now: opts.Now, ExposeReasons: true})
	if err != nil {
		return nil, err
	}
	if err := st.ed.Open(); err != nil {
		return nil, err
	}
	st.EdgeURL = st.ed.URL()
	st.log.next = st.ed
	addr := opts.EdgeTLSAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if st.EdgeTLSAddr, err = st.ServeTLS(addr, &st.log); err != nil {
		return nil, err
	}
	return st, nil
}

// ServeTLS serves h with the stack's certificate on addr (port 0 picks one)
// until Close, and returns the address it listens on.
func (st *Stack) ServeTLS(addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("devstack: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         st.TLS.ServerConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	st.servers = append(st.servers, srv)
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("devstack: serve", "err", err)
		}
	}()
	return ln.Addr().String(), nil
}

// Close stops every server the stack started.
func (st *Stack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range st.servers {
		s.Shutdown(ctx)
	}
	if st.ed != nil {
		st.ed.Close()
	}
	if st.api != nil {
		st.api.Close(ctx)
	}
	if st.linkDir != "" {
		os.RemoveAll(st.linkDir)
	}
}

// MediaURL is the viewer URL of path on the distribution.
func (st *Stack) MediaURL(path string) string { return st.Behaviors.ViewerOrigin + path }

// ChromiumFlags are the flags that make Chromium reach appAddr and the
// edge as https://app.example.test and https://media.example.test (port
// 443 mapped to the listeners) and trust the test certificate by its
// public key rather than ignore certificate errors (Chromium does not
// cache responses served with a certificate error).
func (st *Stack) ChromiumFlags(appAddr string) []string {
	return []string{
		"--host-resolver-rules=" + strings.Join([]string{
			"MAP " + AppHost + ":443 " + appAddr,
			"MAP " + MediaHost + ":443 " + st.EdgeTLSAddr,
			"EXCLUDE localhost",
		}, ", "),
		"--ignore-certificate-errors-spki-list=" + st.TLS.SPKIHash,
	}
}

// newSigner makes a fresh RSA-2048 signing key in memory.
func newSigner() (keys.Signer, error) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(rk)
	if err != nil {
		return nil, err
	}
	k, err := keys.ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
	if err != nil {
		return nil, err
	}
	return keys.NewLocal(KeyID, k)
}

// ecKey is the key type of the test CA and certificate.
func ecKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

// EdgeRequest is one request the edge answered on its TLS listener: the
// path without the query (which may hold a signature) and the status.
type EdgeRequest struct {
	Method, Path string
	Status       int
	Cache        string // X-Cache
}

// EdgeRequests returns the requests the edge answered over TLS, in order.
func (st *Stack) EdgeRequests() []EdgeRequest {
	st.log.mu.Lock()
	defer st.log.mu.Unlock()
	return slices.Clone(st.log.reqs)
}

// requestLog records what the edge answers.
type requestLog struct {
	next http.Handler
	mu   sync.Mutex
	reqs []EdgeRequest
}

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	l.next.ServeHTTP(sw, r)
	l.mu.Lock()
	l.reqs = append(l.reqs, EdgeRequest{Method: r.Method, Path: r.URL.Path, Status: sw.status, Cache: w.Header().Get("X-Cache")})
	l.mu.Unlock()
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
