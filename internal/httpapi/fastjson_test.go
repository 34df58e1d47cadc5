package httpapi

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
)

// writeURLResponse must write what writeJSON writes, headers and bytes.
func TestWriteURLResponseMatchesWriteJSON(t *testing.T) {
	for _, u := range []urlResponse{
		{},
		{URL: "https://media.example.test/ebooks/a.pdf?gid=g0123456789abcdef0123&Expires=1795356000&Signature=H~T7-A__&Key-Pair-Id=K1",
			ExpiresAt: "2026-11-22T14:00:00Z", ExpiresIn: 6560, KeyID: "K1", Behavior: "ebooks", GrantID: "g0123456789abcdef0123"},
		{URL: "https://h/a", ExpiresIn: -3, Behavior: "b"},
		{Status: 200, URL: "https://h/a"},
		{URL: "https://h/a<b>&c", KeyID: "k\"1", Behavior: "é", GrantID: "a\\b\n\u2028\x7f"},
		{Error: &apiError{Code: "bad_request", Message: "no"}},
	} {
		want := httptest.NewRecorder()
		writeJSON(want, http.StatusOK, &u)
		got := httptest.NewRecorder()
		writeURLResponse(got, &u)
		if got.Code != want.Code || got.Body.String() != want.Body.String() || !reflect.DeepEqual(got.Header(), want.Header()) {
			t.Errorf("%+v:\n got %d %v %q\nwant %d %v %q", u, got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
		}
	}
}

func TestStatusLabel(t *testing.T) {
	for code := 100; code < 600; code++ {
		if got, want := statusLabel(code), strconv.Itoa(code); got != want {
			t.Errorf("statusLabel(%d) = %q", code, got)
		}
	}
}
