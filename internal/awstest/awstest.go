// Package awstest runs moto_server for tests of cfissuer's AWS key sources
// (Secrets Manager, SSM Parameter Store, KMS).
//
// Start runs moto_kms_ext.py, a wrapper that patches moto 5.2.1 in-process
// so that KMS Sign honours MessageType=DIGEST (moto hashes the digest again;
// real KMS signs it as given), checks the patch with a self-test against its
// own server before it prints its address, then serves on 127.0.0.1 with a
// port the kernel picks. The server stops when the test ends.
//
// Start never skips: without moto the test fails and says what to install.
package awstest

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

//go:embed moto_kms_ext.py
var wrapper []byte

// Region is the region every client of a Server uses.
const Region = "us-east-1"

// A Server is a running moto_server.
type Server struct {
	// Endpoint is http://127.0.0.1:PORT.
	Endpoint string

	mu  sync.Mutex
	out bytes.Buffer // moto's output, for failure messages
}

// Config returns an AWS configuration for the server: static test
// credentials, Region, and BaseEndpoint set to the server, as the
// production configuration chain does with an endpoint override.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(s.Endpoint),
	}
}

// Output returns what moto printed so far.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

type lockedWriter struct{ s *Server }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.out.Write(p)
}

// Start runs moto with the KMS DIGEST patch and returns it once it serves.
// extraEnv (NAME=value) is added to its environment.
func Start(t testing.TB, extraEnv ...string) *Server {
	t.Helper()
	s, err := start(t, extraEnv...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// start is Start returning the error, so a test can check that a broken
// patch makes it fail.
func start(t testing.TB, extraEnv ...string) (*Server, error) {
	if err := exec.Command("python3", "-c", "import moto.server, moto.kms, boto3, flask").Run(); err != nil {
		// Never skipped: a test that silently does not run proves nothing.
		return nil, fmt.Errorf("awstest: moto is not installed (pip install 'moto[server]==5.2.1'); the AWS key source tests need it: %w", err)
	}
	return launch(t, "moto_kms_ext.py", wrapper, extraEnv...)
}

// launch runs a Python server script that prints "listening on HOST:PORT"
// once it serves and stops when its stdin closes.
func launch(t testing.TB, name string, source []byte, extraEnv ...string) (*Server, error) {
	script := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(script, source, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command("python3", script)
	cmd.Env = append(os.Environ(), extraEnv...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &Server{}
	cmd.Stderr = lockedWriter{s}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("awstest: start %s: %w", name, err)
	}
	t.Cleanup(func() {
		stdin.Close() // the wrapper stops its server when stdin closes
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	lines := make(chan string, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "listening on ") {
				lines <- line
				io.Copy(lockedWriter{s}, stdout) // drain until the process exits
				return
			}
			lockedWriter{s}.Write([]byte(line + "\n"))
		}
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			cmd.Wait()
			return nil, fmt.Errorf("awstest: %s exited before serving (%v):\n%s", name, cmd.ProcessState, s.Output())
		}
		s.Endpoint = "http://" + strings.TrimPrefix(line, "listening on ")
		return s, nil
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("awstest: %s did not start within a minute:\n%s", name, s.Output())
	}
}
