package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/kgsim/kgsim/simulator"
)

// A seller, product or customer read, then changed, reads back changed at
// once, and as it was when the change was rolled back: a store may keep
// what is read on every call in memory, but never hand out what was
// replaced.

func sellersFollowWrites(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	a := followsWrites(t, s, "seller of AK1", "AK1", simulator.Tx.PutSeller, simulator.Tx.SellerByAK, seller("S1", "AK1"),
		func(sl simulator.Seller) simulator.Seller { sl.SK = "sk-rotated"; return sl },
		func(sl simulator.Seller) simulator.Seller { sl.SK = "sk-never-committed"; return sl },
		func(sl simulator.Seller) simulator.Seller { sl.Name = "renamed in a transaction"; return sl })

	a.AK = "AK1-new"
	check(t, s.PutSeller(ctx, a))
	_, err := s.SellerByAK(ctx, "AK1")
	notFound(t, "AK1 once S1 holds another", err)
	got, err := s.SellerByAK(ctx, "AK1-new")
	equal(t, "seller of AK1-new", got, err, a)

	// The old AK, given to another seller, names that one.
	b := seller("S2", "AK1")
	check(t, s.PutSeller(ctx, b))
	got, err = s.SellerByAK(ctx, "AK1")
	equal(t, "seller of AK1 given to S2", got, err, b)
}

func productsFollowWrites(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	p := product("P1")
	p.SellerID, p.NoticeTo = "S1", []string{"ops@isv.example.com"}
	p = followsWrites(t, s, "product P1", "P1", simulator.Tx.PutProduct, simulator.Tx.Product, p,
		func(p simulator.Product) simulator.Product { p.SellerID, p.Name = "S2", "renamed"; return p },
		func(p simulator.Product) simulator.Product { p.Status = simulator.Delisted; return p },
		func(p simulator.Product) simulator.Product { p.Status = simulator.FrozenHidden; return p })

	// What a caller does to its copy changes no one else's.
	got, err := s.Product(ctx, "P1")
	check(t, err)
	got.NoticeTo[0] = "changed@example.com"
	got, err = s.Product(ctx, "P1")
	equal(t, "product P1 after a reader changed its copy", got, err, p)
}

func customersFollowWrites(t *testing.T, s simulator.Store) {
	followsWrites(t, s, "customer C1", "C1", simulator.Tx.PutCustomer, simulator.Tx.Customer,
		simulator.Customer{ID: "C1", Name: "Acme Ltd", Email: "ops@acme.example"},
		func(c simulator.Customer) simulator.Customer { c.Name, c.Email = "Acme Group", ""; return c },
		func(c simulator.Customer) simulator.Customer { c.MobilePhone = "13800000000"; return c },
		func(c simulator.Customer) simulator.Customer { c.UserName = "admin"; return c })
}

// followsWrites puts v and reads it under key; then changed(v), read
// back; rolledBack of that inside a transaction that fails, read back
// changed inside and as it was outside; and committed of it inside one
// that commits, read back outside. It returns the last.
func followsWrites[T any](t *testing.T, s simulator.Store, what, key string,
	put func(simulator.Tx, context.Context, T) error, get func(simulator.Tx, context.Context, string) (T, error),
	v T, changed, rolledBack, committed func(T) T) T {
	t.Helper()
	ctx := t.Context()
	check(t, put(s, ctx, v))
	got, err := get(s, ctx, key)
	equal(t, what, got, err, v)

	v = changed(v)
	check(t, put(s, ctx, v))
	got, err = get(s, ctx, key)
	equal(t, what+" after it changed", got, err, v)

	failed := errors.New("rolled back")
	err = s.Update(ctx, func(tx simulator.Tx) error {
		w := rolledBack(v)
		if err := put(tx, ctx, w); err != nil {
			return err
		}
		got, err := get(tx, ctx, key)
		equal(t, what+" inside the transaction", got, err, w)
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("Update = %v, want %v", err, failed)
	}
	got, err = get(s, ctx, key)
	equal(t, what+" after the rollback", got, err, v)

	v = committed(v)
	check(t, s.Update(ctx, func(tx simulator.Tx) error { return put(tx, ctx, v) }))
	got, err = get(s, ctx, key)
	equal(t, what+" after the transaction", got, err, v)
	return v
}
