package policy

import "testing"

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything/at/all?x=1", true},
		{"?", "", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"a*b", "ab", true},
		{"a*b", "axxxb", true},
		{"a*b", "axxxbc", false},
		{"a*b*c", "abbbc", true},
		{"a*b*c", "acb", false},
		{"/courses/go-101/*", "/courses/go-101/index.m3u8", true},
		{"/courses/go-101/*", "/courses/go-101/", true},
		{"/courses/go-101/*", "/courses/go-1010/x", false},
		{"/courses/go-101/*", "/Courses/go-101/x", false}, // case-sensitive
		{"https://h/*.ts", "https://h/a/b/seg1.ts", true},
		{"https://h/*.ts", "https://h/a/b/seg1.tsx", false},
		{"https://h/a?c", "https://h/abc", true},
		{"https://h/a?c", "https://h/a?c", true},
		{"https://h/a?c", "https://h/ac", false},
		{"**", "x", true},
		{"*?", "", false},
		{"*?", "x", true},
		{"a*", "a", true},
		{"*a", "bbba", true},
		{"*a", "bbbab", false},
		{"http*://h/x", "https://h/x", true},
		{"http*://h/x", "http://h/x", true},
		{"http*://h/x", "ftp://h/x", false},
		{"x", "*", false}, // '*' in the subject is a literal byte
		{"*", "*", true},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false}, // pathological backtracking stays fast
	}
	for _, tt := range tests {
		if got := Glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// FuzzGlob checks Glob against a simple recursive reference matcher.
func FuzzGlob(f *testing.F) {
	f.Add("a*b?c", "axxbyc")
	f.Add("*?*", "")
	f.Add("/x/*", "/x/y")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 16 || len(s) > 24 {
			return // the reference is exponential
		}
		if got, want := Glob(pattern, s), refGlob(pattern, s); got != want {
			t.Errorf("Glob(%q, %q) = %v, reference says %v", pattern, s, got, want)
		}
	})
}

func refGlob(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if refGlob(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && refGlob(p[1:], s[1:])
	default:
		return s != "" && s[0] == p[0] && refGlob(p[1:], s[1:])
	}
}
