package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/kgsim/kgsim/simulator/store/record"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

// A database that stored kit syncs as kind KIT migrates them to the
// lifecycle kind, keeping their protocol, and leaves other kinds alone.
func TestMigratesKitKind(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kgsim.db")
	v13 := atVersion(t, path, 13)
	for _, stmt := range []string{
		`INSERT INTO messages (` + record.MessageColumns + `, seq, origin) VALUES
			('k', 'KIT', 'kit', 'tenantSync', 'kit/T1/A1', 'P1', 'CS1', '', '', '', 'http://m.example/kit', x'7b7d', 'STOPPED_AWAITING_MANUAL_RESTART', 1, 1, 0, 1, 1, 'http://m.example'),
			('d', 'DEBUG', 'v2', 'newInstance', 'debug/P1', 'P1', '', '', '', '', 'http://m.example/p', x'7b7d', 'SUCCEEDED', 1, 1, 0, 2, 2, 'http://m.example')`,
		`PRAGMA user_version = 13`,
	} {
		if _, err := v13.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	v13.Close()

	db := open(t, path)
	defer db.Close()
	storetest.KitKindMigrated(t, db)
}
