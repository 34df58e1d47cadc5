//go:build terraform

package tftest

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestIssuerModule validates terraform/modules/issuer and runs its mocked tests (plans and mocked
// applies: no moto, so it adds seconds to make test-terraform, not minutes). Every run block must pass.
func TestIssuerModule(t *testing.T) {
	t.Parallel()
	env := terraformEnv(t)
	dir := filepath.Join(copyModule(t), "terraform", "modules", "issuer")
	mustTerraform(t, env, dir, "init", "-backend=false", "-input=false", "-no-color")
	mustTerraform(t, env, dir, "validate", "-no-color")
	out := mustTerraform(t, env, dir, "test", "-no-color")
	m := regexp.MustCompile(`Success! (\d+) passed, 0 failed\.`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("terraform test: no success line:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n < 6 {
		t.Fatalf("terraform test: %d runs passed, want all 6:\n%s", n, out)
	}
}
