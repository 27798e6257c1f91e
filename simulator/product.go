package simulator

import (
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
}

// Validate checks a product's configuration, naming the field at fault.
func (p *Product) Validate() error {
	switch {
	case p.ID == "":
		return Errorf(EINVALID, "productId", "is required")
	case p.SKUCode == "":
		return Errorf(EINVALID, "skuCode", "is required")
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
	case p.EncryptType != "" && p.EncryptType != "1" && p.EncryptType != "2":
		return Errorf(EINVALID, "encryptType", "%q is neither \"1\" (AES-256) nor \"2\" (AES-128)", p.EncryptType)
	}
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return Errorf(EINVALID, "url", "%q is not an absolute http(s) URL without a #fragment", p.URL)
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
	switch {
	case c.ID == "":
		return Errorf(EINVALID, "customerId", "is required")
	case c.Name == "":
		return Errorf(EINVALID, "customerName", "is required")
	}
	return nil
}
