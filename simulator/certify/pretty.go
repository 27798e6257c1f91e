package certify

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// pretty is the terminal report: a line per scenario as it finishes, then
// the failures and warnings in full and a summary.
type pretty struct {
	w      io.Writer
	total  int
	strict bool
	mu     sync.Mutex
	done   int
}

func (p *pretty) header(t targetInfo) {
	fmt.Fprintf(p.w, "kgsim certify: %d scenarios against %s (%s, modes %s, encryptType %s, joint operation %s, open APIs %s)\n\n", p.total, t.URL, t.Protocol, t.Modes, t.EncryptType, t.Joint, t.OpenAPI)
}

// scenario prints one finished scenario; scenarios finish concurrently.
func (p *pretty) scenario(s Scenario) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	width := len(fmt.Sprint(p.total))
	fmt.Fprintf(p.w, "[%*d/%d] %-4s  %s  (%s, %s)\n", width, p.done, p.total, mark(s, p.strict), s.Name, where(s), seconds(s.Duration))
	switch s.Status {
	case Failed:
		fmt.Fprintf(p.w, "%*s  at: %s\n", 2*width+9, "", firstLine(s.Step, s.Error))
	case Blocked:
		fmt.Fprintf(p.w, "%*s  blocked at: %s, by: %s\n", 2*width+9, "", s.Step, s.Cause)
	}
	for _, n := range s.Notes {
		for line := range strings.SplitSeq(n, "\n") {
			fmt.Fprintf(p.w, "%*s  %s\n", 2*width+9, "", line)
		}
	}
}

// mark is a scenario's outcome in four letters, or BLOCKED.
func mark(s Scenario, strict bool) string {
	switch {
	case s.Status == Blocked:
		return "BLOCKED"
	case s.Warns(strict) && s.Level == Informational:
		return "NOTE"
	case s.Warns(strict):
		return "WARN"
	case s.Status == Failed:
		return "FAIL"
	case s.Status == Skipped:
		return "SKIP"
	}
	return "PASS"
}

func where(s Scenario) string {
	w := s.URI
	if s.Line > 0 {
		w += fmt.Sprintf(":%d", s.Line)
	}
	return w + " @" + string(s.Level)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// firstLine is where a scenario failed, in one line.
func firstLine(step, msg string) string {
	line, _, _ := strings.Cut(msg, "\n")
	if step == "" {
		return line
	}
	return step + ": " + line
}

// summary prints the failures and warnings in full, the counts by level,
// the time taken and the slowest scenarios, and the verdict.
func (p *pretty) summary(r Result, reports []report) {
	w := p.w
	// Each cause once, the detail of one of its checks, then the others
	// it fails or blocks in a line each.
	detail := func(title string, groups []causeGroup) {
		if len(groups) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s\n", title)
		for i, g := range groups {
			fmt.Fprintf(w, "\n%d) %s: %s\n", i+1, g.Cause, g.count())
			s := g.shown()
			fmt.Fprintf(w, "   %s  %s\n   %s: %s (%s)\n", mark(s, r.Strict), s.Name, s.Feature, where(s), seconds(s.Duration))
			if s.Step != "" {
				fmt.Fprintf(w, "   step: %s\n", s.Step)
			}
			for line := range strings.SplitSeq(strings.TrimRight(s.Error, "\n"), "\n") {
				fmt.Fprintf(w, "   %s\n", line)
			}
			if others := g.others(); len(others) > 0 {
				fmt.Fprintf(w, "   The same cause:\n")
				for _, o := range others {
					fmt.Fprintf(w, "     %-7s  %s (%s)\n", mark(o, r.Strict), o.Name, where(o))
				}
			}
		}
	}
	failTitle := "Failures (required checks):"
	if r.Strict {
		failTitle = "Failures (required and, with --strict, recommended checks):"
	}
	failing := r.causes(true)
	detail(failTitle, failing)
	detail("Warnings (recommended checks, which --strict makes failures, and informational ones, never counted):", r.causes(false))

	t := r.tally()
	failed, warnings := len(r.Failures()), len(r.Warnings())
	blocked := total(t.blocked)
	fmt.Fprintf(w, "\n%d scenarios in %s: %d passed, %d failed, %d warnings", len(r.Scenarios), seconds(r.Elapsed), total(t.passed), failed, warnings)
	if blocked > 0 {
		fmt.Fprintf(w, " (%d of them blocked)", blocked)
	}
	if n := total(t.skipped); n > 0 {
		fmt.Fprintf(w, ", %d skipped", n)
	}
	fmt.Fprintln(w)
	for _, l := range []Level{Required, Recommended, Informational} {
		failures := "failed"
		switch {
		case l == Informational && t.passed[l]+t.failed[l]+t.blocked[l]+t.skipped[l] == 0:
			continue
		case l == Informational:
			failures = "noted, never counted"
		case l == Recommended && !r.Strict:
			failures = "warnings"
		}
		fmt.Fprintf(w, "  %-12s %d passed, %d %s", l+":", t.passed[l], t.failed[l]+t.blocked[l], failures)
		if t.blocked[l] > 0 {
			fmt.Fprintf(w, " (%d blocked)", t.blocked[l])
		}
		if t.skipped[l] > 0 {
			fmt.Fprintf(w, ", %d skipped", t.skipped[l])
		}
		fmt.Fprintln(w)
	}
	if slow := r.Slowest(5); len(slow) > 0 {
		fmt.Fprintf(w, "Slowest:\n")
		for _, s := range slow {
			fmt.Fprintf(w, "  %8s  %s (%s)\n", seconds(s.Duration), s.Name, where(s))
		}
	}
	for _, rep := range reports {
		fmt.Fprintf(w, "Report: %s written to %s\n", rep.kind, rep.path)
	}
	switch {
	case failed > 0:
		fmt.Fprintf(w, "\nFAIL: %d required check(s) failed or blocked, by %s; fix this first: %s\n", failed, plural(len(failing), "cause"), failing[0].Cause)
	case warnings > 0:
		fmt.Fprintf(w, "\nPASS: every required check passed, with %d warning(s)\n", warnings)
	default:
		fmt.Fprintf(w, "\nPASS: every check passed\n")
	}
}
