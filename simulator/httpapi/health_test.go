package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// fullDisk is a store on a disk that fills up when the test says: every
// transaction then fails as SQLite's does on a full disk, and Health says
// so.
type fullDisk struct {
	*sqlite.DB
	full atomic.Bool
}

var errFull = simulator.Errorf(simulator.EFULL, "", "the disk holding the database is full (database or disk is full (13)): nothing was stored; free some space and try again")

func (f *fullDisk) Update(ctx context.Context, fn func(simulator.Tx) error) error {
	if f.full.Load() {
		return errFull
	}
	return f.DB.Update(ctx, fn)
}

func (f *fullDisk) Health(ctx context.Context) error {
	if f.full.Load() {
		return errFull
	}
	return f.DB.Health(ctx)
}

// A purchase on a full disk is refused with 507 and the store's message,
// /healthz says the store is unhealthy and why, and both recover once
// there is space again.
func TestDiskFullAnswers(t *testing.T) {
	var disk *fullDisk
	w := newWorldOn(t, schedule.NewVirtual(t0), Access{}, func(db *sqlite.DB) simulator.Store {
		disk = &fullDisk{DB: db}
		return disk
	})
	w.catalogue()
	disk.full.Store(true)
	a := w.must(http.StatusInsufficientStorage, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","periodNumber":1}`)
	if a.get("error.code").String() != simulator.EFULL || !strings.Contains(a.get("error.message").String(), "free some space") {
		t.Errorf("purchase on a full disk: %s", a.body)
	}
	h := w.must(http.StatusServiceUnavailable, "GET", "/healthz", "")
	if !strings.Contains(string(h.body), "store unhealthy") || !strings.Contains(string(h.body), "full") {
		t.Errorf("healthz on a full disk = %q, want the store unhealthy and why", h.body)
	}
	disk.full.Store(false)
	w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","periodNumber":1}`)
	if h := w.must(http.StatusOK, "GET", "/healthz", ""); string(h.body) != "ok\n" {
		t.Errorf("healthz with space again = %q", h.body)
	}
}
