package postgres

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/postgres/pgtest"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

// cluster is the package's PostgreSQL server, started by TestMain; nil
// where there is none.
var cluster *pgtest.Cluster

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &cluster)) }

func open(t *testing.T, url string) *DB {
	t.Helper()
	db, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) simulator.Store {
		return open(t, cluster.DB(t))
	})
}

// Two stores on one database, as two kgsim processes would have.
func TestConformanceShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (simulator.Store, simulator.Store) {
		url := cluster.DB(t)
		return open(t, url), open(t, url)
	})
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := cluster.DB(t)
	db := open(t, url)
	if _, err := db.pool.Exec(ctx, "UPDATE schema_version SET version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(ctx, url)
	if err == nil || !strings.Contains(err.Error(), "schema version 999") {
		t.Fatalf("err = %v, want a refusal naming the version", err)
	}
}

// A second Open of a migrated database changes nothing and keeps its
// records.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	url := cluster.DB(t)
	db := open(t, url)
	if err := db.Enqueue(ctx, storetest.Pending("01A", "q", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, url)
	if _, err := db.Message(ctx, "01A"); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
}

func TestNumbered(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = $1 AND b = $2"},
		{"a = ?2 AND b > ?1 AND c = ?1", "a = $2 AND b > $1 AND c = $1"},
		{"x IN ('', '?') AND y = ?", "x IN ('', '?') AND y = $1"},
		{"LIMIT ?::bigint", "LIMIT $1::bigint"},
	} {
		if got := numbered(tt.in); got != tt.want {
			t.Errorf("numbered(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
