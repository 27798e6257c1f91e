// Package dialtest replays each on-sale product's saved debug cases against
// its production interface twice a day, judges the runs and freezes a
// product whose dial tests failed on too many consecutive days
// (callbacks.md §11).
//
// A run is stored with its probes, one DIAL_TEST message per debug case,
// in one transaction; delivery sends the probes one at a time in case
// order, each once, and calls Settle as it records each attempt.
package dialtest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/tidwall/gjson"
)

// Tx is the part of the store dial tests touch: the products they test
// and freeze, their runs, the probes they enqueue and the notices they
// send.
type Tx interface {
	simulator.CatalogueTx
	simulator.DialRunsTx
	simulator.OutboxTx
	simulator.NoticesTx
}

// Store is the tester's store: its Tx, one method at a time or grouped in
// one transaction.
type Store interface {
	Tx
	simulator.Updater
}

// Tester schedules dial-test runs and judges them.
type Tester struct {
	Store Store
	Clock simulator.Clock // the scheduling clock
	// Random makes IDs; crypto/rand when nil. It is read only inside
	// Store.Update, which runs one transaction at a time, so it need not
	// be safe for concurrent use.
	Random io.Reader
	// Times are the offsets into a day in Asia/Shanghai at which runs
	// start; nil means 10:00 and 15:00.
	Times []time.Duration
	// FreezeAfter is how many consecutive failing days (days that had
	// runs) freeze a product; 0 means 5.
	FreezeAfter int
	Metrics     *Metrics // may be nil
	// Notify, when set, is called after runs were enqueued, so delivery
	// can start on them.
	Notify func()
}

// queuePrefix starts the queue of a run's probes: one queue per run, so
// they go one at a time, in case order.
const queuePrefix = "dial/"

// RunDue starts the run of every product due at the clock's now and not
// yet run for that scheduled time, and returns how many it started.
//
// A scheduled time's run may start up to an hour late (never past the next
// scheduled time); a run started in that window, scheduled or by RunNow,
// is that time's run, so a restart does not repeat it. Times missed by
// more than that, while kgsim was down, are skipped, not caught up.
//
// A product runs when it is on sale (an empty status counts), has dial
// tests on and has at least one saved debug case: without one there is
// nothing to replay. Each run is stored in a transaction of its own, so
// delivery is not held up while a large catalogue starts; a product whose
// run cannot start is reported in the error after the others started.
func (t *Tester) RunDue(ctx context.Context) (int, error) {
	s, err := newSchedule(t.Times)
	if err != nil {
		return 0, err
	}
	now := t.Clock.Now()
	at, end, ok := s.window(now)
	if !ok {
		return 0, nil
	}
	products, err := t.Store.Products(ctx)
	if err != nil {
		return 0, err
	}
	started, failed := 0, 0
	var first error
	for _, p := range products {
		if !scheduled(p) {
			continue
		}
		// Most passes in a window find the run made already: a read tells
		// without taking the store's one writer from delivery.
		if ran, err := ranBetween(ctx, t.Store, p.ID, at, end); err == nil && ran {
			continue
		}
		err := t.Store.Update(ctx, func(tx simulator.Tx) error {
			// Read again inside the transaction: the product may have
			// changed, or another caller run it, since the listing.
			p, err := tx.Product(ctx, p.ID)
			if err != nil {
				return err
			}
			if !scheduled(p) {
				return nil
			}
			if ran, err := ranBetween(ctx, tx, p.ID, at, end); err != nil || ran {
				return err
			}
			if _, err := t.start(ctx, tx, p, now); err != nil {
				return err
			}
			started++
			return nil
		})
		if err != nil {
			// One product's bad case must not stop the others' runs.
			failed++
			if first == nil {
				first = fmt.Errorf("dial test of product %s: %w", p.ID, err)
			}
			if ctx.Err() != nil {
				break
			}
		}
	}
	if started > 0 && t.Notify != nil {
		t.Notify()
	}
	if failed > 1 {
		return started, fmt.Errorf("%d products could not start their runs; the first: %w", failed, first)
	}
	return started, first
}

// NextDue returns the next scheduled time at which some product would
// run; a time at or before the clock's now means a run is due now. ok is
// false when no product would run at all.
func (t *Tester) NextDue(ctx context.Context) (time.Time, bool, error) {
	s, err := newSchedule(t.Times)
	if err != nil {
		return time.Time{}, false, err
	}
	now := t.Clock.Now()
	products, err := t.Store.Products(ctx)
	if err != nil {
		return time.Time{}, false, err
	}
	some := false
	at, end, open := s.window(now)
	for _, p := range products {
		if !scheduled(p) {
			continue
		}
		some = true
		if !open {
			break
		}
		ran, err := ranBetween(ctx, t.Store, p.ID, at, end)
		if err != nil {
			return time.Time{}, false, err
		}
		if !ran {
			return at, true, nil
		}
	}
	if !some {
		return time.Time{}, false, nil
	}
	_, next := s.around(now)
	return next, true, nil
}

