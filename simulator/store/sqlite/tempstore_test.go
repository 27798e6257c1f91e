package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// The statement journal that each group member's savepoint writes is
// kept in memory, not in a temporary file written page by page.
func TestStatementJournalInMemory(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "kgsim.db"))
	defer db.Close()
	var store int
	if err := db.db.QueryRowContext(context.Background(), "PRAGMA temp_store").Scan(&store); err != nil {
		t.Fatal(err)
	}
	if store != 2 {
		t.Errorf("PRAGMA temp_store = %d, want 2 (MEMORY)", store)
	}
}
