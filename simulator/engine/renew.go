package engine

import (
	"context"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Renewal is a renewal order, or the order that turns a trial formal.
type Renewal struct {
	PeriodNumber int    // periods bought; 0 means 1
	Amount       string // CNY paid, at most 3 decimals; empty sends none
	// ProductID, when set, moves the instance to another product: a
	// change of period type (month to year) is a change of product
	// (callbacks.md §5.2).
	ProductID string
}

// Change is a change of spec: of SKU, of product, of the linear amount.
type Change struct {
	SKUCode, ProductID string // the instance's when empty; SKUCode defaults to the product's
	LinearAmount       int    // quantity; 0 keeps it
	PeriodNumber       int    // ChangeSpec only: periods renewed; 0 means 1
}

// Renew renews a periodic instance: a new order, refreshInstance with the
// new expiry counted from the current one. An instance frozen at expiry is
// unfrozen, after the refresh (callbacks.md §2.1 step 3); one frozen for a
// violation stays frozen.
func (e *Engine) Renew(ctx context.Context, instanceKey string, r Renewal) (simulator.Order, error) {
	var o simulator.Order
	err := e.onInstance(ctx, instanceKey, in("renew", simulator.Active, simulator.Frozen), func(t *txn, inst simulator.Instance, p simulator.Product) error {
		if err := periodic(inst, p, "renew"); err != nil {
			return err
		}
		if inst.Trial {
			return simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s is a trial; a trial is not renewed but turned formal (ConvertTrial)", inst.Key)
		}
		to, n, err := t.renewalTerms(inst, p, r)
		if err != nil {
			return err
		}
		o, err = t.renewalOrder(simulator.Renewal, inst, to, n, r.Amount)
		if err != nil {
			return err
		}
		o.ExpireTime = addPeriods(inst.ExpireAt, to.PeriodType, n)
		return t.renewed(inst, to, o)
	})
	return o, err
}

// ConvertTrial turns a trial formal: a conversion order whose period
// starts now (what is left of the trial is not added), refreshInstance
// with trialToFormal (V1) or scene TRIAL_TO_FORMAL (V2). A trial frozen at
// expiry is unfrozen.
func (e *Engine) ConvertTrial(ctx context.Context, instanceKey string, r Renewal) (simulator.Order, error) {
	var o simulator.Order
	err := e.onInstance(ctx, instanceKey, in("turning a trial formal", simulator.Active, simulator.Frozen), func(t *txn, inst simulator.Instance, p simulator.Product) error {
		if !inst.Trial {
			return simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s is not a trial; only a trial can be turned formal", inst.Key)
		}
		to, n, err := t.renewalTerms(inst, p, r)
		if err != nil {
			return err
		}
		if err := periodic(inst, to, "turning a trial formal"); err != nil {
			return err
		}
		o, err = t.renewalOrder(simulator.TrialToFormal, inst, to, n, r.Amount)
		if err != nil {
			return err
		}
		o.ExpireTime = addPeriods(t.now, to.PeriodType, n)
		inst.Trial = false
		return t.renewed(inst, to, o)
	})
	return o, err
}

// renewalTerms checks a renewal's terms: the product it moves to, the
// number of periods, the amount.
func (t *txn) renewalTerms(inst simulator.Instance, p simulator.Product, r Renewal) (simulator.Product, int, error) {
	n, err := periodNumber(r.PeriodNumber)
	if err != nil {
		return p, 0, err
	}
	if err := checkAmount(r.Amount); err != nil {
		return p, 0, err
	}
	to, err := t.target(inst, p, r.ProductID)
	if err != nil {
		return to, 0, err
	}
	if to.ChargingMode != simulator.Period {
		return to, 0, simulator.Errorf(simulator.EINVALID, "productId", "product %s is charged %s; a renewal needs a PERIOD product", to.ID, to.ChargingMode)
	}
	return to, n, nil
}

// renewalOrder makes an order of kind about inst for n periods of
// product to.
func (t *txn) renewalOrder(kind simulator.OrderKind, inst simulator.Instance, to simulator.Product, n int, amount string) (simulator.Order, error) {
	o, err := t.newOrder(kind)
	if err != nil {
		return o, err
	}
	o.InstanceKey, o.CustomerID = inst.Key, inst.CustomerID
	o.ProductID, o.SKUCode = to.ID, inst.SKUCode
	if to.ID != inst.ProductID {
		o.SKUCode = to.SKUCode
	}
	o.PeriodType, o.PeriodNumber, o.Amount = to.PeriodType, n, amount
	return o, nil
}

// renewed stores an order that sets inst's expiry to o.ExpireTime and
// sends its refresh; an instance frozen at expiry is unfrozen after it.
// The expiry is the marketplace's as soon as the buyer has paid: if the
// refresh stalls, the order does, not the renewal.
func (t *txn) renewed(inst simulator.Instance, to simulator.Product, o simulator.Order) error {
	if err := t.tx.PutOrder(t.ctx, o); err != nil {
		return err
	}
	if _, err := t.send(to, inst, o.ID, o.LineID, refresh(to, inst, o)); err != nil {
		return err
	}
	inst.ProductID, inst.SKUCode = o.ProductID, o.SKUCode
	inst.ExpireAt, inst.NextEventAt = o.ExpireTime, o.ExpireTime
	if inst.State == simulator.Frozen && inst.FrozenBy == simulator.FrozenExpired {
		inst.State, inst.FrozenBy = simulator.Active, ""
		if _, err := t.send(to, inst, o.ID, o.LineID, status(to, inst, false)); err != nil {
			return err
		}
	}
	return t.put(inst)
}

// UnsubscribeRenewal unsubscribes the last renewal period of an instance,
// if it has not started: a new order with the renewal's amount negated and
// the expiry it replaced, refreshInstance (V2 scene
// UNSUBSCRIBE_RENEWAL_PERIOD).
func (e *Engine) UnsubscribeRenewal(ctx context.Context, instanceKey string) (simulator.Order, error) {
	var o simulator.Order
	err := e.onInstance(ctx, instanceKey, in("unsubscribing a renewal period", simulator.Active, simulator.Frozen), func(t *txn, inst simulator.Instance, p simulator.Product) error {
		if err := periodic(inst, p, "unsubscribing a renewal period"); err != nil {
			return err
		}
		last, previous, err := t.lastRenewal(inst)
		if err != nil {
			return err
		}
		if o, err = t.newOrder(simulator.UnsubscribeRenewal); err != nil {
			return err
		}
		o.InstanceKey, o.CustomerID, o.ProductID, o.SKUCode = inst.Key, inst.CustomerID, inst.ProductID, inst.SKUCode
		o.PeriodType, o.PeriodNumber, o.Amount = last.PeriodType, last.PeriodNumber, negate(last.Amount)
		o.ExpireTime = previous
		return t.renewed(inst, p, o)
	})
	return o, err
}

// lastRenewal finds the renewal in force on inst and the expiry it
// extended, refusing when there is none or its period has begun.
func (t *txn) lastRenewal(inst simulator.Instance) (simulator.Order, time.Time, error) {
	orders, err := t.tx.Orders(t.ctx, simulator.OrderFilter{InstanceKey: inst.Key})
	if err != nil {
		return simulator.Order{}, time.Time{}, err
	}
	// The expiries in force, oldest first: each renewal pushes one, each
	// unsubscribed renewal pops one.
	var stack []simulator.Order
	for _, o := range orders {
		if o.State == simulator.OrderFailedUnsubscribed || o.State == simulator.OrderRefused || o.ExpireTime.IsZero() {
			continue
		}
		switch o.Kind {
		case simulator.UnsubscribeRenewal:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case simulator.Upgrade, simulator.Unsubscribe:
		default:
			stack = append(stack, o)
		}
	}
	if len(stack) < 2 || (stack[len(stack)-1].Kind != simulator.Renewal && stack[len(stack)-1].Kind != simulator.RenewalChange) {
		return simulator.Order{}, time.Time{}, simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s has no renewal period to unsubscribe", inst.Key)
	}
	last, previous := stack[len(stack)-1], stack[len(stack)-2].ExpireTime
	switch {
	case !last.ExpireTime.Equal(inst.ExpireAt):
		return last, previous, simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s: renewal order %s is not in force yet (%s)", inst.Key, last.ID, last.State)
	case !previous.After(t.now):
		return last, previous, simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s: the period of renewal order %s began at %s; a period that has begun cannot be unsubscribed, only the instance (Unsubscribe)",
			inst.Key, last.ID, previous.UTC().Format(time.RFC3339))
	}
	return last, previous, nil
}
