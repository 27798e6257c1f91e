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
	db := open(t, t.TempDir()+"/kgsim.db")
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
	err := db.Update(ctx, func(tx simulator.Tx) error {
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

// A transaction's read of a record no write in it has touched fills the
// memo, even if the transaction then rolls back; one after such a write
// does not.
func TestMemoFilledInTransactions(t *testing.T) {
	ctx := t.Context()
	db := open(t, t.TempDir()+"/kgsim.db")
	defer db.Close()
	for _, id := range []string{"C1", "C2"} {
		if err := db.PutCustomer(ctx, simulator.Customer{ID: id, Name: "stored"}); err != nil {
			t.Fatal(err)
		}
	}
	undo := errors.New("undo")
	err := db.Update(ctx, func(tx simulator.Tx) error {
		if _, err := tx.Customer(ctx, "C1"); err != nil {
			return err
		}
		if err := tx.PutCustomer(ctx, simulator.Customer{ID: "C2", Name: "rolled back"}); err != nil {
			return err
		}
		if c, err := tx.Customer(ctx, "C2"); err != nil || c.Name != "rolled back" {
			t.Errorf("in the transaction that wrote it: Customer = %+v, %v; want its own write", c, err)
		}
		return undo
	})
	if !errors.Is(err, undo) {
		t.Fatalf("Update = %v, want the rollback's error", err)
	}
	db.memo.mu.Lock()
	c1, ok1 := db.memo.customers["C1"]
	_, ok2 := db.memo.customers["C2"]
	db.memo.mu.Unlock()
	if !ok1 || c1.Name != "stored" {
		t.Errorf("the memo after a transaction read C1 = %+v, %v; want it remembered", c1, ok1)
	}
	if ok2 {
		t.Error("the memo holds C2, read after a write in a transaction that rolled back")
	}
	if c, err := db.Customer(ctx, "C2"); err != nil || c.Name != "stored" {
		t.Errorf("after the rollback: Customer = %+v, %v; want the stored one", c, err)
	}
}
