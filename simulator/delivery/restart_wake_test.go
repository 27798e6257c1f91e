package delivery

import (
	"context"
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// A restart wakes the scheduler once its attempt is stored and its queue
// is free again: woken sooner, the scheduler's pass would find the queue
// still taken, or the callbacks the restart frees not yet freed, and
// sleep past them.
func TestRestartWakesOnceRecordedAndReleased(t *testing.T) {
	ctx := context.Background()
	_, url := newMerchant(t)
	d := newDeliverer(t, schedule.NewVirtual(t0), url)
	m := newInstanceMessage("01", "CS1", url, t0)
	m.Outcome = simulator.Stopped
	if err := d.Store.Enqueue(ctx, m); err != nil {
		t.Fatal(err)
	}
	type wake struct {
		outcome  simulator.Outcome
		attempts int
		free     bool
	}
	var woken []wake
	d.Notify = func() {
		got, err := d.Store.Message(ctx, "01")
		if err != nil {
			t.Error(err)
		}
		origin := simulator.Origin(url)
		free := d.claim("CS1", origin, false)
		if free {
			d.release("CS1", origin, false)
		}
		woken = append(woken, wake{got.Outcome, got.Attempts, free})
	}
	if _, err := d.Restart(ctx, "01"); err != nil {
		t.Fatal(err)
	}
	want := wake{simulator.SucceededAfterRestart, 1, true}
	if len(woken) != 1 || woken[0] != want {
		t.Errorf("woken %+v; want once, seeing %+v", woken, want)
	}
}
