package deploytest

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestDockerfile checks the Dockerfile's shape, since no engine here can build it: two stages, the
// builder running the `make static` target the tests use, a static non-root final stage whose
// HEALTHCHECK asks /readyz through the binary.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]string // instructions per stage, continuation lines joined
	for _, l := range strings.Split(strings.ReplaceAll(string(data), "\\\n", " "), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("instruction before FROM: %s", l)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], l)
	}
	if len(stages) != 2 {
		t.Fatalf("%d stages, want a builder and a final stage", len(stages))
	}
	has := func(stage []string, re string) bool {
		for _, l := range stage {
			if regexp.MustCompile(re).MatchString(l) {
				return true
			}
		}
		return false
	}
	build, final := stages[0], stages[1]
	for _, c := range []struct {
		stage []string
		re    string
		why   string
	}{
		{build, `^FROM golang:1\.26\S* AS build$`, "builder on the module's Go version"},
		{build, `^RUN make static .*STATIC_OUT=/out/cfissuer`, "the binary from the tested make target"},
		{final, `^FROM (gcr\.io/distroless/static\S*|scratch)$`, "a static base: no shell, no libc"},
		{final, `^COPY --from=build /out/cfissuer /cfissuer$`, "only the binary"},
		{final, `^USER [1-9][0-9]*:[1-9][0-9]*$`, "a numeric non-root user (runAsNonRoot can check it)"},
		{final, `^HEALTHCHECK .*CMD \["/cfissuer", "health".*/readyz"\]$`, "health check on /readyz by the binary"},
		{final, `^ENTRYPOINT \["/cfissuer"\]$`, "the binary as entry point"},
		{final, `^ENV CFISSUER_LISTEN=0\.0\.0\.0:8080`, "listen beyond loopback in the container"},
	} {
		if !has(c.stage, c.re) {
			t.Errorf("Dockerfile: no line matching %s (%s)", c.re, c.why)
		}
	}
	// The Makefile target builds statically.
	mk, err := os.ReadFile(filepath.Join(repoRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^export CGO_ENABLED \?= 0$`).Match(mk) || !regexp.MustCompile(`(?m)^static:`).Match(mk) {
		t.Error("Makefile: the static target or CGO_ENABLED=0 is gone")
	}
}

// TestStaticBinary runs the binary make static built: static ELF, version from the flags, serves
// /readyz, `cfissuer health` agrees, writes nothing outside what it is given, stops on SIGTERM.
func TestStaticBinary(t *testing.T) {
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %v program header: it is not static", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary links %v", libs)
	}
	f.Close()
	if out, err := exec.Command(bin, "version").Output(); err != nil || strings.TrimSpace(string(out)) != "cfissuer deploytest" {
		t.Errorf("version: %q, %v; want the VERSION make static was given", out, err)
	}

	// Config and behaviors in a folder of their own; the working directory, HOME and TMPDIR in an
	// empty one that must stay empty: the process needs no writable file system.
	conf, work := t.TempDir(), t.TempDir()
	pem, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "keys", "rsa2048.pem"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(conf, "key.pem"), string(pem))
	writeFile(t, filepath.Join(conf, "behaviors.json"), behaviorsJSON)
	writeFile(t, filepath.Join(conf, "config.yaml"), "listen: 127.0.0.1:0\nbehaviors: behaviors.json\nkeys:\n  - {id: KRSA, file: key.pem}\n")
	p := start(t, work, nil, true, "serve", "--config", filepath.Join(conf, "config.yaml"))
	resp, err := http.Get("http://" + p.addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %s", resp.Status)
	}
	if out, err := exec.Command(bin, "health", "--url", "http://"+p.addr+"/readyz").CombinedOutput(); err != nil {
		t.Errorf("health on a ready issuer: %v %s", err, out)
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	err = exec.Command(bin, "health", "--url", "http://"+p.addr+"/readyz").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("health on a stopped issuer: %v, want exit 1", err)
	}
	if entries, _ := os.ReadDir(work); len(entries) > 0 {
		t.Errorf("the issuer wrote %d entries into its working directory, HOME or TMPDIR (first: %s)", len(entries), entries[0].Name())
	}
	if entries, _ := os.ReadDir(conf); len(entries) != 3 {
		t.Errorf("the config folder has %d entries, want the 3 it was given", len(entries))
	}
}

// TestKubernetesConfig checks that the ConfigMap of examples/kubernetes/cfissuer.yaml holds a config and
// behaviors file the binary accepts (`cfissuer keys plan` validates both and reads no key source). The
// manifests' schema is checked by the module in examples/kubernetes.
func TestKubernetesConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "kubernetes", "cfissuer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Kind string
		Data map[string]string
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		if err := yaml.Unmarshal([]byte(doc), &cm); err != nil {
			t.Fatal(err)
		}
		if cm.Kind == "ConfigMap" {
			break
		}
	}
	if cm.Kind != "ConfigMap" || cm.Data["config.yaml"] == "" || cm.Data["behaviors.json"] == "" {
		t.Fatalf("no ConfigMap with config.yaml and behaviors.json")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.yaml"), cm.Data["config.yaml"])
	writeFile(t, filepath.Join(dir, "behaviors.json"), cm.Data["behaviors.json"])
	out, err := exec.Command(bin, "keys", "plan", "--config", filepath.Join(dir, "config.yaml"), "--strict").CombinedOutput()
	if err != nil {
		t.Fatalf("keys plan --strict on the Kubernetes config: %v\n%s", err, out)
	}
	// The example's caller hash is the SHA-256 of a documented placeholder secret.
	sum := sha256.Sum256([]byte("replace-me"))
	if !strings.Contains(cm.Data["config.yaml"], hex.EncodeToString(sum[:])) {
		t.Error("the example caller's secret_sha256 is not sha256(\"replace-me\")")
	}
}

const behaviorsJSON = `{
  "viewer_origin": "https://media.example.test",
  "key_ids": ["KRSA"],
  "behaviors": [
    {"name": "courses", "path_pattern": "/courses/*", "access": "signed-cookie", "hash": "SHA256",
     "browser_max_age": 60, "window": 600, "margin": 300, "max_lifetime": 3600},
    {"name": "ebooks", "path_pattern": "/ebooks/*", "access": "signed-url", "hash": "SHA256",
     "browser_max_age": 3600, "window": 3600, "margin": 300, "max_lifetime": 14400},
    {"name": "site", "path_pattern": "*", "access": "public"}
  ]
}`
