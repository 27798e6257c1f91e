package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// product reads a product, refusing an unknown one.
func (t *txn) product(field, id string) (simulator.Product, error) {
	// What could never be a product's ID is refused as such, not looked
	// up and echoed back at whatever length it came.
	if err := simulator.CheckID(field, id); err != nil {
		return simulator.Product{}, err
	}
	p, err := t.tx.Product(t.ctx, id)
	if simulator.ErrorCode(err) == simulator.ENOTFOUND {
		return p, simulator.Errorf(simulator.ENOTFOUND, field, "no product %q in the catalogue", id)
	}
	return p, err
}

// instance reads an instance and the product it is on, refusing an
// unknown one.
func (t *txn) instance(key string) (simulator.Instance, simulator.Product, error) {
	if key == "" {
		return simulator.Instance{}, simulator.Product{}, simulator.Errorf(simulator.EINVALID, "instanceKey", "is required: the order line ID of the purchase")
	}
	inst, err := t.tx.Instance(t.ctx, key)
	if simulator.ErrorCode(err) == simulator.ENOTFOUND {
		return inst, simulator.Product{}, simulator.Errorf(simulator.ENOTFOUND, "instanceKey", "no instance %q: instances are known by the order line ID of their purchase", key)
	}
	if err != nil {
		return inst, simulator.Product{}, err
	}
	p, err := t.tx.Product(t.ctx, inst.ProductID)
	return inst, p, err
}

// onInstance runs an action on an existing instance: fn runs once check
// allows the instance's state.
func (e *Engine) onInstance(ctx context.Context, key string, check func(simulator.Instance) error, fn func(t *txn, inst simulator.Instance, p simulator.Product) error) error {
	return e.update(ctx, func(t *txn) error {
		inst, p, err := t.instance(key)
		if err != nil {
			return err
		}
		if p.Generic() {
			return simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s is of product %s, on the generic order notification (orderNotify): the docs define no later callback for such a product, so the marketplace acts on it no further (callbacks.md §5.15)",
				inst.Key, p.ID)
		}
		if err := check(inst); err != nil {
			return err
		}
		return fn(t, inst, p)
	})
}

// in is the check that an action is allowed only in the states named.
func in(action string, states ...simulator.InstanceState) func(simulator.Instance) error {
	return func(inst simulator.Instance) error { return allow(inst, action, states...) }
}

// put stores an instance as of now. A change of its state moves its
// License codes in the same transaction (moveLicenses).
func (t *txn) put(inst simulator.Instance) error {
	prev, err := t.tx.Instance(t.ctx, inst.Key)
	switch {
	case simulator.ErrorCode(err) == simulator.ENOTFOUND:
		prev = simulator.Instance{} // a new instance has no codes yet
	case err != nil:
		return err
	}
	return t.putOver(prev, inst)
}

// putOver is put for a caller that read the stored instance, prev, in
// this transaction (the zero Instance for a new one), and so spares
// reading it again: a purchase and its settlement each did.
func (t *txn) putOver(prev, inst simulator.Instance) error {
	inst.UpdatedAt = t.now
	if err := t.tx.PutInstance(t.ctx, inst); err != nil {
		return err
	}
	if prev.State == inst.State && prev.FrozenBy == inst.FrozenBy {
		return nil
	}
	return t.moveLicenses(prev, inst)
}

// describe says where an instance stands, for refusals.
func describe(inst simulator.Instance) string {
	switch inst.State {
	case simulator.Provisioning:
		return "is still PROVISIONING: its purchase callback has not been acknowledged yet"
	case simulator.NeverProvisioned:
		return "was NEVER_PROVISIONED: its purchase failed and was unsubscribed"
	case simulator.Released:
		return "was RELEASED"
	case simulator.Frozen:
		return fmt.Sprintf("is FROZEN (%s)", strings.ToLower(inst.FrozenBy))
	}
	return "is " + string(inst.State)
}

// allow refuses action unless inst is in one of the states allowed.
func allow(inst simulator.Instance, action string, allowed ...simulator.InstanceState) error {
	if slices.Contains(allowed, inst.State) {
		return nil
	}
	names := make([]string, len(allowed))
	for i, s := range allowed {
		names[i] = string(s)
	}
	return simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s %s; %s is allowed only for %s instances",
		inst.Key, describe(inst), action, strings.Join(names, " or "))
}

// periodic refuses action for an instance of a product without periods.
func periodic(inst simulator.Instance, p simulator.Product, action string) error {
	if p.ChargingMode != simulator.Period {
		return simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s is of product %s, charged %s; %s applies to PERIOD (yearly/monthly) products only",
			inst.Key, p.ID, p.ChargingMode, action)
	}
	return nil
}

// target is the product an order moves an instance to: the instance's own
// unless another is named, which must be reachable from it.
func (t *txn) target(inst simulator.Instance, p simulator.Product, id string) (simulator.Product, error) {
	if id == "" || id == p.ID {
		return p, nil
	}
	to, err := t.product("productId", id)
	if err != nil {
		return to, err
	}
	switch {
	case to.Protocol != p.Protocol:
		return to, simulator.Errorf(simulator.EINVALID, "productId", "product %s uses protocol %s and instance %s's product %s uses %s; an instance cannot change protocol",
			to.ID, to.Protocol, inst.Key, p.ID, p.Protocol)
	case to.License != p.License:
		return to, simulator.Errorf(simulator.EINVALID, "productId", "product %s and instance %s's product %s are not both License products or both SaaS", to.ID, inst.Key, p.ID)
	}
	return to, nil
}

// periodNumber checks a number of periods bought; 0 means 1. The field is
// an Integer of at most 2 digits (callbacks.md §5.2).
func periodNumber(n int) (int, error) {
	switch {
	case n == 0:
		return 1, nil
	case n < 1 || n > 99:
		return 0, simulator.Errorf(simulator.EINVALID, "periodNumber", "%d: must be 1 to 99", n)
	}
	return n, nil
}

// checkAmount checks an order amount as the callbacks carry it: a decimal
// of CNY with at most 3 decimals (callbacks.md §5.1); empty is none.
func checkAmount(s string) error {
	if s == "" {
		return nil
	}
	whole, frac, dotted := strings.Cut(s, ".")
	if whole == "" || len(frac) > 3 || dotted && frac == "" || strings.Trim(whole+frac, "0123456789") != "" {
		return simulator.Errorf(simulator.EINVALID, "amount", "%q is not an amount: digits with at most 3 decimals, e.g. 12.78", s)
	}
	return nil
}

// negate is the amount of an unsubscribed renewal period: the renewal's,
// negative (callbacks.md §5.2).
func negate(amount string) string {
	if amount == "" || strings.Trim(amount, "0.") == "" {
		return amount
	}
	return "-" + amount
}

// addPeriods is t plus n periods of a product (year or month). A day that
// the target month lacks is clamped to its last day (Jan 31 + 1 month =
// Feb 28), as billing periods are, instead of overflowing into the next
// month as time.AddDate does.
func addPeriods(t time.Time, periodType string, n int) time.Time {
	months := n
	if periodType == "year" {
		months = 12 * n
	}
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}
