package httpapi

import (
	"net/http"
	"strconv"
	"sync"
)

// The answer to POST /v1/urls is the service's hot path: a cache hit costs
// about a microsecond in the issuer, so encoding/json (reflection, a new
// buffer and encoder per response) and the response headers were a large
// part of what a request cost the server. writeURLResponse writes the same
// bytes as writeJSON, appended into a pooled buffer.

// respBufs holds response buffers; one larger than maxPooledResp is left
// to the garbage collector.
var respBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledResp = 64 << 10

// writeURLResponse writes u as writeJSON(w, http.StatusOK, u) does, byte
// for byte: the fields of urlResponse in order, empty ones omitted, no HTML
// escaping, a final newline. A response with an error, or a string that
// JSON would escape, is left to writeJSON.
func writeURLResponse(w http.ResponseWriter, u *urlResponse) {
	if u.Error != nil {
		writeJSON(w, http.StatusOK, u)
		return
	}
	bp := respBufs.Get().(*[]byte)
	b, ok := appendURLResponse((*bp)[:0], u)
	if !ok {
		respBufs.Put(bp)
		writeJSON(w, http.StatusOK, u)
		return
	}
	setJSONHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	w.Write(b) // a ResponseWriter does not keep b (io.Writer)
	if cap(b) <= maxPooledResp {
		*bp = b
		respBufs.Put(bp)
	}
}

// setJSONHeaders sets the headers writeJSON sets, with one allocation for
// both values (each slice is capped, so an Add elsewhere copies).
func setJSONHeaders(h http.Header) {
	v := &[2]string{"application/json", "no-store"}
	h["Content-Type"] = v[0:1:1]
	h["Cache-Control"] = v[1:2:2]
}

// appendURLResponse appends u's JSON and a newline; false when a string
// needs escaping (then b holds garbage).
func appendURLResponse(b []byte, u *urlResponse) ([]byte, bool) {
	b = append(b, '{')
	first := true
	field := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	ok := true
	str := func(name, v string) {
		if v == "" || !ok {
			return
		}
		if !plainJSON(v) {
			ok = false
			return
		}
		field(name)
		b = append(b, '"')
		b = append(b, v...)
		b = append(b, '"')
	}
	if u.Status != 0 {
		field("status")
		b = strconv.AppendInt(b, int64(u.Status), 10)
	}
	str("url", u.URL)
	str("expires_at", u.ExpiresAt)
	if u.ExpiresIn != 0 {
		field("expires_in")
		b = strconv.AppendInt(b, u.ExpiresIn, 10)
	}
	str("key_id", u.KeyID)
	str("behavior", u.Behavior)
	str("grant_id", u.GrantID)
	b = append(b, '}', '\n')
	return b, ok
}

// plainJSON reports whether encoding/json writes s as is between quotes
// (with HTML escaping off): printable ASCII other than '"' and '\'.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// statusLabel is strconv.Itoa(code) without an allocation for the usual
// codes (the metrics' status label).
func statusLabel(code int) string {
	switch code {
	case http.StatusOK:
		return "200"
	case http.StatusSeeOther:
		return "303"
	case http.StatusBadRequest:
		return "400"
	case http.StatusUnauthorized:
		return "401"
	case http.StatusForbidden:
		return "403"
	case http.StatusNotFound:
		return "404"
	case http.StatusTooManyRequests:
		return "429"
	}
	return strconv.Itoa(code)
}
