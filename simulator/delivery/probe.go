package delivery

import (
	"context"
	"fmt"

	"github.com/kgsim/kgsim/simulator"
)

// Probe sends one debugger call now, as the seller center's 调试 page does
// (callbacks.md §8): m is a new KindDebug message of a product. It goes to
// the product's configured URL in its protocol, whatever m says, signed
// and judged as every attempt is, and is stored with its one attempt in
// one transaction: the workers never see it due, and it is never retried
// or restarted. It returns the attempt and the message as stored.
func (d *Deliverer) Probe(ctx context.Context, m simulator.Message) (simulator.Attempt, simulator.Message, error) {
	if m.Kind != simulator.KindDebug || m.Attempts != 0 || m.Outcome != simulator.Pending {
		return simulator.Attempt{}, m, fmt.Errorf("message %s: a probe is a new %s message, not %s %s after %d attempts", m.ID, simulator.KindDebug, m.Kind, m.Outcome, m.Attempts)
	}
	ps := &products{store: d.Store}
	p, err := ps.product(ctx, m)
	if err != nil {
		return simulator.Attempt{}, m, err
	}
	// Only the URL the merchant configured is ever called.
	m.URL, m.Protocol = p.URL, p.Protocol
	s, err := ps.get(ctx, m)
	if err != nil {
		return simulator.Attempt{}, m, err
	}
	origin := simulator.Origin(m.URL)
	if !d.claim(m.Queue, origin, false) {
		return simulator.Attempt{}, m, simulator.Errorf(simulator.ECONFLICT, "message", "%s: its queue %s is being attempted already", m.ID, m.Queue)
	}
	recorded := false
	defer func() { d.release(m.Queue, origin, recorded) }()
	a, after, err := d.try(ctx, m, s)
	if err != nil {
		return a, m, err
	}
	after.Outcome, after.NextAttemptAt = next(after, a.Verdict, d.Clock.Now())
	err = d.Store.Update(ctx, func(tx simulator.Tx) error {
		if err := tx.Enqueue(ctx, m); err != nil {
			return err
		}
		if err := tx.RecordAttempt(ctx, a, after); err != nil {
			return fmt.Errorf("message %s: recording its attempt: %w", m.ID, err)
		}
		for _, settler := range d.Settlers {
			if err := settler.Settle(ctx, tx, after, a); err != nil {
				return fmt.Errorf("message %s: settling its attempt: %w", m.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return a, m, err
	}
	recorded = true
	d.Metrics.recorded(after, a, nil)
	return a, after, nil
}
