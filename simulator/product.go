package simulator

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
)

// ChargingMode is how a product is sold (callbacks.md §1).
type ChargingMode string

const (
	Period      ChargingMode = "PERIOD"        // yearly or monthly
	OneTime     ChargingMode = "ONE_TIME"      // pay once
	OnDemand    ChargingMode = "ON_DEMAND"     // pay per use, usage pushed by the merchant
	OnDemandPkg ChargingMode = "ON_DEMAND_PKG" // a package of usage
)

// Product is a SaaS product listed on the marketplace, with the production
// interface the marketplace calls for it.
type Product struct {
	ID           string       `json:"productId"`
	SKUCode      string       `json:"skuCode"`
	Name         string       `json:"name"`
	ChargingMode ChargingMode `json:"chargingMode"`
	PeriodType   string       `json:"periodType,omitempty"` // year or month, for PERIOD
	Trial        bool         `json:"trial,omitempty"`      // offers a trial that can turn formal
	License      bool         `json:"license,omitempty"`    // a License product rather than SaaS
	URL          string       `json:"url"`                  // the production interface
	Protocol     Protocol     `json:"protocol"`
	// AccessKey is the secret both sides sign with. It is never logged,
	// stored in messages or attempts, or shown by the admin API.
	AccessKey string `json:"accessKey"`
	// EncryptType is the AES variant of sensitive request fields: "1"
	// (AES-256, the default) or "2".
	EncryptType string `json:"encryptType,omitempty"`
	DialTests   bool   `json:"dialTests"` // replay saved debug cases twice a day
	// RequireBodySign makes a V2 answer without Body-Sign a failure
	// rather than a warning (callbacks.md §4.6, v2RequireBodySign).
	RequireBodySign bool `json:"v2RequireBodySign,omitempty"`
	// NewInstanceShape is the V2 newInstance body: ThinShape (the
	// default, the current field table) or RichShape, the 2024 example's
	// buyerInfo and orderInfo (callbacks.md §5.8, v2NewInstanceShape).
	NewInstanceShape string `json:"v2NewInstanceShape,omitempty"`
	// PlaintextContact sends the rich body's mobilePhone and email
	// unencrypted, as that example does (v2PlaintextContact).
	PlaintextContact bool `json:"v2PlaintextContact,omitempty"`
	// InterfaceType is how the marketplace tells the merchant of a paid
	// order: BasicInterface (the default) sends newInstance and the
	// lifecycle callbacks; GenericInterface, the generic order
	// notification ("通用接口"), sends orderNotify instead and nothing
	// later (callbacks.md §5.15).
	InterfaceType string `json:"interfaceType,omitempty"`
	// OrderNotifyKey is the key bound to the generic interface, which
	// signs orderNotify; the seller center binds a key of its own to each
	// interface type. Kept like AccessKey: never logged, stored in
	// messages or attempts, or shown by the admin API.
	OrderNotifyKey string `json:"orderNotifyKey,omitempty"`
	// TrialDays is how long a trial runs before it expires; 0 means 7.
	TrialDays int `json:"trialDays,omitempty"`
	// NoticeTo are the merchant's mailboxes failure notices go to: the
	// account mailbox and the customer-service mailbox (callbacks.md §12).
	NoticeTo []string `json:"noticeTo,omitempty"`
	// DebugCases are the calls saved in the seller center's debugger
	// ("调测并保存用例"); dial tests replay them.
	DebugCases []DebugCase `json:"debugCases,omitempty"`
	// Status is set by the marketplace, not by the merchant: empty in a
	// fixture means on sale.
	Status ProductStatus `json:"status,omitempty"`
	// SellerID is the seller account that owns the product: the open APIs
	// answer only that seller's AK about its orders and instances. Empty
	// means none, and no open-API call reaches the product.
	SellerID string `json:"sellerId,omitempty"`
}

// The shapes of a V2 newInstance body (callbacks.md §5.8).
const (
	ThinShape = "thin"
	RichShape = "rich"
)

// The interface types a product's orders are notified through
// (callbacks.md §5.15).
const (
	BasicInterface   = "basic"
	GenericInterface = "generic"
)

// Generic reports whether p's orders are notified with orderNotify.
func (p *Product) Generic() bool { return p.InterfaceType == GenericInterface }

// ProductStatus is whether a product can be bought.
type ProductStatus string

const (
	OnSale ProductStatus = "ON_SALE"
	// FrozenHidden: 5 consecutive days of failed dial tests froze trading
	// and hid the product (callbacks.md §11).
	FrozenHidden ProductStatus = "FROZEN_HIDDEN"
	// Delisted: more than 5 orders failed in a calendar month
	// (callbacks.md §9.2), or an operator's decision.
	Delisted ProductStatus = "DELISTED"
)

// DebugCase is one saved debugger call: an activity and its parameters
// (a JSON object, testFlag excluded: debug calls always carry "1").
type DebugCase struct {
	Activity string          `json:"activity"`
	Params   json.RawMessage `json:"params"`
}

