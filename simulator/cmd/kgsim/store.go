package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
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
//
// On PostgreSQL the process is one of the database's replicas, unless
// alone (a virtual clock), when it must be the only one.
func openStore(ctx context.Context, db string, wait time.Duration, alone bool, stderr io.Writer) (simulator.Store, error) {
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
			return attend(ctx, s, alone)
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

// attending is a PostgreSQL store this process serves from, until it is
// closed.
type attending struct {
	*postgres.DB
	leave func()
}

func (a attending) Close() error {
	a.leave()
	return a.DB.Close()
}

// attend records that this process serves from db, alone or as a replica.
func attend(ctx context.Context, db *postgres.DB, alone bool) (simulator.Store, error) {
	leave, err := db.Attend(ctx, alone)
	if err != nil {
		db.Close()
		if e, ok := errors.AsType[*simulator.Error](err); ok && e.Code == simulator.ECONFLICT {
			return nil, simulator.Errorf(simulator.EINVALID, "--clock", "%s", e.Message)
		}
		return nil, simulator.Errorf(simulator.EINVALID, "--db", "%v", err)
	}
	return attending{db, leave}, nil
}

// replicaPoll is how often a replica looks for work the others did not
// announce to it: purchases placed through them, the queues of one that
// died once their leases ran out.
const replicaPoll = time.Second

// replicaOf makes this process one of the replicas sharing store, when
// it is a PostgreSQL store served with others, and returns the key they
// all sign login forms with; nil otherwise. A queue's lease outlasts an
// attempt (timeout) and its recording.
func replicaOf(ctx context.Context, store simulator.Store, c serveConfig, random io.Reader) (*delivery.Replica, []byte, error) {
	shared, ok := store.(attending)
	if !ok || c.virtual {
		return nil, nil, nil
	}
	random = cmp.Or(random, io.Reader(rand.Reader))
	host, _ := os.Hostname()
	b := make([]byte, 6)
	if _, err := io.ReadFull(random, b); err != nil {
		return nil, nil, err
	}
	key, err := shared.Secret(ctx, "identity form key", 32, random)
	if err != nil {
		return nil, nil, fmt.Errorf("the replicas' shared key: %w", err)
	}
	owner := fmt.Sprintf("%s/%d/%x", host, os.Getpid(), b)
	return &delivery.Replica{Leases: shared, Owner: owner, Lease: 2*c.timeout + 10*time.Second}, key, nil
}

// pollOthers wakes the scheduler every replicaPoll until ctx ends.
func pollOthers(ctx context.Context, wake func()) {
	t := time.NewTicker(replicaPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			wake()
		}
	}
}

// memoryStore is where kgsim certify keeps each scenario's marketplace: a
// private in-memory SQLite database, gone with the scenario.
func memoryStore(ctx context.Context) (simulator.Store, error) {
	return sqlite.Open(ctx, ":memory:")
}
