// Package postgres is kgsim's store on PostgreSQL, through pgx: one
// database that several kgsim processes share, for a team's marketplace
// that outgrows one machine's SQLite file.
//
// It keeps the SQLite store's model of one writer: every transaction that
// writes holds one advisory lock of the database's until it commits, so
// what the engine reads in a transaction and writes back cannot change in
// between, whichever process wrote it, exactly as with SQLite's single
// write lock. Reads outside a transaction take no lock and run in
// parallel. Times are Unix nanoseconds in bigint columns, as in SQLite,
// so that every time reads back to the nanosecond.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/group"
	"github.com/kgsim/kgsim/simulator/store/record"
)

//go:embed migrations/*.sql
var migrations embed.FS

// writeLock is the advisory lock every writing transaction holds: the
// one-writer rule of the SQLite store, kept across processes. The number
// is kgsim's own ("kgsim" in ASCII), so that other programs' advisory
// locks on the same database do not collide with it.
const writeLock = 0x6b6773696d

// connectTimeout bounds a new connection when the connection string
// sets no connect_timeout.
const connectTimeout = 5 * time.Second

// beginLocked begins a transaction and takes the write lock in one round
// trip: two statements sent at once (the number is writeLock's).
const beginLocked = "BEGIN; SELECT pg_advisory_xact_lock(461297117549)"

// DB is a Store in one PostgreSQL database. Each of its Tx methods is a
// transaction of its own; Update groups several.
type DB struct {
	store
}

var _ simulator.Store = (*DB)(nil)

// Open connects to the database at url (postgres://USER@HOST:PORT/DB?...)
// and brings its schema up to date. A schema newer than this kgsim knows
// is refused.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "db", "%v", err)
	}
	// A server that does not answer (a host down, a firewall dropping
	// packets) fails a request after connectTimeout instead of holding
	// it; the connection string's connect_timeout wins.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		if unreachable(err) {
			return nil, simulator.Errorf(simulator.EUNAVAILABLE, "db", "cannot reach the database %s: %v", Redact(url), err)
		}
		return nil, fmt.Errorf("%s: %w", Redact(url), err)
	}
	s := store{pool: pool, health: &health{}}
	s.group = grouped(s)
	return &DB{store: s.in(nil)}, nil
}

// Redact returns url without its password, for messages.
func Redact(url string) string {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil || cfg.Password == "" {
		return url
	}
	return strings.Replace(url, ":"+cfg.Password+"@", ":xxxxx@", 1)
}

