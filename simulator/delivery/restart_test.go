package delivery

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

func releaseMessage(id, url string) simulator.Message {
	m := newInstanceMessage(id, "i-1", url, t0)
	m.Activity, m.Params = "releaseInstance", []byte(`{"activity":"releaseInstance","instanceId":"i-1","testFlag":"1"}`)
	return m
}

func outcome(t *testing.T, d *Deliverer, id string) simulator.Message {
	t.Helper()
	m, err := d.Store.Message(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRestartAStoppedRelease(t *testing.T) {
	ctx := context.Background()
	d, clock, m, url := setup(t)
	if err := d.Store.Enqueue(ctx, releaseMessage("01", url)); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		advance(t, d, clock, t0.Add(time.Duration(i)*15*time.Minute))
	}
	if got := outcome(t, d, "01"); got.Outcome != simulator.Stopped || got.Attempts != 5 {
		t.Fatalf("after an hour: %s after %d attempts, want STOPPED after 5", got.Outcome, got.Attempts)
	}
	if n := advance(t, d, clock, t0.Add(5*time.Hour)); n != 0 {
		t.Fatalf("a stopped message was retried on its own")
	}
	// Restarted while still broken: one attempt, still stopped.
	a, err := d.Restart(ctx, "01")
	if err != nil || a.N != 6 || a.Verdict != simulator.HTTPStatus {
		t.Fatalf("restart while down: attempt %d %s, %v", a.N, a.Verdict, err)
	}
	if got := outcome(t, d, "01"); got.Outcome != simulator.Stopped {
		t.Fatalf("after a failed restart: %s", got.Outcome)
	}
	// Fixed, restarted: delivered.
	m.Down(false)
	if a, err := d.Restart(ctx, "01"); err != nil || a.Verdict != simulator.Success {
		t.Fatalf("restart when fixed: %s, %v", a.Verdict, err)
	}
	if got := outcome(t, d, "01"); got.Outcome != simulator.SucceededAfterRestart || got.Attempts != 7 {
		t.Fatalf("%s after %d attempts, want SUCCEEDED_AFTER_RESTART after 7", got.Outcome, got.Attempts)
	}
	if _, err := d.Restart(ctx, "01"); simulator.ErrorCode(err) != simulator.ECONFLICT || !strings.Contains(err.Error(), "already delivered") {
		t.Errorf("restart of a delivered message: %v", err)
	}
}

func TestRestartANewPurchaseInsideItsWindow(t *testing.T) {
	ctx := context.Background()
	d, clock, m, url := setup(t)
	if err := d.Store.Enqueue(ctx, newInstanceMessage("01", "CS1", url, t0)); err != nil {
		t.Fatal(err)
	}
	advance(t, d, clock, t0)
	clock.Set(t0.Add(10 * time.Minute))
	// Restarted inside the window but still broken: the hourly schedule
	// is kept, not shifted.
	if a, err := d.Restart(ctx, "01"); err != nil || !a.Verdict.Failed() {
		t.Fatalf("restart while down: %s, %v", a.Verdict, err)
	}
	if got := outcome(t, d, "01"); got.Outcome != simulator.Pending || !got.NextAttemptAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after a failed restart: %s, next %v; want PENDING, next at +1h", got.Outcome, got.NextAttemptAt)
	}
	m.Down(false)
	if a, err := d.Restart(ctx, "01"); err != nil || a.Verdict != simulator.Success {
		t.Fatalf("restart: %s, %v", a.Verdict, err)
	}
	if got := outcome(t, d, "01"); got.Outcome != simulator.SucceededAfterRestart {
		t.Fatalf("outcome %s", got.Outcome)
	}
	if n := advance(t, d, clock, t0.Add(time.Hour)); n != 0 {
		t.Error("the hourly retry still ran after the restart succeeded")
	}
}

func TestRestartRefusals(t *testing.T) {
	ctx := context.Background()
	d, clock, _, url := setup(t)
	if err := d.Store.Enqueue(ctx, newInstanceMessage("01", "CS1", url, t0)); err != nil {
		t.Fatal(err)
	}
	for h := range 4 {
		advance(t, d, clock, t0.Add(time.Duration(h)*time.Hour))
	}
	if got := outcome(t, d, "01"); got.Outcome != simulator.OrderFailed {
		t.Fatalf("outcome %s, want ORDER_FAILED_UNSUBSCRIBED", got.Outcome)
	}
	if _, err := d.Restart(ctx, "01"); simulator.ErrorCode(err) != simulator.ECONFLICT || !strings.Contains(err.Error(), "window is over") {
		t.Errorf("restart after the window: %v", err)
	}
	if _, err := d.Restart(ctx, "nope"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("restart of an unknown message: %v", err)
	}
	// A renewal still on its schedule is not restarted by hand.
	pending := releaseMessage("03", url)
	pending.Queue, pending.Activity, pending.NextAttemptAt = "i-9", "refreshInstance", t0.Add(10*time.Hour)
	if err := d.Store.Enqueue(ctx, pending); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Restart(ctx, "03"); simulator.ErrorCode(err) != simulator.ECONFLICT || !strings.Contains(err.Error(), "still being retried") {
		t.Errorf("restart of a refresh on schedule: %v", err)
	}
}

// A probe is never restarted: the dial tester or the debugger runs its case
// again instead.
func TestRestartRefusesProbes(t *testing.T) {
	ctx := context.Background()
	d, clock, _, url := setup(t)
	for i, kind := range []string{simulator.KindDialTest, simulator.KindDebug} {
		probe := newInstanceMessage(fmt.Sprintf("p%d", i), fmt.Sprintf("run%d", i), url, t0)
		probe.Kind = kind
		if err := d.Store.Enqueue(ctx, probe); err != nil {
			t.Fatal(err)
		}
	}
	if n := advance(t, d, clock, t0); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
	for _, id := range []string{"p0", "p1"} {
		if got := outcome(t, d, id); got.Outcome != simulator.Stopped || got.Attempts != 1 {
			t.Errorf("probe %s: %s after %d attempts, want STOPPED after 1", id, got.Outcome, got.Attempts)
		}
		if _, err := d.Restart(ctx, id); simulator.ErrorCode(err) != simulator.ECONFLICT || !strings.Contains(err.Error(), "never restarted") {
			t.Errorf("restart of probe %s: %v", id, err)
		}
	}
	if n := advance(t, d, clock, t0.Add(4*time.Hour)); n != 0 {
		t.Errorf("a probe was retried")
	}
}
