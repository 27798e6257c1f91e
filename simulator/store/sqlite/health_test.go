package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

// A full disk (here SQLite's page limit, which fails writes exactly as a
// full disk does) fails the write with EFULL and a message saying what to
// do, makes Health say so, and stores nothing; once space is back, the
// next write succeeds and Health is nil again.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "kgsim.db"))
	defer db.Close()
	if err := db.Health(ctx); err != nil {
		t.Fatalf("Health of a new database: %v", err)
	}
	var pages int
	if err := db.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	big := storetest.Pending("01A", "q", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	big.Params = []byte(`{"pad":"` + strings.Repeat("x", 256<<10) + `"}`)
	err := db.Update(ctx, func(tx simulator.Tx) error { return tx.Enqueue(ctx, big) })
	if simulator.ErrorCode(err) != simulator.EFULL || !strings.Contains(err.Error(), "full") || !strings.Contains(err.Error(), "free some space") {
		t.Fatalf("a write on a full disk: %v, want EFULL saying to free space", err)
	}
	if err := db.Health(ctx); simulator.ErrorCode(err) != simulator.EFULL {
		t.Errorf("Health after the failed write: %v, want EFULL", err)
	}
	if _, err := db.Message(ctx, "01A"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("the failed write left %v", err)
	}
	if _, err := db.db.ExecContext(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if err := db.Enqueue(ctx, big); err != nil {
		t.Fatalf("with space again: %v", err)
	}
	if err := db.Health(ctx); err != nil {
		t.Errorf("Health once a write succeeded again: %v", err)
	}
}

// Damage in the middle of the file, which reads that miss it would never
// see, is found by the quick check when the database is opened.
func TestDamageFoundAtOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kgsim.db")
	db := open(t, path)
	for i := range 2000 {
		if err := db.PutCustomer(ctx, simulator.Customer{ID: fmt.Sprintf("C%04d", i), Name: strings.Repeat("n", 200)}); err != nil {
			t.Fatal(err)
		}
	}
	var pageSize, pages int
	db.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize)
	db.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages)
	db.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte(strings.Repeat("\xde\xad\xbe\xef", pageSize/4))
	if _, err := f.WriteAt(garbage, int64(pages/2)*int64(pageSize)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("Open of a database damaged in the middle: %v; want it open, and Health saying so", err)
	}
	defer db.Close()
	err = db.Health(ctx)
	if simulator.ErrorCode(err) != simulator.EUNAVAILABLE || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "backup") {
		t.Errorf("Health: %v, want EUNAVAILABLE naming the damage and what to do", err)
	}
	if _, err := db.Customer(ctx, "C0000"); err != nil {
		t.Errorf("a read the damage does not touch: %v", err)
	}
}
