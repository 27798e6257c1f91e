package envtest

import "testing"

func TestMissing(t *testing.T) {
	here := Need{Name: "Here", Missing: func() string { return "" }}
	gone := Need{Name: "Chromium", Missing: func() string { return "no Chromium on PATH" }}
	docker := Need{Name: "Docker", Short: true, Missing: func() string { return "no Docker daemon answers" }}
	for _, tt := range []struct {
		name  string
		short bool
		needs []Need
		want  string
	}{
		{"all there", false, []Need{here}, ""},
		{"one missing", false, []Need{here, gone},
			"simulator/x: SKIPPED the tests that need Chromium: no Chromium on PATH\n"},
		{"two missing", false, []Need{gone, docker},
			"simulator/x: SKIPPED the tests that need Chromium: no Chromium on PATH\nsimulator/x: SKIPPED the tests that need Docker: no Docker daemon answers\n"},
		{"-short skips them anyway", true, []Need{docker}, ""},
	} {
		if got := missing("simulator/x", tt.short, tt.needs); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
