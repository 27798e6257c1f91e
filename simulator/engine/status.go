package engine

import (
	"context"
	"time"

	"github.com/kgsim/kgsim/simulator"
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
// (callbacks.md §2.4), for an instance the merchant has.
func (e *Engine) Query(ctx context.Context, instanceKey string) (simulator.Message, error) {
	var m simulator.Message
	err := e.onInstance(ctx, instanceKey, in("querying the instance", simulator.Active, simulator.Frozen), func(t *txn, inst simulator.Instance, p simulator.Product) error {
		var err error
		m, err = t.send(p, inst, inst.OrderID, inst.OrderLineID, query(inst))
		return err
	})
	return m, err
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
