package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
)

// License codes (open-api.md §5): the seller center's test codes, which a
// merchant's License software activates and checks through the open APIs.
// The admin API creates them and moves them by hand; the lifecycle of the
// instance a code was created for moves it too, in the transaction that
// changes the instance (moveLicenses).

// licenseCodeLen is the number of characters after "PL" (String(64) in
// the spec; the docs' examples are PLXXXXXX).
const licenseCodeLen = 30

// licenseAlphabet is what a code is made of: upper-case letters and
// digits, which a buyer can read out and type.
const licenseAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// CreateLicense creates an unclaimed test code for a License product of
// a seller, tied to the purchase order orderID (its instance's lifecycle
// then moves the code) or, when orderID is empty, to no order.
func (e *Engine) CreateLicense(ctx context.Context, productID, orderID string) (simulator.License, error) {
	var l simulator.License
	err := e.update(ctx, func(t *txn) error {
		p, err := t.product("productId", productID)
		if err != nil {
			return err
		}
		switch {
		case !p.License:
			return simulator.Errorf(simulator.EINVALID, "productId", "product %s is not a License product (\"license\": true); License codes are for License products", p.ID)
		case p.SellerID == "":
			return simulator.Errorf(simulator.EINVALID, "productId", "product %s has no sellerId, so no seller's AK could activate its codes: give the product its seller first", p.ID)
		}
		l = simulator.License{ProductID: p.ID, State: simulator.LicenseUnclaimed, Amount: 1, CreatedAt: t.now, UpdatedAt: t.now}
		if orderID != "" {
			if err := t.licensedOrder(&l, p, orderID); err != nil {
				return err
			}
		}
		if l.Code, err = t.licenseCode(); err != nil {
			return err
		}
		return t.tx.PutLicense(ctx, l)
	})
	return l, err
}

// licensedOrder ties l to a purchase order of product p whose instance is
// still there.
func (t *txn) licensedOrder(l *simulator.License, p simulator.Product, orderID string) error {
	o, err := t.tx.Order(t.ctx, orderID)
	if simulator.ErrorCode(err) == simulator.ENOTFOUND {
		return simulator.Errorf(simulator.ENOTFOUND, "orderId", "no order %q", orderID)
	}
	if err != nil {
		return err
	}
	if o.Kind != simulator.NewPurchase {
		return simulator.Errorf(simulator.EINVALID, "orderId", "order %s is a %s order; codes are created for the purchase that created the instance (%s)", o.ID, o.Kind, o.InstanceKey)
	}
	inst, err := t.tx.Instance(t.ctx, o.InstanceKey)
	if err != nil {
		return err
	}
	switch {
	case inst.ProductID != p.ID:
		return simulator.Errorf(simulator.EINVALID, "orderId", "order %s's instance %s is of product %s, not %s", o.ID, inst.Key, inst.ProductID, p.ID)
	case inst.State == simulator.Released || inst.State == simulator.NeverProvisioned || inst.State == simulator.Frozen && inst.FrozenBy == simulator.FrozenExpired:
		return simulator.Errorf(simulator.ECONFLICT, "orderId", "order %s's instance %s %s; codes are created for instances in use", o.ID, inst.Key, describe(inst))
	}
	l.OrderID, l.InstanceKey = o.ID, inst.Key
	l.Amount = max(o.LinearAmount, 1)
	return nil
}

// licenseCode draws a code no other code has.
func (t *txn) licenseCode() (string, error) {
	for range 8 {
		s, err := protocol.RandomText(t.e.random(), licenseAlphabet, licenseCodeLen)
		if err != nil {
			return "", err
		}
		_, err = t.tx.License(t.ctx, "PL"+s)
		switch simulator.ErrorCode(err) {
		case simulator.ENOTFOUND:
			return "PL" + s, nil
		case "":
			continue // taken: 36^30 codes make this all but impossible
		}
		return "", err
	}
	return "", fmt.Errorf("no free License code after 8 draws")
}

// LicenseAction is a move of a code the admin API makes.
type LicenseAction string

