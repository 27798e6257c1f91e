package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

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
// failed because the database could not take it, until one succeeds, or,
// when the server could not be reached, until it answers again.
type health struct {
	mu      sync.Mutex
	failing error
	// away: failing says the server could not be reached, which a ping
	// tells is over (a read-only or full database answers pings).
	away bool
}

// pingTimeout bounds Health's ping of a server that was away: /healthz
// answers within it.
const pingTimeout = 2 * time.Second

// Health returns the last failed write's error while it lasts. When that
// error was the server being away, Health asks the server, and is nil
// again once it answers: a replica behind a load balancer that takes it
// out of rotation while /healthz fails would otherwise get no write to
// clear it.
func (d *DB) Health(ctx context.Context) error {
	d.health.mu.Lock()
	failing, away := d.health.failing, d.health.away
	d.health.mu.Unlock()
	if failing == nil || !away {
		return failing
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := d.pool.Ping(ctx); err != nil {
		return failing
	}
	d.health.mu.Lock()
	if d.health.failing == failing {
		d.health.failing, d.health.away = nil, false
	}
	d.health.mu.Unlock()
	return nil
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
	away := false
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
		app, away = simulator.Errorf(simulator.EUNAVAILABLE, "", "the database is not available (%v): nothing was stored; try again once it is back", err), true
	case pgconn.SafeToRetry(err) || isConnectError(err):
		app, away = simulator.Errorf(simulator.EUNAVAILABLE, "", "the database cannot be reached (%v): nothing was stored; try again once it is back", err), true
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.As(err, new(net.Error)):
		// The connection broke after the request was sent: a commit in
		// flight may or may not have happened.
		app, away = simulator.Errorf(simulator.EUNAVAILABLE, "", "the connection to the database broke (%v): what was asked may or may not be stored; check, then try again", err), true
	default:
		return err
	}
	h.mu.Lock()
	h.failing, h.away = app, away
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
	h.failing, h.away = nil, false
	h.mu.Unlock()
}
