package engine

import (
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/protocol"
)

// The parameters of each activity, per protocol, in the order of the
// spec's field tables (callbacks.md §5). Lifecycle calls are live traffic
// and carry no testFlag (§2.6). Members whose value is the instance's
// merchant ID are only built once that ID is known: every action but the
// purchase requires an acknowledged instance.

// purchase is the callback of a new purchase: V1 newInstance with the
// whole order and the buyer (§5.1), V1 getLicense for a V1 License product
// (§5.16, "parameters like V1 newInstance"), V2 the thin newInstance
// (§5.8), or orderNotify for a product on the generic order notification
// (§5.15). businessId holds the order's ID only to keep the member's
// place: the activity table's rows of newInstance and getLicense take a
// fresh businessId on every attempt (Spec.FreshBusinessID), which
// delivery.NewRequest draws ("每一次请求,businessId皆不一致").
func (t *txn) purchase(p simulator.Product, c simulator.Customer, o simulator.Order) (*params, error) {
	if p.Generic() {
		return orderNotify(o), nil
	}
	if p.Protocol == simulator.V2 && p.NewInstanceShape == simulator.RichShape {
		return t.richPurchase(p, c, o)
	}
	if p.Protocol == simulator.V2 {
		return newParams(activity.NewInstance).
			str("orderId", o.ID).
			str("orderLineId", o.LineID).
			str("businessId", o.ID), nil
	}
	name := activity.NewInstance
	if p.License {
		name = activity.GetLicense
	}
	ps, err := t.buyer(newParams(name), p, c, true)
	if err != nil {
		return nil, err
	}
	return ps.
		str("businessId", o.ID).
		str("orderId", o.ID).
		str("productId", o.ProductID).
		str("skuCode", o.SKUCode).
		str("trialFlag", trialFlag(o)).
		str("chargingMode", string(p.ChargingMode)).
		str("periodType", o.PeriodType).
		num("periodNumber", o.PeriodNumber).
		decimal("orderAmount", o.Amount).
		str("expireTime", expireTime(o.ExpireTime)).
		num("amount", o.LinearAmount).
		num("diskSize", o.DiskSize).
		num("bandWidth", o.Bandwidth), nil
}

// buyer adds the buyer's members to ps: IDs and names, then the phone
// and e-mail, encrypted as V1 sends them (§3.5, §6) unless sent plain.
func (t *txn) buyer(ps *params, p simulator.Product, c simulator.Customer, encrypted bool) (*params, error) {
	ps.str("customerId", c.ID).
		str("customerName", c.Name).
		str("userId", c.UserID).
		str("userName", c.UserName)
	if !encrypted {
		return ps.str("mobilePhone", c.MobilePhone).str("email", c.Email), nil
	}
	if c.MobilePhone == "" && c.Email == "" {
		return ps, nil
	}
	variant, err := protocol.ParseEncryptType(p.EncryptType)
	if err != nil {
		return nil, err
	}
	cipher := protocol.NewFieldCipher(p.AccessKey, variant)
	for _, f := range []struct{ name, plain string }{{"mobilePhone", c.MobilePhone}, {"email", c.Email}} {
		if f.plain == "" {
			continue
		}
		// A fresh iv per value, as the reference code draws it (§6).
		iv, err := protocol.NewIV(t.e.random())
		if err != nil {
			return nil, err
		}
		v, err := cipher.Encrypt(f.plain, iv)
		if err != nil {
			return nil, err
		}
		ps.str(f.name, v)
	}
	return ps, nil
}

func trialFlag(o simulator.Order) string {
	if o.Trial {
		return "1"
	}
	return "0"
}

// richPurchase is the rich V2 newInstance, the 2024 example's shape
// (callbacks.md §5.8): buyerInfo and one orderInfo entry with its
// productInfo, nested members in the order listed there; the contact
// fields encrypted as V1's unless the product sends them plain. Its
// businessId, in orderInfo, is replaced on every attempt like the thin
// body's.
func (t *txn) richPurchase(p simulator.Product, c simulator.Customer, o simulator.Order) (*params, error) {
	buyer, err := t.buyer(newObject(), p, c, !p.PlaintextContact)
	if err != nil {
		return nil, err
	}
	product := newObject().
		str("skuCode", o.SKUCode).
		str("productId", o.ProductID).
		num("linearValue", o.LinearAmount)
	order := newObject().
		str("businessId", o.ID).
		str("orderId", o.ID).
		str("trialFlag", trialFlag(o)).
		decimal("orderAmount", o.Amount).
		str("chargingMode", string(p.ChargingMode)).
		str("periodType", o.PeriodType).
		num("periodNumber", o.PeriodNumber).
		raw("productInfo", list(product)).
		str("createTime", expireTime(o.CreatedAt)).
		str("expireTime", expireTime(o.ExpireTime))
	return newParams(activity.NewInstance).
		raw("buyerInfo", buyer.bytes()).
		raw("orderInfo", list(order)), nil
}

// orderNotify tells a merchant on the generic order notification of a
// paid order (§5.15): the order's IDs only, in the order of the docs'
// example; the merchant reads the rest through the order query. It has
// no businessId.
func orderNotify(o simulator.Order) *params {
	return newParams(activity.OrderNotify).
		str("orderId", o.ID).
		str("orderLineId", o.LineID)
}

