package certify

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// A run's failures come down to few causes: a purchase answered HTTP 501
// fails one check and blocks thirty. Reports group the scenarios under
// their cause, show its detail once and say which to fix first.

// causeGroup is a root cause and the scenarios under it, in run order.
type causeGroup struct {
	Cause     string
	Scenarios []Scenario
}

// causes groups the scenarios that fail the run or warn by their root
// cause, and returns the causes that fail the run (failing), or those
// that only warn: the cause behind most scenarios first, then in run
// order. A warning of the same cause as a failure is under that failure's.
func (r Result) causes(failing bool) []causeGroup {
	var out []causeGroup
	for _, s := range r.Scenarios {
		if !s.Fails(r.Strict) && !s.Warns(r.Strict) {
			continue
		}
		c := cmp.Or(s.Cause, firstLine("", s.Error))
		i := slices.IndexFunc(out, func(g causeGroup) bool { return g.Cause == c })
		if i < 0 {
			i = len(out)
			out = append(out, causeGroup{Cause: c})
		}
		out[i].Scenarios = append(out[i].Scenarios, s)
	}
	out = slices.DeleteFunc(out, func(g causeGroup) bool {
		return slices.ContainsFunc(g.Scenarios, func(s Scenario) bool { return s.Fails(r.Strict) }) != failing
	})
	slices.SortStableFunc(out, func(a, b causeGroup) int { return len(b.Scenarios) - len(a.Scenarios) })
	return out
}

// shown is the scenario whose detail stands for the cause: the first that
// failed rather than being blocked, whose check the cause is about.
func (g causeGroup) shown() Scenario {
	if i := slices.IndexFunc(g.Scenarios, func(s Scenario) bool { return s.Status == Failed }); i >= 0 {
		return g.Scenarios[i]
	}
	return g.Scenarios[0]
}

// others are the cause's scenarios but the one shown.
func (g causeGroup) others() []Scenario {
	shown := g.shown()
	return slices.DeleteFunc(slices.Clone(g.Scenarios), func(s Scenario) bool {
		return s.URI == shown.URI && s.Line == shown.Line && s.Name == shown.Name
	})
}

// count says how many checks the cause fails and blocks: "1 check failed,
// 35 blocked".
func (g causeGroup) count() string {
	failed, blocked := 0, 0
	for _, s := range g.Scenarios {
		if s.Status == Blocked {
			blocked++
		} else {
			failed++
		}
	}
	var parts []string
	if failed > 0 {
		parts = append(parts, plural(failed, "check")+" failed")
	}
	if blocked > 0 {
		parts = append(parts, plural(blocked, "check")+" blocked")
	}
	return strings.Join(parts, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
