package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) simulator.Store {
		return open(t, filepath.Join(t.TempDir(), "kgsim.db"))
	})
}

// What was committed is there after the process reopens the file.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kgsim.db")
	db := open(t, path)
	m := storetest.Pending("01A", "q", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := db.Enqueue(ctx, m); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, path)
	defer db.Close()
	if _, err := db.Message(ctx, "01A"); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kgsim.db")
	db := open(t, path)
	if _, err := db.db.ExecContext(ctx, "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "schema version 999") {
		t.Fatalf("err = %v, want a refusal naming the version", err)
	}
}
