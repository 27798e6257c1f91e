package certify

import (
	"cmp"
	"slices"
	"time"
)

// Level is how much a check counts (DESIGN.md, certification levels).
type Level string

const (
	// Required: the real marketplace counts the call as failed, or the
	// spec says must. Untagged scenarios are required.
	Required Level = "required"
	// Recommended: best practice; a failure is a warning unless Strict.
	Recommended Level = "recommended"
	// Informational: what the docs leave to the merchant (callbacks.md
	// §13), reported and never counted, not even under Strict.
	Informational Level = "informational"
)

// Status is how a scenario ended.
type Status string

const (
	Passed Status = "passed"
	Failed Status = "failed"
	// Skipped: a step declared the scenario not applicable (godog.ErrSkip).
	Skipped Status = "skipped"
	// Blocked: the check could not be made, because a precondition (a
	// Given step) failed or the merchant failed what it builds on; Cause
	// says what. It neither passes nor counts as a failure of its own,
	// but a required check blocked still fails the run.
	Blocked Status = "blocked"
)

// Scenario is the outcome of one scenario of the suite.
type Scenario struct {
	Name    string
	Feature string // the feature's name
	URI     string // the feature file, e.g. purchase.feature
	Line    int    // the scenario's line in it
	Tags    []string
	Level   Level
	Status  Status
	// Step is the step that failed, with its keyword ("Then the purchase is
	// acknowledged"); Error its message: the check, the request sent with
	// its signing inputs, the response, the spec section and a hint.
	Step, Error string
	// Cause is the root cause of a failure or a block, worded without the
	// scenario's ids: the summary groups scenarios under it.
	Cause string
	// Notes are what the steps showed whatever the outcome: the
	// merchant's open-API calls with kgsim's verdict on each.
	Notes    []string
	Duration time.Duration
}

// Result is the outcome of a certification run.
type Result struct {
	Scenarios []Scenario // in the order of the feature files
	Strict    bool       // recommended checks counted as required
	Elapsed   time.Duration
}

// Fails reports whether the scenario fails the run: a required check
// failed or was blocked, or a recommended one under strict.
func (s Scenario) Fails(strict bool) bool {
	return s.notPassed() && (s.Level == Required || strict && s.Level == Recommended)
}

// Warns reports whether the scenario is a warning: a recommended check
// failed or was blocked and the run is not strict, or an informational
// one, strict or not.
func (s Scenario) Warns(strict bool) bool {
	return s.notPassed() && (s.Level == Recommended && !strict || s.Level == Informational)
}

// notPassed: the check failed or could not be made.
func (s Scenario) notPassed() bool { return s.Status == Failed || s.Status == Blocked }

// Failures are the scenarios that fail the run.
func (r Result) Failures() []Scenario {
	return slices.DeleteFunc(slices.Clone(r.Scenarios), func(s Scenario) bool { return !s.Fails(r.Strict) })
}

// Warnings are the recommended checks that failed, when not strict.
func (r Result) Warnings() []Scenario {
	return slices.DeleteFunc(slices.Clone(r.Scenarios), func(s Scenario) bool { return !s.Warns(r.Strict) })
}

// ExitCode is the command's exit status: 0 when every required check
// passed, 1 when one failed.
func (r Result) ExitCode() int {
	if len(r.Failures()) > 0 {
		return 1
	}
	return 0
}

// Slowest returns up to n scenarios, slowest first.
func (r Result) Slowest(n int) []Scenario {
	s := slices.Clone(r.Scenarios)
	slices.SortStableFunc(s, func(a, b Scenario) int { return cmp.Compare(b.Duration, a.Duration) })
	return s[:min(n, len(s))]
}

// tally counts scenarios by level and status.
type tally struct {
	passed, failed, blocked, skipped map[Level]int
}

func (r Result) tally() tally {
	t := tally{passed: map[Level]int{}, failed: map[Level]int{}, blocked: map[Level]int{}, skipped: map[Level]int{}}
	for _, s := range r.Scenarios {
		switch s.Status {
		case Passed:
			t.passed[s.Level]++
		case Failed:
			t.failed[s.Level]++
		case Blocked:
			t.blocked[s.Level]++
		default:
			t.skipped[s.Level]++
		}
	}
	return t
}

// total is a tally's count over every level.
func total(byLevel map[Level]int) int {
	n := 0
	for _, c := range byLevel {
		n += c
	}
	return n
}

// levelOf reads a scenario's level from its tags (feature tags included):
// the lowest it names.
func levelOf(tags []string) Level {
	for _, l := range []Level{Informational, Recommended} {
		if slices.Contains(tags, "@"+string(l)) {
			return l
		}
	}
	return Required
}
