package engine

import (
	"context"
	"math"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// dueBatch is how many due instances one pass of RunDue reads.
const dueBatch = 64

// RunDue makes the transitions due at the clock's now, in time order: the
// freeze at expiry, the release once the retention period has passed. A
// transition that makes another due (a clock moved past both) is made in
// the same run. It returns how many transitions it made.
func (e *Engine) RunDue(ctx context.Context) (int, error) {
	made := 0
	for {
		now := e.Clock.Now()
		due, err := e.Store.DueInstances(ctx, now, dueBatch)
		if err != nil || len(due) == 0 {
			return made, err
		}
		for _, d := range due {
			if err := e.update(ctx, func(t *txn) error { return t.due(d.Key) }); err != nil {
				return made, err
			}
			made++
		}
	}
}

// NextDue returns when RunDue next has work, or false when nothing is
// scheduled.
func (e *Engine) NextDue(ctx context.Context) (time.Time, bool, error) {
	due, err := e.Store.DueInstances(ctx, time.Unix(0, math.MaxInt64), 1)
	if err != nil || len(due) == 0 {
		return time.Time{}, false, err
	}
	return due[0].NextEventAt, true, nil
}

// due makes the transition of one instance that has fallen due.
func (t *txn) due(key string) error {
	inst, p, err := t.instance(key)
	if err != nil {
		return err
	}
	if inst.NextEventAt.IsZero() || inst.NextEventAt.After(t.now) {
		return nil // another transaction got there first
	}
	releaseAt := inst.ExpireAt.Add(t.e.retention())
	switch {
	case inst.State == simulator.Active:
		// Expiry: frozen, data kept through the retention period.
		if _, err := t.send(p, inst, inst.OrderID, inst.OrderLineID, expire(p, inst)); err != nil {
			return err
		}
		inst.State, inst.FrozenBy, inst.NextEventAt = simulator.Frozen, simulator.FrozenExpired, releaseAt
	case inst.State == simulator.Frozen && inst.NextEventAt.Before(releaseAt):
		// Expiry of an instance frozen for a violation: the merchant has
		// frozen it already; the retention period starts.
		inst.NextEventAt = releaseAt
	case inst.State == simulator.Frozen:
		if _, err := t.send(p, inst, inst.OrderID, inst.OrderLineID, release(p, inst, nil)); err != nil {
			return err
		}
		inst.State, inst.FrozenBy, inst.NextEventAt = simulator.Released, "", time.Time{}
	default:
		inst.NextEventAt = time.Time{} // nothing happens to it any more
	}
	return t.put(inst)
}
