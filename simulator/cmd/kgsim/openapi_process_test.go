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

// sampleFixtures copies the embedded catalogue (with its sample seller)
// into a directory for kgsim serve --fixtures.
func sampleFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"products.json", "customers.json", "sellers.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "fixtures", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The README's open-API walkthrough, run as written against a real kgsim
// serve: the sample seller's order query answered, another SK refused with
// the explanation.
func TestREADMEOpenAPIWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs kgsim serve")
	}
	for _, tool := range []string{"bash", "curl", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's walkthrough needs %s: %v", tool, err)
		}
	}
	block := readmeBlock(t, "open-api")
	bin := buildKgsim(t)
	p := startServe(t, bin, filepath.Join(t.TempDir(), "kgsim.db"), sampleFixtures(t))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", block)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "KGSIM_URL="+p.base, "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the walkthrough failed: %v\nstdout:\n%s\nstderr:\n%s\nkgsim's log:\n%s", err, stdout.String(), stderr.String(), p.logText())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("the walkthrough printed %d lines, want 2:\n%s", len(lines), stdout.String())
	}
	if order := gjson.Parse(lines[0]); order.Get("orderInfo.orderId").String() != "MOCKPERIODYEARNEW" {
		t.Errorf("the order query answered %s", lines[0])
	}
	refusal := gjson.Parse(lines[1])
	if refusal.Get("error_code").String() != "APIGW.0301" || !strings.HasPrefix(refusal.Get("kgsim.canonical_request").String(), "GET\n/api/mkp-openapi-public/global/v1/order/query/\n") {
		t.Errorf("the wrong SK was answered %s", lines[1])
	}
	if strings.Contains(stdout.String(), "kgsim-sample-sk") {
		t.Errorf("an answer shows the SK:\n%s", stdout.String())
	}
}
