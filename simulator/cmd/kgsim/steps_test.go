package main

import (
	"strings"
	"testing"

	"github.com/kgsim/kgsim/steps"
)

func TestStepsCommand(t *testing.T) {
	r := kgsim(t, "", "steps")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, d := range steps.Vocabulary() {
		for _, want := range []string{"\n" + d.Section + "\n", "\n  " + d.Example + "\n      " + d.Pattern + "\n"} {
			if !strings.Contains("\n"+r.stdout, want) {
				t.Errorf("kgsim steps lacks %q", want)
			}
		}
	}
	wantCouldNotRun(t, kgsim(t, "", "steps", "extra"), `unexpected argument "extra"`)
}
