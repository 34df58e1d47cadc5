package lambdahttp_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/cfissuer/cfissuer/internal/lambdahttp"
)

func Example() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
		fmt.Fprintf(w, "hello %s", r.URL.Query().Get("name"))
	})
	h, err := lambdahttp.New(mux)
	if err != nil {
		panic(err)
	}
	// In main: if lambdahttp.Runtime(os.Getenv) { lambda.Start(h.Invoke) }
	var ev events.APIGatewayV2HTTPRequest
	ev.RequestContext.HTTP.Method = "GET"
	ev.RawPath, ev.RawQueryString = "/hello", "name=lambda"
	resp, err := h.Invoke(context.Background(), ev)
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode, resp.Body, resp.Cookies)
	// Output: 200 hello lambda [a=1 b=2]
}