// migrate applies the embedded migrations newer than the database's
// schema version, in one transaction (PostgreSQL's DDL is transactional:
// a migration that fails leaves the schema as it was), holding the write
// lock so that processes starting at once migrate one after another. A
// database already up to date is only read, so that a read-only one
// opens (and refuses writes).
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writeLock); err != nil {
			return err
		}
		var known bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&known); err != nil {
			return err
		}
		version := 0
		if known {
			err := tx.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&version)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		switch {
		case version > len(names):
			return fmt.Errorf("the database has schema version %d, newer than this kgsim knows (%d): run a newer kgsim, or start on another database", version, len(names))
		case version == len(names):
			return nil
		case !known:
			if _, err := tx.Exec(ctx, `CREATE TABLE schema_version (version bigint NOT NULL)`); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM schema_version`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return err
		}
		for i := version; i < len(names); i++ {
			script, err := migrations.ReadFile(names[i])
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(script)); err != nil {
				return fmt.Errorf("migration %s: %w", names[i], err)
			}
			if _, err := tx.Exec(ctx, `UPDATE schema_version SET version = $1`, i+1); err != nil {
				return err
			}
		}
		return nil
	})
}

// Update runs fn in one transaction holding the write lock, committed if
// fn returns nil and rolled back if it returns an error or panics; a
// panic goes on up after the rollback. Updates made at once are committed
// together (package group), each all or nothing on its own.
func (d *DB) Update(ctx context.Context, fn func(tx simulator.Tx) error) error {
	return d.atomic(ctx, func(s store) error { return fn(s) })
}

// Close closes the pool's connections.
func (d *DB) Close() error {
	d.pool.Close()
	return nil
}

// store implements simulator.Tx over the pool, each call its own
// transaction, or inside a transaction of Update.
type store struct {
	record.Tables             // reached through conn: set by in
	conn          record.Conn // s itself, as record reaches it: set by in
	pool          *pgxpool.Pool
	tx            pgx.Tx // nil outside a transaction
	health        *health
	group         *group.Group[store]
}

// in returns s inside tx, or outside a transaction if tx is nil, with
// its tables reached through it. The copy of s that its conn holds has
// neither conn nor tables: they would be the ones s had before, maybe
// outside the transaction, so that a call through them would run beside
// it (and wait for it for ever on SQLite's one connection).
func (s store) in(tx pgx.Tx) store {
	s.tx, s.conn, s.Tables = tx, nil, record.Tables{}
	c := conn{s}
	s.conn, s.Tables = c, record.NewTables(c, dialect())
	return s
}

// dialect is how PostgreSQL says what the two back ends say differently:
// LIMIT NULL is none.
func dialect() record.Dialect {
	return record.Dialect{Limit: "?::bigint", Unlimited: nil}
}

// atomic runs fn with several statements as one transaction: a new one,
// holding the write lock, outside a transaction, committed with whatever
// else is being committed then; else the enclosing one.
func (s store) atomic(ctx context.Context, fn func(s store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	return s.group.Run(ctx, fn)
}

// querier is what the pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (s store) on() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.pool
}

// result is what a write changed.
type result struct{ tag pgconn.CommandTag }

func (r result) RowsAffected() (int64, error) { return r.tag.RowsAffected(), nil }

// exec runs a write; outside a transaction, in one of its own, committed
// with whatever else is being committed then.
func (s store) exec(ctx context.Context, query string, args ...any) (res result, err error) {
	if s.tx == nil {
		err = s.atomic(ctx, func(s store) error {
			res, err = s.exec(ctx, query, args...)
			return err
		})
		return res, err
	}
	tag, err := s.tx.Exec(s.detached(ctx), numbered(query), args...)
	return result{tag}, s.health.fail(err)
}

// execSaved is exec for a write that may be refused (a unique key
// taken): inside a transaction it runs in a savepoint, so that the
// refusal leaves the transaction usable, as SQLite's does.
func (s store) execSaved(ctx context.Context, query string, args ...any) (result, error) {
	if s.tx == nil {
		return s.exec(ctx, query, args...)
	}
	ctx = s.detached(ctx)
	sp, err := s.tx.Begin(ctx)
	if err != nil {
		return result{}, s.health.fail(err)
	}
	defer sp.Rollback(context.WithoutCancel(ctx))
	tag, err := sp.Exec(ctx, numbered(query), args...)
	if err != nil {
		return result{}, s.health.fail(err)
	}
	return result{tag}, sp.Commit(ctx)
}

func (s store) query(ctx context.Context, query string, args ...any) (pgx.Rows, error) {
	return s.on().Query(s.detached(ctx), numbered(query), args...)
}

func (s store) queryRow(ctx context.Context, query string, args ...any) pgx.Row {
	return s.on().QueryRow(s.detached(ctx), numbered(query), args...)
}

// numbered turns the queries' placeholders, written ? (the next argument)
// or ?N (the Nth) as in SQLite, into PostgreSQL's $N. A ? inside a string
// literal is left alone.
func numbered(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(query[i+1 : j])
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// conn is how the records' tables reach the database through s.
type conn struct{ s store }

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.s.exec(ctx, query, args...)
	return res.tag.RowsAffected(), err
}

func (c conn) ExecUnique(ctx context.Context, conflict error, query string, args ...any) error {
	_, err := c.s.execSaved(ctx, query, args...)
	return unique(err, conflict)
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) record.Row {
	return c.s.queryRow(ctx, query, args...)
}

func (c conn) Query(ctx context.Context, query string, args ...any) (record.Rows, error) {
	return c.s.query(ctx, query, args...)
}

func (c conn) Atomic(ctx context.Context, fn func(c record.Conn) error) error {
	return c.s.atomic(ctx, func(s store) error { return fn(conn{s}) })
}

func (c conn) Fail(err error) error { return c.s.health.fail(err) }

// unique turns a write refused by a UNIQUE or PRIMARY KEY constraint into
// conflict, the caller's error naming the key.
func unique(err, conflict error) error {
	if e, ok := errors.AsType[*pgconn.PgError](err); ok && e.Code == uniqueViolation {
		return conflict
	}
	return err
}

// exists returns none, the caller's error, when a write touched no row.
func exists(res result, none error) error {
	if res.tag.RowsAffected() == 0 {
		return none
	}
	return nil
}
