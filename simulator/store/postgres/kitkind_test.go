package postgres

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kgsim/kgsim/simulator/store/record"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

// A database that stored kit syncs as kind KIT migrates them to the
// lifecycle kind, keeping their protocol, and leaves other kinds alone.
func TestMigratesKitKind(t *testing.T) {
	ctx := t.Context()
	url, pool := atVersion(t, 4)
	_, err := pool.Exec(ctx, `INSERT INTO messages (`+record.MessageColumns+`, seq) VALUES
		('k', 'KIT', 'kit', 'tenantSync', 'kit/T1/A1', 'P1', 'CS1', '', '', '', 'http://m.example/kit', '{}', 'STOPPED_AWAITING_MANUAL_RESTART', 1, 1, 0, 1, 1),
		('d', 'DEBUG', 'v2', 'newInstance', 'debug/P1', 'P1', '', '', '', '', 'http://m.example/p', '{}', 'SUCCEEDED', 1, 1, 0, 2, 2)`)
	if err != nil {
		t.Fatal(err)
	}
	db := open(t, url)
	storetest.KitKindMigrated(t, db)
}

// atVersion returns a new database with the first n migrations applied,
// as the kgsim that knew only those left it, and a pool on it.
func atVersion(t *testing.T, n int) (string, *pgxpool.Pool) {
	t.Helper()
	url := cluster.DB(t)
	pool, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(names) < n {
		t.Fatalf("%d migrations (%v), want at least %d", len(names), err, n)
	}
	for _, name := range names[:n] {
		script, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(t.Context(), string(script)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	_, err = pool.Exec(t.Context(), fmt.Sprintf(`CREATE TABLE schema_version (version bigint NOT NULL); INSERT INTO schema_version (version) VALUES (%d)`, n))
	if err != nil {
		t.Fatal(err)
	}
	return url, pool
}
