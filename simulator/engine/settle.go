package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/tidwall/gjson"
)

// failedOrdersAllowed is how many failed orders a product may have in a
// calendar month before it is delisted (callbacks.md §9.1: "more than 5").
const failedOrdersAllowed = 5

// Settle reacts to a recorded attempt at a lifecycle callback, inside the
// transaction that records it; m.Outcome is the message's new outcome.
// An acknowledged purchase makes its instance active and starts its
// schedule; a purchase or upgrade whose retries ran out fails its order;
// an acknowledged renewal, upgrade or unsubscription completes its order;
// a stopped one stalls it. Callbacks of other kinds are not the engine's,
// nor are kit syncs, lifecycle messages that the kit console settles.
func (e *Engine) Settle(ctx context.Context, tx simulator.Tx, m simulator.Message, a simulator.Attempt) error {
	if (m.Kind != simulator.KindLifecycle && m.Kind != simulator.KindPoll) || m.Protocol == simulator.Kit {
		return nil
	}
	t := &txn{e: e, ctx: ctx, tx: tx, now: e.Clock.Now().UTC()}
	if err := t.settle(m, a); err != nil {
		return fmt.Errorf("settling message %s (%s): %w", m.ID, m.Activity, err)
	}
	// Delivery's run picks these up: they are due now.
	return t.flush()
}

func (t *txn) settle(m simulator.Message, a simulator.Attempt) error {
	if m.OrderID == "" {
		return nil
	}
	o, err := t.tx.Order(t.ctx, m.OrderID)
	if simulator.ErrorCode(err) == simulator.ENOTFOUND {
		return nil // a callback about no order of the engine's
	}
	if err != nil {
		return err
	}
	if !settles(o.Kind, m) || (o.State != simulator.OrderProcessing && o.State != simulator.OrderStalled) {
		return nil
	}
	succeeded := m.Outcome == simulator.Succeeded || m.Outcome == simulator.SucceededAfterRestart
	switch {
	case o.Kind == simulator.NewPurchase && succeeded && activity.Is(m, activity.OrderNotify):
		return t.notified(o)
	case o.Kind == simulator.NewPurchase && succeeded:
		return t.provisioned(o, m, a)
	case activity.Of(m).Event == activity.ChangeCheck && succeeded:
		return t.changeAllowed(o)
	case succeeded:
		if err := t.completed(o); err != nil {
			return err
		}
		if o.Kind == simulator.Upgrade {
			return t.upgraded(o)
		}
		return nil
	case m.Outcome == simulator.OrderFailed:
		return t.failed(o, "its callback's retries ran out")
	case m.Outcome == simulator.ChangeRefused:
		o.State, o.SettledAt = simulator.OrderRefused, t.now
		return t.tx.PutOrder(t.ctx, o)
	case m.Outcome == simulator.Stopped:
		o.State = simulator.OrderStalled
		return t.tx.PutOrder(t.ctx, o)
	}
	return nil // pending a retry, or polling
}

// settles reports whether m is the callback that decides an order of kind:
// the purchase's newInstance (or getLicense or orderNotify, or the poll
// after 000004),
// the upgrade's, the check and refresh of a renewal, the release of an
// unsubscription. Other callbacks name an order for context only.
func settles(kind simulator.OrderKind, m simulator.Message) bool {
	event := activity.Of(m).Event
	switch kind {
	case simulator.NewPurchase:
		return event == activity.Purchase || m.Kind == simulator.KindPoll
	case simulator.Upgrade:
		return event == activity.UpgradeEvent
	case simulator.Unsubscribe:
		return event == activity.Release
	case simulator.RenewalChange:
		return event == activity.ChangeCheck || event == activity.Renewal
	}
	return event == activity.Renewal
}

func (t *txn) completed(o simulator.Order) error {
	o.State, o.SettledAt = simulator.OrderCompleted, t.now
	return t.tx.PutOrder(t.ctx, o)
}

// provisioned makes a purchase's instance active with the instanceId the
// merchant answered, and starts its schedule. The docs forbid one
// instanceId for two orders (callbacks.md §10): an answer naming another
// instance's ID fails the purchase instead, so that no later callback
// about one instance reaches the other; so does an empty one, which no
// later callback could name.
func (t *txn) provisioned(o simulator.Order, m simulator.Message, a simulator.Attempt) error {
	inst, err := t.tx.Instance(t.ctx, o.InstanceKey)
	if err != nil {
		return err
	}
	if inst.State != simulator.Provisioning {
		return nil
	}
	id := gjson.GetBytes(a.ResponseBody, "instanceId").String()
	switch {
	case m.Kind == simulator.KindPoll:
		id = m.InstanceID
	case id == "" && activity.Is(m, activity.GetLicense):
		// A V1 License merchant keys its License on the order
		// (callbacks.md §5.16); the instance is the order's.
		id = o.ID
	}
	if id == "" {
		return t.rejectAnswer(o, m, a, "the merchant answered an empty instanceId; later callbacks could not name the instance")
	}
	others, err := t.tx.Instances(t.ctx, simulator.InstanceFilter{ProductID: inst.ProductID, ID: id})
	if err != nil {
		return err
	}
	for _, other := range others {
		if other.Key != inst.Key {
			return t.rejectAnswer(o, m, a, fmt.Sprintf("the merchant answered instanceId %q, already the instance of order %s (%s); different orders must never get the same instanceId (callbacks.md §10)",
				id, other.OrderID, other.Key))
		}
	}
	if err := t.completed(o); err != nil {
		return err
	}
	was := inst
	inst.ID, inst.State = id, simulator.Active
	inst.NextEventAt = inst.ExpireAt // zero for instances that never expire
	return t.putOver(was, inst)
}

