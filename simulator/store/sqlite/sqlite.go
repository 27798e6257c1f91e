// Package sqlite is kgsim's default store: embedded SQLite through the pure
// Go modernc.org/sqlite driver, so the binary needs no C library.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/group"
	"github.com/kgsim/kgsim/simulator/store/record"
	modernc "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a Store in one SQLite file. Each of its Tx methods is a transaction
// of its own; Update groups several.
type DB struct {
	store
	lock *os.File // nil for ":memory:"
}

var _ simulator.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path and brings its
// schema up to date. ":memory:" gives a private in-memory database.
//
// WAL with synchronous=NORMAL keeps every committed transaction across a
// process crash (SIGKILL); only a power loss may drop the last ones.
// Transactions begin IMMEDIATE: one that read first and wrote later
// could not wait for another program's write lock (SQLite gives up at
// once rather than deadlock), so the 5 s busy timeout would not apply.
func Open(ctx context.Context, path string) (*DB, error) {
	var lock *os.File
	if path != ":memory:" {
		var err error
		if lock, err = lockFile(path); err != nil {
			return nil, err
		}
	}
	d, err := openFile(ctx, path)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	d.lock = lock
	return d, nil
}

func openFile(ctx context.Context, path string) (*DB, error) {
	// temp_store(MEMORY) keeps the statement journal in memory: group
	// commit runs each member in a savepoint, and with the journal in a
	// temporary file every page a member changes after another cost a
	// write (an eighth of kgsim serve's CPU on purchases). It serves only
	// rolling back to a savepoint inside an open transaction, so a crash
	// loses nothing it held: the WAL alone makes commits durable.
	//
	// The WAL's pages are copied into the database file beside the
	// writer, which checkpoints only to start the WAL over
	// (checkpoint.go).
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)" +
		"&_pragma=temp_store(MEMORY)&_txlock=immediate" + fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", writerCheckpointAt)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection: SQLite has one writer, and a pool of them only
	// trades "database is locked" errors for throughput it cannot have.
	// It also serialises Update: while fn runs, every other call waits,
	// which keeps the memo exact (memo.go).
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	h := &health{}
	if err := h.check(ctx, db, path); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: the quick check could not run: %w", path, err)
	}
	hot, err := prepare(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	s := store{db: db, hot: hot, health: h, memo: newMemo()}
	if path != ":memory:" {
		if s.ckpt, err = startCheckpointer(path, h); err != nil {
			hot.close()
			db.Close()
			return nil, err
		}
	}
	s.group = grouped(s)
	return &DB{store: s.in(nil)}, nil
}

