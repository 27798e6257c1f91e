// Package kit is the buyer console of joint operation (联营服务 > 企业管理)
// and the seller's application credentials: the actions that change
// tenants, app bindings, users, authorisations and departments, each in one
// store transaction that writes the records and enqueues the kit syncs they
// cause (kit-sync.md §7) to the delivery outbox. The syncs of one app's
// binding to one tenant share a queue, so they reach the merchant in order;
// a sync that fails stops its queue until the console restarts it (Settle).
package kit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
)

// Tx is the part of the store the console touches: the identity
// provider's records it edits, the kit syncs they cause, and the products
// apps are bound to.
type Tx interface {
	simulator.IdentityTx
	simulator.OutboxTx
	simulator.CatalogueTx
}

// Store is the console's store: its Tx, one method at a time or grouped
// in one transaction.
type Store interface {
	Tx
	simulator.Updater
}

// Console runs the joint-operation actions on a store. Store and Clock are
// required.
type Console struct {
	Store Store
	// Clock is the scheduling clock: record times, currentSyncTime, and
	// when the syncs fall due (at once).
	Clock simulator.Clock
	// Random makes IDs, client credentials, password salts and the OAEP
	// padding of clientSecret; crypto/rand when nil. It is read only
	// inside store transactions, which a Store runs one at a time, so it
	// need not be safe for concurrent use.
	Random io.Reader
	// Base is the simulator's own base URL ({simBase}): a tenant without a
	// domain of its own has {Base}/t/{tenantCode} (identity.md §1).
	Base string
	// OAEPHash encrypts clientSecret (kit.oaepHash); empty means SHA-256.
	OAEPHash protocol.OAEPHash
	// Notify, when set, is called after a committed action enqueued
	// syncs, to wake the delivery loop.
	Notify func()
}

func (c *Console) random() io.Reader {
	if c.Random != nil {
		return c.Random
	}
	return rand.Reader
}

// update runs one action: fn checks and writes through t and queues its
// syncs with t.sync; they are enqueued in the same transaction, and
// delivery is woken once it has committed. It returns the syncs enqueued.
func (c *Console) update(ctx context.Context, fn func(t *txn) error) ([]simulator.Message, error) {
	var out []simulator.Message
	err := c.Store.Update(ctx, func(tx simulator.Tx) error {
		t := &txn{c: c, ctx: ctx, tx: tx, now: c.Clock.Now().UTC(), stopped: map[string]bool{}}
		if err := fn(t); err != nil {
			return err
		}
		out = t.out
		if len(out) == 0 {
			return nil
		}
		return tx.Enqueue(ctx, out...)
	})
	if err != nil {
		return nil, err
	}
	if len(out) > 0 && c.Notify != nil {
		c.Notify()
	}
	return out, nil
}

// txn is one action's transaction: the moment it happens at and the syncs
// it sends.
type txn struct {
	c   *Console
	ctx context.Context
	tx  Tx
	now time.Time
	out []simulator.Message
	// stopped caches, by queue, whether a failed sync holds the queue.
	stopped map[string]bool
}

// sync queues one kit call for the binding b of app to the merchant. An
// app without a production address for kit calls gets none: it is used
// for login only. A sync joins its queue held when an earlier one failed
// and is not yet restarted: the chain stops at a failure (kit-sync.md §7).
func (t *txn) sync(app simulator.App, b simulator.Client, call string, body any) error {
	if app.KitURL == "" {
		return nil
	}
	params, err := encode(body)
	if err != nil {
		return err
	}
	id, err := simulator.NewID("m", t.now, t.c.random())
	if err != nil {
		return err
	}
	queue := simulator.KitQueue(b.TenantID, b.AppID)
	held, err := t.held(queue)
	if err != nil {
		return err
	}
	m := simulator.Message{
		ID: id, Kind: simulator.KindLifecycle, Protocol: simulator.Kit, Activity: call, Queue: queue,
		ProductID: app.ProductID, OrderID: b.OrderID, InstanceID: b.InstanceID, URL: app.KitURL,
		Params: params, Outcome: simulator.Pending, NextAttemptAt: t.now, CreatedAt: t.now,
	}
	if held {
		m.Outcome, m.NextAttemptAt = simulator.Held, time.Time{}
	}
	t.out = append(t.out, m)
	return nil
}

