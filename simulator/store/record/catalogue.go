package record

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
func (tb Tables) PutProduct(ctx context.Context, p simulator.Product) error {
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
	return putDoc(ctx, tb.c, "products", p.ID, doc)
}

func scanProduct(r Row) (simulator.Product, error) {
	var doc productDoc
	if err := scanDoc(r, &doc); err != nil {
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
func (tb Tables) Product(ctx context.Context, id string) (simulator.Product, error) {
	return One(ctx, tb.c, scanProduct, simulator.Errorf(simulator.ENOTFOUND, "productId", "no product %s", id),
		selectProduct, id)
}

// Products lists the products in the order they were first stored.
func (tb Tables) Products(ctx context.Context) ([]simulator.Product, error) {
	return List(ctx, tb.c, scanProduct, `SELECT doc FROM products ORDER BY seq`)
}

// PutCustomer stores a customer, replacing the one with its ID. Customer
// has only strings, so its own JSON form reads back exactly.
func (tb Tables) PutCustomer(ctx context.Context, c simulator.Customer) error {
	if c.ID == "" {
		return simulator.Errorf(simulator.EINVALID, "customerId", "is required to store a customer")
	}
	return putDoc(ctx, tb.c, "customers", c.ID, c)
}

func scanCustomer(r Row) (simulator.Customer, error) {
	var c simulator.Customer
	err := scanDoc(r, &c)
	return c, err
}

// selectCustomer is hot: every order query reads the buyer.
const selectCustomer = `SELECT doc FROM customers WHERE id = ?`

// Customer returns one stored customer.
func (tb Tables) Customer(ctx context.Context, id string) (simulator.Customer, error) {
	return One(ctx, tb.c, scanCustomer, simulator.Errorf(simulator.ENOTFOUND, "customerId", "no customer %s", id),
		selectCustomer, id)
}

// Customers lists the customers in the order they were first stored.
func (tb Tables) Customers(ctx context.Context) ([]simulator.Customer, error) {
	return List(ctx, tb.c, scanCustomer, `SELECT doc FROM customers ORDER BY seq`)
}

// putDoc upserts a JSON document into table; a replaced row keeps its seq.
func putDoc(ctx context.Context, c Conn, table, id string, doc any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = c.Exec(ctx, `INSERT INTO `+table+` (id, doc) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`, id, string(b))
	return err
}

// scanDoc reads a row of one JSON document into doc.
func scanDoc(r Row, doc any) error {
	var b []byte
	if err := r.Scan(&b); err != nil {
		return err
	}
	return json.Unmarshal(b, doc)
}
