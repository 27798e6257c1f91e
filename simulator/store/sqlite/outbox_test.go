package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

func BenchmarkDueSaturated(b *testing.B) {
	storetest.BenchmarkDueSaturated(b, func(b *testing.B) simulator.Store {
		db, err := Open(b.Context(), filepath.Join(b.TempDir(), "kgsim.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	}, nil)
}
