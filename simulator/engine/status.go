package engine

import (
	"context"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
)

// An instance is frozen while a violation stands or its expiry has passed
// unrenewed. FrozenBy names the cause to lift first: the violation when
// there is one (lifting it unfreezes only an unexpired instance), else the
// expiry (renewing unfreezes). The merchant hears of the freeze once, when
// the instance stops being usable, and of the unfreeze once, when it is
// usable again.

// Freeze freezes an instance for a violation: V1 instanceStatus FREEZE, V2
// updateInstanceStatus FREEZE. Its schedule (expiry, release) is not
// touched. An instance already frozen at expiry is not frozen again: it is
// marked as held by the violation, so renewing it no longer unfreezes it.
func (e *Engine) Freeze(ctx context.Context, instanceKey string) error {
	return e.onInstance(ctx, instanceKey, in("a violation freeze", simulator.Active, simulator.Frozen), func(t *txn, inst simulator.Instance, p simulator.Product) error {
		if inst.FrozenBy == simulator.FrozenViolation {
			return simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s is already frozen for a violation; lift it with Unfreeze", inst.Key)
		}
		if inst.State == simulator.Active {
			if _, err := t.send(p, inst, inst.OrderID, inst.OrderLineID, status(p, inst, true)); err != nil {
				return err
			}
		}
		inst.State, inst.FrozenBy = simulator.Frozen, simulator.FrozenViolation
		return t.put(inst)
	})
}

// Unfreeze lifts a violation: V1 instanceStatus NORMAL, V2
// updateInstanceStatus UNFREEZE. An instance whose expiry passed while it
// was frozen stays frozen, now for its expiry, and nothing is sent:
// renewing it unfreezes it.
func (e *Engine) Unfreeze(ctx context.Context, instanceKey string) error {
	violation := func(inst simulator.Instance) error {
		if inst.State != simulator.Frozen || inst.FrozenBy != simulator.FrozenViolation {
			return simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s %s; only an instance frozen for a violation can have it lifted", inst.Key, describe(inst))
		}
		return nil
	}
	return e.onInstance(ctx, instanceKey, violation, func(t *txn, inst simulator.Instance, p simulator.Product) error {
		if expired(inst, t.now) {
			inst.FrozenBy = simulator.FrozenExpired
			return t.put(inst)
		}
		if _, err := t.send(p, inst, inst.OrderID, inst.OrderLineID, status(p, inst, false)); err != nil {
			return err
		}
		inst.State, inst.FrozenBy = simulator.Active, ""
		return t.put(inst)
	})
}

// expired reports whether inst's expiry has passed at now.
func expired(inst simulator.Instance, now time.Time) bool {
	return !inst.ExpireAt.IsZero() && !inst.ExpireAt.After(now)
}

// Query is the buyer opening "查询资源信息": one queryInstance attempt
// (callbacks.md §2.4), for an instance the merchant has. A V1 SaaS
// product's page also sends the purchase's newInstance again, with a new
// businessId, once (§10: "每次打开资源详情"), before the query.
//
// With others, the buyer's page lists more of the buyer's instances of
// the product: one queryInstance names them all, the instanceIds
// comma-separated, at most maxQueried (§5.7, §5.9, §15 Q9), on the first
// instance's queue; no newInstance is repeated for a list.
func (e *Engine) Query(ctx context.Context, instanceKey string, others ...string) (simulator.Message, error) {
	const action = "querying the instance"
	var m simulator.Message
	err := e.onInstance(ctx, instanceKey, in(action, simulator.Active, simulator.Frozen), func(t *txn, inst simulator.Instance, p simulator.Product) error {
		if len(others) == 0 && p.Protocol == simulator.V1 && !p.License {
			if err := t.repeatPurchase(p, inst); err != nil {
				return err
			}
		}
		if len(others)+1 > maxQueried {
			return simulator.Errorf(simulator.EINVALID, "with", "names %d instances besides %s; one queryInstance names at most %d", len(others), inst.Key, maxQueried)
		}
		ids := []string{inst.ID}
		seen := map[string]bool{inst.Key: true}
		for _, key := range others {
			if seen[key] {
				return simulator.Errorf(simulator.EINVALID, "with", "names instance %s twice", key)
			}
			seen[key] = true
			o, _, err := t.instance(key)
			if err != nil {
				return err
			}
			if err := allow(o, action, simulator.Active, simulator.Frozen); err != nil {
				return err
			}
			if o.ProductID != inst.ProductID || o.CustomerID != inst.CustomerID {
				return simulator.Errorf(simulator.EINVALID, "with", "instance %s is customer %s's of product %s; a query lists one buyer's instances of one product (%s's of %s)",
					key, o.CustomerID, o.ProductID, inst.CustomerID, inst.ProductID)
			}
			ids = append(ids, o.ID)
		}
		var err error
		m, err = t.send(p, inst, inst.OrderID, inst.OrderLineID, newParams(activity.QueryInstance).str("instanceId", strings.Join(ids, ",")))
		return err
	})
	return m, err
}

// maxQueried is how many instances one queryInstance names at most: the
// docs' 100, which at 64 characters each is the 6,400 characters §15 Q9
// allows.
const maxQueried = 100

// repeatPurchase sends a V1 instance's newInstance again as the resource
// details do: the purchase order's call, rebuilt (fresh ivs for the
// encrypted contact fields), of kind DETAILS, tried once.
func (t *txn) repeatPurchase(p simulator.Product, inst simulator.Instance) error {
	o, err := t.tx.Order(t.ctx, inst.OrderID)
	if err != nil {
		return err
	}
	c, err := t.tx.Customer(t.ctx, inst.CustomerID)
	if err != nil {
		return err
	}
	ps, err := t.purchase(p, c, o)
	if err != nil {
		return err
	}
	if _, err := t.send(p, inst, o.ID, o.LineID, ps); err != nil {
		return err
	}
	t.out[len(t.out)-1].Kind = simulator.KindDetails
	return nil
}

// LicenseRequest is a buyer's request for a License of an online License
// product.
type LicenseRequest struct {
	DeviceFingerprint string // the device's hardware code; optional, at most 1024 characters
}

// RequestLicense asks a V2 License product's merchant for a License
// (getLicenseAsync, callbacks.md §5.17), effective now and, for a periodic
// or trial instance, until its expiry. Each request is a new event.
func (e *Engine) RequestLicense(ctx context.Context, instanceKey string, l LicenseRequest) (simulator.Message, error) {
	var m simulator.Message
	err := e.onInstance(ctx, instanceKey, in("requesting a License", simulator.Active), func(t *txn, inst simulator.Instance, p simulator.Product) error {
		if !p.License || p.Protocol != simulator.V2 {
			return simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s is of product %s, which is not an online License product (License, protocol v2); getLicenseAsync is for those only", inst.Key, p.ID)
		}
		if len([]rune(l.DeviceFingerprint)) > 1024 {
			return simulator.Errorf(simulator.EINVALID, "deviceFingerprint", "is %d characters; at most 1024", len([]rune(l.DeviceFingerprint)))
		}
		eventID, err := simulator.NewID("ev", t.now, t.e.random())
		if err != nil {
			return err
		}
		m, err = t.send(p, inst, inst.OrderID, inst.OrderLineID, license(inst, eventID, l.DeviceFingerprint, t.now, inst.ExpireAt))
		return err
	})
	return m, err
}
