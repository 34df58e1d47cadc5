package policy

import (
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func loadExample(t *testing.T) *Behaviors {
	t.Helper()
	f, err := os.Open("../examples/behaviors.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bs, err := ParseBehaviors(f)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

func TestParseBehaviorsExample(t *testing.T) {
	bs := loadExample(t)
	if got, want := len(bs.List), 4; got != want {
		t.Fatalf("%d behaviors, want %d", got, want)
	}
	c := bs.Lookup("courses")
	if c == nil || c.Access != SignedCookie || c.Policy != Custom || c.Window != 600*time.Second || c.Cookie.SameSite != "Lax" {
		t.Errorf("courses = %+v", c)
	}
	d := bs.Lookup("default")
	// Defaults from PRODUCT.md's table.
	if d.Policy != Canned || d.BrowserMaxAge != time.Hour || d.EdgeTTL != 24*time.Hour || d.Window != time.Hour ||
		d.Margin != 5*time.Minute || d.MaxLifetime != 24*time.Hour || d.IPBinding || d.Hash != "" {
		t.Errorf("default behavior defaults = %+v", d)
	}
	if d.HashFor(true) != crypto.SHA1 || d.HashFor(false) != crypto.SHA256 || c.HashFor(true) != crypto.SHA256 {
		t.Error("HashFor: wrong defaults")
	}
	if bs.ViewerHost() != "media.example.test" {
		t.Errorf("ViewerHost = %q", bs.ViewerHost())
	}
}

func TestBehaviorDefaults(t *testing.T) {
	bs, err := ParseBehaviors(strings.NewReader(`{"viewer_origin":"https://m.example","behaviors":[
		{"name":"c","path_pattern":"/c/*","access":"signed-cookie"},
		{"name":"p","path_pattern":"/p/*","access":"public"},
		{"name":"d","path_pattern":"*","access":"signed-url"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c := bs.Lookup("c"); c.Policy != Custom || c.Cookie.SameSite != "Lax" {
		t.Errorf("signed-cookie defaults: %+v", c)
	}
	if d := bs.Lookup("d"); d.Policy != Canned {
		t.Errorf("signed-url default policy = %v", d.Policy)
	}
	// MarshalJSON writes the defaults out, and the result parses to the same.
	out, err := json.Marshal(bs)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseBehaviors(strings.NewReader(string(out)))
	if err != nil {
		t.Fatalf("re-parse %s: %v", out, err)
	}
	if again.Lookup("c").MaxLifetime != bs.Lookup("c").MaxLifetime || again.Lookup("p").Access != Public {
		t.Errorf("round trip changed the behaviors: %s", out)
	}
}

func TestBehaviorFieldErrors(t *testing.T) {
	const def = `{"name":"default","path_pattern":"*","access":"signed-url"}`
	wrap := func(bs ...string) string {
		return `{"viewer_origin":"https://m.example","behaviors":[` + strings.Join(bs, ",") + `]}`
	}
	tests := []struct{ name, doc, field string }{
		{"viewer origin missing", `{"behaviors":[` + def + `]}`, "viewer_origin"},
		{"viewer origin with path", `{"viewer_origin":"https://m.example/x","behaviors":[` + def + `]}`, "viewer_origin"},
		{"viewer origin upper case", `{"viewer_origin":"https://M.example","behaviors":[` + def + `]}`, "viewer_origin"},
		{"key id lower case", `{"viewer_origin":"https://m.example","key_ids":["k1"],"behaviors":[` + def + `]}`, "key_ids[0]"},
		{"no behaviors", `{"viewer_origin":"https://m.example","behaviors":[]}`, "behaviors"},
		{"unknown field", wrap(`{"name":"x","path_pattern":"/x/*","access":"public","ttl":5}`, def), "ttl"},
		{"unknown top field", `{"viewer_origin":"https://m.example","origin":"x","behaviors":[` + def + `]}`, "origin"},
		{"wrong type", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","window":"1h"}`, def), "behaviors.window"},
		{"bad name", wrap(`{"name":"X_1","path_pattern":"/x/*","access":"public"}`, def), "behaviors[0].name"},
		{"duplicate name", wrap(`{"name":"default","path_pattern":"/x/*","access":"public"}`, def), "behaviors[1].name"},
		{"empty pattern", wrap(`{"name":"x","path_pattern":"","access":"public"}`, def), "behaviors[0].path_pattern"},
		{"bad pattern char", wrap(`{"name":"x","path_pattern":"/x y/*","access":"public"}`, def), "behaviors[0].path_pattern"},
		{"duplicate pattern", wrap(`{"name":"x","path_pattern":"/x/*","access":"public"}`, `{"name":"y","path_pattern":"x/*","access":"public"}`, def), "behaviors[1].path_pattern"},
		{"star not last", wrap(def, `{"name":"x","path_pattern":"/x/*","access":"public"}`), "behaviors[0].path_pattern"},
		{"last not star", wrap(`{"name":"x","path_pattern":"/x/*","access":"public"}`), "behaviors[0].path_pattern"},
		{"access missing", wrap(`{"name":"x","path_pattern":"/x/*"}`, def), "behaviors[0].access"},
		{"access unknown", wrap(`{"name":"x","path_pattern":"/x/*","access":"private"}`, def), "behaviors[0].access"},
		{"policy unknown", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","policy":"fancy"}`, def), "behaviors[0].policy"},
		{"canned cookie", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-cookie","policy":"canned"}`, def), "behaviors[0].policy"},
		{"hash unknown", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","hash":"MD5"}`, def), "behaviors[0].hash"},
		{"hash on public", wrap(`{"name":"x","path_pattern":"/x/*","access":"public","hash":"SHA1"}`, def), "behaviors[0].hash"},
		{"cookie on url behavior", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","cookie":{}}`, def), "behaviors[0].cookie"},
		{"negative max age", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","browser_max_age":-1}`, def), "behaviors[0].browser_max_age"},
		{"zero window", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","window":0}`, def), "behaviors[0].window"},
		{"lifetime too short", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","browser_max_age":3600,"margin":300,"window":3600,"max_lifetime":7199}`, def), "behaviors[0].max_lifetime"},
		{"same site unknown", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-cookie","cookie":{"same_site":"lax"}}`, def), "behaviors[0].cookie.same_site"},
		{"cookie domain cloudfront", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-cookie","cookie":{"domain":"d1.cloudfront.net"}}`, def), "behaviors[0].cookie.domain"},
		{"cors origin with path", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","cors_origins":["https://a.example/x"]}`, def), "behaviors[0].cors_origins[0]"},
		{"reserved cache query", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","cache_query_strings":["Signature"]}`, def), "behaviors[0].cache_query_strings[0]"},
		{"bad cache query", wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","cache_query_strings":["a b"]}`, def), "behaviors[0].cache_query_strings[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBehaviors(strings.NewReader(tt.doc))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error = %v, want *FieldError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", fe.Field, tt.field, err)
			}
		})
	}
	// Exactly at the limit is accepted: M + m + W = L.
	ok := wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","browser_max_age":3600,"margin":300,"window":3600,"max_lifetime":7500}`, def)
	if _, err := ParseBehaviors(strings.NewReader(ok)); err != nil {
		t.Errorf("M+m+W = L refused: %v", err)
	}
}

func TestMatch(t *testing.T) {
	bs := loadExample(t)
	tests := []struct{ path, want string }{
		{"/courses/go-101/index.m3u8", "courses"},
		{"/courses/", "courses"},
		{"/courses", "default"},
		{"/Courses/go-101/x", "default"}, // case-sensitive
		{"/ebooks/a.pdf", "ebooks"},
		{"/assets/app.css", "assets"},
		{"/", "default"},
		{"/other/x", "default"},
	}
	for _, tt := range tests {
		if got := bs.Match(tt.path); got == nil || got.Name != tt.want {
			t.Errorf("Match(%q) = %v, want %s", tt.path, got, tt.want)
		}
	}
	if !MatchPath("images/*.jpg", "/images/a.jpg") || !MatchPath("/images/*.jpg", "/images/a.jpg") {
		t.Error("a path pattern's leading '/' must be optional")
	}
}

func TestCover(t *testing.T) {
	bs, err := ParseBehaviors(strings.NewReader(`{"viewer_origin":"https://m.example","behaviors":[
		{"name":"free","path_pattern":"/courses/free/*","access":"public"},
		{"name":"courses","path_pattern":"/courses/*","access":"signed-cookie"},
		{"name":"ebooks","path_pattern":"/ebooks/*.pdf","access":"signed-url"},
		{"name":"open","path_pattern":"/open/*","access":"public"},
		{"name":"default","path_pattern":"*","access":"signed-url"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		resource, want string
		err            error
	}{
		{"https://m.example/courses/go-101/index.m3u8", "courses", nil},
		{"https://m.example/courses/go-101/*", "courses", nil},
		{"http*://m.example/courses/go-101/*", "courses", nil},
		{"https://m.example/courses/go-101/*?x=1", "courses", nil},
		{"https://m.example/courses/free/a.mp4", "", ErrNotCovered},
		{"https://m.example/courses/*", "", ErrNotCovered},  // reaches /courses/free/
		{"https://m.example/courses/f*", "", ErrNotCovered}, // reaches /courses/free/
		{"https://m.example/courses/fre?/*", "", ErrNotCovered},
		{"https://m.example/courses/fr*/x", "", ErrNotCovered}, // /courses/free/x is public
		{"https://m.example/courses/g*", "courses", nil},
		{"https://m.example/ebooks/a.pdf", "ebooks", nil},
		// The '*' also spans a query: /ebooks/?x.pdf is the path /ebooks/,
		// which goes to the default behavior.
		{"https://m.example/ebooks/*.pdf", "", ErrNotCovered},
		{"https://m.example/ebooks/x*.pdf", "", ErrNotCovered},
		{"https://m.example/ebooks/*", "", ErrNotCovered}, // /ebooks/x.epub goes to default
		{"https://m.example/open/x", "", ErrNotCovered},
		{"https://m.example/misc/*", "default", nil},
		{"https://m.example/*", "", ErrNotCovered},
		{"https://m.example/o*", "", ErrNotCovered}, // reaches /open/
		{"https://other.example/courses/go-101/*", "", ErrOtherOrigin},
		{"http://m.example/courses/go-101/*", "", ErrOtherOrigin},
		{"https://m.example.evil/courses/*", "", ErrOtherOrigin},
		{"https://m.example*", "", ErrOtherOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			b, err := bs.Cover(tt.resource)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Cover error = %v, want %v", err, tt.err)
				}
				var ce *CoverError
				if !errors.As(err, &ce) {
					t.Fatalf("error %T is not a *CoverError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Cover: %v", err)
			}
			if b.Name != tt.want {
				t.Errorf("Cover = %s, want %s", b.Name, tt.want)
			}
		})
	}
}

// TestCoverAgreesWithMatch checks Cover's automaton against brute force:
// for wildcard resources over a small alphabet, enumerate every path up to
// a length and compare with Match.
func TestCoverAgreesWithMatch(t *testing.T) {
	bs, err := ParseBehaviors(strings.NewReader(`{"viewer_origin":"https://m.example","behaviors":[
		{"name":"pub","path_pattern":"/a/b*","access":"public"},
		{"name":"sa","path_pattern":"/a/*","access":"signed-url"},
		{"name":"qq","path_pattern":"/?b","access":"public"},
		{"name":"default","path_pattern":"*","access":"signed-url"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	alphabet := "ab/"
	var paths []string
	var gen func(string, int)
	gen = func(p string, n int) {
		paths = append(paths, p)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(p+string(c), n-1)
		}
	}
	gen("/", 5)
	for _, res := range []string{"/a/*", "/a/a*", "/*", "/a*", "/?/*", "/b*", "/a/?", "/a/??", "/*b", "/a/*a"} {
		// Brute force: the behaviors the resource reaches among short paths.
		reached := map[string]bool{}
		for _, p := range paths {
			if Glob(res, p) {
				reached[bs.Match(p).Name] = true
			}
		}
		bruteOK := len(reached) == 1 && !reached["pub"] && !reached["qq"]
		_, err := bs.Cover("https://m.example" + res)
		if (err == nil) != bruteOK {
			// Short paths can miss a longer counterexample only when
			// brute force says covered; Cover then must explain.
			if bruteOK {
				t.Logf("%s: brute force (paths ≤ 6) saw only %v, Cover says %v", res, reached, err)
				continue
			}
			t.Errorf("%s: brute force reached %v, but Cover says covered", res, reached)
		}
	}
}

// TestCacheControl pins the header viewers get; terraform/tests/
// security.tftest.hcl asserts the same values for the module's response
// headers policies, so the local edge and CloudFront agree.
func TestCacheControl(t *testing.T) {
	bs := loadExample(t)
	for name, want := range map[string]string{"courses": "private, max-age=60", "ebooks": "max-age=3600", "assets": "max-age=86400", "default": "max-age=3600"} {
		if got := bs.Lookup(name).CacheControl(); got != want {
			t.Errorf("%s: Cache-Control %q, want %q", name, got, want)
		}
	}
}
