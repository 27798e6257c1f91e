// Package markettest builds a marketplace for tests in one line: the one
// market.New wires for kgsim serve, on an in-memory SQLite store and a
// virtual clock that the test moves.
package markettest

import (
	"context"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/market"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// New wires the marketplace c describes on a virtual clock standing at
// start, and on an in-memory SQLite store closed when the test ends unless
// c names a store of its own.
func New(tb testing.TB, start time.Time, c market.Config) (*market.Market, *schedule.Virtual) {
	tb.Helper()
	ctx := context.Background()
	if c.Store == nil {
		db, err := sqlite.Open(ctx, ":memory:")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		c.Store = db
	}
	clock := schedule.NewVirtual(start)
	c.Clock = clock
	m, err := market.New(ctx, c)
	if err != nil {
		tb.Fatal(err)
	}
	return m, clock
}