// RunNow starts a run of a product's debug cases at once, as an operator
// asks for it: whatever the product's status or dial-test switch, so a
// fix can be checked before a frozen product is unfrozen.
func (t *Tester) RunNow(ctx context.Context, productID string) (simulator.DialRun, error) {
	var run simulator.DialRun
	err := t.Store.Update(ctx, func(tx simulator.Tx) error {
		p, err := tx.Product(ctx, productID)
		if err != nil {
			return err
		}
		if len(p.DebugCases) == 0 {
			return simulator.Errorf(simulator.EINVALID, "debugCases", "product %s has no saved debug cases: a dial test replays them, so save one with the debugger first", productID)
		}
		run, err = t.start(ctx, tx, p, t.Clock.Now())
		return err
	})
	if err != nil {
		return simulator.DialRun{}, err
	}
	if t.Notify != nil {
		t.Notify()
	}
	return run, nil
}

// scheduled reports whether the schedule runs p's dial tests.
func scheduled(p simulator.Product) bool {
	onSale := p.Status == "" || p.Status == simulator.OnSale
	return onSale && p.DialTests && len(p.DebugCases) > 0
}

// ranBetween reports whether a run of the product started in [from, to).
func ranBetween(ctx context.Context, tx simulator.DialRunsTx, productID string, from, to time.Time) (bool, error) {
	runs, err := tx.DialRuns(ctx, productID, from)
	if err != nil {
		return false, err
	}
	for _, r := range runs {
		if r.At.Before(to) {
			return true, nil
		}
	}
	return false, nil
}

// start stores a run of p at now and its probes, one per debug case, in
// case order.
func (t *Tester) start(ctx context.Context, tx Tx, p simulator.Product, now time.Time) (simulator.DialRun, error) {
	id, err := simulator.NewID("d", now, t.random())
	if err != nil {
		return simulator.DialRun{}, err
	}
	run := simulator.DialRun{ID: id, ProductID: p.ID, At: now}
	probes := make([]simulator.Message, 0, len(p.DebugCases))
	for i, c := range p.DebugCases {
		mid, err := simulator.NewID("m", now, t.random())
		if err != nil {
			return simulator.DialRun{}, err
		}
		probe, err := NewProbe(p, c, simulator.KindDialTest, queuePrefix+id, mid, now)
		if err != nil {
			return simulator.DialRun{}, simulator.Errorf(simulator.EINVALID, fmt.Sprintf("debugCases[%d].params", i), "product %s: %v", p.ID, err)
		}
		probes = append(probes, probe)
	}
	if err := tx.PutDialRun(ctx, run); err != nil {
		return simulator.DialRun{}, err
	}
	if err := tx.Enqueue(ctx, probes...); err != nil {
		return simulator.DialRun{}, err
	}
	return run, nil
}

// NewProbe returns the message that sends debug case c of product p once,
// due at now: a dial-test probe, or (kind DEBUG) the debugger's call.
func NewProbe(p simulator.Product, c simulator.DebugCase, kind, queue, id string, now time.Time) (simulator.Message, error) {
	params, err := probeParams(p.Protocol, c, id)
	if err != nil {
		return simulator.Message{}, err
	}
	fields := gjson.GetManyBytes(params, "orderId", "orderLineId", "instanceId", "customerId")
	return simulator.Message{
		ID: id, Kind: kind, Protocol: p.Protocol, Activity: c.Activity,
		Queue: queue, ProductID: p.ID, URL: p.URL, Params: params,
		OrderID: fields[0].String(), OrderLineID: fields[1].String(), InstanceID: fields[2].String(), CustomerID: fields[3].String(),
		Outcome: simulator.Pending, NextAttemptAt: now, CreatedAt: now,
	}, nil
}

// probeParams returns a debug case's parameters as a probe sends them: the
// case's activity first, its parameters, and testFlag "1" (callbacks.md
// §11). A probe of a call that takes a fresh businessId on every attempt
// (a purchase) keeps a businessId member, which delivery renews;
// placeholder gives one to a case saved without.
func probeParams(protocol simulator.Protocol, c simulator.DebugCase, placeholder string) ([]byte, error) {
	params := gjson.ParseBytes(c.Params)
	if len(c.Params) > 0 && !params.IsObject() {
		return nil, fmt.Errorf("%s is not a JSON object", c.Params)
	}
	name, err := json.Marshal(c.Activity)
	if err != nil {
		return nil, err
	}
	out := append([]byte(`{"activity":`), name...)
	hasBusinessID := false
	params.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "activity", "testFlag":
			return true
		case "businessId":
			hasBusinessID = true
		}
		out = append(out, ',')
		out = append(out, k.Raw...)
		out = append(out, ':')
		out = append(out, v.Raw...)
		return true
	})
	if spec, _ := activity.Lookup(protocol, c.Activity); spec.FreshBusinessID && !hasBusinessID {
		out = append(out, `,"businessId":"`+placeholder+`"`...)
	}
	return append(out, `,"testFlag":"1"}`...), nil
}

func (t *Tester) random() io.Reader {
	if t.Random != nil {
		return t.Random
	}
	return rand.Reader
}