// migrate applies the embedded migrations newer than the database's
// user_version, each in its own transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > len(names) {
		return fmt.Errorf("the database has schema version %d, newer than this kgsim knows (%d)", version, len(names))
	}
	for i := version; i < len(names); i++ {
		script, err := migrations.ReadFile(names[i])
		if err != nil {
			return err
		}
		err = inTx(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(script)); err != nil {
				return fmt.Errorf("migration %s: %w", names[i], err)
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Update runs fn in one transaction, committed if fn returns nil and
// rolled back if it returns an error or panics; a panic goes on up after
// the rollback. Updates made at once are committed together (package group),
// each all or nothing on its own. The database has one connection, held
// by the group until it commits: fn must use only tx, since a call on the
// DB itself would wait for that connection for ever.
func (d *DB) Update(ctx context.Context, fn func(tx simulator.Tx) error) error {
	return d.atomic(ctx, func(s store) error { return fn(s) })
}

// inTx runs fn in a transaction, committed if fn returns nil. The deferred
// rollback also undoes a panicking fn's writes.
func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Close closes the database and lets go of its lock.
func (d *DB) Close() error {
	// The checkpointer first: the last connection to close checkpoints
	// what is left and removes the WAL, and that is the writer's.
	err := d.ckpt.close()
	d.hot.close()
	err = errors.Join(err, d.db.Close())
	if d.lock != nil {
		d.lock.Close()
	}
	return err
}

// store implements simulator.Tx over the DB, each call its own
// transaction, or inside a transaction of Update.
type store struct {
	record.Tables             // reached through conn: set by in
	conn          record.Conn // s itself, as record reaches it: set by in
	db            *sql.DB
	tx            *sql.Tx // nil outside a transaction
	hot           statements
	health        *health
	group         *group.Group[store]
	memo          *memo
	ckpt          *checkpointer // nil for ":memory:"

	// inTx are the hot statements bound to tx, each once: the members of
	// a group commit run the same few, and binding one anew for every
	// call allocated a statement and its dependency record each time.
	// nil outside a transaction.
	inTx map[*sql.Stmt]*sql.Stmt
	// txGen is the memo's generation when the transaction began: its
	// reads fill the memo only while it is the same (memo).
	txGen uint64
}

// in returns s inside tx, or outside a transaction if tx is nil, with
// its tables reached through it. The copy of s that its conn holds has
// neither conn nor tables: they would be the ones s had before, maybe
// outside the transaction, so that a call through them would run beside
// it (and wait for it for ever on SQLite's one connection).
func (s store) in(tx *sql.Tx) store {
	s.tx, s.conn, s.Tables, s.inTx = tx, nil, record.Tables{}, nil
	if tx != nil {
		s.inTx = map[*sql.Stmt]*sql.Stmt{}
		s.txGen = s.memo.generation()
	}
	c := conn{s}
	s.conn, s.Tables = c, record.NewTables(c, dialect())
	return s
}

// dialect is how SQLite says what the two back ends say differently. A
// limit is ?+0 for the reason the outbox's is (outbox.go): a listing
// would otherwise be parsed twice whenever its limit differs from the
// one it was prepared with. LIMIT -1 is none.
func dialect() record.Dialect {
	return record.Dialect{Limit: "?+0", Unlimited: -1, NotByIndex: "+"}
}

// atomic runs fn with several statements as one transaction: a new one
// outside a transaction, else the enclosing one.
func (s store) atomic(ctx context.Context, fn func(s store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	return s.group.Run(ctx, fn)
}

// statements are the queries delivery and the engine run for every
// callback and instance, prepared once when the database opens: SQLite
// takes longer to parse most of them than to run them. They must be
// prepared before any transaction starts, since the one connection is then
// the transaction's.
type statements map[string]*sql.Stmt

func prepare(ctx context.Context, db *sql.DB) (statements, error) {
	hot := statements{}
	for _, query := range append(record.Frequent(),
		enqueueMessage, dueMessages, dueSkipping, dueInWindow, dueByOrigin, countPending,
		dueInstances, selectInstancesByID, group.Savepoint, group.RollbackTo, group.Release,
	) {
		st, err := db.PrepareContext(ctx, query)
		if err != nil {
			hot.close()
			return nil, fmt.Errorf("prepare %q: %w", query, err)
		}
		hot[query] = st
	}
	return hot, nil
}

func (h statements) close() {
	for _, st := range h {
		st.Close()
	}
}

// querier is what *sql.DB, *sql.Tx and prepared have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// on returns what runs query: its prepared statement if it is hot, bound
// to the transaction if there is one; else the transaction or the DB.
func (s store) on(ctx context.Context, query string) querier {
	st := s.hot[query]
	switch {
	case st != nil && s.tx != nil:
		bound := s.inTx[st]
		if bound == nil {
			// Not the caller's context: a group member's ending would
			// leave the statement failing for the members after it. The
			// transaction closes it when it ends.
			bound = s.tx.StmtContext(context.Background(), st)
			s.inTx[st] = bound
		}
		return prepared{bound}
	case st != nil:
		return prepared{st}
	case s.tx != nil:
		return s.tx
	}
	return s.db
}

// exec runs a write; outside a transaction, in one of its own, committed
// with whatever else is being committed then.
func (s store) exec(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	if s.tx == nil {
		err = s.atomic(ctx, func(s store) error {
			res, err = s.exec(ctx, query, args...)
			return err
		})
		return res, err
	}
	if err := ctx.Err(); err != nil {
		// Not started: it would be interrupted at once (detached).
		return nil, err
	}
	res, err = s.on(ctx, query).ExecContext(s.detached(ctx), query, args...)
	return res, s.health.fail(err)
}

func (s store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.on(ctx, query).QueryContext(s.detached(ctx), query, args...)
}

func (s store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.on(ctx, query).QueryRowContext(s.detached(ctx), query, args...)
}

// detached is the context a statement runs with in a transaction, ctx
// being its caller's: there, a statement once started runs to its end.
// The driver stops a statement whose context ends by interrupting the
// connection, and SQLite rolls back the whole transaction of a write it
// interrupts: in a group's, every member's work, not only the one whose
// caller went away. Such a member fails at its next write instead (exec
// starts none once its context has ended), rolled back alone.
func (s store) detached(ctx context.Context) context.Context {
	if s.tx == nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// prepared runs its statement, whose query it already has.
type prepared struct{ st *sql.Stmt }

func (p prepared) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return p.st.ExecContext(ctx, args...)
}

func (p prepared) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.st.QueryContext(ctx, args...)
}

func (p prepared) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return p.st.QueryRowContext(ctx, args...)
}

// conn is how the records' tables reach the database through s.
type conn struct{ s store }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.s.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c conn) ExecUnique(ctx context.Context, conflict error, query string, args ...any) error {
	_, err := c.s.exec(ctx, query, args...)
	return unique(err, conflict)
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) record.Row {
	return c.s.queryRow(ctx, query, args...)
}

func (c conn) Query(ctx context.Context, query string, args ...any) (record.Rows, error) {
	r, err := c.s.query(ctx, query, args...)
	return rows{r}, err
}

func (c conn) Atomic(ctx context.Context, fn func(c record.Conn) error) error {
	return c.s.atomic(ctx, func(s store) error { return fn(conn{s}) })
}

func (c conn) Fail(err error) error { return c.s.health.fail(err) }

// unique turns a write refused by a UNIQUE or PRIMARY KEY constraint into
// conflict, the caller's error naming the key.
func unique(err, conflict error) error {
	if e, ok := errors.AsType[*modernc.Error](err); ok {
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return conflict
		}
	}
	return err
}

// rows are database/sql's, closed without an error to check: Err has it.
type rows struct{ *sql.Rows }

func (r rows) Close() { r.Rows.Close() }

// exists returns none, the caller's error, when a write touched no row.
func exists(res sql.Result, none error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}
