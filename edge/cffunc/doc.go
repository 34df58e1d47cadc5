// Package cffunc runs CloudFront Functions (cloudfront-js-2.0, viewer
// request) in the local edge, in an embedded JavaScript engine (goja), with
// a KeyValueStore emulation behind cf.kvs(). It runs the very source the
// Terraform module uploads (terraform/functions), so the code that ships is
// the code the tests exercise.
//
// What it emulates of the runtime: the first line `import cf from
// 'cloudfront';` (goja has no ES modules, so that one line is bound to the
// emulated module instead), cf.kvs() with get (formats string and json) and
// exists, require('crypto') with createHash (md5, sha1, sha256; digest hex
// or base64), and Date.now from the injected clock. It builds the
// documented event object (version, context, viewer, request with method,
// uri, querystring, headers and cookies, each as {value, multiValue}).
//
// A Function is safe for concurrent use: each call takes a runtime from a
// pool. Errors: a function that throws, rejects or returns something that
// is neither the request nor a response is an *ExecError.
package cffunc
