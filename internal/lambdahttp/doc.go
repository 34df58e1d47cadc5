// Package lambdahttp serves an http.Handler to AWS Lambda. It turns the HTTP
// events of a Lambda Function URL and of an API Gateway HTTP API (payload
// format 2.0: the two share one JSON shape, events.APIGatewayV2HTTPRequest)
// into an *http.Request like the one net/http's server would build, runs the
// handler, and turns what it wrote into the event response: every
// Set-Cookie header becomes one entry of cookies, other repeated headers are
// joined with ", ", and a body that is not UTF-8 text is base64-encoded.
//
// The same router thus answers behind a Function URL, API Gateway or a plain
// listener, with the same status, headers and body; the program decides
// which by Runtime (AWS_LAMBDA_RUNTIME_API).
//
// A Handler is safe for concurrent use if the http.Handler it wraps is.
// Invoke returns an error only for an event it cannot turn into a request
// (ErrEvent); Lambda then answers 502, so callers never see the cause.
package lambdahttp
