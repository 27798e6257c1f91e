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
// Every purchase reads its product and customer in its transaction.
func (s store) Product(ctx context.Context, id string) (simulator.Product, error) {
	p, err := fromMemo(s, s.memo.products, id, func() (simulator.Product, error) { return s.Tables.Product(ctx, id) })
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
	return fromMemo(s, s.memo.customers, id, func() (simulator.Customer, error) { return s.Tables.Customer(ctx, id) })
}