// Validate checks a product's configuration, naming the field at fault.
func (p *Product) Validate() error {
	if err := CheckID("productId", p.ID); err != nil {
		return err
	}
	if err := CheckID("skuCode", p.SKUCode); err != nil {
		return err
	}
	if err := CheckText("name", p.Name); err != nil {
		return err
	}
	switch {
	case !slices.Contains([]ChargingMode{Period, OneTime, OnDemand, OnDemandPkg}, p.ChargingMode):
		return Errorf(EINVALID, "chargingMode", "%q is not one of PERIOD, ONE_TIME, ON_DEMAND, ON_DEMAND_PKG", p.ChargingMode)
	case p.ChargingMode == Period && p.PeriodType != "year" && p.PeriodType != "month":
		return Errorf(EINVALID, "periodType", "%q: a PERIOD product needs year or month", p.PeriodType)
	case p.ChargingMode != Period && p.PeriodType != "":
		return Errorf(EINVALID, "periodType", "only PERIOD products have one")
	case p.Protocol != V1 && p.Protocol != V2:
		return Errorf(EINVALID, "protocol", "%q is neither v1 nor v2", p.Protocol)
	case p.AccessKey == "":
		return Errorf(EINVALID, "accessKey", "is required: the key bound to the basic interfaces in the seller center")
	case p.TrialDays < 0:
		return Errorf(EINVALID, "trialDays", "%d: must not be negative", p.TrialDays)
	case p.Status != "" && !slices.Contains([]ProductStatus{OnSale, FrozenHidden, Delisted}, p.Status):
		return Errorf(EINVALID, "status", "%q is not one of ON_SALE, FROZEN_HIDDEN, DELISTED", p.Status)
	case p.EncryptType != "" && p.EncryptType != "1" && p.EncryptType != "2":
		return Errorf(EINVALID, "encryptType", "%q is neither \"1\" (AES-256) nor \"2\" (AES-128)", p.EncryptType)
	case p.NewInstanceShape != "" && p.NewInstanceShape != ThinShape && p.NewInstanceShape != RichShape:
		return Errorf(EINVALID, "v2NewInstanceShape", "%q is neither thin nor rich", p.NewInstanceShape)
	case (p.NewInstanceShape != "" || p.PlaintextContact) && (p.Protocol != V2 || p.License):
		return Errorf(EINVALID, "v2NewInstanceShape", "is for V2 SaaS products, whose purchase is newInstance")
	case p.PlaintextContact && p.NewInstanceShape != RichShape:
		return Errorf(EINVALID, "v2PlaintextContact", "is for the rich newInstance body, the only V2 body with a buyer's contact")
	case p.InterfaceType != "" && p.InterfaceType != BasicInterface && p.InterfaceType != GenericInterface:
		return Errorf(EINVALID, "interfaceType", "%q is neither basic nor generic", p.InterfaceType)
	case p.Generic() && (p.Protocol != V2 || p.License):
		return Errorf(EINVALID, "interfaceType", "generic is for V2 SaaS products: the generic order notification (orderNotify) is a V2 call")
	case p.Generic() && p.NewInstanceShape != "":
		return Errorf(EINVALID, "v2NewInstanceShape", "a generic product is sent orderNotify, not newInstance")
	case p.Generic() && p.OrderNotifyKey == "":
		return Errorf(EINVALID, "orderNotifyKey", "is required for a generic product: the key bound to the generic interface (通用接口) in the seller center")
	case !p.Generic() && p.OrderNotifyKey != "":
		return Errorf(EINVALID, "orderNotifyKey", "is for generic products (interfaceType generic), whose orderNotify it signs")
	case p.Generic() && p.OrderNotifyKey == p.AccessKey:
		return Errorf(EINVALID, "orderNotifyKey", "equals accessKey: the seller center binds a different key to each interface type")
	}
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return Errorf(EINVALID, "url", "%q is not an absolute http(s) URL without a #fragment", p.URL)
	}
	for i, c := range p.DebugCases {
		if c.Activity == "" {
			return Errorf(EINVALID, fmt.Sprintf("debugCases[%d].activity", i), "is required")
		}
		if len(c.Params) > 0 && !json.Valid(c.Params) || len(c.Params) > 0 && c.Params[0] != '{' {
			return Errorf(EINVALID, fmt.Sprintf("debugCases[%d].params", i), "must be a JSON object")
		}
	}
	for i, to := range p.NoticeTo {
		if _, err := mail.ParseAddress(to); err != nil {
			return Errorf(EINVALID, fmt.Sprintf("noticeTo[%d]", i), "%q is not an e-mail address", to)
		}
	}
	return nil
}

// Customer is a buyer, with the fields the callbacks carry about them.
// MobilePhone and Email are plaintext here and encrypted on the wire.
type Customer struct {
	ID          string `json:"customerId"`
	Name        string `json:"customerName"`
	UserID      string `json:"userId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	MobilePhone string `json:"mobilePhone,omitempty"`
	Email       string `json:"email,omitempty"`
}

// Validate checks a customer, naming the field at fault.
func (c *Customer) Validate() error {
	if err := CheckID("customerId", c.ID); err != nil {
		return err
	}
	if c.Name == "" {
		return Errorf(EINVALID, "customerName", "is required")
	}
	for _, f := range []struct{ name, value string }{
		{"customerName", c.Name}, {"userId", c.UserID}, {"userName", c.UserName}, {"mobilePhone", c.MobilePhone}, {"email", c.Email},
	} {
		if err := CheckText(f.name, f.value); err != nil {
			return err
		}
	}
	return nil
}
