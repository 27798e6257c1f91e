package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

const retention = 15 * 24 * time.Hour

func (w *world) expectActivities(key string, want ...string) {
	w.t.Helper()
	if got := activities(w.messages(key)); !slices.Equal(got, want) {
		w.t.Errorf("callbacks\n got %q\nwant %q", got, want)
	}
}

func (w *world) expectState(key string, state simulator.InstanceState, frozenBy string, next time.Time) {
	w.t.Helper()
	got := w.instance(key)
	if got.State != state || got.FrozenBy != frozenBy || !got.NextEventAt.Equal(next) {
		w.t.Errorf("instance %s (%s) next %v; want %s (%s) next %v", got.State, got.FrozenBy, got.NextEventAt, state, frozenBy, next)
	}
}

func TestExpiryFreezesThenRetentionReleases(t *testing.T) {
	for _, c := range []struct {
		product, freeze string
	}{
		{"v1-month", "expireInstance"},
		{"v2-month", "updateInstanceStatus FREEZE"},
	} {
		t.Run(c.product, func(t *testing.T) {
			w := newWorld(t)
			inst := w.active(Purchase{ProductID: c.product}, "ins-1")
			expiry := time.Date(2025, 2, 15, 2, 3, 4, 0, time.UTC)
			w.expectState(inst.Key, simulator.Active, "", expiry)
			if next, ok, err := w.e.NextDue(w.ctx); err != nil || !ok || !next.Equal(expiry) {
				t.Errorf("NextDue = %v %v %v, want %v", next, ok, err, expiry)
			}
			if n := w.runDue(expiry.Add(-time.Second)); n != 0 {
				t.Errorf("%d transitions before expiry", n)
			}
			wakes := w.wakes
			if n := w.runDue(expiry); n != 1 {
				t.Errorf("%d transitions at expiry, want 1", n)
			}
			if w.wakes != wakes+1 {
				t.Errorf("delivery not woken for the freeze")
			}
			w.expectState(inst.Key, simulator.Frozen, simulator.FrozenExpired, expiry.Add(retention))
			w.expectActivities(inst.Key, "newInstance", c.freeze)
			if n := w.runDue(expiry.Add(retention - time.Second)); n != 0 {
				t.Errorf("%d transitions during retention", n)
			}
			w.runDue(expiry.Add(retention))
			w.expectState(inst.Key, simulator.Released, "", time.Time{})
			w.expectActivities(inst.Key, "newInstance", c.freeze, "releaseInstance")
			if _, ok, err := w.e.NextDue(w.ctx); ok || err != nil {
				t.Errorf("NextDue after the release: %v %v", ok, err)
			}
		})
	}
}

// Renewing an instance frozen at expiry refreshes it, then unfreezes it,
// and its schedule starts again from the new expiry.
func TestRenewUnfreezesAnExpiredInstance(t *testing.T) {
	for _, c := range []struct {
		product  string
		sequence []string
	}{
		{"v1-month", []string{"newInstance", "expireInstance", "refreshInstance", "instanceStatus NORMAL"}},
		{"v2-month", []string{"newInstance", "updateInstanceStatus FREEZE", "refreshInstance RENEWAL", "updateInstanceStatus UNFREEZE"}},
	} {
		t.Run(c.product, func(t *testing.T) {
			w := newWorld(t)
			inst := w.active(Purchase{ProductID: c.product}, "ins-1")
			expiry := time.Date(2025, 2, 15, 2, 3, 4, 0, time.UTC)
			w.runDue(expiry.Add(24 * time.Hour))
			o := w.ok(w.e.Renew(w.ctx, inst.Key, Renewal{}))
			// The renewed month runs from the old expiry, not from the renewal.
			renewed := time.Date(2025, 3, 15, 2, 3, 4, 0, time.UTC)
			if !o.ExpireTime.Equal(renewed) {
				t.Errorf("renewal expires %v, want %v", o.ExpireTime, renewed)
			}
			w.expectState(inst.Key, simulator.Active, "", renewed)
			w.expectActivities(inst.Key, c.sequence...)
			unfreeze := w.last(inst.Key)
			if unfreeze.OrderID != o.ID {
				t.Errorf("the unfreeze names order %s, want the renewal %s", unfreeze.OrderID, o.ID)
			}
		})
	}
}

// A violation freeze does not touch the schedule. Expiry of an instance
// frozen for a violation sends nothing (it is frozen already) and starts
// the retention period; lifting the violation after expiry leaves it
// frozen for its expiry, and renewing then unfreezes it.
func TestViolationAndExpiry(t *testing.T) {
	w := newWorld(t)
	inst := w.active(Purchase{ProductID: "v2-month"}, "ins-1")
	expiry := time.Date(2025, 2, 15, 2, 3, 4, 0, time.UTC)
	w.must(w.e.Freeze(w.ctx, inst.Key))
	w.expectState(inst.Key, simulator.Frozen, simulator.FrozenViolation, expiry)
	if n := w.runDue(expiry); n != 1 {
		t.Errorf("%d transitions at expiry, want 1", n)
	}
	w.expectState(inst.Key, simulator.Frozen, simulator.FrozenViolation, expiry.Add(retention))
	w.expectActivities(inst.Key, "newInstance", "updateInstanceStatus FREEZE")

	w.clock.Set(expiry.Add(time.Hour))
	wakes := w.wakes
	w.must(w.e.Unfreeze(w.ctx, inst.Key))
	w.expectState(inst.Key, simulator.Frozen, simulator.FrozenExpired, expiry.Add(retention))
	w.expectActivities(inst.Key, "newInstance", "updateInstanceStatus FREEZE")
	if w.wakes != wakes {
		t.Errorf("delivery woken though nothing was sent")
	}

	// Frozen for its expiry, then for a violation too: renewing keeps it frozen.
	w.must(w.e.Freeze(w.ctx, inst.Key))
	w.ok(w.e.Renew(w.ctx, inst.Key, Renewal{}))
	renewed := time.Date(2025, 3, 15, 2, 3, 4, 0, time.UTC)
	w.expectState(inst.Key, simulator.Frozen, simulator.FrozenViolation, renewed)
	w.must(w.e.Unfreeze(w.ctx, inst.Key))
	w.expectState(inst.Key, simulator.Active, "", renewed)
	w.expectActivities(inst.Key, "newInstance", "updateInstanceStatus FREEZE", "refreshInstance RENEWAL", "updateInstanceStatus UNFREEZE")
}

