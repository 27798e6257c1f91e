package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"strings"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
)

// flags is a flag set whose errors name the flag and the expected form in
// one line, and which accepts flags before and after positional arguments.
type flags struct {
	fs    *flag.FlagSet
	forms map[string]string // flag name -> expected form, for error messages
}

func newFlags() *flags {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{fs: fs, forms: map[string]string{}}
}

func (f *flags) string(name, form, usage string) *string {
	f.forms[name] = form
	return f.fs.String(name, "", usage)
}

func (f *flags) list(name, form, usage string) *[]string {
	f.forms[name] = form
	var l []string
	f.fs.Func(name, usage, func(v string) error {
		l = append(l, v)
		return nil
	})
	return &l
}

// parse parses args and returns the positional arguments, exactly want of
// them when want >= 0.
func (f *flags) parse(args []string, want int, what string) ([]string, error) {
	var pos []string
	for {
		if err := f.fs.Parse(args); err != nil {
			return nil, f.explain(err)
		}
		args = f.fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	switch {
	case want < 0 || len(pos) == want:
		return pos, nil
	case len(pos) < want:
		return nil, simulator.Errorf(simulator.EINVALID, "", "missing argument %s", what)
	default:
		return nil, simulator.Errorf(simulator.EINVALID, "", "unexpected argument %q (quote a value that contains spaces or '&')", pos[want])
	}
}

// explain turns the flag package's messages into one line that names the
// flag and its expected form.
func (f *flags) explain(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return f.unknown(strings.TrimPrefix(name, "-"))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return simulator.Errorf(simulator.EINVALID, "--"+name, "missing value; want --%s %s", name, f.forms[name])
	}
	return simulator.Errorf(simulator.EINVALID, "", "%s", msg)
}

// unknown explains a flag the command does not have: the one meant, if
// one is close, rather than every flag (help lists them).
func (f *flags) unknown(name string) error {
	var names []string
	f.fs.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
	switch near := suggestion(name, names); {
	case len(names) == 0:
		return simulator.Errorf(simulator.EINVALID, "", "unknown flag --%s: this command takes no flags", name)
	case near != "":
		return simulator.Errorf(simulator.EINVALID, "", "unknown flag --%s; did you mean --%s?", name, near)
	}
	return simulator.Errorf(simulator.EINVALID, "", "unknown flag --%s; --help lists the command's flags", name)
}

// need fails unless the flag was given a non-empty value.
func (f *flags) need(name, value string) error {
	if value == "" {
		return simulator.Errorf(simulator.EINVALID, "--"+name, "required; want --%s %s", name, f.forms[name])
	}
	return nil
}

// given reports whether the flag appeared on the command line.
func (f *flags) given(name string) bool {
	seen := false
	f.fs.Visit(func(fl *flag.Flag) { seen = seen || fl.Name == name })
	return seen
}

// keyBodyFlags are the flags of every command that signs or checks a body
// with a key.
type keyBodyFlags struct {
	*flags
	key, body *string
}

func newKeyBodyFlags(keyForm, keyUsage, bodyUsage string) *keyBodyFlags {
	f := newFlags()
	return &keyBodyFlags{
		flags: f,
		key:   f.string("access-key", keyForm, keyUsage),
		body:  f.string("body", "FILE (or - for standard input)", bodyUsage),
	}
}

// load parses args, requires the key and the body, and reads the body.
func (f *keyBodyFlags) load(e *env, args []string, want int, what string) ([]string, []byte, error) {
	pos, err := f.parse(args, want, what)
	if err != nil {
		return nil, nil, err
	}
	if err := f.need("access-key", *f.key); err != nil {
		return nil, nil, err
	}
	if err := f.need("body", *f.body); err != nil {
		return nil, nil, err
	}
	body, err := readInput(e, "body", *f.body)
	return pos, body, err
}

// readInput reads a file named by a flag, or standard input for "-".
func readInput(e *env, flagName, path string) ([]byte, error) {
	if path == "-" {
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, simulator.Errorf(simulator.EINVALID, "--"+flagName, "reading standard input: %v", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "--"+flagName, "cannot read %s: %v (want a file path, or - for standard input)", path, errors.Unwrap(err))
	}
	return b, nil
}

// invalid wraps a protocol error about user-supplied input as bad input
// naming the flag or argument it came from.
func invalid(field string, err error) error {
	if m, ok := errors.AsType[*protocol.MalformedError](err); ok {
		return simulator.Errorf(simulator.EINVALID, field, "%s", m.Reason)
	}
	return simulator.Errorf(simulator.EINVALID, field, "%v", err)
}
