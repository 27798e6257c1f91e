package postgres

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/record"
)

var _ simulator.Leaser = (*DB)(nil)

// Lease takes or extends the lease name for owner until until, unless
// another owner holds it at now. One statement does it, atomic on its own
// (a second replica's insert waits for the first's row and then finds it
// taken), so leases need not wait for the write lock.
func (d *DB) Lease(ctx context.Context, name, owner string, now, until time.Time) (bool, time.Time, error) {
	if name == "" || owner == "" {
		return false, time.Time{}, simulator.Errorf(simulator.EINVALID, "lease", "a lease needs a name and an owner")
	}
	var held bool
	err := d.pool.QueryRow(ctx, `INSERT INTO leases (name, owner, until) VALUES ($1, $2, $4)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE leases.owner = excluded.owner OR leases.until <= $3
		RETURNING true`, name, owner, record.Nanos(now), record.Nanos(until)).Scan(&held)
	switch {
	case err == nil:
		return true, time.Time{}, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return false, time.Time{}, d.health.fail(err)
	}
	var n int64
	err = d.pool.QueryRow(ctx, `SELECT until FROM leases WHERE name = $1`, name).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		// Released in between: free, but not taken; the caller looks again.
		return false, time.Time{}, nil
	}
	return false, record.FromNanos(n), d.health.fail(err)
}

// ReleaseLease gives up owner's lease name.
func (d *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND owner = $2`, name, owner)
	return d.health.fail(err)
}

// attendLock is the advisory lock every kgsim serve on the database holds
// while it runs: shared by replicas, exclusive for one that must be alone.
const attendLock = writeLock + 1

// Attend records, for as long as this process runs (until leave is
// called or the process dies), that it serves from the database: with
// others (replicas) unless alone, which a virtual clock needs, since each
// process has a clock of its own. It is refused when that cannot be: a
// process alone is there, or alone is asked while others are.
func (d *DB) Attend(ctx context.Context, alone bool) (leave func(), err error) {
	c, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, d.health.fail(err)
	}
	// The lock is the connection's: it is taken out of the pool, and
	// closing it lets go of the lock.
	conn := c.Hijack()
	try := `SELECT pg_try_advisory_lock_shared($1)`
	if alone {
		try = `SELECT pg_try_advisory_lock($1)`
	}
	var ok bool
	if err := conn.QueryRow(ctx, try, attendLock).Scan(&ok); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	if !ok {
		conn.Close(ctx)
		if alone {
			return nil, simulator.Errorf(simulator.ECONFLICT, "clock",
				"another kgsim serve uses this database, and a virtual clock needs it alone (each process would keep a clock of its own): use --clock real for replicas, or a database of its own")
		}
		return nil, simulator.Errorf(simulator.ECONFLICT, "clock",
			"a kgsim serve with a virtual clock uses this database alone: stop it, or give this one a database of its own")
	}
	return func() { conn.Close(context.Background()) }, nil
}

// Secret returns the secret called name that every process on the
// database shares, making it from random (size bytes) if there is none
// yet: of processes starting at once, the first one's is kept.
func (d *DB) Secret(ctx context.Context, name string, size int, random io.Reader) ([]byte, error) {
	fresh := make([]byte, size)
	if _, err := io.ReadFull(random, fresh); err != nil {
		return nil, err
	}
	var value []byte
	err := d.atomic(ctx, func(s store) error {
		if _, err := s.exec(ctx, `INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
			return err
		}
		return s.queryRow(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&value)
	})
	return value, err
}
