package postgres

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/envtest"
	"github.com/kgsim/kgsim/simulator/store/postgres/pgtest"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

// cluster is the package's PostgreSQL server, started by TestMain; nil
// where there is none.
var cluster *pgtest.Cluster

func TestMain(m *testing.M) {
	os.Exit(envtest.Report(pgtest.Main(m, &cluster), "simulator/store/postgres", pgtest.Need()))
}

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

// While the server is down, calls fail at once with EUNAVAILABLE (the
// admin API's 503) and Health says so; once it is back, the store
// reconnects by itself and Health clears with the next write.
func TestServerRestarted(t *testing.T) {
	ctx := t.Context()
	db := open(t, cluster.DB(t)) // skips without a cluster
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.Enqueue(ctx, storetest.Pending("01A", "q", t0)); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Down(); err != nil {
		t.Fatal(err)
	}
	up := false
	defer func() {
		if !up {
			cluster.Up()
		}
	}()
	start := time.Now()
	err := db.Enqueue(ctx, storetest.Pending("01B", "q", t0))
	if simulator.ErrorCode(err) != simulator.EUNAVAILABLE {
		t.Errorf("a write while the server is down: err = %v, want EUNAVAILABLE", err)
	}
	if _, err := db.Message(ctx, "01A"); simulator.ErrorCode(err) != simulator.EUNAVAILABLE {
		t.Errorf("a read while the server is down: err = %v, want EUNAVAILABLE", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the calls took %v while the server was down, want a prompt failure", took)
	}
	if err := db.Health(ctx); simulator.ErrorCode(err) != simulator.EUNAVAILABLE {
		t.Errorf("Health while the server is down = %v, want EUNAVAILABLE", err)
	}
	if err := cluster.Up(); err != nil {
		t.Fatal(err)
	}
	up = true
	// The server answers again: Health says so before any write.
	if err := db.Health(ctx); err != nil {
		t.Errorf("Health once the server is back = %v, want nil", err)
	}
	if err := db.Enqueue(ctx, storetest.Pending("01B", "q", t0)); err != nil {
		t.Fatalf("a write once the server is back: %v", err)
	}
	if err := db.Health(ctx); err != nil {
		t.Errorf("Health after a write succeeded again = %v", err)
	}
	if _, err := db.Message(ctx, "01A"); err != nil {
		t.Errorf("what was committed before the restart: %v", err)
	}
}

func TestBeginLockedTakesTheWriteLock(t *testing.T) {
	if want := fmt.Sprintf("BEGIN; SELECT pg_advisory_xact_lock(%d)", writeLock); beginLocked != want {
		t.Errorf("beginLocked = %q, want %q", beginLocked, want)
	}
}

// A database turned read-only (a standby, a full disk's last resort)
// still opens and reads; a write fails with EUNAVAILABLE saying so, and
// nothing of it is stored.
func TestReadOnlyDatabase(t *testing.T) {
	ctx := t.Context()
	url := cluster.DB(t)
	db := open(t, url)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.Enqueue(ctx, storetest.Pending("01A", "q", t0)); err != nil {
		t.Fatal(err)
	}
	name := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	if _, err := db.pool.Exec(ctx, "ALTER DATABASE "+name+" SET default_transaction_read_only = on"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, url) // new connections are read-only
	if _, err := db.Message(ctx, "01A"); err != nil {
		t.Errorf("a read of a read-only database: %v", err)
	}
	err := db.Enqueue(ctx, storetest.Pending("01B", "q", t0))
	if simulator.ErrorCode(err) != simulator.EUNAVAILABLE || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("a write to a read-only database: err = %v, want EUNAVAILABLE saying read-only", err)
	}
	if err := db.Health(ctx); simulator.ErrorCode(err) != simulator.EUNAVAILABLE {
		t.Errorf("Health = %v, want EUNAVAILABLE", err)
	}
	if _, err := db.Message(ctx, "01B"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("the refused write: err = %v, want ENOTFOUND", err)
	}
}

// A write that waits past the server's statement_timeout (here for the
// write lock another connection holds) fails with EUNAVAILABLE saying it
// did not finish in time, and stores nothing.
func TestStatementTimeout(t *testing.T) {
	ctx := t.Context()
	url := cluster.DB(t)
	open(t, url) // migrated
	db := open(t, url+"&options=-c%20statement_timeout%3D200")
	holder := open(t, url)
	conn, err := holder.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", writeLock); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", writeLock)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	err = db.Enqueue(ctx, storetest.Pending("01A", "q", t0))
	if simulator.ErrorCode(err) != simulator.EUNAVAILABLE || !strings.Contains(err.Error(), "did not finish in time") {
		t.Errorf("a write past statement_timeout: err = %v, want EUNAVAILABLE saying it did not finish in time", err)
	}
	if _, err := holder.Message(ctx, "01A"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("the timed-out write: err = %v, want ENOTFOUND", err)
	}
}

// A database whose disk is really full (a tablespace on a small
// filesystem filled until the server reports disk_full): a write
// fails with EFULL saying the disk is full, stores nothing, and Health
// reports it until a write succeeds once space is freed.
func TestDiskFull(t *testing.T) {
	ctx := t.Context()
	url := cluster.DB(t)
	db := open(t, url) // migrated, every table empty
	disk := cluster.SmallDisk(t, url)
	disk.Fill()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	err := db.Enqueue(ctx, storetest.Pending("01A", "q", t0))
	if simulator.ErrorCode(err) != simulator.EFULL || !strings.Contains(err.Error(), "disk holding the database is full") {
		t.Fatalf("a write to a full disk: err = %v, want EFULL saying the disk is full", err)
	}
	if err := db.Health(ctx); simulator.ErrorCode(err) != simulator.EFULL {
		t.Errorf("Health = %v, want EFULL", err)
	}
	if _, err := db.Message(ctx, "01A"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("the refused write: err = %v, want ENOTFOUND", err)
	}
	disk.Free()
	if err := db.Enqueue(ctx, storetest.Pending("01A", "q", t0)); err != nil {
		t.Fatalf("a write once space is freed: %v", err)
	}
	if err := db.Health(ctx); err != nil {
		t.Errorf("Health once a write succeeded = %v, want nil", err)
	}
	if _, err := db.Message(ctx, "01A"); err != nil {
		t.Errorf("the write once space is freed: %v", err)
	}
}
