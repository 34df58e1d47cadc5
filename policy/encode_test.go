package policy

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncodeKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"a.pdf", "a.pdf"},
		{"ebooks/intro.pdf", "ebooks/intro.pdf"},
		{"a b.pdf", "a%20b.pdf"},
		{"a+b.pdf", "a%2Bb.pdf"},
		{"a&b.pdf", "a%26b.pdf"},
		{"100%.pdf", "100%25.pdf"},
		{"a;b", "a%3Bb"},
		{"a=b", "a%3Db"},
		{"a?b", "a%3Fb"},
		{"a*b", "a%2Ab"},
		{"a#b", "a%23b"},
		{`a"b`, "a%22b"},
		{`a\b`, "a%5Cb"},
		{"a'b", "a%27b"},
		{"a(b)", "a%28b%29"},
		{"a!b", "a%21b"},
		{"a$b", "a%24b"},
		{"a,b", "a%2Cb"},
		{"a:b", "a%3Ab"},
		{"a@b", "a%40b"},
		{"a[b]", "a%5Bb%5D"},
		{"a{b}", "a%7Bb%7D"},
		{"a|b", "a%7Cb"},
		{"a^b", "a%5Eb"},
		{"a`b", "a%60b"},
		{"a<b>", "a%3Cb%3E"},
		{"a~b_c-d.e", "a~b_c-d.e"},
		{"résumé.pdf", "r%C3%A9sum%C3%A9.pdf"},
		{"日本語.txt", "%E6%97%A5%E6%9C%AC%E8%AA%9E.txt"},
		{"emoji-😀.png", "emoji-%F0%9F%98%80.png"},
		{"tab\there", "tab%09here"},
		{"new\nline", "new%0Aline"},
		{"nul\x00", "nul%00"},
		{"del\x7f", "del%7F"},
		{"a//b", "a//b"},
		{"/leading", "/leading"},
		{"trailing/", "trailing/"},
		{"...", "..."},
		{"..a", "..a"},
		{".hidden", ".hidden"},
		{"a/.b/c", "a/.b/c"},
		{"%2e%2e", "%252e%252e"}, // a literal key: its '%' is encoded, so it is no dot segment
		{"ALLCAPS", "ALLCAPS"},
		{"0123456789", "0123456789"},
	}
	for _, tt := range tests {
		got, err := EncodeKey(tt.key)
		if err != nil {
			t.Errorf("EncodeKey(%q): %v", tt.key, err)
			continue
		}
		if got != tt.want {
			t.Errorf("EncodeKey(%q) = %q, want %q", tt.key, got, tt.want)
		}
		if back, err := url.PathUnescape(got); err != nil || back != tt.key {
			t.Errorf("PathUnescape(EncodeKey(%q)) = %q, %v", tt.key, back, err)
		}
		if _, err := CanonicalURL("https://d.example/" + got); err != nil && !strings.HasPrefix(tt.key, "/") {
			t.Errorf("CanonicalURL refuses EncodeKey(%q) = %q: %v", tt.key, got, err)
		}
	}
	errs := []struct {
		key  string
		want error
	}{
		{"", ErrEmptyKey},
		{"\xff\xfe", ErrInvalidUTF8},
		{".", ErrDotSegment},
		{"..", ErrDotSegment},
		{"a/../b", ErrDotSegment},
		{"a/./b", ErrDotSegment},
		{"a/..", ErrDotSegment},
	}
	for _, tt := range errs {
		if _, err := EncodeKey(tt.key); !errors.Is(err, tt.want) {
			t.Errorf("EncodeKey(%q) error = %v, want %v", tt.key, err, tt.want)
		}
	}
}

