package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/fixtures/merchant"
)

// readmeExample returns the block of the given language that follows the
// marker "<!-- example: NAME -->" in the repository's README.
func readmeExample(t *testing.T, name, lang string) string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- example: "+name+" -->\n```"+lang+"\n")
	if !ok {
		t.Fatalf("README.md has no %s block marked <!-- example: %s -->", lang, name)
	}
	block, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		t.Fatalf("the README's %s example does not end", name)
	}
	return block + "\n"
}

// The README's own-scenario example runs as written beside kgsim's, as V2
// and as V1, against the sample merchant, and passes: every scenario it
// holds is reported under its file.
func TestCertifyTheREADMEsOwnFeature(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "features-own")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	example := readmeExample(t, "own feature", "gherkin")
	if err := os.WriteFile(filepath.Join(dir, "renewals.feature"), []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	base := sampleMerchant(t, merchant.Config{})
	for _, path := range []string{"/produce", "/produce/v1"} {
		args := []string{"certify", "--merchant-url", base + path, "--access-key", merchantKey, "--features", dir}
		if path == "/produce/v1" {
			args = append(args, "--protocol", "v1")
		}
		r := kgsim(t, "", args...)
		if r.code != exitOK || r.stderr != "" {
			t.Errorf("%s: exit %d, stderr %q:\n%s", path, r.code, r.stderr, r.stdout)
		}
		for _, name := range []string{"Two renewals in a row are acknowledged", "The instance a renewal changes is the one the buyer sees"} {
			if !strings.Contains(r.stdout, "PASS  "+name+"  (features-own/renewals.feature:") {
				t.Errorf("%s: %q did not pass under its file:\n%s", path, name, r.stdout)
			}
		}
	}
}

// A features directory kgsim cannot run: exit 2, one line.
func TestCertifyBadFeatures(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine.feature"), []byte("Feature: f\n  Scenario: s\n    Given the merchant is happy\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u := "http://127.0.0.1:1/produce"
	wantCouldNotRun(t, kgsim(t, "", "certify", "--merchant-url", u, "--access-key", "k", "--features", dir),
		"--features: "+filepath.Join(dir, "mine.feature")+`:3: undefined step "the merchant is happy"`)
	wantCouldNotRun(t, kgsim(t, "", "certify", "--merchant-url", u, "--access-key", "k", "--features", t.TempDir()), "has no .feature file")
}
