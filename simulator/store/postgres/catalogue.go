package postgres

import (
	"context"
	"encoding/json"

	"github.com/kgsim/kgsim/simulator"
)

// productDoc is a Product as stored.
type productDoc struct {
	productFields
	// Cases are the DebugCases with their parameters as bytes: marshalled
	// as json.RawMessage they would come back compacted.
	Cases []debugCaseDoc
}

// productFields are Product's fields without its JSON tags, so that an
// empty list and no list read back as they were written (omitempty would
// turn both into nil). The conversions to and from Product stop compiling
// when Product gains a field, so none is dropped unnoticed.
type productFields struct {
	ID               string
	SKUCode          string
	Name             string
	ChargingMode     simulator.ChargingMode
	PeriodType       string
	Trial            bool
	License          bool
	URL              string
	Protocol         simulator.Protocol
	AccessKey        string
	EncryptType      string
	DialTests        bool
	RequireBodySign  bool
	NewInstanceShape string
	PlaintextContact bool
	InterfaceType    string
	OrderNotifyKey   string
	TrialDays        int
	NoticeTo         []string
	DebugCases       []simulator.DebugCase `json:"-"`
	Status           simulator.ProductStatus
	SellerID         string
}

type debugCaseDoc struct {
	Activity string
	Params   []byte
}

// PutProduct stores a product, replacing the one with its ID. The access
// key is stored with it: delivery signs with it.
func (s store) PutProduct(ctx context.Context, p simulator.Product) error {
	if p.ID == "" {
		return simulator.Errorf(simulator.EINVALID, "productId", "is required to store a product")
	}
	doc := productDoc{productFields: productFields(p)}
	if p.DebugCases != nil {
		doc.Cases = make([]debugCaseDoc, len(p.DebugCases))
		for i, c := range p.DebugCases {
			doc.Cases[i] = debugCaseDoc{c.Activity, c.Params}
		}
	}
	return putDoc(ctx, s, "products", p.ID, doc)
}

func scanProduct(s scanner) (simulator.Product, error) {
	var doc productDoc
	if err := scanDoc(s, &doc); err != nil {
		return simulator.Product{}, err
	}
	if doc.Cases != nil {
		doc.DebugCases = make([]simulator.DebugCase, len(doc.Cases))
		for i, c := range doc.Cases {
			doc.DebugCases[i] = simulator.DebugCase{Activity: c.Activity, Params: c.Params}
		}
	}
	return simulator.Product(doc.productFields), nil
}

// selectProduct is hot: delivery reads the product for its key on every
// attempt.
const selectProduct = `SELECT doc FROM products WHERE id = ?`

// Product returns one stored product.
func (s store) Product(ctx context.Context, id string) (simulator.Product, error) {
	return one(ctx, s, scanProduct, simulator.Errorf(simulator.ENOTFOUND, "productId", "no product %s", id),
		selectProduct, id)
}

// Products lists the products in the order they were first stored.
func (s store) Products(ctx context.Context) ([]simulator.Product, error) {
	return list(ctx, s, scanProduct, `SELECT doc FROM products ORDER BY seq`)
}

// PutCustomer stores a customer, replacing the one with its ID. Customer
// has only strings, so its own JSON form reads back exactly.
func (s store) PutCustomer(ctx context.Context, c simulator.Customer) error {
	if c.ID == "" {
		return simulator.Errorf(simulator.EINVALID, "customerId", "is required to store a customer")
	}
	return putDoc(ctx, s, "customers", c.ID, c)
}

func scanCustomer(s scanner) (simulator.Customer, error) {
	var c simulator.Customer
	err := scanDoc(s, &c)
	return c, err
}

// Customer returns one stored customer.
func (s store) Customer(ctx context.Context, id string) (simulator.Customer, error) {
	return one(ctx, s, scanCustomer, simulator.Errorf(simulator.ENOTFOUND, "customerId", "no customer %s", id),
		`SELECT doc FROM customers WHERE id = ?`, id)
}

// Customers lists the customers in the order they were first stored.
func (s store) Customers(ctx context.Context) ([]simulator.Customer, error) {
	return list(ctx, s, scanCustomer, `SELECT doc FROM customers ORDER BY seq`)
}

// putDoc upserts a JSON document into table; a replaced row keeps its seq.
func putDoc(ctx context.Context, s store, table, id string, doc any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO `+table+` (id, doc) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`, id, string(b))
	return err
}

func scanDoc(s scanner, doc any) error {
	var b []byte
	if err := s.Scan(&b); err != nil {
		return err
	}
	return json.Unmarshal(b, doc)
}
