package sqlite

import (
	"errors"
	"testing"

	"github.com/kgsim/kgsim/simulator"
)

// A transaction reads products and customers through the memo, and still
// sees its own writes; what it wrote and rolled back is not remembered.
func TestMemoInTransactions(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, t.TempDir()+"/kgsim.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PutProduct(ctx, simulator.Product{ID: "P1", Name: "old"}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCustomer(ctx, simulator.Customer{ID: "C1", Name: "old"}); err != nil {
		t.Fatal(err)
	}
	// Read outside a transaction: now remembered.
	if p, err := db.Product(ctx, "P1"); err != nil || p.Name != "old" {
		t.Fatalf("Product = %+v, %v", p, err)
	}
	if c, err := db.Customer(ctx, "C1"); err != nil || c.Name != "old" {
		t.Fatalf("Customer = %+v, %v", c, err)
	}
	undo := errors.New("undo")
	err = db.Update(ctx, func(tx simulator.Tx) error {
		if p, err := tx.Product(ctx, "P1"); err != nil || p.Name != "old" {
			t.Errorf("in the transaction, before writing: Product = %+v, %v", p, err)
		}
		if err := tx.PutProduct(ctx, simulator.Product{ID: "P1", Name: "new"}); err != nil {
			return err
		}
		if err := tx.PutCustomer(ctx, simulator.Customer{ID: "C1", Name: "new"}); err != nil {
			return err
		}
		if p, err := tx.Product(ctx, "P1"); err != nil || p.Name != "new" {
			t.Errorf("in the transaction that wrote it: Product = %+v, %v; want its own write", p, err)
		}
		if c, err := tx.Customer(ctx, "C1"); err != nil || c.Name != "new" {
			t.Errorf("in the transaction that wrote it: Customer = %+v, %v; want its own write", c, err)
		}
		return undo
	})
	if !errors.Is(err, undo) {
		t.Fatalf("Update = %v, want the rollback's error", err)
	}
	if p, err := db.Product(ctx, "P1"); err != nil || p.Name != "old" {
		t.Errorf("after the rollback: Product = %+v, %v; want the stored one", p, err)
	}
	if c, err := db.Customer(ctx, "C1"); err != nil || c.Name != "old" {
		t.Errorf("after the rollback: Customer = %+v, %v; want the stored one", c, err)
	}
	err = db.Update(ctx, func(tx simulator.Tx) error {
		return tx.PutProduct(ctx, simulator.Product{ID: "P1", Name: "committed"})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, func(tx simulator.Tx) error {
		if p, err := tx.Product(ctx, "P1"); err != nil || p.Name != "committed" {
			t.Errorf("in a later transaction: Product = %+v, %v; want the committed one", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
