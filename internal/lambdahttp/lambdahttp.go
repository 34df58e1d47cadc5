package lambdahttp

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// RuntimeEnv is the environment variable Lambda sets to the Runtime API's
// address in every execution environment.
const RuntimeEnv = "AWS_LAMBDA_RUNTIME_API"

// Runtime reports whether the process runs in AWS Lambda, from getenv.
func Runtime(getenv func(string) string) bool { return getenv(RuntimeEnv) != "" }

// ErrEvent is wrapped by Invoke's error for an event that is not an HTTP
// request (no method, a path that is not absolute, a body that is not the
// base64 it claims to be).
var ErrEvent = errors.New("lambdahttp: not an HTTP event")

// Handler adapts an http.Handler to Lambda HTTP events.
type Handler struct {
	h http.Handler
}

// New returns a Handler that serves h.
func New(h http.Handler) (*Handler, error) {
	if h == nil {
		return nil, errors.New("lambdahttp: New needs a handler")
	}
	return &Handler{h: h}, nil
}

// Invoke serves one event: it is the function lambda.Start runs.
func (a *Handler) Invoke(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r, err := Request(ctx, ev)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	w := newResponseWriter(r.Method)
	a.h.ServeHTTP(w, r)
	return w.response(), nil
}

// Request builds the request net/http's server would hand a handler for
// ev: URL from the raw path (less a named API Gateway stage, which
// API Gateway keeps in rawPath) and raw query, Host from the host header or
// the domain name, cookies as one Cookie header, RemoteAddr from the source
// IP, and TLS set (Function URLs and API Gateway are HTTPS only).
func Request(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	hc := ev.RequestContext.HTTP
	if hc.Method == "" {
		return nil, fmt.Errorf("%w: no requestContext.http.method", ErrEvent)
	}
	path := ev.RawPath
	if path == "" {
		path = hc.Path
	}
	if st := ev.RequestContext.Stage; st != "" && st != "$default" {
		if rest, ok := strings.CutPrefix(path, "/"+st); ok && (rest == "" || rest[0] == '/') {
			path = rest
		}
	}
	if path == "" {
		path = "/"
	}
	if path[0] != '/' {
		return nil, fmt.Errorf("%w: path %q is not absolute", ErrEvent, path)
	}
	uri := path
	if ev.RawQueryString != "" {
		uri += "?" + ev.RawQueryString
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEvent, err)
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, fmt.Errorf("%w: body is not base64", ErrEvent)
		}
	}
	r := &http.Request{
		Method:     hc.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, len(ev.Headers)+1),
		Body:       io.NopCloser(bytes.NewReader(body)),
		RequestURI: uri,
		TLS:        &tls.ConnectionState{HandshakeComplete: true, ServerName: ev.RequestContext.DomainName},
	}
	if len(body) == 0 {
		r.Body = http.NoBody
	}
	r.ContentLength = int64(len(body))
	for k, v := range ev.Headers {
		r.Header[textproto.CanonicalMIMEHeaderKey(k)] = []string{v}
	}
	if len(ev.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	// As net/http's server does: Host moves from the header to r.Host.
	r.Host = r.Header.Get("Host")
	r.Header.Del("Host")
	if r.Host == "" {
		r.Host = ev.RequestContext.DomainName
	}
	if r.ContentLength > 0 {
		r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	if hc.SourceIP != "" {
		r.RemoteAddr = net.JoinHostPort(hc.SourceIP, "0")
	}
	return r.WithContext(ctx), nil
}

// responseWriter records a response as net/http's server would send it:
// the first WriteHeader wins, a Write without one means 200, a missing
// Content-Type is sniffed from the body, and a body is dropped where the
// status or a HEAD request allows none.
type responseWriter struct {
	header http.Header
	method string
	status int
	body   bytes.Buffer
}

func newResponseWriter(method string) *responseWriter {
	return &responseWriter{header: make(http.Header), method: method}
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status != 0 || status < 200 { // 1xx: informational, not the response
		return
	}
	w.status = status
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.header.Get("Content-Type") == "" && w.header.Get("Transfer-Encoding") == "" && len(p) > 0 && w.body.Len() == 0 {
		w.header.Set("Content-Type", http.DetectContentType(p))
	}
	return w.body.Write(p)
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

func (w *responseWriter) response() events.APIGatewayV2HTTPResponse {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	resp := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: make(map[string]string, len(w.header))}
	for k, vs := range w.header {
		if len(vs) == 0 {
			continue
		}
		if textproto.CanonicalMIMEHeaderKey(k) == "Set-Cookie" {
			resp.Cookies = append(resp.Cookies, vs...)
			continue
		}
		resp.Headers[k] = strings.Join(vs, ", ")
	}
	if w.method == http.MethodHead {
		return resp
	}
	b := w.body.Bytes()
	if textual(w.header.Get("Content-Type")) && utf8.Valid(b) {
		resp.Body = string(b)
	} else if len(b) > 0 {
		resp.Body = base64.StdEncoding.EncodeToString(b)
		resp.IsBase64Encoded = true
	}
	return resp
}

// textual reports whether a body of this Content-Type can travel as a JSON
// string unchanged.
func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript", "application/x-www-form-urlencoded":
		return true
	}
	return false
}
