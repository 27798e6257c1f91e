package dialtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/notice"
)

// Settle judges a dial-test run once the last of its probes has its
// verdict: the run passes if no probe failed. A failed run raises one
// notice and may freeze the product (callbacks.md §11). Delivery calls it
// inside the transaction that records each attempt; it ignores messages
// that are not dial-test probes.
func (t *Tester) Settle(ctx context.Context, tx simulator.Tx, m simulator.Message, a simulator.Attempt) error {
	if m.Kind != simulator.KindDialTest || m.Outcome == simulator.Pending {
		return nil
	}
	runID, ok := strings.CutPrefix(m.Queue, queuePrefix)
	if !ok {
		return fmt.Errorf("dial-test message %s: queue %q is not a run's (%s<runId>)", m.ID, m.Queue, queuePrefix)
	}
	probes, err := tx.Messages(ctx, simulator.MessageFilter{Queue: m.Queue})
	if err != nil {
		return err
	}
	for i, p := range probes {
		if p.ID == m.ID {
			probes[i] = m // the store may not have this attempt's state yet
		} else if p.Outcome == simulator.Pending {
			return nil // not the last verdict: nothing more to read
		}
	}
	calls := make([]notice.Call, 0, len(probes))
	failed := 0
	for _, p := range probes {
		attempts, err := tx.Attempts(ctx, p.ID)
		if err != nil {
			return err
		}
		if p.ID == m.ID && !slices.ContainsFunc(attempts, func(x simulator.Attempt) bool { return x.N == a.N }) {
			attempts = append(attempts, a)
		}
		// A probe is tried once; one that ended without an attempt was
		// never checked, which is no pass either.
		if len(attempts) == 0 || attempts[len(attempts)-1].Verdict.Failed() {
			failed++
		}
		calls = append(calls, notice.Call{Message: p, Attempts: attempts})
	}
	run, err := findRun(ctx, tx, m, runID)
	if err != nil || run.Done {
		return err // an earlier attempt's transaction judged it already
	}
	run.Done, run.Passed = true, failed == 0
	if err := tx.PutDialRun(ctx, run); err != nil {
		return err
	}
	t.Metrics.judged(run.ProductID, failed)
	if run.Passed {
		return nil
	}
	return t.failed(ctx, tx, run, calls)
}

// findRun returns the run a probe belongs to. A run starts when its probes
// are created, so it is among the product's runs since then.
func findRun(ctx context.Context, tx simulator.DialRunsTx, m simulator.Message, id string) (simulator.DialRun, error) {
	runs, err := tx.DialRuns(ctx, m.ProductID, m.CreatedAt)
	if err != nil {
		return simulator.DialRun{}, err
	}
	for _, r := range runs {
		if r.ID == id {
			return r, nil
		}
	}
	return simulator.DialRun{}, simulator.Errorf(simulator.ENOTFOUND, "dialRun", "run %s of probe %s (product %s) is not stored", id, m.ID, m.ProductID)
}

// failed raises the notice of a failed run and freezes the product when
// this run's day makes FreezeAfter consecutive failing days.
func (t *Tester) failed(ctx context.Context, tx Tx, run simulator.DialRun, calls []notice.Call) error {
	p, err := tx.Product(ctx, run.ProductID)
	if err != nil {
		return err
	}
	now := t.Clock.Now()
	if err := t.addNotice(ctx, tx, now, func(id string) simulator.Notice { return notice.ForDialRun(p, run, calls, id, now) }); err != nil {
		return err
	}
	if p.Status != "" && p.Status != simulator.OnSale {
		return nil // frozen or delisted already
	}
	runs, err := tx.DialRuns(ctx, p.ID, time.Time{})
	if err != nil {
		return err
	}
	days := failingDays(runs, run)
	if days < t.freezeAfter() {
		return nil
	}
	p.Status = simulator.FrozenHidden
	if err := tx.PutProduct(ctx, p); err != nil {
		return err
	}
	reason := fmt.Sprintf("dial tests failed on %d consecutive days, the last %s (Asia/Shanghai)", days, day(run.At))
	return t.addNotice(ctx, tx, now, func(id string) simulator.Notice { return notice.ForProduct(p, p.Status, reason, id, now) })
}

// addNotice stores the notice render makes under a new ID.
func (t *Tester) addNotice(ctx context.Context, tx simulator.NoticesTx, now time.Time, render func(id string) simulator.Notice) error {
	id, err := simulator.NewID("n", now, t.random())
	if err != nil {
		return err
	}
	return tx.AddNotice(ctx, render(id))
}

func (t *Tester) freezeAfter() int {
	if t.FreezeAfter > 0 {
		return t.FreezeAfter
	}
	return 5
}

// failingDays counts the consecutive failing days that end with the day of
// last, a failed run. A day fails if one of its runs failed and passes if
// its runs passed; a passing day ends the count, while days without judged
// runs (dial tests off, no cases, kgsim down) neither count nor end it.
func failingDays(runs []simulator.DialRun, last simulator.DialRun) int {
	verdicts := map[string]bool{} // day -> failed
	for _, r := range runs {
		if r.ID == last.ID {
			r = last
		}
		if r.Done {
			verdicts[day(r.At)] = verdicts[day(r.At)] || !r.Passed
		}
	}
	verdicts[day(last.At)] = true
	days := make([]string, 0, len(verdicts))
	for d := range verdicts {
		if d <= day(last.At) {
			days = append(days, d)
		}
	}
	slices.Sort(days)
	n := 0
	for i := len(days) - 1; i >= 0 && verdicts[days[i]]; i-- {
		n++
	}
	return n
}