// held reports whether a failed sync holds queue: one stopped and not
// restarted, or held behind one.
func (t *txn) held(queue string) (bool, error) {
	if h, ok := t.stopped[queue]; ok {
		return h, nil
	}
	h, err := stopped(t.ctx, t.tx, queue)
	t.stopped[queue] = h
	return h, err
}

// stopped reports whether a sync of queue failed and waits for a
// restart, or is held behind one that did.
func stopped(ctx context.Context, tx simulator.OutboxTx, queue string) (bool, error) {
	for _, o := range []simulator.Outcome{simulator.Stopped, simulator.Held} {
		ms, err := tx.Messages(ctx, simulator.MessageFilter{Protocol: simulator.Kit, Queue: queue, Outcome: o, Limit: 1})
		if err != nil || len(ms) > 0 {
			return len(ms) > 0, err
		}
	}
	return false, nil
}

// Settle keeps a binding's syncs in order around a failure: when a sync
// stops, the syncs queued behind it are held; when it is restarted and
// succeeds, they are due again, in order. Delivery calls it inside the
// transaction that records each attempt.
func (c *Console) Settle(ctx context.Context, tx simulator.Tx, m simulator.Message, a simulator.Attempt) error {
	if m.Protocol != simulator.Kit {
		return nil
	}
	switch m.Outcome {
	case simulator.Stopped:
		return move(ctx, tx, m.Queue, simulator.Pending, simulator.Held, time.Time{})
	case simulator.Succeeded, simulator.SucceededAfterRestart:
		if s, err := tx.Messages(ctx, simulator.MessageFilter{Protocol: simulator.Kit, Queue: m.Queue, Outcome: simulator.Stopped, Limit: 1}); err != nil || len(s) > 0 {
			return err // another failed sync still holds the queue
		}
		return move(ctx, tx, m.Queue, simulator.Held, simulator.Pending, c.Clock.Now())
	}
	return nil
}

// move sets the outcome of every sync of queue that has outcome from.
func move(ctx context.Context, tx simulator.OutboxTx, queue string, from, to simulator.Outcome, due time.Time) error {
	ms, err := tx.Messages(ctx, simulator.MessageFilter{Protocol: simulator.Kit, Queue: queue, Outcome: from})
	if err != nil {
		return err
	}
	for _, m := range ms {
		m.Outcome, m.NextAttemptAt = to, due
		if err := tx.PutMessage(ctx, m); err != nil {
			return fmt.Errorf("kit sync %s: %s: %w", m.ID, to, err)
		}
	}
	return nil
}

// Tenant finds a tenant by its tenantId or, failing that, its tenantCode:
// the admin API names tenants either way.
func (c *Console) Tenant(ctx context.Context, ref string) (simulator.Tenant, error) {
	return tenant(ctx, c.Store, ref)
}

func tenant(ctx context.Context, tx simulator.IdentityTx, ref string) (simulator.Tenant, error) {
	if ref == "" {
		return simulator.Tenant{}, simulator.Errorf(simulator.EINVALID, "tenant", "is required: a tenantId or tenantCode")
	}
	t, err := tx.Tenant(ctx, ref)
	if simulator.ErrorCode(err) != simulator.ENOTFOUND {
		return t, err
	}
	t, err = tx.TenantByCode(ctx, ref)
	if simulator.ErrorCode(err) == simulator.ENOTFOUND {
		return t, simulator.Errorf(simulator.ENOTFOUND, "tenant", "no tenant with tenantId or tenantCode %q", ref)
	}
	return t, err
}

// DomainName is a tenant's identity domain as tenantSync sends it: its
// own, or {Base}/t/{tenantCode} (identity.md §1).
func (c *Console) DomainName(t simulator.Tenant) string {
	if t.DomainName != "" {
		return t.DomainName
	}
	return strings.TrimRight(c.Base, "/") + "/t/" + url.PathEscape(t.Code)
}

// randomHex returns n random bytes in lower-case hex.
func (c *Console) randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(c.random(), b); err != nil {
		return "", fmt.Errorf("random ID: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// randomSecret returns 32 uniformly random [A-Za-z0-9] characters, the
// form of the simulator's client secrets (kit-sync.md §6).
func (c *Console) randomSecret() (string, error) {
	secret, err := protocol.RandomText(c.random(), protocol.Alphanumerics, 32)
	if err != nil {
		return "", fmt.Errorf("client secret: %w", err)
	}
	return secret, nil
}
