// Package envtest says which tests a machine made skip. Tests that need
// Chromium, Docker, Apache or PostgreSQL skip where it is missing, and
// go test shows a passing package's output only with -v: without it,
// "go test ./..." would print a plain "ok" for a package whose browser
// tests never ran. A package's TestMain reports its needs through Report,
// which writes one line per missing need to the terminal go test runs in.
package envtest

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/ory/dockertest/v3"
)

// Need is something a package's tests need from the machine.
type Need struct {
	Name string // "Chromium", "Docker"
	// Missing says why it is missing here; "" when it is there.
	Missing func() string
	// Short: its tests skip under -short anyway, where nothing is said.
	Short bool
}

// Report returns code, the result of m.Run, after saying which needs of
// package pkg are missing, when the package's tests ran whole (no -run):
// a line each, to the controlling terminal, which go test does not
// capture, else to standard error, shown with -v or when the package
// fails. In CI the browser, Apache and PostgreSQL tests fail instead
// of skipping (KGSIM_REQUIRE_*).
func Report(code int, pkg string, needs ...Need) int {
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() != "" {
		return code
	}
	lines := missing(pkg, testing.Short(), needs)
	if lines == "" {
		return code
	}
	var w io.Writer = os.Stderr
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		w = tty
	}
	io.WriteString(w, lines)
	return code
}

// missing is what Report says: a line per need that is missing, but for
// those whose tests -short skips anyway.
func missing(pkg string, short bool, needs []Need) string {
	var b strings.Builder
	for _, n := range needs {
		if n.Short && short {
			continue
		}
		if why := n.Missing(); why != "" {
			fmt.Fprintf(&b, "%s: SKIPPED the tests that need %s: %s\n", pkg, n.Name, why)
		}
	}
	return b.String()
}

// Docker is the need of a Docker daemon, as dockertest finds it.
func Docker() Need {
	return Need{Name: "Docker", Short: true, Missing: func() string {
		pool, err := dockertest.NewPool("")
		if err == nil {
			err = pool.Client.Ping()
		}
		if err != nil {
			return fmt.Sprintf("no Docker daemon answers (%v)", err)
		}
		return ""
	}}
}
