package postgres

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/kgsim/kgsim/simulator"
)

// PostgreSQL's error codes (SQLSTATE) that the store tells apart.
const (
	uniqueViolation     = "23505"
	diskFull            = "53100"
	outOfMemory         = "53200"
	readOnlyTransaction = "25006"
	queryCanceled       = "57014"
	lockNotAvailable    = "55P03"
	adminShutdown       = "57P01"
	cannotConnectNow    = "57P03"
)

// health is what the store knows of the database: the last write that
// failed because the database could not take it, until one succeeds.
type health struct {
	mu      sync.Mutex
	failing error
}

// Health returns the last failed write's error while it lasts.
func (d *DB) Health(ctx context.Context) error {
	d.health.mu.Lock()
	defer d.health.mu.Unlock()
	return d.health.failing
}

// fail turns an error that says the database, not the request, is at
// fault into an application error that says what to do, and remembers it
// for Health. Any other error is returned as it is.
func (h *health) fail(err error) error {
	if err == nil {
		return nil
	}
	var app error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe) && pe.Code == diskFull:
		app = simulator.Errorf(simulator.EFULL, "", "the disk holding the database is full (%v): nothing was stored; free some space and try again", err)
	case errors.As(err, &pe) && (pe.Code == readOnlyTransaction):
		app = simulator.Errorf(simulator.EUNAVAILABLE, "", "the database is read-only (%v): nothing was stored; point --db at the primary", err)
	case errors.As(err, &pe) && (pe.Code == queryCanceled || pe.Code == lockNotAvailable) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		// The server's statement_timeout or lock_timeout, not the caller
		// giving up: the database is too slow or blocked to answer.
		return simulator.Errorf(simulator.EUNAVAILABLE, "", "the database did not finish in time (%v): nothing was stored; try again, and check what holds or slows it", err)
	case errors.As(err, &pe) && (pe.Code == adminShutdown || pe.Code == cannotConnectNow || pe.Code == outOfMemory):
		app = simulator.Errorf(simulator.EUNAVAILABLE, "", "the database is not available (%v): nothing was stored; try again once it is back", err)
	case pgconn.SafeToRetry(err) || isConnectError(err):
		app = simulator.Errorf(simulator.EUNAVAILABLE, "", "the database cannot be reached (%v): nothing was stored; try again once it is back", err)
	default:
		return err
	}
	h.mu.Lock()
	h.failing = app
	h.mu.Unlock()
	return app
}

func isConnectError(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// unreachable tells whether err says the server could not be reached or
// is not taking connections yet (starting up, shutting down), rather than
// that it refused what was asked.
func unreachable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == cannotConnectNow || pe.Code == adminShutdown
	}
	return isConnectError(err) || pgconn.SafeToRetry(err)
}

// ok records a commit that succeeded: whatever made writes fail is over.
func (h *health) ok() {
	h.mu.Lock()
	h.failing = nil
	h.mu.Unlock()
}
