package steps_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/steps"
)

// Every step has an example, written with its keyword, that matches its
// own pattern and no other: what kgsim steps shows a merchant is a step
// that works as written.
func TestVocabularyExamples(t *testing.T) {
	defs := steps.Vocabulary()
	if len(defs) < 90 {
		t.Fatalf("%d steps: the vocabulary did not load?", len(defs))
	}
	keyword := regexp.MustCompile(`^(Given|When|Then) (.+)$`)
	for _, d := range defs {
		m := keyword.FindStringSubmatch(d.Example)
		if m == nil || d.Section == "" {
			t.Errorf("%s: example %q without Given, When or Then, or no section", d.Pattern, d.Example)
			continue
		}
		if got := steps.Matching(m[2]); !slices.Equal(got, []string{d.Pattern}) {
			t.Errorf("example %q matches %q, want its own pattern %q only", d.Example, got, d.Pattern)
		}
	}
	for _, text := range []string{"a buyer buys the product twice", "", "the merchant refuses the call "} {
		if got := steps.Matching(text); len(got) != 0 {
			t.Errorf("%q matches %q, want no step", text, got)
		}
	}
	if got := steps.Matching("the buyer renews for 2 periods"); len(got) != 1 || !strings.Contains(got[0], "renews") {
		t.Errorf("the renewal step: %q", got)
	}
}
