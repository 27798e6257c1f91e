package engine

import (
	"context"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// ChangeSpec is a V2 renewal that changes the spec (down- or upgrade): the
// merchant is asked first (changeInstanceCheck); once it allows the
// change, the instance takes the new spec and expiry and refreshInstance
// RENEWAL_CHANGE follows. A refusal ends the order REFUSED and changes
// nothing (callbacks.md §5.14).
func (e *Engine) ChangeSpec(ctx context.Context, instanceKey string, c Change) (simulator.Order, error) {
	var o simulator.Order
	err := e.onInstance(ctx, instanceKey, in("a renewal with a spec change", simulator.Active, simulator.Frozen), func(t *txn, inst simulator.Instance, p simulator.Product) error {
		if p.Protocol != simulator.V2 {
			return simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s is of product %s, which uses protocol %s; the renewal check (changeInstanceCheck) is V2 only: use Upgrade or Renew", inst.Key, p.ID, p.Protocol)
		}
		if err := periodic(inst, p, "a renewal with a spec change"); err != nil {
			return err
		}
		if inst.Trial {
			return simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s is a trial; turn it formal first (ConvertTrial)", inst.Key)
		}
		to, n, err := t.renewalTerms(inst, p, Renewal{PeriodNumber: c.PeriodNumber, ProductID: c.ProductID})
		if err != nil {
			return err
		}
		if o, err = t.changeOrder(simulator.RenewalChange, inst, to, c); err != nil {
			return err
		}
		o.PeriodType, o.PeriodNumber = to.PeriodType, n
		// The expiry is set when the merchant allows the change (Settle),
		// from the expiry then in force.
		o.ExpireTime = addPeriods(inst.ExpireAt, to.PeriodType, n)
		if err := t.tx.PutOrder(ctx, o); err != nil {
			return err
		}
		_, err = t.send(p, inst, o.ID, o.LineID, changeCheck(inst, o))
		return err
	})
	return o, err
}

// Upgrade is a paid upgrade of an active instance (升配/扩容): V1 upgrade
// with the new spec, V2 upgradeInstance. The instance takes the new spec
// when the merchant acknowledges it; if the retries run out, the upgrade
// order fails and is unsubscribed and the instance keeps its spec.
func (e *Engine) Upgrade(ctx context.Context, instanceKey string, u Change) (simulator.Order, error) {
	var o simulator.Order
	err := e.onInstance(ctx, instanceKey, in("upgrade", simulator.Active), func(t *txn, inst simulator.Instance, p simulator.Product) error {
		if u.PeriodNumber != 0 {
			return simulator.Errorf(simulator.EINVALID, "periodNumber", "an upgrade keeps the instance's period; renew with a spec change (ChangeSpec) to buy periods")
		}
		to, err := t.target(inst, p, u.ProductID)
		if err != nil {
			return err
		}
		if o, err = t.changeOrder(simulator.Upgrade, inst, to, u); err != nil {
			return err
		}
		if err := t.tx.PutOrder(ctx, o); err != nil {
			return err
		}
		_, err = t.send(p, inst, o.ID, o.LineID, upgrade(p, inst, o))
		return err
	})
	return o, err
}

// changeOrder checks a change of spec and makes its order.
func (t *txn) changeOrder(kind simulator.OrderKind, inst simulator.Instance, to simulator.Product, c Change) (simulator.Order, error) {
	sku := c.SKUCode
	if sku == "" {
		sku = inst.SKUCode
		if to.ID != inst.ProductID {
			sku = to.SKUCode
		}
	}
	switch {
	case c.LinearAmount < 0 || c.LinearAmount > 9999999:
		return simulator.Order{}, simulator.Errorf(simulator.EINVALID, "linearAmount", "%d: must be 0 to 9999999", c.LinearAmount)
	case sku == inst.SKUCode && to.ID == inst.ProductID && c.LinearAmount == 0:
		return simulator.Order{}, simulator.Errorf(simulator.EINVALID, "skuCode", "instance %s already has product %s and SKU %s: name another SKU, product or linear amount", inst.Key, inst.ProductID, inst.SKUCode)
	}
	o, err := t.newOrder(kind)
	if err != nil {
		return o, err
	}
	o.InstanceKey, o.CustomerID = inst.Key, inst.CustomerID
	o.ProductID, o.SKUCode, o.LinearAmount = to.ID, sku, c.LinearAmount
	return o, nil
}

// Unsubscribe ends an instance at the buyer's request (退订): an
// unsubscribe order and releaseInstance, carrying that order in V2
// (callbacks.md §5.12). The instance is released at once in the
// marketplace's eyes; the order completes when the merchant acknowledges.
func (e *Engine) Unsubscribe(ctx context.Context, instanceKey string) (simulator.Order, error) {
	var o simulator.Order
	err := e.onInstance(ctx, instanceKey, in("unsubscribe", simulator.Active, simulator.Frozen), func(t *txn, inst simulator.Instance, p simulator.Product) error {
		var err error
		if o, err = t.newOrder(simulator.Unsubscribe); err != nil {
			return err
		}
		o.InstanceKey, o.CustomerID, o.ProductID, o.SKUCode = inst.Key, inst.CustomerID, inst.ProductID, inst.SKUCode
		if err := t.tx.PutOrder(ctx, o); err != nil {
			return err
		}
		if _, err := t.send(p, inst, o.ID, o.LineID, release(p, inst, &o)); err != nil {
			return err
		}
		inst.State, inst.FrozenBy, inst.NextEventAt = simulator.Released, "", time.Time{}
		return t.put(inst)
	})
	return o, err
}
