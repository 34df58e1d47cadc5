package policy_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/cfissuer/cfissuer/policy"
)

func Example() {
	// An object key becomes the path a browser requests.
	path, _ := policy.EncodeKey("ebooks/Go in Action (2nd ed).pdf")
	url, _ := policy.CanonicalURL("https://media.example.com/" + path)
	fmt.Println(url)

	// All requests in one window get the same expiry, so the same policy.
	now := time.Date(2026, 11, 22, 10, 17, 0, 0, time.UTC)
	expires := policy.Expiry(now, time.Hour+5*time.Minute, time.Hour)
	p := policy.Policy{Kind: policy.Canned, Resource: url, Expires: expires}
	raw, _ := p.Marshal()
	fmt.Println(expires.Format(time.RFC3339))
	fmt.Println(string(raw))
	// Output:
	// https://media.example.com/ebooks/Go%20in%20Action%20%282nd%20ed%29.pdf
	// 2026-11-22T12:00:00Z
	// {"Statement":[{"Resource":"https://media.example.com/ebooks/Go%20in%20Action%20%282nd%20ed%29.pdf","Condition":{"DateLessThan":{"AWS:EpochTime":1795348800}}}]}
}

func ExampleBehaviors_Cover() {
	bs, _ := policy.ParseBehaviors(strings.NewReader(`{
		"viewer_origin": "https://media.example.com",
		"behaviors": [
			{"name": "free", "path_pattern": "/courses/free/*", "access": "public"},
			{"name": "courses", "path_pattern": "/courses/*", "access": "signed-cookie"},
			{"name": "default", "path_pattern": "*", "access": "signed-url"}
		]}`))
	b, err := bs.Cover("https://media.example.com/courses/go-101/*")
	fmt.Println(b.Name, err)
	_, err = bs.Cover("https://media.example.com/courses/*")
	fmt.Println(err)
	// Output:
	// courses <nil>
	// policy: resource is not covered by one signed behavior: /courses/free/ would be served by public behavior "free", where CloudFront checks no signature
}