// A clock moved past expiry and retention at once makes both transitions,
// in order, in one run.
func TestRunDueCatchesUp(t *testing.T) {
	w := newWorld(t)
	w.e.Retention = 48 * time.Hour
	a := w.active(Purchase{ProductID: "v1-month"}, "ins-a")
	w.clock.Set(t0.Add(24 * time.Hour))
	b := w.active(Purchase{ProductID: "v2-month"}, "ins-b")
	if n := w.runDue(t0.AddDate(1, 0, 0)); n != 4 {
		t.Errorf("%d transitions, want 4: two freezes, two releases", n)
	}
	w.expectActivities(a.Key, "newInstance", "expireInstance", "releaseInstance")
	w.expectActivities(b.Key, "newInstance", "updateInstanceStatus FREEZE", "releaseInstance")
	for _, k := range []string{a.Key, b.Key} {
		w.expectState(k, simulator.Released, "", time.Time{})
	}
}

// Nothing fires for an instance the merchant has not acknowledged, nor for
// instances that never expire.
func TestNothingDueWithoutASchedule(t *testing.T) {
	w := newWorld(t)
	w.buy(Purchase{ProductID: "v2-month"})                // provisioning
	w.active(Purchase{ProductID: "v2-once"}, "ins-once")  // one-time: no expiry
	w.active(Purchase{ProductID: "v1-demand"}, "ins-dmd") // on demand: no expiry
	if _, ok, err := w.e.NextDue(w.ctx); ok || err != nil {
		t.Errorf("NextDue: %v %v, want nothing", ok, err)
	}
	if n := w.runDue(t0.AddDate(5, 0, 0)); n != 0 {
		t.Errorf("%d transitions, want none", n)
	}
}

// A trial expires after the product's trial days (7 when unset) and turns
// formal from its conversion.
func TestTrialExpiresAndConverts(t *testing.T) {
	w := newWorld(t)
	inst := w.active(Purchase{ProductID: "v1-month", Trial: true}, "ins-trial")
	end := t0.AddDate(0, 0, 7)
	w.expectState(inst.Key, simulator.Active, "", end)
	w.runDue(end)
	w.expectState(inst.Key, simulator.Frozen, simulator.FrozenExpired, end.Add(retention))
	w.clock.Set(end.Add(48 * time.Hour))
	o := w.ok(w.e.ConvertTrial(w.ctx, inst.Key, Renewal{ProductID: "v1-year"}))
	formal := w.clock.Now().AddDate(1, 0, 0)
	got := w.instance(inst.Key)
	if got.Trial || got.ProductID != "v1-year" || !got.ExpireAt.Equal(formal) || o.Kind != simulator.TrialToFormal {
		t.Errorf("instance trial=%v %s expires %v (order %s); want formal v1-year until %v", got.Trial, got.ProductID, got.ExpireAt, o.Kind, formal)
	}
	w.expectState(inst.Key, simulator.Active, "", formal)
	w.expectActivities(inst.Key, "newInstance", "expireInstance", "refreshInstance", "instanceStatus NORMAL")
}

func TestAddPeriods(t *testing.T) {
	for _, c := range []struct {
		from       time.Time
		periodType string
		n          int
		want       time.Time
	}{
		{time.Date(2025, 1, 31, 8, 0, 0, 0, time.UTC), "month", 1, time.Date(2025, 2, 28, 8, 0, 0, 0, time.UTC)},
		{time.Date(2024, 1, 31, 8, 0, 0, 0, time.UTC), "month", 1, time.Date(2024, 2, 29, 8, 0, 0, 0, time.UTC)},
		{time.Date(2025, 3, 31, 8, 0, 0, 0, time.UTC), "month", 1, time.Date(2025, 4, 30, 8, 0, 0, 0, time.UTC)},
		{time.Date(2025, 11, 15, 8, 0, 0, 0, time.UTC), "month", 3, time.Date(2026, 2, 15, 8, 0, 0, 0, time.UTC)},
		{time.Date(2024, 2, 29, 8, 0, 0, 0, time.UTC), "year", 1, time.Date(2025, 2, 28, 8, 0, 0, 0, time.UTC)},
		{time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), "year", 2, time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if got := addPeriods(c.from, c.periodType, c.n); !got.Equal(c.want) {
			t.Errorf("%v + %d %s = %v, want %v", c.from, c.n, c.periodType, got, c.want)
		}
	}
}
