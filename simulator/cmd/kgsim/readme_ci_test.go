package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ciJob is what a CI example of the README runs: its variables, its shell
// commands (a GitHub step's run block, or a GitLab script line) and the
// JUnit report it publishes.
type ciJob struct {
	env      []string
	commands []string
	junit    string
}

// parseCIJob reads the few YAML forms the README's CI examples use:
// "env:" or "variables:" followed by more indented "KEY: value" lines,
// "run: |" followed by a more indented block, "script:" followed by
// "- command" items, and the report named by "report_paths:" or "junit:".
// A form it does not know is left alone, so a test of its result fails
// rather than running something else.
func parseCIJob(block string) ciJob {
	var job ciJob
	lines := strings.Split(block, "\n")
	indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	// nested returns the lines after i indented deeper than line i.
	nested := func(i int) []string {
		var out []string
		for _, l := range lines[i+1:] {
			if strings.TrimSpace(l) != "" && indent(l) <= indent(lines[i]) {
				break
			}
			out = append(out, l)
		}
		return out
	}
	for i, line := range lines {
		key, value, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "- "), ":")
		value = strings.TrimSpace(value)
		switch {
		case (key == "env" || key == "variables") && value == "":
			for _, l := range nested(i) {
				k, v, _ := strings.Cut(strings.TrimSpace(l), ":")
				job.env = append(job.env, k+"="+strings.TrimSpace(v))
			}
		case key == "run" && value == "|":
			body := nested(i)
			cut := indent(body[0])
			for j := range body {
				body[j] = body[j][min(cut, len(body[j])):]
			}
			job.commands = append(job.commands, strings.Join(body, "\n"))
		case key == "script" && value == "":
			var script []string
			for _, l := range nested(i) {
				script = append(script, strings.TrimPrefix(strings.TrimSpace(l), "- "))
			}
			// GitLab runs a job's script lines in one shell.
			job.commands = append(job.commands, strings.Join(script, "\n"))
		case key == "report_paths" || key == "junit":
			job.junit = value
		}
	}
	return job
}

func TestParseCIJob(t *testing.T) {
	job := parseCIJob(`jobs:
  a:
    env:
      A: 1
    steps:
      - uses: x
        with:
          report_paths: r.xml
      - run: |
          echo one
            echo two
b:
  variables:
    B: two words
  script:
    - echo three
    - echo four &
`)
	want := ciJob{env: []string{"A=1", "B=two words"}, commands: []string{"echo one\n  echo two", "echo three\necho four &\n"}, junit: "r.xml"}
	if strings.Join(job.env, "|") != strings.Join(want.env, "|") || job.junit != want.junit ||
		strings.Join(job.commands, "|") != strings.Join(want.commands, "|") {
		t.Errorf("parsed %#v, want %#v", job, want)
	}
}

// The README's CI examples, run as written in a directory standing for
// the job's: kgsim's source where the job fetches it (the GitHub checkout
// step's path, or what GitLab's git clone line names, served by a git that
// links this repository), the sample merchant built and started as they
// say, certified, and the JUnit report they publish read back. Only the
// merchant's address differs from the README's: a free port, so that the
// test does not depend on 8081 being free.
func TestREADMECIExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kgsim and the sample merchant and certifies it")
	}
	repo, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"github", "gitlab"} {
		t.Run(name, func(t *testing.T) {
			job := parseCIJob(readmeFenced(t, "ci: "+name, "yaml"))
			if len(job.commands) == 0 || job.junit == "" {
				t.Fatalf("the README's %s example has no commands or publishes no JUnit report: %#v", name, job)
			}
			dir, shims := t.TempDir(), t.TempDir()
			if name == "github" {
				// actions/checkout with path: kgsim.
				if err := os.Symlink(repo, filepath.Join(dir, "kgsim")); err != nil {
					t.Fatal(err)
				}
			}
			git := "#!/bin/sh\n[ \"$1\" = clone ] || { echo \"this test's git only clones\" >&2; exit 1; }\n" +
				"for last; do :; done\nexec ln -s '" + repo + "' \"$last\"\n"
			if err := os.WriteFile(filepath.Join(shims, "git"), []byte(git), 0o755); err != nil {
				t.Fatal(err)
			}
			env := append(job.env, "MERCHANT_ADDR="+freeAddr(t), "PATH="+shims+string(os.PathListSeparator)+os.Getenv("PATH"))
			for _, c := range job.commands {
				stdout, stderr, err := runBash(dir, "-eo", c, 3*time.Minute, env, "curl", "go")
				if err != nil {
					log, _ := os.ReadFile(filepath.Join(dir, "merchant.log"))
					t.Fatalf("%s\nfailed: %v\nstdout:\n%s\nstderr:\n%s\nmerchant.log:\n%s", c, err, stdout, stderr, log)
				}
			}
			report, err := os.ReadFile(filepath.Join(dir, job.junit))
			if err != nil {
				t.Fatalf("the job publishes %s, which certify did not write: %v", job.junit, err)
			}
			var suites struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
			}
			if err := xml.Unmarshal(report, &suites); err != nil || suites.Tests < 20 || suites.Failures != 0 {
				t.Errorf("%s: %d tests, %d failures (%v), want the whole suite passed", job.junit, suites.Tests, suites.Failures, err)
			}
		})
	}
}
