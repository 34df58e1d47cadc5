package policy

import (
	"errors"
	"fmt"
	"strings"
)

// normalizePattern makes a leading '/' explicit: CloudFront treats
// "images/*.jpg" and "/images/*.jpg" alike. A pattern that starts with '*'
// already matches paths with their leading '/'.
func normalizePattern(p string) string {
	if p == "" || p[0] == '/' || p[0] == '*' {
		return p
	}
	return "/" + p
}

// MatchPath reports whether a request path matches a CloudFront cache
// behavior path pattern: '*' and '?' wildcards, case-sensitive, the whole
// path, the leading '/' of the pattern optional.
//
// The path is the raw path as the viewer sent it, percent-escapes
// undecoded and without the query string. Whether CloudFront decodes
// percent-escapes before matching path patterns is not documented
// (CLOUDFRONT.md lists no source); cfissuer assumes it does not, and refuses
// dot segments and other ambiguous forms in what it signs so that the
// question does not arise for its own URLs.
func MatchPath(pattern, path string) bool {
	return Glob(normalizePattern(pattern), path)
}

// Match returns the first behavior whose pattern matches path, as
// CloudFront chooses a cache behavior. A valid Behaviors always ends with
// "*", so Match returns nil only for an invalid list.
func (bs *Behaviors) Match(path string) *Behavior {
	for i := range bs.List {
		if MatchPath(bs.List[i].PathPattern, path) {
			return &bs.List[i]
		}
	}
	return nil
}

// Errors returned by Cover. Test for them with errors.Is; *CoverError
// carries the details.
var (
	// ErrNotCovered: some URL the resource grants is served by a public
	// behavior, so CloudFront would not check the credential there (or the
	// resource spans behaviors with different settings).
	ErrNotCovered = errors.New("policy: resource is not covered by one signed behavior")
	// ErrOtherOrigin: the resource names another scheme or host than the
	// viewer origin.
	ErrOtherOrigin = errors.New("policy: resource is not on the viewer origin")
	// ErrTooComplex: the wildcard resource is too complex to analyse.
	ErrTooComplex = errors.New("policy: resource pattern too complex to check coverage")
)

// CoverError explains why a resource is not covered: Example is a path the
// resource grants, and Behavior the behavior CloudFront would choose for it.
type CoverError struct {
	Err      error  // ErrNotCovered, ErrOtherOrigin or ErrTooComplex
	Resource string // the resource that was checked
	Example  string // a request path (and query) that the resource grants
	Behavior string // the behavior that path goes to, if any
	Other    string // a second behavior the resource also reaches, if any
}

func (e *CoverError) Error() string {
	switch {
	case e.Other != "":
		return fmt.Sprintf("%v: it reaches both behavior %q and behavior %q (for example %s); narrow the resource to one behavior", e.Err, e.Behavior, e.Other, e.Example)
	case e.Behavior != "":
		return fmt.Sprintf("%v: %s would be served by public behavior %q, where CloudFront checks no signature", e.Err, e.Example, e.Behavior)
	case e.Example != "":
		return fmt.Sprintf("%v: %s", e.Err, e.Example)
	default:
		return e.Err.Error()
	}
}

func (e *CoverError) Unwrap() error { return e.Err }

// Cover returns the signed behavior that covers a resource (a canonical URL
// or custom-policy resource; see CanonicalURL and CanonicalResource), or a
// *CoverError.
//
// A resource is covered when it names the viewer origin (scheme http,
// https or http*, and exactly the viewer host), and every request path it can
// match goes, by CloudFront's first-match rule, to the same behavior, which is
// signed. For a wildcard resource that is a question about all the strings
// the wildcard can stand for; Cover answers it exactly by exploring the
// product of the resource's and the patterns' automata, and its error names a
// path that goes wrong.
func (bs *Behaviors) Cover(resource string) (*Behavior, error) {
	rest, err := bs.stripOrigin(resource)
	if err != nil {
		return nil, err
	}
	if !HasWildcard(rest) {
		path, _, _ := strings.Cut(rest, "?")
		b := bs.Match(path)
		if b == nil || !b.Access.Signed() {
			return nil, &CoverError{Err: ErrNotCovered, Resource: resource, Example: rest, Behavior: nameOf(b)}
		}
		return b, nil
	}
	return bs.coverWildcard(resource, rest)
}

func nameOf(b *Behavior) string {
	if b == nil {
		return ""
	}
	return b.Name
}

func (bs *Behaviors) stripOrigin(resource string) (string, error) {
	scheme, rest, ok := strings.Cut(resource, "://")
	vscheme, vhost, _ := strings.Cut(bs.ViewerOrigin, "://")
	if !ok || (scheme != vscheme && scheme != "http*") {
		return "", &CoverError{Err: ErrOtherOrigin, Resource: resource, Example: fmt.Sprintf("the viewer origin is %s", bs.ViewerOrigin)}
	}
	host, _, found := strings.Cut(rest, "/")
	if !found || host != vhost {
		return "", &CoverError{Err: ErrOtherOrigin, Resource: resource, Example: fmt.Sprintf("the resource must start with %s/", bs.ViewerOrigin)}
	}
	return rest[len(host):], nil // "/" + after, without a copy
}

