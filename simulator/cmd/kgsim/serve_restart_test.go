package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// What a restart must find again, on a real kgsim serve killed with
// SIGKILL: an admin edit of a product that is in the fixtures, and where
// the virtual clock stood (30 days on), though the restart gives the same
// --start. A second kgsim serve on the same database meanwhile is refused
// at start with one line naming the cause.
func TestRestartKeepsEditsAndTheClock(t *testing.T) {
	bin := buildKgsim(t)
	fixtures := writeFixtures(t, "http://127.0.0.1:1")
	db := filepath.Join(t.TempDir(), "kgsim.db")
	p := startServe(t, bin, db, fixtures)

	product := p.call(t, "GET", "/admin/v1/products/P-CRASH", "").Raw
	edited := strings.Replace(product, `"name": "crash test"`, `"name": "edited by the admin API"`, 1)
	if edited == product {
		t.Fatalf("no name to edit in %s", product)
	}
	p.call(t, "PUT", "/admin/v1/products/P-CRASH", edited)
	p.call(t, "POST", "/admin/v1/clock/advance", `{"by":"720h"}`)

	second := serveCmd(bin, db, fixtures)
	var stderr bytes.Buffer
	second.Stderr = &stderr
	err := second.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() == 0 {
		t.Fatalf("a second kgsim serve on the same database: %v, want it refused", err)
	}
	if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "in use by another process") || !strings.Contains(lines[0], "--db") {
		t.Errorf("the refusal said %q, want one line naming the other process and --db", stderr.String())
	}

	p.cmd.Process.Kill()
	p.cmd.Wait()
	p = startServe(t, bin, db, fixtures)
	if now := p.call(t, "GET", "/admin/v1/clock", "").Get("now").String(); now != "2025-01-31T00:00:00Z" {
		t.Errorf("the virtual clock after a restart stands at %s, want 2025-01-31T00:00:00Z where it was", now)
	}
	if name := p.call(t, "GET", "/admin/v1/products/P-CRASH", "").Get("name").String(); name != "edited by the admin API" {
		t.Errorf("the product's name after a restart is %q, want the admin API's edit", name)
	}
}
