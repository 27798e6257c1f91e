package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"modernc.org/sqlite"
)

// WAL checkpoints (copying committed pages from the WAL into the database
// file, and syncing both) run on a connection of their own, beside the
// writer rather than inside its commits. SQLite's default has the
// committing connection do it every 1,000 pages, and with
// synchronous=NORMAL each checkpoint waits for two fsyncs: on purchases
// through kgsim serve that held the one writer, and every caller queued
// behind it. A PASSIVE checkpoint never takes the writer's lock, so
// commits go on while it copies.
//
// The WAL starts over only when a commit begins with every page in it
// copied, which under a steady stream of commits the checkpointer alone
// may never see. So the writer still checkpoints itself, from
// writerCheckpointAt pages on, at the end of its commits: by then the
// checkpointer has copied nearly all of them, and the next commit
// starts the WAL over. (A checkpoint that waits for the writer's lock
// instead is starved by a busy writer, and meanwhile holds off the
// writer's own: the WAL grew without bound.)
const (
	// checkpointEvery is the least time between two checkpoints: one
	// after every commit would sync both files hundreds of times a second.
	checkpointEvery = 20 * time.Millisecond
	// writerCheckpointAt is the WAL's length, in pages, from which the
	// writer checkpoints at the end of each commit until one starts
	// the WAL over.
	writerCheckpointAt = 4096
)

// checkpointer runs the checkpoints of one database file.
type checkpointer struct {
	db     *sql.DB
	health *health
	kick   chan struct{}
	stop   context.CancelFunc
	done   chan struct{}
}

// startCheckpointer opens a connection to the database at path and
// checkpoints on it after commits (committed) until close.
func startCheckpointer(path string, h *health) (*checkpointer, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{db: db, health: h, kick: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

// committed tells the checkpointer that a commit added pages to the WAL.
// It never blocks.
func (c *checkpointer) committed() {
	if c == nil {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		if err := c.checkpoint(ctx); err != nil && ctx.Err() == nil {
			// A full disk or an I/O error fails the writer's commits
			// too; /healthz says so either way.
			c.health.fail(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// checkpoint copies what the WAL holds into the database file. One
// that could not get a lock it needed (SQLITE_BUSY: the writer
// checkpointing, or another process reading an old snapshot) is left
// to the next.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	var busy, pages, copied int
	err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &pages, &copied)
	if e, ok := errors.AsType[*sqlite.Error](err); ok && e.Code()&0xff == sqliteBusy {
		return nil
	}
	return err
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	c.stop()
	<-c.done
	return c.db.Close()
}
