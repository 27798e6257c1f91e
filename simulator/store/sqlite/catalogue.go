package sqlite

import (
	"context"

	"github.com/kgsim/kgsim/simulator"
)

// PutProduct stores a product as record does, forgetting the one the
// memo holds.
func (s store) PutProduct(ctx context.Context, p simulator.Product) error {
	return s.atomic(ctx, func(s store) error {
		forget(s.memo, s.memo.products, p.ID)
		return s.Tables.PutProduct(ctx, p)
	})
}

// Product returns one stored product, from the memo if it holds it.
func (s store) Product(ctx context.Context, id string) (simulator.Product, error) {
	read := func() (simulator.Product, error) { return s.Tables.Product(ctx, id) }
	if s.tx != nil {
		// Every purchase reads its product in its transaction.
		if p, ok := recall(s.memo, s.memo.products, id); ok {
			return cloneProduct(p), nil
		}
		return read()
	}
	p, err := remembered(s.memo, s.memo.products, id, read)
	return cloneProduct(p), err
}

// PutCustomer stores a customer as record does, forgetting the one the
// memo holds.
func (s store) PutCustomer(ctx context.Context, c simulator.Customer) error {
	return s.atomic(ctx, func(s store) error {
		forget(s.memo, s.memo.customers, c.ID)
		return s.Tables.PutCustomer(ctx, c)
	})
}

// Customer returns one stored customer, from the memo if it holds it.
func (s store) Customer(ctx context.Context, id string) (simulator.Customer, error) {
	read := func() (simulator.Customer, error) { return s.Tables.Customer(ctx, id) }
	if s.tx != nil {
		if c, ok := recall(s.memo, s.memo.customers, id); ok {
			return c, nil
		}
		return read()
	}
	return remembered(s.memo, s.memo.customers, id, read)
}
