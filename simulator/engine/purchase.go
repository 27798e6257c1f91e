package engine

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Purchase is what a buyer orders.
type Purchase struct {
	ProductID, CustomerID string
	SKUCode               string // the product's when empty
	Trial                 bool   // a trial, for products that offer one
	PeriodNumber          int    // periods bought (PERIOD products); 0 means 1
	Amount                string // CNY paid, at most 3 decimals; empty sends none
	// Linear attributes of the spec: quantity, GB, Mbps.
	LinearAmount, DiskSize, Bandwidth int
}

// Buy places a new purchase: a paid order and its instance, PROVISIONING
// until the merchant acknowledges the purchase callback (newInstance, or
// getLicense for a V1 License product). Products frozen or delisted cannot
// be bought. The instance is known by the order's line ID (its Key).
func (e *Engine) Buy(ctx context.Context, pu Purchase) (simulator.Order, simulator.Instance, error) {
	var o simulator.Order
	var inst simulator.Instance
	err := e.update(ctx, func(t *txn) error {
		p, err := t.product("productId", pu.ProductID)
		if err != nil {
			return err
		}
		if err := simulator.CheckID("customerId", pu.CustomerID); err != nil {
			return err
		}
		c, err := t.tx.Customer(ctx, pu.CustomerID)
		if simulator.ErrorCode(err) == simulator.ENOTFOUND {
			return simulator.Errorf(simulator.ENOTFOUND, "customerId", "no customer %q", pu.CustomerID)
		}
		if err != nil {
			return err
		}
		if o, err = t.purchaseOrder(p, pu); err != nil {
			return err
		}
		inst = simulator.Instance{
			Key: o.LineID, ProductID: p.ID, SKUCode: o.SKUCode, CustomerID: c.ID,
			OrderID: o.ID, OrderLineID: o.LineID, State: simulator.Provisioning, Trial: o.Trial,
			// The expiry is known, but nothing is scheduled until the
			// instance exists for the merchant (NextEventAt stays zero).
			ExpireAt: o.ExpireTime, CreatedAt: t.now,
		}
		o.InstanceKey = inst.Key
		if err := t.tx.PutOrder(ctx, o); err != nil {
			return err
		}
		// A new order's line: no instance has its key.
		if err := t.putOver(simulator.Instance{}, inst); err != nil {
			return err
		}
		ps, err := t.purchase(p, c, o)
		if err != nil {
			return err
		}
		_, err = t.send(p, inst, o.ID, o.LineID, ps)
		return err
	})
	if err != nil {
		return simulator.Order{}, simulator.Instance{}, err
	}
	inst.UpdatedAt = inst.CreatedAt
	return o, inst, nil
}

// purchaseOrder checks a purchase against its product and makes its order.
func (t *txn) purchaseOrder(p simulator.Product, pu Purchase) (simulator.Order, error) {
	switch p.Status {
	case simulator.FrozenHidden, simulator.Delisted:
		return simulator.Order{}, simulator.Errorf(simulator.ECONFLICT, "productId", "product %s is %s and cannot be bought; only ON_SALE products can", p.ID, p.Status)
	}
	sku := pu.SKUCode
	if sku == "" {
		sku = p.SKUCode
	}
	if pu.Trial && !p.Trial {
		return simulator.Order{}, simulator.Errorf(simulator.EINVALID, "trial", "product %s offers no trial", p.ID)
	}
	n := 0
	switch {
	case p.ChargingMode == simulator.Period && !pu.Trial:
		var err error
		if n, err = periodNumber(pu.PeriodNumber); err != nil {
			return simulator.Order{}, err
		}
	case pu.PeriodNumber != 0:
		return simulator.Order{}, simulator.Errorf(simulator.EINVALID, "periodNumber", "%d: only a formal purchase of a PERIOD product buys periods", pu.PeriodNumber)
	}
	if err := checkAmount(pu.Amount); err != nil {
		return simulator.Order{}, err
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"linearAmount", pu.LinearAmount}, {"diskSize", pu.DiskSize}, {"bandwidth", pu.Bandwidth}} {
		if f.v < 0 || f.v > 9999999 { // Integer of at most 7 digits (callbacks.md §5.5)
			return simulator.Order{}, simulator.Errorf(simulator.EINVALID, f.name, "%d: must be 0 to 9999999", f.v)
		}
	}
	o, err := t.newOrder(simulator.NewPurchase)
	if err != nil {
		return o, err
	}
	o.ProductID, o.SKUCode, o.CustomerID = p.ID, sku, pu.CustomerID
	o.Trial, o.Amount = pu.Trial, pu.Amount
	o.LinearAmount, o.DiskSize, o.Bandwidth = pu.LinearAmount, pu.DiskSize, pu.Bandwidth
	switch {
	case pu.Trial:
		days := p.TrialDays
		if days == 0 {
			days = 7
		}
		o.ExpireTime = t.now.AddDate(0, 0, days)
	case p.ChargingMode == simulator.Period:
		o.PeriodType, o.PeriodNumber = p.PeriodType, n
		o.ExpireTime = addPeriods(t.now, p.PeriodType, n)
	}
	return o, nil
}