// notified completes the purchase of a product on the generic order
// notification, which orderNotify acknowledged (callbacks.md §5.15). The
// answer names no instance: the instance is in use, known by its key
// only, and nothing is scheduled for it, since the docs define no later
// callback for such a product.
func (t *txn) notified(o simulator.Order) error {
	inst, err := t.tx.Instance(t.ctx, o.InstanceKey)
	if err != nil {
		return err
	}
	if inst.State != simulator.Provisioning {
		return nil
	}
	if err := t.completed(o); err != nil {
		return err
	}
	was := inst
	inst.State = simulator.Active
	return t.putOver(was, inst)
}

// rejectAnswer fails a purchase whose acknowledgement the marketplace
// cannot use, with a notice saying why.
func (t *txn) rejectAnswer(o simulator.Order, m simulator.Message, a simulator.Attempt, reason string) error {
	if err := t.failed(o, reason); err != nil {
		return err
	}
	return t.rejectionNotice(o, m, a, reason)
}

// failed fails an order and unsubscribes it. A purchase's instance never
// existed for the marketplace, so no releaseInstance follows
// (callbacks.md §15 Q3). More than 5 failed orders of a product in a
// calendar month (Beijing time) delist it.
func (t *txn) failed(o simulator.Order, reason string) error {
	o.State, o.SettledAt = simulator.OrderFailedUnsubscribed, t.now
	if err := t.tx.PutOrder(t.ctx, o); err != nil {
		return err
	}
	if o.Kind == simulator.NewPurchase {
		inst, err := t.tx.Instance(t.ctx, o.InstanceKey)
		if err != nil {
			return err
		}
		inst.State, inst.NextEventAt = simulator.NeverProvisioned, time.Time{}
		if err := t.put(inst); err != nil {
			return err
		}
	}
	return t.countFailure(o.ProductID, reason)
}

// countFailure delists an on-sale product once more than 5 of its orders
// failed in the current calendar month.
func (t *txn) countFailure(productID, reason string) error {
	p, err := t.tx.Product(t.ctx, productID)
	if err != nil {
		return err
	}
	if p.Status != simulator.OnSale && p.Status != "" {
		return nil
	}
	local := t.now.In(simulator.Beijing())
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, local.Location())
	failed, err := t.tx.Orders(t.ctx, simulator.OrderFilter{ProductID: productID, State: simulator.OrderFailedUnsubscribed, SettledSince: month})
	if err != nil {
		return err
	}
	if len(failed) <= failedOrdersAllowed {
		return nil
	}
	p.Status = simulator.Delisted
	if err := t.tx.PutProduct(t.ctx, p); err != nil {
		return err
	}
	return t.productNotice(p, fmt.Sprintf("%d orders failed in %s (more than %d in a calendar month delists a product, callbacks.md §9.2); the last: %s",
		len(failed), local.Format("2006-01"), failedOrdersAllowed, reason))
}

// changeAllowed applies a spec change the merchant allowed: the instance
// takes the new spec and an expiry renewed from the one now in force,
// and the refresh (RENEWAL_CHANGE) follows, in this transaction.
func (t *txn) changeAllowed(o simulator.Order) error {
	inst, err := t.tx.Instance(t.ctx, o.InstanceKey)
	if err != nil {
		return err
	}
	if inst.State != simulator.Active && inst.State != simulator.Frozen {
		o.State, o.SettledAt = simulator.OrderRefused, t.now
		return t.tx.PutOrder(t.ctx, o) // released or gone meanwhile
	}
	to, err := t.tx.Product(t.ctx, o.ProductID)
	if err != nil {
		return err
	}
	o.ExpireTime = addPeriods(inst.ExpireAt, o.PeriodType, o.PeriodNumber)
	return t.renewed(inst, to, o)
}

// upgraded gives an instance the spec of its acknowledged upgrade.
func (t *txn) upgraded(o simulator.Order) error {
	inst, err := t.tx.Instance(t.ctx, o.InstanceKey)
	if err != nil {
		return err
	}
	inst.ProductID, inst.SKUCode = o.ProductID, o.SKUCode
	return t.put(inst)
}
