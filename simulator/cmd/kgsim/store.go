package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/postgres"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// isPostgres tells whether --db names a PostgreSQL database (a postgres://
// or postgresql:// connection string) rather than a SQLite file.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// dbName is --db as it may be shown: a connection string without its
// password.
func dbName(db string) string {
	if isPostgres(db) {
		return postgres.Redact(db)
	}
	return db
}

// openStore opens the store --db names: PostgreSQL for a connection
// string, else the SQLite file at the path (sqlite:PATH or PATH). A
// PostgreSQL server that cannot be reached is tried again, each failure
// said on stderr, until wait has passed: a database started alongside
// kgsim (docker compose, a restarting server) may take a moment.
func openStore(ctx context.Context, db string, wait time.Duration, stderr io.Writer) (simulator.Store, error) {
	if !isPostgres(db) {
		s, err := sqlite.Open(ctx, strings.TrimPrefix(db, "sqlite:"))
		if err != nil {
			return nil, simulator.Errorf(simulator.EINVALID, "--db", "%v", err)
		}
		return s, nil
	}
	deadline := time.Now().Add(wait)
	delay := 500 * time.Millisecond
	for {
		s, err := postgres.Open(ctx, db)
		switch {
		case err == nil:
			return s, nil
		case simulator.ErrorCode(err) != simulator.EUNAVAILABLE:
			return nil, simulator.Errorf(simulator.EINVALID, "--db", "%v", err)
		case time.Now().Add(delay).After(deadline):
			return nil, simulator.Errorf(simulator.EINVALID, "--db", "%v; gave up after %s (--db-wait): check that PostgreSQL runs and the connection string", err, wait)
		}
		fmt.Fprintf(stderr, "kgsim serve: %v; trying again in %s\n", err, delay)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}
