package certify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/fixtures/merchant"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/steps"
)

// writeFeatures writes feature files into a new directory and returns it.
func writeFeatures(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const ownRenewals = `@period
Feature: Our renewal rules

  @required
  Scenario: Two renewals in a row are acknowledged
    Given a buyer has bought the product
    When the buyer renews for 1 period
    Then the renewal call succeeds
    When the buyer renews for 12 periods
    Then the renewal call succeeds
    And the order is completed

  @recommended @v1
  Scenario: Only for V1 merchants
    Given a buyer has bought the product
    Then the purchase call succeeds
`

const ownRefusal = `Feature: A rule the sample merchant does not follow

  Scenario: A purchase for a new order is refused
    Given a buyer has bought the product
    When the marketplace sends a purchase for a new order
    Then the merchant refuses the call
`

// A merchant's own features run after kgsim's, with the same steps, tags
// (the @v1 one is left out of a V2 run) and levels (untagged: required);
// their scenarios are reported under their directory, and one that fails
// fails the run.
func TestOwnFeatures(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{})
	dir := writeFeatures(t, map[string]string{"billing/renewals.feature": ownRenewals, "refusal.feature": ownRefusal})
	r, out := run(t, Options{Steps: vocabulary(steps.Target{URL: base + "/produce", AccessKey: testKey}), Features: dir})
	mount := mountPoint(dir)
	var own []Scenario
	for _, s := range r.Scenarios {
		if strings.HasPrefix(s.URI, mount+"/") {
			own = append(own, s)
		}
	}
	if len(own) != 2 || own[0].URI != mount+"/billing/renewals.feature" || own[1].URI != mount+"/refusal.feature" {
		t.Fatalf("own scenarios %+v; want the renewal one and the refusal one, in file order", own)
	}
	if own[0].Status != Passed || own[0].Level != Required || own[0].Line != 5 {
		t.Errorf("%+v: want the required renewal scenario at line 5 passed", own[0])
	}
	if own[1].Status != Failed || own[1].Level != Required || !strings.Contains(own[1].Error, "accepted a newInstance call it should have refused") {
		t.Errorf("%+v: want the untagged refusal scenario failed as required", own[1])
	}
	if r.ExitCode() != 1 || slices.IndexFunc(r.Scenarios, func(s Scenario) bool { return s.URI == own[0].URI }) < len(r.Scenarios)-2 {
		t.Errorf("exit %d; want 1, the own scenarios last:\n%s", r.ExitCode(), out)
	}
	if !strings.Contains(out, mount+"/refusal.feature:3 @required") {
		t.Errorf("the report does not name the own scenario's file:\n%s", out)
	}
}

// A directory that cannot be run is refused before anything runs, in one
// line naming the file and line where there is one.
func TestOwnFeaturesRefused(t *testing.T) {
	base := sampleMerchant(t, merchant.Config{})
	undefined := writeFeatures(t, map[string]string{"x.feature": "Feature: f\n  Scenario: s\n    Given a buyer has bought the product\n    When the buyer buys the product twice\n"})
	outline := writeFeatures(t, map[string]string{"x.feature": "Feature: f\n  Scenario Outline: s\n    When the buyer renews for <n> periods\n    Then the buyer cancels\n\n    Examples:\n      | n |\n      | 2 |\n"})
	syntax := writeFeatures(t, map[string]string{"x.feature": "Feature: f\n  Scenario: s\n    Given a buyer has bought the product\n  Examples without a scenario\n"})
	table := writeFeatures(t, map[string]string{"x.feature": "Feature: f\n  Scenario: s\n    Given a buyer has bought the product\n      | a |\n"})
	empty := writeFeatures(t, map[string]string{"notes.txt": "no features here"})
	file := filepath.Join(empty, "notes.txt")
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"undefined step", undefined, filepath.Join(undefined, "x.feature") + `:4: undefined step "the buyer buys the product twice": no step of kgsim's vocabulary matches it (kgsim steps lists them)`},
		{"undefined step of an outline", outline, filepath.Join(outline, "x.feature") + `:4: undefined step "the buyer cancels"`},
		{"syntax error", syntax, filepath.Join(syntax, "x.feature") + ":4: syntax error: expected: #EOF"},
		{"table", table, filepath.Join(table, "x.feature") + `:3: "a buyer has bought the product" has a table or doc string`},
		{"no features", empty, empty + " has no .feature file"},
		{"not a directory", file, file + " is not a directory"},
		{"missing", filepath.Join(empty, "nope"), filepath.Join(empty, "nope") + " is not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Run(context.Background(), Options{Steps: vocabulary(steps.Target{URL: base + "/produce", AccessKey: testKey}), Features: tc.dir, Out: &out})
			if err == nil || !strings.Contains(err.Error(), "features: "+tc.want) || strings.Contains(err.Error(), "\n") || simulator.ErrorCode(err) != simulator.EINVALID {
				t.Errorf("err %v; want one line with %q", err, tc.want)
			}
			if out.Len() != 0 {
				t.Errorf("something ran:\n%s", out.String())
			}
		})
	}
}

func TestMountPoint(t *testing.T) {
	for dir, want := range map[string]string{"features/own": "features/own", "./own/": "own", "/abs/path/own": "own", "../x/own": "own"} {
		if got := mountPoint(dir); got != want {
			t.Errorf("mountPoint(%q) = %q, want %q", dir, got, want)
		}
	}
}
