package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// readmeBlock returns the shell block that follows the marker
// "<!-- walkthrough: NAME -->" in the repository's README.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- walkthrough: "+name+" -->\n```sh\n")
	if !ok {
		t.Fatalf("README.md has no block marked <!-- walkthrough: %s --> followed by a sh block", name)
	}
	block, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		t.Fatalf("the README's %s block does not end", name)
	}
	return block
}

// The README's login walkthrough, run as written against a real kgsim
// serve: from nothing to the userinfo of a logged-in user with curl.
func TestREADMELoginWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs kgsim serve")
	}
	block := readmeBlock(t, "login")
	p := startServe(t, buildKgsim(t), filepath.Join(t.TempDir(), "kgsim.db"), writeFixtures(t, "http://127.0.0.1:1"))
	stdout := runWalkthrough(t, block, p)
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	userinfo := gjson.Parse(lines[len(lines)-1])
	if userinfo.Get("userName").String() != "zhangsan" || userinfo.Get("tenant").String() == "" {
		t.Errorf("the walkthrough ended without the user's details:\n%s", stdout.String())
	}
	if !strings.Contains(stdout.String(), "callback?code=") {
		t.Errorf("the walkthrough printed no callback with a code:\n%s", stdout.String())
	}
}

// runWalkthrough runs a README block with bash against the kgsim serve p
// (KGSIM_URL), env added to the environment, and returns what it printed.
func runWalkthrough(t *testing.T, block string, p *process, env ...string) *bytes.Buffer {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's walkthrough needs %s: %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", block)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(os.Environ(), "KGSIM_URL="+p.base), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the walkthrough failed: %v\nstdout:\n%s\nstderr:\n%s\nkgsim's log:\n%s", err, stdout.String(), stderr.String(), p.logText())
	}
	return &stdout
}
