package lambdahttp_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cfissuer/cfissuer/internal/lambdahttp"
)

func ev(method, rawPath, query string) events.APIGatewayV2HTTPRequest {
	var e events.APIGatewayV2HTTPRequest
	e.RequestContext.HTTP.Method = method
	e.RequestContext.HTTP.SourceIP = "2001:db8::1"
	e.RequestContext.DomainName = "abc.lambda-url.eu-west-1.on.aws"
	e.RawPath, e.RawQueryString = rawPath, query
	return e
}

func TestRequest(t *testing.T) {
	e := ev("POST", "/prod/v1/urls", "a=1&b=%2F")
	e.RequestContext.Stage = "prod"
	e.Headers = map[string]string{"host": "issuer.example.com", "x-forwarded-for": "192.0.2.1, 198.51.100.2", "content-type": "application/json"}
	e.Cookies = []string{"a=1", "b=2"}
	e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff}), true
	r, err := lambdahttp.Request(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	for _, c := range []struct{ what, got, want string }{
		{"path", r.URL.Path, "/v1/urls"},
		{"query", r.URL.RawQuery, "a=1&b=%2F"},
		{"RequestURI", r.RequestURI, "/v1/urls?a=1&b=%2F"},
		{"Host", r.Host, "issuer.example.com"},
		{"Host header", r.Header.Get("Host"), ""},
		{"Cookie", r.Header.Get("Cookie"), "a=1; b=2"},
		{"X-Forwarded-For", r.Header.Get("X-Forwarded-For"), "192.0.2.1, 198.51.100.2"},
		{"RemoteAddr", r.RemoteAddr, "[2001:db8::1]:0"},
		{"body", string(body), "\x00\x01\x02\xff"},
		{"Content-Length", r.Header.Get("Content-Length"), "4"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if r.TLS == nil {
		t.Error("TLS is nil: Function URLs and API Gateway serve HTTPS only")
	}
	// A stage name that is only a prefix of the first segment stays.
	e = ev("GET", "/production/x", "")
	e.RequestContext.Stage = "prod"
	if r, err := lambdahttp.Request(context.Background(), e); err != nil || r.URL.Path != "/production/x" {
		t.Errorf("stage prod on /production/x: %v, %v", r.URL, err)
	}
}

func TestRequestRefusesMalformedEvents(t *testing.T) {
	bad64 := ev("POST", "/x", "")
	bad64.Body, bad64.IsBase64Encoded = "not base64!", true
	for name, e := range map[string]events.APIGatewayV2HTTPRequest{
		"no method":       ev("", "/x", ""),
		"relative path":   ev("GET", "x", ""),
		"bad base64 body": bad64,
	} {
		h, _ := lambdahttp.New(http.NotFoundHandler())
		if _, err := h.Invoke(context.Background(), e); !errors.Is(err, lambdahttp.ErrEvent) {
			t.Errorf("%s: err = %v, want ErrEvent", name, err)
		}
	}
	if _, err := lambdahttp.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

func TestResponse(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/binary", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("\x89PNG\r\n\x1a\n\x00\xff")) })
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		if _, err := w.Write([]byte("dropped")); !errors.Is(err, http.ErrBodyNotAllowed) {
			t.Errorf("Write after 204: %v", err)
		}
	})
	mux.HandleFunc("/twice", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		w.Header().Add("Vary", "Accept")
		w.WriteHeader(http.StatusTeapot)
		w.WriteHeader(http.StatusOK) // ignored, as net/http ignores it
		fmt.Fprint(w, "<p>hi</p>")
	})
	h, _ := lambdahttp.New(mux)
	for _, c := range []struct {
		method, path string
		status       int
		body         string
		b64          bool
		headers      map[string]string
	}{
		{"GET", "/binary", 200, base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n\x00\xff")), true, map[string]string{"Content-Type": "image/png"}},
		{"GET", "/empty", 204, "", false, map[string]string{}},
		{"GET", "/twice", 418, "<p>hi</p>", false, map[string]string{"Vary": "Origin, Accept", "Content-Type": "text/html; charset=utf-8"}},
		{"HEAD", "/twice", 418, "", false, map[string]string{"Vary": "Origin, Accept"}},
	} {
		resp, err := h.Invoke(context.Background(), ev(c.method, c.path, ""))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status || resp.Body != c.body || resp.IsBase64Encoded != c.b64 {
			t.Errorf("%s %s = %d %q base64=%v, want %d %q %v", c.method, c.path, resp.StatusCode, resp.Body, resp.IsBase64Encoded, c.status, c.body, c.b64)
		}
		for k, v := range c.headers {
			if resp.Headers[k] != v {
				t.Errorf("%s %s: %s = %q, want %q", c.method, c.path, k, resp.Headers[k], v)
			}
		}
	}
}
