package cffunc

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/cfissuer/cfissuer/edge"
)

// importLine is the statement CloudFront documents for the KeyValueStore
// helper; it must be the source's first line.
const importLine = "import cf from 'cloudfront';"

// KeyValueStore is what cf.kvs() reads.
type KeyValueStore interface {
	Lookup(key string) (value string, ok bool)
}

// Options are a Function's optional settings; the zero value of each is its
// documented default.
type Options struct {
	// Now is the clock behind Date.now; nil means time.Now.
	Now func() time.Time
	// DistributionDomainName goes into event.context; empty means
	// "d111111abcdef8.cloudfront.net".
	DistributionDomainName string
}

// ExecError is a function that failed: it threw, rejected, or returned
// neither the request nor a response. CloudFront answers such a request
// with 503.
type ExecError struct{ Err error }

func (e *ExecError) Error() string { return "cffunc: function failed: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *ExecError) Unwrap() error { return e.Err }

// Function is a compiled CloudFront Function.
type Function struct {
	prog *goja.Program
	kvs  KeyValueStore
	opts Options
	pool sync.Pool
}

// New compiles source. It must start with the cloudfront import line when it
// uses cf.kvs(); kvs may be nil for a function that does not.
func New(source string, kvs KeyValueStore, opts Options) (*Function, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DistributionDomainName == "" {
		opts.DistributionDomainName = "d111111abcdef8.cloudfront.net"
	}
	src := source
	if first, rest, _ := strings.Cut(source, "\n"); strings.TrimSpace(first) == importLine {
		// Same line count, so error positions match the shipped file.
		src = "const cf = __cloudfront;\n" + rest
	} else if strings.Contains(source, "import ") {
		return nil, errors.New("cffunc: the only import supported is the first line " + importLine)
	}
	prog, err := goja.Compile("function.js", src, true)
	if err != nil {
		return nil, fmt.Errorf("cffunc: compile: %w", err)
	}
	f := &Function{prog: prog, kvs: kvs, opts: opts}
	if _, err := f.runtime(); err != nil { // top-level errors surface here
		return nil, err
	}
	return f, nil
}

type runtime struct {
	vm      *goja.Runtime
	handler goja.Callable
}

func (f *Function) runtime() (*runtime, error) {
	if r, ok := f.pool.Get().(*runtime); ok {
		return r, nil
	}
	vm := goja.New()
	vm.SetFieldNameMapper(goja.UncapFieldNameMapper())
	now := f.opts.Now
	if err := vm.Set("__cloudfront", f.module(vm)); err != nil {
		return nil, err
	}
	if err := vm.Set("require", func(name string) (goja.Value, error) {
		if name == "crypto" {
			return cryptoModule(vm), nil
		}
		return nil, fmt.Errorf("cffunc: module %q is not emulated", name)
	}); err != nil {
		return nil, err
	}
	date := vm.Get("Date").ToObject(vm)
	if err := date.Set("now", func() int64 { return now().UnixMilli() }); err != nil {
		return nil, err
	}
	if _, err := vm.RunProgram(f.prog); err != nil {
		return nil, fmt.Errorf("cffunc: run: %w", err)
	}
	h, ok := goja.AssertFunction(vm.Get("handler"))
	if !ok {
		return nil, errors.New("cffunc: the source defines no function handler(event)")
	}
	return &runtime{vm: vm, handler: h}, nil
}

// module is the emulated 'cloudfront' module.
func (f *Function) module(vm *goja.Runtime) *goja.Object {
	cf := vm.NewObject()
	cf.Set("kvs", func(goja.FunctionCall) goja.Value {
		h := vm.NewObject()
		h.Set("get", func(key string, opts map[string]any) *goja.Promise {
			p, resolve, reject := vm.NewPromise()
			v, ok := "", false
			if f.kvs != nil {
				v, ok = f.kvs.Lookup(key)
			}
			switch {
			case !ok:
				reject(vm.NewGoError(errors.New("KVS: key not found")))
			case opts["format"] == "json":
				parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
				if out, err := parse(goja.Undefined(), vm.ToValue(v)); err != nil {
					reject(vm.NewGoError(err))
				} else {
					resolve(out)
				}
			default:
				resolve(v)
			}
			return p
		})
		h.Set("exists", func(key string) *goja.Promise {
			p, resolve, _ := vm.NewPromise()
			ok := false
			if f.kvs != nil {
				_, ok = f.kvs.Lookup(key)
			}
			resolve(ok)
			return p
		})
		return h
	})
	return cf
}

func cryptoModule(vm *goja.Runtime) *goja.Object {
	m := vm.NewObject()
	m.Set("createHash", func(alg string) (*goja.Object, error) {
		var h hash.Hash
		switch alg {
		case "md5":
			h = md5.New()
		case "sha1":
			h = sha1.New()
		case "sha256":
			h = sha256.New()
		default:
			return nil, fmt.Errorf("crypto: unsupported hash %q", alg)
		}
		o := vm.NewObject()
		o.Set("update", func(s string) *goja.Object { h.Write([]byte(s)); return o })
		o.Set("digest", func(enc string) (string, error) {
			sum := h.Sum(nil)
			switch enc {
			case "hex":
				return hex.EncodeToString(sum), nil
			case "base64":
				return base64.StdEncoding.EncodeToString(sum), nil
			case "base64url":
				return base64.RawURLEncoding.EncodeToString(sum), nil
			}
			return "", fmt.Errorf("crypto: unsupported digest encoding %q", enc)
		})
		return o, nil
	})
	return m
}

// Run calls handler(event) and returns what it resolved to, exported to Go
// values (a map for an object).
func (f *Function) Run(event map[string]any) (any, error) {
	rt, err := f.runtime()
	if err != nil {
		return nil, err
	}
	res, err := rt.handler(goja.Undefined(), rt.vm.ToValue(event))
	if err != nil {
		return nil, &ExecError{err} // a runtime that threw is dropped, not pooled
	}
	defer f.pool.Put(rt)
	if p, ok := res.Export().(*goja.Promise); ok {
		switch p.State() {
		case goja.PromiseStateFulfilled:
			res = p.Result()
		case goja.PromiseStateRejected:
			return nil, &ExecError{fmt.Errorf("rejected: %v", p.Result())}
		default:
			return nil, &ExecError{errors.New("the handler's promise never settled")}
		}
	}
	if res == nil || goja.IsUndefined(res) || goja.IsNull(res) {
		return nil, nil
	}
	return res.Export(), nil
}

// Event builds the documented viewer-request event object for a request.
func (f *Function) Event(r edge.Request) map[string]any {
	qs := map[string]any{}
	if r.RawQuery != "" {
		var order []string
		vals := map[string][]string{}
		for seg := range strings.SplitSeq(r.RawQuery, "&") {
			if seg == "" {
				continue
			}
			name, value, _ := strings.Cut(seg, "=")
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			if _, ok := vals[name]; !ok {
				order = append(order, name)
			}
			vals[name] = append(vals[name], value) // values as sent (unconfirmed whether CloudFront decodes them)
		}
		for _, n := range order {
			qs[n] = field(vals[n])
		}
	}
	cookies := map[string]any{}
	cv := map[string][]string{}
	var corder []string
	for _, c := range r.Cookies {
		if _, ok := cv[c.Name]; !ok {
			corder = append(corder, c.Name)
		}
		cv[c.Name] = append(cv[c.Name], c.Value)
	}
	for _, n := range corder {
		cookies[n] = field(cv[n])
	}
	headers := map[string]any{"host": map[string]any{"value": r.Host}}
	ip := ""
	if r.ClientIP.IsValid() {
		ip = r.ClientIP.String()
	}
	return map[string]any{
		"version": "1.0",
		"context": map[string]any{
			"distributionDomainName": f.opts.DistributionDomainName,
			"distributionId":         "EDFDVBD6EXAMPLE",
			"eventType":              "viewer-request",
			"requestId":              strconv.FormatInt(f.opts.Now().UnixNano(), 36),
		},
		"viewer": map[string]any{"ip": ip},
		"request": map[string]any{
			"method": r.Method, "uri": r.RawPath,
			"querystring": qs, "headers": headers, "cookies": cookies,
		},
	}
}

func field(vals []string) map[string]any {
	m := map[string]any{"value": vals[0]}
	if len(vals) > 1 {
		mv := make([]any, len(vals))
		for i, v := range vals {
			mv[i] = map[string]any{"value": v}
		}
		m["multiValue"] = mv
	}
	return m
}

// ViewerRequest runs the function on a request for edge.ServerOptions: nil
// when it lets the request through, the response it generated otherwise.
func (f *Function) ViewerRequest(_ context.Context, r edge.Request) (*edge.FunctionResponse, error) {
	out, err := f.Run(f.Event(r))
	if err != nil {
		return nil, err
	}
	return Response(out)
}

// Response interprets a handler's result: a request object (it has a uri)
// lets the request through (nil), an object with a statusCode is a
// generated response.
func Response(out any) (*edge.FunctionResponse, error) {
	m, ok := out.(map[string]any)
	if !ok {
		return nil, &ExecError{fmt.Errorf("the handler returned %T, not the request or a response", out)}
	}
	if _, isReq := m["uri"]; isReq {
		return nil, nil
	}
	code, ok := m["statusCode"].(int64)
	if !ok || code < 100 || code > 599 {
		return nil, &ExecError{fmt.Errorf("the handler's response has no valid statusCode (%v)", m["statusCode"])}
	}
	resp := &edge.FunctionResponse{Status: int(code), Header: http.Header{}}
	if hs, ok := m["headers"].(map[string]any); ok {
		for name, v := range hs {
			if hv, ok := v.(map[string]any); ok {
				if s, ok := hv["value"].(string); ok {
					resp.Header.Set(name, s)
				}
			}
		}
	}
	switch b := m["body"].(type) {
	case string:
		resp.Body = []byte(b)
	case map[string]any:
		data, _ := b["data"].(string)
		if b["encoding"] == "base64" {
			raw, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				return nil, &ExecError{fmt.Errorf("the response body is not base64: %w", err)}
			}
			resp.Body = raw
		} else {
			resp.Body = []byte(data)
		}
	}
	return resp, nil
}
