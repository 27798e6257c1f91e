package steps

import (
	"cmp"
	"slices"

	"github.com/kgsim/kgsim/simulator"
)

// The merchant's own catalogue (kgsim certify --catalogue): a merchant that
// checks each purchase against the products it sells refuses kgsim's
// sample product, and would fail for kgsim's reason, not its own. With a
// catalogue, each scenario buys one of the merchant's products, with its
// productId and skuCode.

// sampleProduct is what a scenario buys when the target has no catalogue.
const (
	productID = "OFFI000000000000CERT01"
	skuCode   = "cert-basic"
)

// CatalogueModes are the charging modes and kinds a catalogue sells, what
// a merchant that gives one declares unless it says otherwise: PERIOD,
// ON_DEMAND and ON_DEMAND_PKG products, a trial when a PERIOD product has
// one, License when a product is one. ONE_TIME products are certified by
// the checks every product takes, and declare no mode of their own.
// Products on the generic order notification declare none either: they
// get orderNotify and no other callback (callbacks.md §5.15).
func CatalogueModes(products []simulator.Product) (modes []simulator.ChargingMode, trial, license bool) {
	for _, p := range products {
		if p.Generic() {
			continue
		}
		if p.ChargingMode != simulator.OneTime && !slices.Contains(modes, p.ChargingMode) {
			modes = append(modes, p.ChargingMode)
		}
		trial = trial || p.Trial && p.ChargingMode == simulator.Period
		license = license || p.License
	}
	return modes, trial, license
}

// CheckCatalogue checks the target's catalogue, if it has one: every
// product valid once given the target's URL, protocol and access key
// (which the file may leave out, and which win over it), and a product
// for each mode and kind the target declares. Errors are about the field
// "catalogue".
func (t Target) CheckCatalogue() error {
	if t.Products == nil {
		return nil
	}
	t = t.withDefaults()
	if len(t.Products) == 0 {
		return simulator.Errorf(simulator.EINVALID, "catalogue", "lists no product: want a JSON array of products as kgsim serve --fixtures reads in products.json")
	}
	if !slices.ContainsFunc(t.Products, func(p simulator.Product) bool { return !p.Generic() }) {
		return simulator.Errorf(simulator.EINVALID, "catalogue", "lists only products on the generic order notification (interfaceType generic), which get orderNotify and nothing else: add a product on the basic interfaces, which every check but orderNotify's buys")
	}
	for i, p := range t.Products {
		p = t.asSold(p)
		// The URL is the target's, checked on its own; the container's
		// address is known only once it runs.
		p.URL = cmp.Or(p.URL, "http://merchant.invalid/produce")
		if err := p.Validate(); err != nil {
			return simulator.Errorf(simulator.EINVALID, "catalogue", "entry %d (%s): %v", i+1, p.ID, err)
		}
	}
	for _, m := range t.Modes {
		if _, ok := t.catalogueProduct(m, false, false); !ok {
			return simulator.Errorf(simulator.EINVALID, "catalogue", "no %s product, but the merchant declares %s (--modes): add one, or leave the mode out", m, modeName(m))
		}
	}
	if _, ok := t.catalogueProduct(simulator.Period, true, false); t.Trial && !ok {
		return simulator.Errorf(simulator.EINVALID, "catalogue", `no PERIOD product with "trial": true, but the merchant declares trial (--modes): add "trial": true to one, or leave trial out`)
	}
	if !t.License || slices.ContainsFunc(t.Products, func(p simulator.Product) bool { return p.License }) {
		return nil
	}
	return simulator.Errorf(simulator.EINVALID, "catalogue", `no product with "license": true, but the merchant declares license (--modes): add one, or leave license out`)
}

// modeName is a charging mode as --modes names it.
func modeName(m simulator.ChargingMode) string {
	switch m {
	case simulator.OnDemand:
		return "on-demand"
	case simulator.OnDemandPkg:
		return "package"
	case simulator.OneTime:
		return "one-time"
	}
	return "period"
}

