package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
)

// DebugActivities are the activities the seller center's debugger (调试)
// offers for a product: those its protocol and kind are called with
// (callbacks.md §5), the purchase first.
func DebugActivities(p simulator.Product) []string {
	if p.Generic() {
		// Nothing follows the order notification (callbacks.md §5.15).
		return names(activity.OrderNotify)
	}
	var out []string
	if p.Protocol == simulator.V2 {
		out = names(activity.NewInstance, activity.QueryInstance, activity.RefreshInstance, activity.UpdateInstanceStatus,
			activity.ReleaseInstance, activity.UpgradeInstance, activity.ChangeInstanceCheck)
		if p.License {
			out = append(out, string(activity.GetLicenseAsync))
		}
	} else {
		purchase := activity.NewInstance
		if p.License {
			purchase = activity.GetLicense
		}
		out = names(purchase, activity.RefreshInstance, activity.ExpireInstance, activity.ReleaseInstance, activity.Upgrade,
			activity.InstanceStatus, activity.QueryInstance)
	}
	if p.ChargingMode != simulator.Period {
		// Every refreshInstance is about periods, so a product without
		// them is never sent one, and has no expireTime to send.
		out = slices.DeleteFunc(out, func(n string) bool { return n == string(activity.RefreshInstance) })
	}
	return out
}

// CheckDebugActivity refuses an activity the debugger does not offer for
// product p, saying which it offers and, for refreshInstance, why.
func CheckDebugActivity(p simulator.Product, name string) error {
	offered := DebugActivities(p)
	switch {
	case slices.Contains(offered, name):
		return nil
	case name == "":
		return simulator.Errorf(simulator.EINVALID, "activity", "is required: one of %v", offered)
	case name == string(activity.RefreshInstance) && p.ChargingMode != simulator.Period && !p.Generic():
		return simulator.Errorf(simulator.EINVALID, "activity", "refreshInstance is sent for PERIOD (yearly/monthly) products only: it tells of a renewal, a trial turned formal or a renewal period taken back, and its expireTime is mandatory (callbacks.md §2.1, §5.2, §5.10); product %s is charged %s: one of %v", p.ID, p.ChargingMode, offered)
	}
	return simulator.Errorf(simulator.EINVALID, "activity", "%q is not called for product %s (%s%s): one of %v", name, p.ID, p.Protocol, licenseWord(p), offered)
}

func names(ns ...activity.Name) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n)
	}
	return out
}

// DebugParams returns an activity's parameters as the debugger fills its
// form in for product p: the members a live call of the activity carries,
// built by the same code, for a sample buyer and order made up at now
// (periodic products: one period). instanceID is the instance the call is
// about, the merchant's own ID; an empty one is filled with a placeholder
// the merchant replaces by one it issued. The activity and testFlag are
// left out: the debugger sets them (testFlag "1").
func (e *Engine) DebugParams(p simulator.Product, name, instanceID string, now time.Time) (json.RawMessage, error) {
	if err := CheckDebugActivity(p, name); err != nil {
		return nil, err
	}
	spec, _ := activity.Lookup(p.Protocol, name)
	// Not e.Random: it is read only inside transactions, and sample
	// values need not repeat.
	random := rand.Reader
	id, err := orderID(now, random)
	if err != nil {
		return nil, err
	}
	o := simulator.Order{ID: id, LineID: id + "-000001", Kind: simulator.Renewal, ProductID: p.ID, SKUCode: p.SKUCode, CreatedAt: now}
	if p.ChargingMode == simulator.Period {
		o.PeriodType, o.PeriodNumber, o.ExpireTime = p.PeriodType, 1, addPeriods(now, p.PeriodType, 1)
	}
	customer, err := sampleID(random)
	if err != nil {
		return nil, err
	}
	user, err := sampleID(random)
	if err != nil {
		return nil, err
	}
	if instanceID == "" {
		instanceID = "<instanceId>"
	}
	inst := simulator.Instance{ID: instanceID, ProductID: p.ID, OrderID: o.ID, OrderLineID: o.LineID, CustomerID: customer, ExpireAt: o.ExpireTime}
	var ps *params
	switch spec.Event {
	case activity.Purchase:
		c := simulator.Customer{ID: customer, Name: "debug-buyer", UserID: user, UserName: "debug-user"}
		if ps, err = (&txn{e: e, now: now}).purchase(p, c, o); err != nil {
			return nil, err
		}
	case activity.Renewal:
		ps = refresh(p, inst, o)
	case activity.Expiry:
		ps = expire(p, inst)
	case activity.StatusChange:
		ps = status(p, inst, true)
	case activity.Release:
		ps = release(p, inst, nil)
	case activity.UpgradeEvent:
		ps = upgrade(p, inst, o)
	case activity.ChangeCheck:
		ps = changeCheck(inst, o)
	case activity.Query:
		ps = query(inst)
	case activity.License:
		event, err := sampleID(random)
		if err != nil {
			return nil, err
		}
		ps = license(inst, event, "", now, inst.ExpireAt)
	}
	// Every builder starts with the activity; the rest is the form's.
	prefix := append(append([]byte(`{"activity":`), quote(name)...), ',')
	rest, ok := bytes.CutPrefix(ps.bytes(), prefix)
	if !ok {
		return json.RawMessage(`{}`), nil
	}
	return append([]byte{'{'}, rest...), nil
}

func licenseWord(p simulator.Product) string {
	if p.License {
		return " License"
	}
	return ""
}

// sampleID is a made-up ID in the form of the docs' customer and user IDs:
// 32 hex digits.
func sampleID(random io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
