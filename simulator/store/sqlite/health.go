package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"

	"github.com/kgsim/kgsim/simulator"
	"modernc.org/sqlite"
)

// SQLite's primary result codes that say the database, not the request,
// is at fault.
const (
	sqliteBusy    = 5
	sqliteIOErr   = 10
	sqliteCorrupt = 11
	sqliteFull    = 13
	sqliteNotADB  = 26
)

// health is what the store knows of its own state: damage the quick check
// found at open, and the last write that failed for want of space or a
// broken file.
type health struct {
	damaged error // set once, at open

	mu      sync.Mutex
	failing error // cleared by the next commit that succeeds
}

// check runs SQLite's quick check, which reads every page of the file
// (most of an integrity check at a fraction of its cost): damage in the
// middle of the file is found at start, not by the first read that hits
// it.
func (h *health) check(ctx context.Context, db *sql.DB, path string) error {
	found, err := quickCheck(ctx, db)
	var se *sqlite.Error
	if errors.As(err, &se) {
		// Damage bad enough to stop the check is damage all the same.
		found, err = append(found, se.Error()), nil
	}
	if err != nil {
		return err
	}
	if len(found) > 0 {
		h.damaged = simulator.Errorf(simulator.EUNAVAILABLE, "", "the database %s is damaged (quick check: %s): stop kgsim and restore it from a backup, or start on a new --db",
			path, strings.Join(found, "; "))
	}
	return nil
}

// quickCheck returns what the quick check found wrong, at most 5 lines.
func quickCheck(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return found, err
		}
		if line != "ok" {
			found = append(found, line)
		}
	}
	return found, rows.Err()
}

// Health returns the damage found at open, else the last failed write's
// error while it lasts.
func (d *DB) Health(context.Context) error {
	if d.health.damaged != nil {
		return d.health.damaged
	}
	d.health.mu.Lock()
	defer d.health.mu.Unlock()
	return d.health.failing
}

// fail turns an error of SQLite's about the database itself into an
// application error that says what to do, and remembers it for Health.
// Any other error is returned as it is.
func (h *health) fail(err error) error {
	var se *sqlite.Error
	if h == nil || !errors.As(err, &se) {
		return err
	}
	var app error
	switch se.Code() & 0xff {
	case sqliteFull:
		app = simulator.Errorf(simulator.EFULL, "", "the disk holding the database is full (%v): nothing was stored; free some space and try again", err)
	case sqliteIOErr, sqliteCorrupt, sqliteNotADB:
		app = simulator.Errorf(simulator.EUNAVAILABLE, "", "the database cannot be read or written (%v): nothing was stored; check the disk, then restart kgsim", err)
	default:
		return err
	}
	h.mu.Lock()
	h.failing = app
	h.mu.Unlock()
	return app
}

// ok records a commit that succeeded: whatever made writes fail is over.
func (h *health) ok() {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.failing = nil
	h.mu.Unlock()
}
