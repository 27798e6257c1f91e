package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

func BenchmarkDueSaturated(b *testing.B) { storetest.BenchmarkDueSaturated(b, openTemp, nil) }

func BenchmarkDueFew(b *testing.B) { storetest.BenchmarkDueFew(b, openTemp) }

func BenchmarkPurchaseWrites(b *testing.B) { storetest.BenchmarkPurchaseWrites(b, openTemp) }

func BenchmarkPurchaseWritesParallel(b *testing.B) {
	storetest.BenchmarkPurchaseWritesParallel(b, openTemp)
}

// openTemp opens a new SQLite store in a file of its own.
func openTemp(b *testing.B) simulator.Store {
	db, err := Open(b.Context(), filepath.Join(b.TempDir(), "kgsim.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}