func TestCanonicalURL(t *testing.T) {
	ok := []struct{ in, want string }{
		{"https://d.example/a.pdf", ""},
		{"HTTPS://D.Example/a.pdf", "https://d.example/a.pdf"},
		{"https://d.example:443/a.pdf", "https://d.example/a.pdf"},
		{"http://d.example:80/a.pdf", "http://d.example/a.pdf"},
		{"https://d.example:8443/a.pdf", ""},
		{"http://d.example:443/a.pdf", ""}, // not the default port for http
		{"https://d.example", "https://d.example/"},
		{"https://d.example/", ""},
		{"https://d.example/A.PDF", ""}, // path case is kept
		{"https://d.example/a%20b.pdf", ""},
		{"https://d.example/a%2fb", ""}, // hex case is kept, no decoding
		{"https://d.example/a%28b%29", ""},
		{"https://d.example/a(b)", ""},
		{"https://d.example/a+b", ""},
		{"https://d.example/a?x=1", ""},
		{"https://d.example/a?x=1&y=2", ""},
		{"https://d.example/a?x=%20&y=", ""},
		{"https://d.example/a?response-content-disposition=attachment%3B%20filename%3D%22a.pdf%22", ""},
		{"https://d.example/a?", "https://d.example/a"}, // an empty query is dropped
		{"https://d.example/a?expires=1", ""},           // names are case-sensitive
		{"https://d.example/a?MyExpires=1", ""},
		{"https://d.example/.well-known/x", ""},
		{"https://d.example/a/.../b", ""},
		{"https://d.example/a//b", ""},
		{"https://d.example/~user/", ""},
		{"https://d123.cloudfront.net/a", ""},
		{"https://d.example/a:b@c", ""},
		{"https://d.example/a;b=c", ""},
		{"https://d.example/a!$&'()+,;=:@", ""},
	}
	for _, tt := range ok {
		want := tt.want
		if want == "" {
			want = tt.in
		}
		got, err := CanonicalURL(tt.in)
		if err != nil {
			t.Errorf("CanonicalURL(%q): %v", tt.in, err)
			continue
		}
		if got != want {
			t.Errorf("CanonicalURL(%q) = %q, want %q", tt.in, got, want)
		}
		if again, err := CanonicalURL(got); err != nil || again != got {
			t.Errorf("CanonicalURL is not idempotent on %q: %q, %v", got, again, err)
		}
	}
	bad := []struct {
		in   string
		want error
	}{
		{"d.example/a", ErrScheme},
		{"ftp://d.example/a", ErrScheme},
		{"rtmp://d.example/a", ErrScheme},
		{"http*://d.example/a", ErrScheme},
		{"https:///a", ErrHost},
		{"https://user@d.example/a", ErrHost},
		{"https://dé.example/a", ErrHost},
		{"https://d.example/a b", ErrCharacter},
		{`https://d.example/a"b`, ErrCharacter},
		{`https://d.example/a\b`, ErrCharacter},
		{"https://d.example/a<b", ErrCharacter},
		{"https://d.example/a{b", ErrCharacter},
		{"https://d.example/a|b", ErrCharacter},
		{"https://d.example/a^b", ErrCharacter},
		{"https://d.example/a`b", ErrCharacter},
		{"https://d.example/a\tb", ErrCharacter},
		{"https://d.example/a\x00", ErrCharacter},
		{"https://d.example/a\x7f", ErrCharacter},
		{"https://d.example/é", ErrCharacter},
		{"https://d.example/a?x=é", ErrCharacter},
		{"https://d.example/a?x=a b", ErrCharacter},
		{"https://d.example/a#frag", ErrFragment},
		{"https://d.example/a?x=1#frag", ErrFragment},
		{"https://d.example/a%", ErrPercent},
		{"https://d.example/a%2", ErrPercent},
		{"https://d.example/a%zz", ErrPercent},
		{"https://d.example/a?x=%g0", ErrPercent},
		{"https://d.example/../a", ErrDotSegment},
		{"https://d.example/a/..", ErrDotSegment},
		{"https://d.example/a/./b", ErrDotSegment},
		{"https://d.example/a/%2e%2e/b", ErrDotSegment},
		{"https://d.example/a/%2E%2e/b", ErrDotSegment},
		{"https://d.example/a/.%2E/b", ErrDotSegment},
		{"https://d.example/a/%2e/b", ErrDotSegment},
		{"https://d.example/a*", ErrWildcardInURL},
		{"https://d.example/a?x=*", ErrWildcardInURL},
		{"https://*.example/a", ErrWildcardInURL},
		{"https://d.example/a?Expires=1", ErrReservedQuery},
		{"https://d.example/a?x=1&Signature=abc", ErrReservedQuery},
		{"https://d.example/a?Policy", ErrReservedQuery},
		{"https://d.example/a?Key-Pair-Id=K", ErrReservedQuery},
		{"https://d.example/a?Hash-Algorithm=SHA256", ErrReservedQuery},
		{"https://d.example/a:b/c d", ErrCharacter},
		{"https://d.example a", ErrHost},
		{"https://d.example/a?&x=1", ErrCharacter},
		{"https://d.example/a?x=1&", ErrCharacter},
		{"https://d.example/a?x=1&&y=2", ErrCharacter},
	}
	for _, tt := range bad {
		if _, err := CanonicalURL(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("CanonicalURL(%q) error = %v, want %v", tt.in, err, tt.want)
		}
	}
}

