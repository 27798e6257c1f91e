package simulator

import "time"

// OrderKind is what a buyer paid for (callbacks.md §2). Every kind but
// NewPurchase is about an instance that already exists.
type OrderKind string

const (
	NewPurchase        OrderKind = "NEW"
	Renewal            OrderKind = "RENEWAL"
	TrialToFormal      OrderKind = "TRIAL_TO_FORMAL"
	UnsubscribeRenewal OrderKind = "UNSUBSCRIBE_RENEWAL_PERIOD"
	RenewalChange      OrderKind = "RENEWAL_CHANGE" // a renewal that changes the spec
	Upgrade            OrderKind = "UPGRADE"
	Unsubscribe        OrderKind = "UNSUBSCRIBE" // ends the instance: releaseInstance
)

// OrderState is where an order stands in the marketplace's eyes.
type OrderState string

const (
	// OrderProcessing: paid, its callback not yet acknowledged.
	OrderProcessing OrderState = "PROCESSING"
	OrderCompleted  OrderState = "COMPLETED"
	// OrderFailedUnsubscribed: the callback's retries ran out; the order
	// failed and was unsubscribed automatically (callbacks.md §9.2).
	OrderFailedUnsubscribed OrderState = "FAILED_UNSUBSCRIBED"
	// OrderRefused: the merchant refused a spec change (changeInstanceCheck).
	OrderRefused OrderState = "REFUSED"
	// OrderStalled: a renewal whose callback stopped after its retries; the
	// seller center's restart can still complete it (callbacks.md §9.1).
	OrderStalled OrderState = "STALLED"
)

// Order is one paid order line. Renewals, upgrades and unsubscriptions are
// orders of their own, with their own IDs, about an existing instance.
type Order struct {
	ID     string    `json:"orderId"`     // CS2211181819B4LVS
	LineID string    `json:"orderLineId"` // CS2211181819B4LVS-000001
	Kind   OrderKind `json:"kind"`
	// InstanceKey is the marketplace's key of the instance the order is
	// for: the line ID of the purchase that created it.
	InstanceKey  string     `json:"instanceKey"`
	ProductID    string     `json:"productId"`
	SKUCode      string     `json:"skuCode"`
	CustomerID   string     `json:"customerId"`
	State        OrderState `json:"state"`
	Trial        bool       `json:"trial,omitempty"`
	PeriodType   string     `json:"periodType,omitempty"` // year or month
	PeriodNumber int        `json:"periodNumber,omitempty"`
	Amount       string     `json:"amount,omitempty"` // CNY, at most 3 decimals, as sent
	// Linear attributes of the spec bought (quantity, GB, Mbps).
	LinearAmount int `json:"linearAmount,omitempty"`
	DiskSize     int `json:"diskSize,omitempty"`
	Bandwidth    int `json:"bandwidth,omitempty"`
	// ExpireTime is the instance's expiry once this order is through
	// (periodic products), zero otherwise.
	ExpireTime time.Time `json:"expireTime,omitzero"`
	CreatedAt  time.Time `json:"createdAt"`
	// SettledAt is when the order reached its final state.
	SettledAt time.Time `json:"settledAt,omitzero"`
}

// InstanceState is the life of a SaaS instance as the marketplace sees it.
type InstanceState string

const (
	// Provisioning: newInstance (or its polling) not yet acknowledged.
	Provisioning InstanceState = "PROVISIONING"
	Active       InstanceState = "ACTIVE"
	Frozen       InstanceState = "FROZEN"
	Released     InstanceState = "RELEASED"
	// NeverProvisioned: the purchase failed; the instance never existed.
	NeverProvisioned InstanceState = "NEVER_PROVISIONED"
)

// Why an instance is frozen: it decides what unfreezes it.
const (
	FrozenExpired   = "EXPIRED"   // renewing unfreezes it
	FrozenViolation = "VIOLATION" // lifting the violation does
)

// Instance is a purchased SaaS instance. The marketplace knows it by Key
// from the moment of purchase; the merchant's instanceId (ID) is known once
// newInstance is answered.
type Instance struct {
	Key         string        `json:"instanceKey"` // the purchase's order line ID; also its delivery queue
	ID          string        `json:"instanceId,omitempty"`
	ProductID   string        `json:"productId"`
	SKUCode     string        `json:"skuCode"`
	CustomerID  string        `json:"customerId"`
	OrderID     string        `json:"orderId"` // the purchase order
	OrderLineID string        `json:"orderLineId"`
	State       InstanceState `json:"state"`
	Trial       bool          `json:"trial,omitempty"`
	FrozenBy    string        `json:"frozenBy,omitempty"`
	ExpireAt    time.Time     `json:"expireAt,omitzero"` // periodic and trial instances
	// NextEventAt is when the marketplace acts on the instance by itself
	// next: the freeze at expiry, the release after the retention period.
	// Zero when nothing is scheduled.
	NextEventAt time.Time `json:"nextEventAt,omitzero"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}