const (
	// ClaimLicense: the buyer received the code (UNCLAIMED to CLAIMED).
	ClaimLicense LicenseAction = "claim"
	// ExpireLicense: the code expires (UNCLAIMED, CLAIMED or ACTIVATED to
	// EXPIRED).
	ExpireLicense LicenseAction = "expire"
	// ReleaseLicense: the code is released (any state but RELEASED).
	ReleaseLicense LicenseAction = "release"
)

// MoveLicense moves a code by hand.
func (e *Engine) MoveLicense(ctx context.Context, code string, a LicenseAction) (simulator.License, error) {
	var l simulator.License
	err := e.update(ctx, func(t *txn) error {
		var err error
		l, err = t.tx.License(ctx, code)
		if simulator.ErrorCode(err) == simulator.ENOTFOUND {
			return simulator.Errorf(simulator.ENOTFOUND, "license", "no License code %q", code)
		}
		if err != nil {
			return err
		}
		allowed, to := licenseMove(a)
		if allowed == nil {
			return simulator.Errorf(simulator.EINVALID, "action", "%q is not one of claim, expire, release", a)
		}
		if !slices.Contains(allowed, l.State) {
			names := make([]string, len(allowed))
			for i, s := range allowed {
				names[i] = string(s)
			}
			return simulator.Errorf(simulator.ECONFLICT, "license", "code %s is %s; %s applies to %s codes only", l.Code, l.State, a, strings.Join(names, " or "))
		}
		if a == ClaimLicense {
			l.ClaimedAt = t.now
		}
		l.State, l.UpdatedAt = to, t.now
		return t.tx.PutLicense(ctx, l)
	})
	return l, err
}

// moveLicenses moves the codes of an instance whose state changed from
// prev to inst: a release (or a purchase that failed) releases them, an
// expiry expires them, and the renewal that unfreezes an expired
// instance brings them back to where they were.
func (t *txn) moveLicenses(prev, inst simulator.Instance) error {
	expired := func(i simulator.Instance) bool {
		return i.State == simulator.Frozen && i.FrozenBy == simulator.FrozenExpired
	}
	var move func(l simulator.License) simulator.LicenseState
	switch {
	case inst.State == simulator.Released || inst.State == simulator.NeverProvisioned:
		move = func(simulator.License) simulator.LicenseState { return simulator.LicenseReleased }
	case expired(inst) && !expired(prev):
		move = func(l simulator.License) simulator.LicenseState {
			if l.State == simulator.LicenseReleased {
				return l.State
			}
			return simulator.LicenseExpired
		}
	case expired(prev) && inst.State == simulator.Active:
		move = func(l simulator.License) simulator.LicenseState {
			if l.State != simulator.LicenseExpired {
				return l.State
			}
			return l.Resumed()
		}
	default:
		return nil
	}
	codes, err := t.tx.Licenses(t.ctx, simulator.LicenseFilter{InstanceKey: inst.Key})
	if err != nil {
		return err
	}
	for _, l := range codes {
		if to := move(l); to != l.State {
			l.State, l.UpdatedAt = to, t.now
			if err := t.tx.PutLicense(t.ctx, l); err != nil {
				return err
			}
		}
	}
	return nil
}

// licenseMove is the states an action applies to and the state it
// leads to; nil for an unknown action.
func licenseMove(a LicenseAction) ([]simulator.LicenseState, simulator.LicenseState) {
	switch a {
	case ClaimLicense:
		return []simulator.LicenseState{simulator.LicenseUnclaimed}, simulator.LicenseClaimed
	case ExpireLicense:
		return []simulator.LicenseState{simulator.LicenseUnclaimed, simulator.LicenseClaimed, simulator.LicenseActivated}, simulator.LicenseExpired
	case ReleaseLicense:
		return []simulator.LicenseState{simulator.LicenseUnclaimed, simulator.LicenseClaimed, simulator.LicenseActivated, simulator.LicenseExpired}, simulator.LicenseReleased
	}
	return nil, ""
}