// maxCoverStates bounds the exploration of Cover; real resources and
// behavior lists need a few dozen states.
const maxCoverStates = 100000

// nfa is a glob pattern as a set of positions: position k means the first k
// bytes of the pattern are consumed. A '*' at k lets k stay or move on.
type nfa string

// closure adds the positions reachable through '*' skipping zero bytes.
func (p nfa) closure(set []bool) []bool {
	for k := 0; k < len(p); k++ {
		if set[k] && p[k] == '*' {
			set[k+1] = true
		}
	}
	return set
}

func (p nfa) start() []bool {
	set := make([]bool, len(p)+1)
	set[0] = true
	return p.closure(set)
}

func (p nfa) step(set []bool, c byte) []bool {
	next := make([]bool, len(p)+1)
	for k := 0; k < len(p); k++ {
		if !set[k] {
			continue
		}
		switch p[k] {
		case '*':
			next[k] = true
		case '?':
			next[k+1] = true
		default:
			if p[k] == c {
				next[k+1] = true
			}
		}
	}
	return p.closure(next)
}

func accepts(set []bool) bool { return set[len(set)-1] }

func empty(set []bool) bool {
	for _, v := range set {
		if v {
			return false
		}
	}
	return true
}

type coverState struct {
	res      []bool
	patterns [][]bool
	path     string // the shortest path that reaches this state
}

func (s *coverState) key() string {
	var b strings.Builder
	for _, v := range s.res {
		b.WriteByte('0' + btoi(v))
	}
	for _, p := range s.patterns {
		b.WriteByte('|')
		for _, v := range p {
			b.WriteByte('0' + btoi(v))
		}
	}
	return b.String()
}

func btoi(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func (bs *Behaviors) coverWildcard(resource, rest string) (*Behavior, error) {
	res := nfa(rest)
	pats := make([]nfa, len(bs.List))
	for i := range bs.List {
		pats[i] = nfa(normalizePattern(bs.List[i].PathPattern))
	}
	// The alphabet: every literal byte in any pattern, plus one byte that
	// stands for "any other path byte". '?' is not a path byte: it ends
	// the path and starts the query.
	used := map[byte]bool{}
	var alphabet []byte
	add := func(c byte) {
		if !used[c] && c != '?' && c != '*' {
			used[c] = true
			alphabet = append(alphabet, c)
		}
	}
	for _, p := range append([]nfa{res}, pats...) {
		for i := 0; i < len(p); i++ {
			add(p[i])
		}
	}
	add('/')
	for _, c := range []byte("zqxjkvbwyfgmpuoicdhlnrtesaZQXJKVBWYFGMPUOICDHLNRTESA0123456789-_.~") {
		if !used[c] {
			add(c)
			break
		}
	}

	start := &coverState{res: res.start(), path: ""}
	for _, p := range pats {
		start.patterns = append(start.patterns, p.start())
	}
	var covering *Behavior
	var coveringExample string
	seen := map[string]bool{start.key(): true}
	queue := []*coverState{start}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		// Can a granted URL's path end here? Either the resource matches
		// now, or it can go on with a '?' (a query string follows).
		ends, example := accepts(s.res), s.path
		if !ends && !empty(res.step(s.res, '?')) {
			ends, example = true, s.path+"?…"
		}
		if ends {
			b := bs.firstAccepting(s.patterns)
			switch {
			case b == nil || !b.Access.Signed():
				return nil, &CoverError{Err: ErrNotCovered, Resource: resource, Example: printable(example), Behavior: nameOf(b)}
			case covering == nil:
				covering, coveringExample = b, example
			case covering != b:
				return nil, &CoverError{Err: ErrNotCovered, Resource: resource, Example: printable(coveringExample) + " and " + printable(example), Behavior: covering.Name, Other: b.Name}
			}
		}
		for _, c := range alphabet {
			next := &coverState{res: res.step(s.res, c), path: s.path + string(c)}
			if empty(next.res) {
				continue
			}
			for i, p := range pats {
				next.patterns = append(next.patterns, p.step(s.patterns[i], c))
			}
			k := next.key()
			if seen[k] {
				continue
			}
			if len(seen) >= maxCoverStates {
				return nil, &CoverError{Err: ErrTooComplex, Resource: resource}
			}
			seen[k] = true
			queue = append(queue, next)
		}
	}
	if covering == nil {
		// The resource can match nothing that ends (cannot happen for a
		// glob, which always matches its own literal text).
		return nil, &CoverError{Err: ErrNotCovered, Resource: resource}
	}
	return covering, nil
}

func (bs *Behaviors) firstAccepting(sets [][]bool) *Behavior {
	for i, set := range sets {
		if accepts(set) {
			return &bs.List[i]
		}
	}
	return nil
}

// printable shows a counterexample path; the stand-in byte for "any other
// byte" is shown as it is, which is a real example.
func printable(s string) string {
	if s == "" {
		return "(empty path)"
	}
	return s
}