// list is a JSON array of one object.
func list(o *params) []byte { return append(append([]byte{'['}, o.bytes()...), ']') }

// refresh tells the merchant of a renewal, a trial turned formal, an
// unsubscribed renewal period or a renewal with a spec change: V1
// refreshInstance (§5.2), V2 refreshInstance with its scene (§5.10).
// productId is sent only when the order moves the instance to another
// product (a period type change).
func refresh(p simulator.Product, inst simulator.Instance, o simulator.Order) *params {
	productID := ""
	if o.ProductID != inst.ProductID {
		productID = o.ProductID
	}
	if p.Protocol == simulator.V2 {
		return newParams(activity.RefreshInstance).
			str("scene", string(o.Kind)).
			str("orderId", o.ID).
			str("orderLineId", o.LineID).
			str("instanceId", inst.ID).
			str("productId", productID).
			str("expireTime", expireTime(o.ExpireTime))
	}
	trialToFormal := ""
	if o.Kind == simulator.TrialToFormal {
		trialToFormal = "1"
	}
	return newParams(activity.RefreshInstance).
		str("orderId", o.ID).
		str("instanceId", inst.ID).
		str("productId", productID).
		str("expireTime", expireTime(o.ExpireTime)).
		str("trialToFormal", trialToFormal).
		str("periodType", o.PeriodType).
		num("periodNumber", o.PeriodNumber).
		decimal("orderAmount", o.Amount)
}

// expire freezes an instance at its expiry: V1 expireInstance with the
// purchase order (§5.3), V2 updateInstanceStatus FREEZE (§5.11).
func expire(p simulator.Product, inst simulator.Instance) *params {
	if p.Protocol == simulator.V2 {
		return status(p, inst, true)
	}
	return newParams(activity.ExpireInstance).
		str("instanceId", inst.ID).
		str("orderId", inst.OrderID)
}

// status freezes or unfreezes an instance: V1 instanceStatus FREEZE or
// NORMAL (§5.6), V2 updateInstanceStatus FREEZE or UNFREEZE (§5.11).
func status(p simulator.Product, inst simulator.Instance, freeze bool) *params {
	if p.Protocol == simulator.V2 {
		s := "UNFREEZE"
		if freeze {
			s = "FREEZE"
		}
		return newParams(activity.UpdateInstanceStatus).
			str("instanceId", inst.ID).
			str("status", s)
	}
	s := "NORMAL"
	if freeze {
		s = "FREEZE"
	}
	return newParams(activity.InstanceStatus).
		str("instanceId", inst.ID).
		str("instanceStatus", s)
}

// release ends an instance: V1 releaseInstance with the purchase order
// (§5.4), V2 releaseInstance with the unsubscribe order when the buyer
// unsubscribed (§5.12); unsub is nil for a release after retention.
func release(p simulator.Product, inst simulator.Instance, unsub *simulator.Order) *params {
	if p.Protocol == simulator.V1 {
		return newParams(activity.ReleaseInstance).
			str("instanceId", inst.ID).
			str("orderId", inst.OrderID)
	}
	ps := newParams(activity.ReleaseInstance).str("instanceId", inst.ID)
	if unsub != nil {
		ps.str("orderId", unsub.ID).str("orderLineId", unsub.LineID)
	}
	return ps
}

// upgrade tells the merchant of a paid upgrade: V1 upgrade with the new
// spec (§5.5), V2 upgradeInstance with the upgrade order (§5.13).
func upgrade(p simulator.Product, inst simulator.Instance, o simulator.Order) *params {
	if p.Protocol == simulator.V2 {
		return newParams(activity.UpgradeInstance).
			str("instanceId", inst.ID).
			str("orderId", o.ID).
			str("orderLineId", o.LineID)
	}
	return newParams(activity.Upgrade).
		str("instanceId", inst.ID).
		str("orderId", o.ID).
		str("skuCode", o.SKUCode).
		str("productId", o.ProductID).
		num("amount", o.LinearAmount).
		num("diskSize", o.DiskSize).
		num("bandWidth", o.Bandwidth)
}

// changeCheck asks a V2 merchant whether a renewal may change the spec
// (§5.14); productInfo is the target spec, members as the rich
// newInstance example has them.
func changeCheck(inst simulator.Instance, o simulator.Order) *params {
	info := newObject().str("skuCode", o.SKUCode).str("productId", o.ProductID).num("linearValue", o.LinearAmount)
	return newParams(activity.ChangeInstanceCheck).
		str("instanceId", inst.ID).
		raw("productInfo", info.bytes())
}

// query is the buyer's "查询资源信息": queryInstance for one instance
// (§5.7, §5.9).
func query(inst simulator.Instance) *params {
	return newParams(activity.QueryInstance).str("instanceId", inst.ID)
}

// license asks a V2 License merchant for a License (§5.17): effective now,
// until the instance's expiry for periodic products.
func license(inst simulator.Instance, eventID, fingerprint string, now, expireAt time.Time) *params {
	return newParams(activity.GetLicenseAsync).
		str("instanceId", inst.ID).
		str("effectiveTime", licenseTime(now)).
		str("expireTime", licenseTime(expireAt)).
		str("eventId", eventID).
		str("deviceFingerprint", fingerprint)
}
