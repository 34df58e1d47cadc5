package policy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// schemaValid validates documents against docs/behaviors.schema.json with
// Python's jsonschema (an independent implementation of JSON Schema), in one
// process, and returns one verdict per document.
func schemaValid(t *testing.T, docs []string) []bool {
	t.Helper()
	schema, err := filepath.Abs("../docs/behaviors.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	const script = `
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema)
print(json.dumps([v.is_valid(json.loads(d)) for d in json.load(sys.stdin)]))
`
	in, _ := json.Marshal(docs)
	cmd := exec.Command("python3", "-c", script, schema)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jsonschema (pip package jsonschema is required): %v\n%s", err, out)
	}
	var res []bool
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("jsonschema output %q: %v", out, err)
	}
	return res
}

// TestSchemaAgreesWithLoader: the example and the files the loader accepts
// are schema-valid, and documents the schema can judge on their own are
// refused by both.
func TestSchemaAgreesWithLoader(t *testing.T) {
	example, err := os.ReadFile("../examples/behaviors.json")
	if err != nil {
		t.Fatal(err)
	}
	const def = `{"name":"default","path_pattern":"*","access":"signed-url"}`
	wrap := func(b string) string {
		return `{"viewer_origin":"https://m.example","behaviors":[` + b + `,` + def + `]}`
	}
	valid := []string{
		string(example),
		`{"viewer_origin":"https://m.example","key_ids":["K2JCJMDEHXQW5F"],"behaviors":[` + def + `]}`,
		wrap(`{"name":"c","path_pattern":"/c/*","access":"signed-cookie","cookie":{"domain":"m.example","same_site":"None"},"cors_origins":["https://app.example"]}`),
		wrap(`{"name":"p","path_pattern":"/p/*","access":"public","browser_max_age":0}`),
	}
	invalid := []string{
		`{"behaviors":[` + def + `]}`,
		`{"viewer_origin":"https://m.example/path","behaviors":[` + def + `]}`,
		`{"viewer_origin":"https://m.example","behaviors":[]}`,
		`{"viewer_origin":"https://m.example","extra":1,"behaviors":[` + def + `]}`,
		wrap(`{"name":"X","path_pattern":"/x/*","access":"public"}`),
		wrap(`{"name":"x","path_pattern":"/x/*","access":"private"}`),
		wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","hash":"MD5"}`),
		wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","window":0}`),
		wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","window":"1h"}`),
		wrap(`{"name":"x","path_pattern":"/x/*","access":"public","hash":"SHA1"}`),
		wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-cookie","policy":"canned"}`),
		wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","cookie":{}}`),
		wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","cache_query_strings":["Expires"]}`),
		wrap(`{"name":"x","path_pattern":"/x/*","access":"signed-url","unknown":true}`),
		wrap(`{"name":"x","path_pattern":"/x y","access":"public"}`),
	}
	verdicts := schemaValid(t, append(append([]string{}, valid...), invalid...))
	for i, doc := range valid {
		if !verdicts[i] {
			t.Errorf("schema refuses a valid file: %.120s", doc)
		}
		if _, err := ParseBehaviors(strings.NewReader(doc)); err != nil {
			t.Errorf("loader refuses a valid file: %v", err)
		}
	}
	for i, doc := range invalid {
		if verdicts[len(valid)+i] {
			t.Errorf("schema accepts an invalid file: %.160s", doc)
		}
		if _, err := ParseBehaviors(strings.NewReader(doc)); err == nil {
			t.Errorf("loader accepts an invalid file: %.160s", doc)
		}
	}
	// What the loader writes back (defaults filled in) is schema-valid too.
	bs, _ := ParseBehaviors(strings.NewReader(string(example)))
	out, _ := json.Marshal(bs)
	if v := schemaValid(t, []string{string(out)}); !v[0] {
		t.Errorf("schema refuses the loader's own output: %s", out)
	}
}
