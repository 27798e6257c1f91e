package simulator

import (
	"context"
	"time"
)

// LicenseState is where a License code (授权码) stands (open-api.md §5).
type LicenseState string

const (
	// LicenseUnclaimed: created, not yet received by the buyer; the
	// merchant cannot activate it (92020004).
	LicenseUnclaimed LicenseState = "UNCLAIMED"
	// LicenseClaimed: received by the buyer, ready to be activated.
	LicenseClaimed LicenseState = "CLAIMED"
	// LicenseActivated: activated by the merchant's License software;
	// the heartbeat answers ALIVE.
	LicenseActivated LicenseState = "ACTIVATED"
	// LicenseExpired: its instance expired, or the admin API expired it;
	// a renewal that brings the instance back brings the code back.
	LicenseExpired LicenseState = "EXPIRED"
	// LicenseReleased: its instance was released or never provisioned,
	// or the admin API released it. Final.
	LicenseReleased LicenseState = "RELEASED"
)

// License is a test License code: what the seller center hands a
// merchant to try activation and the heartbeat with, tied to an order
// kgsim placed (and so to its instance's lifecycle) or to none.
type License struct {
	Code      string `json:"license"` // PL followed by 30 letters and digits
	ProductID string `json:"productId"`
	// OrderID is the purchase the code was created for, and InstanceKey
	// its instance; both empty for a code tied to no order.
	OrderID     string       `json:"orderId,omitempty"`
	InstanceKey string       `json:"instanceKey,omitempty"`
	State       LicenseState `json:"state"`
	// Amount is the number of licences the code grants: the order's
	// linear amount, 1 without one.
	Amount    int       `json:"amount"`
	CreatedAt time.Time `json:"createdAt"`
	ClaimedAt time.Time `json:"claimedAt,omitzero"`
	// ActivatedAt is when the code takes effect: the real_effect_time the
	// merchant gave, or when it was activated.
	ActivatedAt time.Time `json:"activatedAt,omitzero"`
	// LastHeartbeatAt is the last heartbeat (query) of the code.
	LastHeartbeatAt time.Time `json:"lastHeartbeatAt,omitzero"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// Resumed is the state an expired code returns to when its instance is
// in use again: activated if it had been, else claimed or unclaimed.
func (l *License) Resumed() LicenseState {
	switch {
	case !l.ActivatedAt.IsZero():
		return LicenseActivated
	case !l.ClaimedAt.IsZero():
		return LicenseClaimed
	}
	return LicenseUnclaimed
}

// LicenseFilter selects License codes; zero fields match all.
type LicenseFilter struct {
	ProductID, OrderID, InstanceKey string
	State                           LicenseState
	Limit                           int // 0 means no limit
	Page                                // After: a code
}

// LicenseTx stores License codes. Reads of a missing code return an
// ENOTFOUND error.
type LicenseTx interface {
	// PutLicense stores a code, replacing the one with its Code; a code
	// keeps its place in listings.
	PutLicense(ctx context.Context, l License) error
	License(ctx context.Context, code string) (License, error)
	// Licenses lists codes in the order they were first stored.
	Licenses(ctx context.Context, f LicenseFilter) ([]License, error)
}