func TestCanonicalResource(t *testing.T) {
	ok := []struct{ in, want string }{
		{"https://d.example/courses/go-101/*", ""},
		{"http*://d.example/courses/*", ""},
		{"HTTP*://D.EXAMPLE/c/*", "http*://d.example/c/*"},
		{"https://d.example/*.ts", ""},
		{"https://d.example/seg-??.ts", ""},
		{"https://d.example/a?x=*", ""},
		{"https://d.example*", ""},
		{"https://*.example/a", ""},
		{"https://d.example/a%20b/*", ""},
		{"https://d.example/a.pdf", ""},
	}
	for _, tt := range ok {
		want := tt.want
		if want == "" {
			want = tt.in
		}
		got, err := CanonicalResource(tt.in)
		if err != nil || got != want {
			t.Errorf("CanonicalResource(%q) = %q, %v; want %q", tt.in, got, err, want)
		}
	}
	bad := []struct {
		in   string
		want error
	}{
		{"*://d.example/a", ErrScheme},
		{"ftp://d.example/*", ErrScheme},
		{"https://d.example/../*", ErrDotSegment},
		{"https://d.example/a/%2e%2e/*", ErrDotSegment},
		{"https://d.example/a b/*", ErrCharacter},
		{"https://d.example/*#x", ErrFragment},
		{"https://d.example/*?Signature=*", ErrReservedQuery},
		{"https://d.example/é/*", ErrCharacter},
	}
	for _, tt := range bad {
		if _, err := CanonicalResource(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("CanonicalResource(%q) error = %v, want %v", tt.in, err, tt.want)
		}
	}
}

// FuzzEncodeKey: for every valid key, url.PathUnescape(EncodeKey(k)) == k,
// the result is a path CanonicalURL accepts unchanged, and it holds no
// wildcard.
func FuzzEncodeKey(f *testing.F) {
	for _, s := range []string{"a b", "100%", "日本語", "a/b/c", "a*?#", "..x", "%2e%2e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		enc, err := EncodeKey(key)
		if err != nil {
			if key != "" && utf8.ValidString(key) && !errors.Is(err, ErrDotSegment) {
				t.Fatalf("EncodeKey(%q): unexpected error %v", key, err)
			}
			return
		}
		back, err := url.PathUnescape(enc)
		if err != nil || back != key {
			t.Fatalf("PathUnescape(EncodeKey(%q)) = %q, %v", key, back, err)
		}
		if HasWildcard(enc) {
			t.Fatalf("EncodeKey(%q) = %q holds a wildcard", key, enc)
		}
		u := "https://d.example/" + strings.TrimPrefix(enc, "/")
		if strings.HasPrefix(key, "/") {
			return // "//" then starts the path: fine for S3, but not this check's simple join
		}
		got, err := CanonicalURL(u)
		if err != nil || got != u {
			t.Fatalf("CanonicalURL(%q) = %q, %v", u, got, err)
		}
	})
}

// FuzzCanonicalURL: never panics, and is idempotent on what it accepts.
func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{"https://d.example/a?x=1", "HTTP://X:80/%2e", "https://d.example/a%zz", "https://a/b#c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		got, err := CanonicalURL(u)
		if err != nil {
			return
		}
		again, err := CanonicalURL(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q → %q, %v", u, got, again, err)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x21 || got[i] > 0x7e || got[i] == '#' || got[i] == '*' {
				t.Fatalf("accepted %q with byte %q", got, got[i])
			}
		}
	})
}
