package certify

import (
	"slices"
	"strings"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/steps"
)

// modeTags are the charging-mode tags of the features and whether a
// target declares each mode. A merchant is never failed for a mode it
// does not sell (callbacks.md §13).
var modeTags = []struct {
	tag      string
	declared func(t steps.Target) bool
}{
	{"@period", func(t steps.Target) bool { return declares(t, simulator.Period) }},
	// A trial is of a product sold by period.
	{"@trial", func(t steps.Target) bool { return declares(t, simulator.Period) && (t.Trial || len(t.Modes) == 0) }},
	{"@on-demand", func(t steps.Target) bool { return declares(t, simulator.OnDemand) }},
	{"@package", func(t steps.Target) bool { return declares(t, simulator.OnDemandPkg) }},
	{"@license", func(t steps.Target) bool { return t.License }},
	// Upgrades are optional for a merchant (callbacks.md §2.1).
	{"@upgrade", func(t steps.Target) bool { return t.Upgrade }},
}

// declares reports whether t sells mode; no modes means PERIOD with a
// trial, as steps.Target defaults.
func declares(t steps.Target, mode simulator.ChargingMode) bool {
	if len(t.Modes) == 0 {
		return mode == simulator.Period
	}
	return slices.Contains(t.Modes, mode)
}

// exclusions are the tags a target's run always leaves out: the other
// protocol's scenarios, the charging modes it does not declare, the
// joint-operation checks it gives no settings for (steps.Target.Joint),
// the open APIs' when the run serves none, and the generic order
// notification's without a product on it.
func exclusions(t steps.Target) []string {
	other := "@v1"
	if t.Protocol == simulator.V1 {
		other = "@v2"
	}
	out := []string{"~" + other}
	for _, m := range modeTags {
		if !m.declared(t) {
			out = append(out, "~"+m.tag)
		}
	}
	for _, tag := range steps.JointTags() {
		if declared, _ := t.Joint(tag); !declared {
			out = append(out, "~"+tag)
		}
	}
	if t.OpenAPI == nil {
		out = append(out, "~@open-api")
	}
	if t.LicenseURL == "" {
		out = append(out, "~@license-software")
	}
	if !t.NotifiesOrders() {
		out = append(out, "~@order-notify")
	}
	return out
}

// joint lists the joint-operation checks a target runs, "none" if none.
func joint(t steps.Target) string {
	var out []string
	for _, tag := range steps.JointTags() {
		if declared, _ := t.Joint(tag); declared {
			out = append(out, strings.TrimPrefix(tag, "@"))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ",")
}

// tagFilter combines the user's tag expression with the target's
// exclusions into one godog filter. godog's filters are a disjunction
// (",") of conjunctions ("&&") of tags, "~" negating one, so the
// exclusions are added to every clause.
func tagFilter(t steps.Target, user string) (string, error) {
	always := strings.Join(exclusions(t), " && ")
	clauses, err := parseTags(user)
	if err != nil {
		return "", err
	}
	if len(clauses) == 0 {
		return always, nil
	}
	for i, c := range clauses {
		clauses[i] = c + " && " + always
	}
	return strings.Join(clauses, ", "), nil
}

// parseTags checks a tag expression in godog's syntax and returns its
// clauses normalised ("@a && ~@b"). godog itself does not check it: an
// empty term makes it panic and "@a and not @b" silently matches nothing.
func parseTags(expr string) ([]string, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, nil
	}
	var clauses []string
	for clause := range strings.SplitSeq(expr, ",") {
		var terms []string
		for term := range strings.SplitSeq(clause, "&&") {
			term = strings.TrimSpace(term)
			neg := strings.HasPrefix(term, "~")
			name := strings.TrimPrefix(strings.TrimPrefix(term, "~"), "@")
			if name == "" || strings.ContainsAny(name, " \t~@&|,()!") {
				return nil, simulator.Errorf(simulator.EINVALID, "tags", "%q: want tags joined by && (and) and , (or), ~ negating one, e.g. \"@required && ~@retries\"", expr)
			}
			if neg {
				name = "~@" + name
			} else {
				name = "@" + name
			}
			terms = append(terms, name)
		}
		clauses = append(clauses, strings.Join(terms, " && "))
	}
	return clauses, nil
}
