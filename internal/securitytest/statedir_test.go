package securitytest

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestStateFolderUnwritable runs the real binary with a state folder it
// cannot write: `serve --dev --state` and the links file store
// (links.state_dir). The tests run as root, where a 0500 folder stops
// nothing, so the folders are ones that refuse root too: a path under a
// regular file (cannot be created), a regular file itself, and /proc (it
// exists, and no file can be made in it). Each must refuse to start, exit
// non-zero, print an error naming the folder, the flag or field, and what
// to fix, and leave the files around it as they were.
func TestStateFolderUnwritable(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	_, callers := serveFiles(t, dir)
	blocker := filepath.Join(dir, "blocker")
	writeFile(t, blocker, "a regular file, not a folder\n")
	writeFile(t, filepath.Join(dir, "link-key"), base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n")
	linksConfig := func(stateDir string) string {
		return fmt.Sprintf("behaviors: behaviors.json\nkeys: [{id: KSTATE, file: %q}]\n%s\nlinks: {store: file, state_dir: %q, keys: [{id: l1, file: link-key}]}\n",
			keyPath(t, "ec-p256.pem"), callers, stateDir)
	}
	devArgs := func(state string) []string {
		return []string{"serve", "--dev", "--state", state, "--behaviors", "behaviors.json", "--listen", "127.0.0.1:0", "--edge", "off", "--edge-tomorrow", "off"}
	}
	cases := []struct {
		name   string
		config string // written to config.yaml when not empty
		args   []string
		folder string // the folder the error must name
		fix    string // the flag or field it must name
	}{
		{"--dev, state under a regular file", "", devArgs(filepath.Join(blocker, "state")), filepath.Join(blocker, "state"), "--state"},
		{"--dev, state is a regular file", "", devArgs(blocker), blocker, "--state"},
		{"--dev, state exists but refuses files (/proc)", "", devArgs("/proc"), "/proc", "--state"},
		{"links.state_dir under a regular file", linksConfig(filepath.Join(blocker, "links")), nil, filepath.Join(blocker, "links"), "links.state_dir"},
		{"links.state_dir exists but refuses files (/proc)", linksConfig("/proc"), nil, "/proc", "links.state_dir"},
	}
	refused := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := c.args
			if c.config != "" {
				writeFile(t, filepath.Join(dir, "config.yaml"), c.config)
				args = []string{"serve", "--config", "config.yaml", "--listen", "127.0.0.1:0"}
			}
			before := snapshot(t, dir)
			p := startProc(t, bin, dir, args...)
			p.waitFor(t, func(out string) bool {
				select {
				case <-p.done:
					return true
				default:
					return strings.Contains(out, "issuer listening")
				}
			}, "an exit")
			out := p.out.String()
			if strings.Contains(out, "issuer listening") {
				t.Fatalf("serve started with a state folder it cannot write (%s):\n%s", c.folder, out)
			}
			if p.code == 0 {
				t.Errorf("exit 0, want non-zero")
			}
			for _, want := range []string{c.folder, c.fix, "writable"} {
				if !strings.Contains(out, want) {
					t.Errorf("the error does not name %q (the folder, the flag or field, what to fix):\n%s", want, out)
				}
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("files changed around the refused state folder:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if !t.Failed() {
				refused++
			}
			t.Logf("%s: exit %d: %s", c.name, p.code, strings.TrimSpace(out))
		})
	}
	report(t, "state folder", "%d of %d unwritable state folders refused at start (non-zero exit, folder and fix named, nothing written)", refused, len(cases))
}

// snapshot lists every file and folder under dir with its size and mode.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		lines = append(lines, fmt.Sprintf("%s %v %d", rel, info.Mode(), info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
