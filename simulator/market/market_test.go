package market

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kgsim/kgsim/fixtures"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// start is one start of kgsim on the database at path with the sample
// catalogue, less the products and sellers it leaves out: what kgsim
// serve does at start.
func start(t *testing.T, path string, cat fixtures.Catalogue) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Config{Store: db, Clock: schedule.NewVirtual(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		Products: cat.Products, Customers: cat.Customers, Sellers: cat.Sellers})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return db
}

// The fixtures seed an empty database and never overwrite what the admin
// API changed: an edited product, customer and seller are as edited after
// a restart with the same fixtures, while a fixture entry the database
// lacks is added.
func TestFixturesNeverOverwriteEdits(t *testing.T) {
	ctx := context.Background()
	cat, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Products) < 2 || len(cat.Customers) == 0 || len(cat.Sellers) == 0 {
		t.Fatalf("the sample catalogue has %d products, %d customers, %d sellers; the test needs 2, 1, 1", len(cat.Products), len(cat.Customers), len(cat.Sellers))
	}
	path := filepath.Join(t.TempDir(), "kgsim.db")
	first := cat
	first.Products = cat.Products[1:]
	db := start(t, path, first)
	p, c, s := cat.Products[1], cat.Customers[0], cat.Sellers[0]
	p.Name, p.URL, p.Status = "Edited", "https://edited.example/produce", simulator.FrozenHidden
	c.Name = "Edited Ltd"
	s.Name = "Edited seller"
	if err := db.Update(ctx, func(tx simulator.Tx) error {
		if err := tx.PutProduct(ctx, p); err != nil {
			return err
		}
		if err := tx.PutCustomer(ctx, c); err != nil {
			return err
		}
		return tx.PutSeller(ctx, s)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = start(t, path, cat)
	defer db.Close()
	if got, err := db.Product(ctx, p.ID); err != nil || got.Name != "Edited" || got.URL != p.URL || got.Status != simulator.FrozenHidden {
		t.Errorf("product after a restart: %+v, %v; want the edits kept", got, err)
	}
	if got, err := db.Customer(ctx, c.ID); err != nil || got.Name != "Edited Ltd" {
		t.Errorf("customer after a restart: %+v, %v; want the edit kept", got, err)
	}
	if got, err := db.Seller(ctx, s.ID); err != nil || got.Name != "Edited seller" {
		t.Errorf("seller after a restart: %+v, %v; want the edit kept", got.Name, err)
	}
	if got, err := db.Product(ctx, cat.Products[0].ID); err != nil || got.Name != cat.Products[0].Name || got.Status != simulator.OnSale {
		t.Errorf("a fixture product the database lacked: %+v, %v; want it added, on sale", got, err)
	}
}
