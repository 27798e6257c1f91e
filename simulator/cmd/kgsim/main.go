// Command kgsim is a fake Huawei Cloud KooGallery marketplace and a contract
// test harness for the merchants who sell SaaS on it. This file holds the
// command tree; each group of subcommands lives in a file of its own.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

func main() {
	// SIGINT and SIGTERM end kgsim serve gracefully: in-flight attempts
	// finish and are recorded before the store closes.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(os.Args[1:], &env{
		ctx:    ctx,
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		now:    time.Now,
		random: rand.Reader,
	})
	stop()
	os.Exit(code)
}

// env is everything a command touches outside its arguments, so that tests
// run every command in-process with a fixed clock and fixed randomness.
type env struct {
	ctx            context.Context // nil means context.Background()
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
	random         io.Reader
}

func (e *env) context() context.Context {
	if e.ctx == nil {
		return context.Background()
	}
	return e.ctx
}

// Exit statuses.
const (
	exitOK      = 0
	exitInvalid = 1 // a verification said "invalid", a value did not decrypt
	exitUsage   = 2 // the command could not run: bad flags, bad input
)

// command is a node of the command tree: a group (with subcommands) or a
// leaf (with run).
type command struct {
	name    string
	summary string
	help    string // usage, flags and an example; shown by "kgsim help NAME"
	sub     []*command
	run     func(e *env, args []string) error
}

// verdictError is a negative answer that the command printed itself: a
// signature that does not verify, a value that does not decrypt.
type verdictError struct{}

func (verdictError) Error() string { return "invalid" }

func root() *command {
	return &command{
		name: "kgsim",
		help: `kgsim is a fake Huawei Cloud KooGallery (云商店) marketplace and a contract test
harness for merchants who sell SaaS on it. Its toolbox signs, verifies and
encrypts exactly as the marketplace does, for debugging an integration by hand.

Usage: kgsim COMMAND [SUBCOMMAND] [FLAGS] [ARGS]

Exit status: 0 done or valid; 1 invalid (a signature did not verify, a value
did not decrypt); 2 the command could not run (bad flags or input, or no
command given).`,
		sub: []*command{serveCommand(), signCommand(), verifyCommand(), cryptoCommand(), certifyCommand(), stepsCommand(), demoCommand(), replayCommand()},
	}
}

// run executes the command line args and returns the exit status.
func run(args []string, e *env) int {
	top := root()
	top.sub = append(top.sub, &command{
		name:    "help",
		summary: "explain a command: kgsim help sign v2",
		help:    "Usage: kgsim help [COMMAND [SUBCOMMAND]]\n\nExample:\n  kgsim help crypto decrypt",
		run: func(e *env, args []string) error {
			cmd, path, err := top.find(args)
			if err != nil {
				return err
			}
			cmd.printHelp(e.stdout, path)
			return nil
		},
	})
	top.sub = append(top.sub, versionCommand())
	cmd, path, rest := top.resolve(args)
	switch {
	case cmd == top && len(rest) > 0 && rest[0] == "--version":
		cmd, rest = top.child("version"), rest[1:]
	case len(rest) > 0 && (rest[0] == "-h" || rest[0] == "--help" || rest[0] == "-help"):
		cmd.printHelp(e.stdout, path)
		return exitOK
	case cmd.run == nil && len(rest) == 0:
		// A group named without its command could not run: the help says
		// what it needed, and the status says it did not run.
		cmd.printHelp(e.stderr, path)
		return exitUsage
	case cmd.run == nil:
		var hint string
		if near := suggestion(rest[0], strings.Split(cmd.names(), ", ")); near != "" {
			hint = fmt.Sprintf("; did you mean %q?", near)
		}
		fmt.Fprintf(e.stderr, "%s: unknown command %q%s (commands: %s); see '%s --help'\n", path, rest[0], hint, cmd.names(), path)
		return exitUsage
	}
	err := cmd.run(e, rest)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		cmd.printHelp(e.stdout, path)
		return exitOK
	case errors.As(err, new(verdictError)):
		return exitInvalid
	}
	fmt.Fprintf(e.stderr, "%s: %v\n", path, err)
	if simulator.ErrorCode(err) == simulator.EINVALID {
		return exitUsage
	}
	return exitInvalid
}

// resolve walks args down the tree as far as they name subcommands.
func (c *command) resolve(args []string) (cmd *command, path string, rest []string) {
	cmd, path = c, c.name
	for len(args) > 0 {
		next := cmd.child(args[0])
		if next == nil {
			break
		}
		cmd, path, args = next, path+" "+next.name, args[1:]
	}
	return cmd, path, args
}

// find is resolve for "kgsim help": every word must name a command.
func (c *command) find(args []string) (*command, string, error) {
	cmd, path, rest := c.resolve(args)
	if len(rest) > 0 {
		return nil, "", simulator.Errorf(simulator.EINVALID, "", "no command %q under %q (commands: %s)", rest[0], path, cmd.names())
	}
	return cmd, path, nil
}

func (c *command) child(name string) *command {
	for _, s := range c.sub {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (c *command) names() string {
	var names []string
	for _, s := range c.sub {
		names = append(names, s.name)
	}
	return strings.Join(names, ", ")
}

func (c *command) printHelp(w io.Writer, path string) {
	if c.help != "" {
		fmt.Fprintln(w, c.help)
	}
	if len(c.sub) > 0 {
		fmt.Fprintf(w, "\nCommands of %s:\n", path)
		for _, s := range c.sub {
			summary := s.summary
			if summary == "" && len(s.sub) > 0 {
				summary = s.names()
			}
			fmt.Fprintf(w, "  %-12s %s\n", s.name, summary)
		}
		fmt.Fprintf(w, "\nRun 'kgsim help %sCOMMAND' for its flags and an example.\n", strings.TrimPrefix(path+" ", "kgsim "))
	}
}
