package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print kgsim's version, the commit it was built from and the Go version",
		help: `Usage: kgsim version   (or kgsim --version)

Prints the module version (v1.2.3 when installed with go install at a tag,
(devel) when built from a checkout), the commit and its time, "modified"
when the checkout had uncommitted changes, and the Go version and platform.
Quote it in a bug report.

Example:
  kgsim version`,
		run: func(e *env, args []string) error {
			if _, err := newFlags().parse(args, 0, ""); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, version())
			return nil
		},
	}
}

// version describes the running binary from its build information.
func version() string {
	v := "kgsim (unknown version)"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Sprintf("%s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	v = "kgsim " + info.Main.Version
	var revision, when, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		}
	}
	if revision != "" {
		if len(revision) > 12 {
			revision = revision[:12]
		}
		v += " commit " + revision
		if when != "" {
			v += " " + when
		}
		v += modified
	}
	return fmt.Sprintf("%s %s %s/%s", v, info.GoVersion, runtime.GOOS, runtime.GOARCH)
}
