package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Under a steady stream of commits, with no pause in which the WAL could
// start over by itself, it stays short: the writer's own checkpoint at
// writerCheckpointAt pages finds (nearly) everything copied and the next
// commit starts it over (a checkpoint of the checkpointer's may hold the
// writer's off for a few commits). What was committed is in the
// database file without the WAL.
func TestCheckpointerBoundsTheWAL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kgsim.db")
	db := open(t, path)
	// Each commit writes at least two pages (the row and its key's
	// index): these commits write the WAL's bound eight times over.
	commits := writerCheckpointAt * 4
	name := strings.Repeat("n", 3000)
	for i := range commits {
		err := db.Update(ctx, func(tx simulator.Tx) error {
			return tx.PutCustomer(ctx, simulator.Customer{ID: fmt.Sprintf("c-%06d", i), Name: name})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wal, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// The WAL file keeps the length it once had: it is its high water.
	const frame = 24 + 4096
	if pages := wal.Size() / frame; pages > 2*writerCheckpointAt {
		t.Errorf("the WAL grew to %d pages under %d commits, past twice the writer's checkpoint at %d", pages, commits, writerCheckpointAt)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Errorf("the WAL is left after Close: %v", err)
	}
	db = open(t, path)
	defer db.Close()
	last := fmt.Sprintf("c-%06d", commits-1)
	if c, err := db.Customer(ctx, last); err != nil || c.Name != name {
		t.Fatalf("the last commit's customer after a reopen: %v", err)
	}
}

// The checkpointer copies commits into the database file on its own,
// while the WAL is far shorter than the writer's checkpoint would need.
func TestCheckpointerCopiesBesideTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kgsim.db")
	db := open(t, path)
	defer db.Close()
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	const commits = 400 // 800 pages or more, a fifth of writerCheckpointAt
	for i := range commits {
		err := db.Update(ctx, func(tx simulator.Tx) error {
			return tx.PutCustomer(ctx, simulator.Customer{ID: fmt.Sprintf("c-%06d", i), Name: strings.Repeat("n", 3000)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := before.Size() + commits*3000
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes 10 s after %d commits, want %d or more: nothing checkpointed them", st.Size(), commits, want)
		}
	}
}