// asSold is a catalogue product as a scenario's marketplace sells it: at
// the target's address, protocol and key, on sale, without the seller,
// dial tests and mailboxes of a running marketplace.
func (t Target) asSold(p simulator.Product) simulator.Product {
	p.URL, p.Protocol, p.AccessKey = t.URL, t.Protocol, t.AccessKey
	if t.EncryptType != "" {
		p.EncryptType = t.EncryptType
	}
	p.Status, p.SellerID, p.DialTests, p.DebugCases, p.NoticeTo = "", "", false, nil, nil
	return p
}

// catalogueProduct returns the catalogue's first product of a charging
// mode: a trial one if trial, a License one if license, else preferably
// not a License one (the SaaS checks buy it).
func (t Target) catalogueProduct(mode simulator.ChargingMode, trial, license bool) (simulator.Product, bool) {
	var fallback *simulator.Product
	for i, p := range t.Products {
		switch {
		case p.Generic(): // gets orderNotify only: genericProduct
		case p.ChargingMode != mode, trial && !p.Trial, license && !p.License:
		case p.License && !license:
			fallback = cmp.Or(fallback, &t.Products[i])
		default:
			return p, true
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return simulator.Product{}, false
}

// scenarioProduct is the product a scenario buys, before the world puts
// the proxy in front of it: the catalogue's of the scenario's mode and
// kind, or kgsim's sample product.
func (t Target) scenarioProduct(tags []string) simulator.Product {
	if p, ok := t.genericProduct(); ok && slices.Contains(tags, "@order-notify") {
		return p
	}
	mode, license := scenarioMode(t, tags)
	trial := slices.Contains(tags, "@trial")
	if t.Products != nil {
		p, ok := t.catalogueProduct(mode, trial, license)
		if !ok { // CheckCatalogue refuses such a target before any scenario
			p, _ = t.catalogueProduct(mode, false, false)
		}
		return t.asSold(p)
	}
	p := simulator.Product{
		ID: productID, SKUCode: skuCode, Name: "kgsim certification", ChargingMode: mode,
		Trial: t.Trial && mode == simulator.Period, License: license,
		URL: t.URL, Protocol: t.Protocol, AccessKey: t.AccessKey,
		// The merchant's one declared variant encrypts the buyer's
		// contact fields it receives as well as the appInfo it answers.
		EncryptType: t.EncryptType,
	}
	if mode == simulator.Period {
		p.PeriodType = "month"
	}
	return p
}

// NotifiesOrders reports whether the target has a product on the generic
// order notification to certify (callbacks.md §5.15): the @order-notify
// scenarios run only then.
func (t Target) NotifiesOrders() bool {
	_, ok := t.genericProduct()
	return ok
}

// genericProduct is the product the @order-notify scenarios buy: the
// catalogue's first on the generic order notification, its key the
// target's if it gives one, or, with the target's key, kgsim's sample
// product made one (orderNotify names no product: the merchant reads it
// from the order query).
func (t Target) genericProduct() (simulator.Product, bool) {
	for _, p := range t.Products {
		if p.Generic() {
			p = t.asSold(p)
			p.OrderNotifyKey = cmp.Or(t.OrderNotifyKey, p.OrderNotifyKey)
			return p, true
		}
	}
	if t.OrderNotifyKey == "" {
		return simulator.Product{}, false
	}
	return simulator.Product{
		ID: productID, SKUCode: skuCode, Name: "kgsim certification", ChargingMode: simulator.OneTime,
		URL: t.URL, Protocol: t.Protocol, AccessKey: t.AccessKey,
		InterfaceType: simulator.GenericInterface, OrderNotifyKey: t.OrderNotifyKey,
	}, true
}

// otherSpecification is another product of the same charging mode, for a
// V1 on-demand order of two specifications: the catalogue's next one, or
// kgsim's sample product's second specification. False when the catalogue
// has no other product of that mode.
func (t Target) otherSpecification(p simulator.Product) (id, sku string, ok bool) {
	if t.Products == nil {
		return p.ID + "2", p.SKUCode + "-2", true
	}
	for _, q := range t.Products {
		if q.ChargingMode == p.ChargingMode && (q.ID != p.ID || q.SKUCode != p.SKUCode) {
			return q.ID, q.SKUCode, true
		}
	}
	return "", "", false
}
