package main

import (
	"strings"
	"testing"
)

// The README's first command: the sample merchant passes as V2 and as V1.
func TestDemo(t *testing.T) {
	r := kgsim(t, "", "demo")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
	}
	for _, want := range []string{"against http://127.0.0.1:", "(V2, modes period,trial,on-demand,package,license", "(V1, modes period,trial,on-demand,package,license", "joint operation kit,login,refresh,logout,cas,", "The sample merchant passed every required check, as V2 and as V1."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, "PASS: every required check passed"); n != 2 {
		t.Errorf("%d passing runs, want 2:\n%s", n, r.stdout)
	}
	if strings.Contains(r.stdout, demoAccessKey) {
		t.Error("the demo prints the access key")
	}
}

func TestDemoTakesNoArguments(t *testing.T) {
	r := kgsim(t, "", "demo", "--fast")
	if r.code != exitUsage || !strings.Contains(r.stderr, "unknown flag --fast") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
