// Package engine is the marketplace's lifecycle state machine: products,
// orders and instances. Every action is one store transaction that checks
// the current state, writes the order and instance changes and enqueues
// the callbacks they cause (callbacks.md §2), so that a refused action
// writes and sends nothing, and an accepted one is never half done.
package engine

import (
	"context"
	"crypto/rand"
	"io"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Tx is the part of the store a lifecycle touches: the catalogue and the
// sellers its products belong to, orders, instances and their License
// codes, the callbacks they cause and the failure notices about them.
type Tx interface {
	simulator.CatalogueTx
	simulator.SellersTx
	simulator.OrdersTx
	simulator.LicenseTx
	simulator.OutboxTx
	simulator.NoticesTx
}

// Store is the engine's store: its Tx, one method at a time or grouped in
// one transaction.
type Store interface {
	Tx
	simulator.Updater
}

// Engine runs the lifecycles of a store's products, orders and instances.
type Engine struct {
	Store Store
	// Clock is the scheduling clock: order times, expiry, retention.
	Clock simulator.Clock
	// Random makes order IDs, message IDs and the ivs of encrypted
	// fields; crypto/rand when nil. It is read only inside store
	// transactions, which a Store runs one at a time, so it need not be
	// safe for concurrent use.
	Random io.Reader
	// Retention is how long an instance frozen at expiry is kept before
	// it is released; 0 means 15 days, the docs' longest (callbacks.md
	// §2.1).
	Retention time.Duration
	// Notify, when set, is called after a committed action enqueued
	// callbacks: the scheduler's Wake, so that no caller of the engine
	// need remember to wake it. Every action that moves an instance's
	// next event sends a callback, so the scheduler also learns of its
	// new due time.
	Notify func()
}

// DefaultRetention is the freeze period after expiry when Retention is 0.
const DefaultRetention = 15 * 24 * time.Hour

func (e *Engine) retention() time.Duration {
	if e.Retention > 0 {
		return e.Retention
	}
	return DefaultRetention
}

func (e *Engine) random() io.Reader {
	if e.Random != nil {
		return e.Random
	}
	return rand.Reader
}

// update runs one action: fn checks and writes through t and queues its
// callbacks with t.send; they are enqueued in the same transaction. The
// scheduler is told of the work only once it has committed: told before,
// it would look, find nothing yet, and sleep past it.
func (e *Engine) update(ctx context.Context, fn func(t *txn) error) error {
	sent := 0
	err := e.Store.Update(ctx, func(tx simulator.Tx) error {
		t := &txn{e: e, ctx: ctx, tx: tx, now: e.Clock.Now().UTC()}
		if err := fn(t); err != nil {
			return err
		}
		sent = len(t.out)
		return t.flush()
	})
	if err == nil && sent > 0 && e.Notify != nil {
		e.Notify()
	}
	return err
}

// txn is one transaction of the engine: the moment it happens at and the
// callbacks it sends.
type txn struct {
	e   *Engine
	ctx context.Context
	tx  Tx
	now time.Time
	out []simulator.Message
}

// send queues one lifecycle callback about inst, for the order named (the
// order whose callback it is, or the purchase for the marketplace's own
// acts), with ps as its parameters.
func (t *txn) send(p simulator.Product, inst simulator.Instance, orderID, orderLineID string, ps *params) (simulator.Message, error) {
	id, err := simulator.NewID("m", t.now, t.e.random())
	if err != nil {
		return simulator.Message{}, err
	}
	m := simulator.Message{
		ID:          id,
		Kind:        simulator.KindLifecycle,
		Protocol:    p.Protocol,
		Activity:    string(ps.activity),
		Queue:       inst.Key,
		ProductID:   p.ID,
		OrderID:     orderID,
		OrderLineID: orderLineID,
		InstanceID:  inst.ID,
		CustomerID:  inst.CustomerID,
		URL:         p.URL,
		Params:      ps.bytes(),
		Outcome:     simulator.Pending,
		// Due now: delivery keeps the queue's order, so a callback sent
		// after another waits for it.
		NextAttemptAt: t.now,
		CreatedAt:     t.now,
	}
	t.out = append(t.out, m)
	return m, nil
}

// flush enqueues the queued callbacks in the order they were sent.
func (t *txn) flush() error {
	if len(t.out) == 0 {
		return nil
	}
	return t.tx.Enqueue(t.ctx, t.out...)
}

// Load seeds the store with a catalogue, all or none: the products and
// customers it lacks are stored, and one already stored is left as it is,
// since the admin API may have changed it and what it changed must
// outlive a restart. A new product without a Status is on sale. A
// product's seller must be stored.
func (e *Engine) Load(ctx context.Context, products []simulator.Product, customers []simulator.Customer) error {
	for i := range products {
		if err := products[i].Validate(); err != nil {
			return err
		}
	}
	for i := range customers {
		if err := customers[i].Validate(); err != nil {
			return err
		}
	}
	return e.Store.Update(ctx, func(tx simulator.Tx) error {
		for _, p := range products {
			if ok, err := found(tx.Product(ctx, p.ID)); err != nil {
				return err
			} else if ok {
				continue
			}
			if err := putProduct(ctx, tx, p); err != nil {
				return err
			}
		}
		for _, c := range customers {
			if ok, err := found(tx.Customer(ctx, c.ID)); err != nil {
				return err
			} else if ok {
				continue
			}
			if err := tx.PutCustomer(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutProduct adds or replaces a product, as the admin API does. One
// already stored keeps its Status, which the marketplace sets (dial tests,
// failed orders), not the merchant; a new one without a Status is on
// sale. Its seller must be stored.
func (e *Engine) PutProduct(ctx context.Context, p simulator.Product) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return e.Store.Update(ctx, func(tx simulator.Tx) error {
		old, err := tx.Product(ctx, p.ID)
		switch {
		case err == nil:
			p.Status = old.Status
		case simulator.ErrorCode(err) != simulator.ENOTFOUND:
			return err
		}
		return putProduct(ctx, tx, p)
	})
}

// found says whether a read found its record; an error other than
// ENOTFOUND is returned.
func found[T any](_ T, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case simulator.ErrorCode(err) == simulator.ENOTFOUND:
		return false, nil
	}
	return false, err
}

// putProduct stores p, on sale unless it says otherwise, once its seller
// is found.
func putProduct(ctx context.Context, tx Tx, p simulator.Product) error {
	if p.Status == "" {
		p.Status = simulator.OnSale
	}
	if p.SellerID != "" {
		_, err := tx.Seller(ctx, p.SellerID)
		if simulator.ErrorCode(err) == simulator.ENOTFOUND {
			return simulator.Errorf(simulator.EINVALID, "sellerId", "product %s names seller %q, which does not exist: add it first (PUT /admin/v1/sellers/%s, or sellers.json in the fixtures)", p.ID, p.SellerID, p.SellerID)
		}
		if err != nil {
			return err
		}
	}
	return tx.PutProduct(ctx, p)
}
