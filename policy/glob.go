package policy

import "strings"

// Glob reports whether s matches pattern in full, with CloudFront's wildcard
// semantics: '*' matches zero or more characters, '?' matches exactly one
// character, and every other byte matches itself, case-sensitively.
//
// CloudFront uses the same two wildcards in custom-policy resources and in
// cache-behavior path patterns. Matching is byte-wise: resources and paths are
// percent-encoded ASCII by the time they are compared, so a byte is a
// character. The algorithm is the classic greedy match with one backtrack
// point, which runs in O(len(pattern)·len(s)) time in the worst case and
// allocates nothing.
func Glob(pattern, s string) bool {
	var p, i int        // positions in pattern and s
	star, mark := -1, 0 // last '*' in pattern, and where s stood when it was seen
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]) && pattern[p] != '*':
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			// Let the last '*' swallow one more byte and retry.
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// HasWildcard reports whether s contains a CloudFront wildcard ('*' or '?').
func HasWildcard(s string) bool {
	return strings.ContainsAny(s, "*?")
}
