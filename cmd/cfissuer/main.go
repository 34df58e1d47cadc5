// Command cfissuer issues and checks CloudFront signed URLs and cookies.
//
// Run `cfissuer help` for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

// version is set at build time: -ldflags "-X main.version=$(git describe)".
var version = "dev"

// env is what a command sees of the world, so tests run commands directly.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
}

// command is one subcommand: a one-line summary and the function that runs
// it with the arguments after its name.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists the subcommands; a command with a space in its name is a
// two-word command ("sign url").
var commands = map[string]command{
	"keygen":       {"generate a signing key pair (private.pem, public.pem)", runKeygen},
	"keys export":  {"print the public key PEM and fingerprint of a private key", runKeysExport},
	"keys plan":    {"print the key rotation schedule of a serve config and warn about its gaps", runKeysPlan},
	"keys revoke":  {"kill a signing key: stop signing with it (config + reload) and print the Terraform change", runKeysRevoke},
	"sign url":     {"sign a URL (canned or custom policy)", runSignURL},
	"sign cookies": {"sign cookies for a URL or wildcard resource", runSignCookies},
	"version":      {"print the version", runVersion},
	"verify":       {"check a signed URL or cookies as CloudFront would (exit 1 if denied)", runVerify},
	"explain":      {"explain CloudFront's verdict on a signed URL or cookies, for debugging a 403", runExplain},
	"edge":         {"run the local CloudFront edge in front of a directory or S3-compatible origin", runEdge},
	"serve":        {"run the issuer HTTP API (--dev: with a dev key and the local edge, as make run does)", runServe},
	"health":       {"exit 0 if the issuer answers /readyz with 200 (a container's health check)", runHealth},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// errUsage marks an error in how the command was called; run prints the
// usage hint after it and exits 2.
var errUsage = errors.New("usage")

// exitError carries a specific exit code (for example 1 for "denied" from
// verify) with a message already printed, or none.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// run dispatches a command line and returns the exit code.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	name, rest := args[0], args[1:]
	cmd, ok := commands[name]
	if !ok && len(args) > 1 {
		name, rest = args[0]+" "+args[1], args[2:]
		cmd, ok = commands[name]
	}
	if !ok {
		fmt.Fprintf(e.stderr, "cfissuer: unknown command %q; run `cfissuer help` for the list\n", strings.Join(args[:min(2, len(args))], " "))
		return 2
	}
	err := cmd.run(ctx, e, rest)
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintf(e.stderr, "cfissuer %s: %s\n", name, ee.msg)
		}
		return ee.code
	case errors.Is(err, errUsage):
		fmt.Fprintf(e.stderr, "cfissuer %s: %v\nrun `cfissuer %s -h` for its flags\n", name, err, name)
		return 2
	default:
		fmt.Fprintf(e.stderr, "cfissuer %s: %v\n", name, err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "cfissuer issues and checks CloudFront signed URLs and cookies.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: cfissuer <command> [arguments] [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `cfissuer <command> -h` for a command's flags.")
}

// parseFlags parses flags and positional arguments in any order ("sign url
// URL --key-file F" as well as "sign url --key-file F URL"), which the flag
// package alone does not.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// newFlagSet returns a flag set whose -h prints the usage to stdout.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: cfissuer %s\n\nFlags:\n", synopsis)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse wraps parseFlags: it prints the usage for -h only (the flag
// package would also print it after a bad flag, burying the error) and
// returns flag.ErrHelp so run exits 0.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		usage()
	}
	return pos, err
}

func runVersion(_ context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: version takes no arguments", errUsage)
	}
	fmt.Fprintln(e.stdout, "cfissuer", version)
	return nil
}