// newOrder makes a processing order of kind with a fresh ID. Its first
// draw is ordered in time within the minute (inTimeOrder), so that the
// purchases committed together land side by side, on a page or two, in
// each index keyed by an order or line ID (orders, instances, messages by
// order and by queue) rather than each on pages of its own; should it be
// taken (a virtual clock standing still fills its 46,656 of an instant),
// the other draws are wholly random, as every draw was before.
func (t *txn) newOrder(kind simulator.OrderKind) (simulator.Order, error) {
	for i := range 8 {
		id, err := orderID(t.now, t.e.random())
		if err != nil {
			return simulator.Order{}, err
		}
		if i == 0 {
			id = inTimeOrder(id, t.now)
		}
		_, err = t.tx.Order(t.ctx, id)
		switch simulator.ErrorCode(err) {
		case simulator.ENOTFOUND:
			return simulator.Order{ID: id, LineID: id + "-000001", Kind: kind, State: simulator.OrderProcessing, CreatedAt: t.now}, nil
		case "":
			continue // taken: 36^3 IDs a step, 36^5 a minute, make this rare
		}
		return simulator.Order{}, err
	}
	return simulator.Order{}, fmt.Errorf("no free order ID for %s after 8 draws", t.now.Format("2006-01-02 15:04"))
}

// idAlphabet is the characters after an order ID's minute.
const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// orderID makes an order ID as the docs show them (CS2211181819B4LVS):
// CS, the minute in Beijing time as yyMMddHHmm, and 5 random characters
// of [0-9A-Z].
func orderID(now time.Time, random io.Reader) (string, error) {
	b := []byte("CS" + now.In(simulator.Beijing()).Format("0601021504") + "00000")
	for i := len(b) - 5; i < len(b); i++ {
		var r [1]byte
		for {
			if _, err := io.ReadFull(random, r[:]); err != nil {
				return "", err
			}
			if r[0] < 252 { // 7 * 36: keeps the characters uniform
				break
			}
		}
		b[i] = idAlphabet[r[0]%36]
	}
	return string(b), nil
}

// inTimeOrder returns orderID's id with its first two characters after
// the minute replaced by where now falls in that minute, in 1,296 steps
// of 46.3 ms: IDs made later in a minute sort later, and those made in
// one step differ in three random characters. The form stays the docs'.
func inTimeOrder(id string, now time.Time) string {
	ms := now.Second()*1000 + now.Nanosecond()/int(time.Millisecond)
	step := ms * len(idAlphabet) * len(idAlphabet) / 60000
	b := []byte(id)
	b[len(b)-5], b[len(b)-4] = idAlphabet[step/len(idAlphabet)], idAlphabet[step%len(idAlphabet)]
	return string(b)
}
