package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

// slowInsert is a write that runs long enough to be cancelled midway.
const slowInsert = `INSERT INTO slow WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 400000) SELECT n FROM c`

// A group member whose caller goes away while one of its writes runs
// fails alone: the write runs to its end (SQLite rolls back the whole
// transaction of a write it interrupts, with the work of the members that
// ran before it), the member is rolled back to its savepoint, and the
// update that ran before it in the group commits.
func TestMemberCancelledMidWriteFailsAlone(t *testing.T) {
	ctx := t.Context()
	db := open(t, filepath.Join(t.TempDir(), "kgsim.db"))
	defer db.Close()
	if _, err := db.exec(ctx, "CREATE TABLE slow (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	// The first update leads the group and holds its transaction until
	// the second is waiting to join it (a moment after it is called).
	ran, called := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.Update(ctx, func(tx simulator.Tx) error {
			if err := tx.Enqueue(ctx, storetest.Pending("first", "q", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))); err != nil {
				return err
			}
			close(ran)
			<-called
			time.Sleep(20 * time.Millisecond)
			return nil
		})
	}()
	<-ran
	close(called)
	gone, cancel := context.WithCancel(ctx)
	defer cancel()
	err := db.Update(gone, func(tx simulator.Tx) error {
		time.AfterFunc(20*time.Millisecond, cancel)
		if _, err := tx.(store).exec(gone, slowInsert); err != nil {
			return err
		}
		return gone.Err()
	})
	if err == nil {
		t.Fatal("the update whose caller went away committed")
	}
	if err := <-first; err != nil {
		t.Fatalf("the update before it in its group failed with it: %v", err)
	}
	if _, err := db.Message(ctx, "first"); err != nil {
		t.Errorf("the first update's message: %v", err)
	}
	var n int
	if err := db.queryRow(ctx, "SELECT count(*) FROM slow").Scan(&n); err != nil || n != 0 {
		t.Errorf("the cancelled member left %d rows, %v; want none", n, err)
	}
	if err := db.Enqueue(ctx, storetest.Pending("after", "q-after", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Errorf("an update after it: %v", err)
	}
}
