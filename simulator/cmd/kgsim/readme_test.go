package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// readmeBlock returns the shell block that follows the marker
// "<!-- walkthrough: NAME -->" in the repository's README.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	return readmeFenced(t, "walkthrough: "+name, "sh")
}

// readmeFenced returns the fenced block of language lang that follows the
// marker "<!-- MARKER -->" in the repository's README.
func readmeFenced(t *testing.T, marker, lang string) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- "+marker+" -->\n```"+lang+"\n")
	if !ok {
		t.Fatalf("README.md has no block marked <!-- %s --> followed by a %s block", marker, lang)
	}
	block, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		t.Fatalf("the README's block marked %s does not end", marker)
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
	stdout, stderr, err := runBash(t.TempDir(), "-euo", block, time.Minute, append([]string{"KGSIM_URL=" + p.base}, env...), "curl", "sed")
	if err != nil {
		t.Fatalf("the walkthrough failed: %v\nstdout:\n%s\nstderr:\n%s\nkgsim's log:\n%s", err, stdout.String(), stderr.String(), p.logText())
	}
	return stdout
}

// runBash runs script with bash (options such as "-euo", then pipefail) in
// dir, env added to the environment, within timeout, and returns what it
// printed. What the script left running in the background (a service
// started with &) is killed before it returns: the script runs in a process
// group of its own. tools are the commands the script needs besides bash.
func runBash(dir, options, script string, timeout time.Duration, env []string, tools ...string) (stdout, stderr *bytes.Buffer, err error) {
	for _, tool := range append([]string{"bash"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, nil, fmt.Errorf("the README's commands need %s: %v", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", options, "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the background jobs; the group may be gone already
	}
	return stdout, stderr, err
}
