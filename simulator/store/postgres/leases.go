package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kgsim/kgsim/simulator"
)

var _ simulator.Leaser = (*DB)(nil)

// Lease takes or extends the lease name for owner until until, unless
// another owner holds it at now. It runs under the write lock, so of two
// replicas asking at once one gets it.
func (d *DB) Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, time.Time, error) {
	if name == "" || owner == "" {
		return false, time.Time{}, simulator.Errorf(simulator.EINVALID, "lease", "a lease needs a name and an owner")
	}
	held, holderUntil := false, time.Time{}
	err := d.atomic(ctx, func(s store) error {
		var holder string
		var n int64
		err := s.queryRow(ctx, `SELECT owner, until FROM leases WHERE name = ?`, name).Scan(&holder, &n)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case holder != owner && n > nanos(now):
			holderUntil = fromNanos(n)
			return nil
		}
		_, err = s.exec(ctx, `INSERT INTO leases (name, owner, until) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until`, name, owner, nanos(until))
		held = err == nil
		return err
	})
	return held, holderUntil, err
}

// ReleaseLease gives up owner's lease name.
func (d *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	_, err := d.exec(ctx, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner)
	return err
}
