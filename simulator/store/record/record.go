// Package record keeps kgsim's records in the tables that the SQLite and
// PostgreSQL stores share. It says which columns each record takes and
// how its fields are written to them and read back (times as Unix
// nanoseconds, lists and documents as JSON, enums as their strings,
// nullable fields as NULL), holds the queries that read alike in both
// dialects, and turns a listing's filter into WHERE, ORDER BY and LIMIT.
//
// Tables implements the store's methods on those tables over a back
// end's Conn. The back end keeps its connections and transactions, tells
// its errors apart, and keeps the queries its SQL says differently.
package record

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Conn runs the queries of Tables: a back end's database, or the
// transaction a call is part of. Queries are written with SQLite's
// placeholders, ? for the next argument and ?N for the Nth; a back end
// whose driver takes others rewrites them.
type Conn interface {
	// Exec runs a write and returns how many rows it changed; outside a
	// transaction, in one of its own.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// ExecUnique is Exec for a write that a UNIQUE or PRIMARY KEY
	// constraint may refuse: it returns conflict then, and an enclosing
	// transaction stays usable.
	ExecUnique(ctx context.Context, conflict error, query string, args ...any) error
	// QueryRow runs a query for one row. Reading none is an error that
	// is sql.ErrNoRows (pgx's is too).
	QueryRow(ctx context.Context, query string, args ...any) Row
	// Query runs a query for its rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// Atomic runs fn in one transaction: a new one outside a
	// transaction, else the enclosing one.
	Atomic(ctx context.Context, fn func(c Conn) error) error
	// Fail returns a failed read's error as the caller is to see it: one
	// that says the database, not the request, is at fault says what to
	// do, and the store's health remembers it.
	Fail(err error) error
}

// Row is what a record is read from: a row of database/sql or of pgx.
type Row interface{ Scan(dest ...any) error }

// Rows are the rows a query returned, read one after the other.
type Rows interface {
	Row
	Next() bool
	Err() error
	Close()
}

// Dialect is what the back ends write differently in the queries that
// Tables builds.
type Dialect struct {
	// Limit is a LIMIT's placeholder, Unlimited its argument for no limit.
	Limit     string
	Unlimited any
	// NotByIndex, put before a column in a WHERE, keeps the planner from
	// choosing that column's index: SQLite's "+". Without it SQLite may
	// read an order's messages by the index of their status, every message
	// that has it.
	NotByIndex string
}

// Tables implements the store's methods on the tables both back ends
// share, over c. A back end's store embeds it, reached through the store
// itself, and defines a method of its own where it does more (SQLite's
// memo) or says it differently.
type Tables struct {
	c Conn
	d Dialect
}

// NewTables returns the tables reached through c, whose SQL is d.
func NewTables(c Conn, d Dialect) Tables {
	return Tables{c: c, d: d}
}

// One reads the single row query returns; notFound is the error for none.
func One[T any](ctx context.Context, c Conn, scan func(Row) (T, error), notFound error, query string, args ...any) (T, error) {
	v, err := scan(c.QueryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound
	}
	return v, c.Fail(err)
}

// List reads every row query returns.
func List[T any](ctx context.Context, c Conn, scan func(Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := c.Query(ctx, query, args...)
	if err != nil {
		return nil, c.Fail(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, c.Fail(err)
		}
		out = append(out, v)
	}
	return out, c.Fail(rows.Err())
}

// Frequent are the queries of Tables that run for every purchase,
// callback, open-API call or login: a back end whose driver parses a
// query each time it runs may prepare them once.
func Frequent() []string {
	return []string{
		addCode, consumeCode, addToken, selectTokenByAccess, selectTokenByRefresh, consumeRefresh, consumeTicket,
		selectUser, selectAuthorisation, selectDepartment, selectTenant, selectTenantByCode, selectClientByID,
		addNotice, selectMessage, updateMessage, insertAttempt, keepOrder, putOrder, selectOrder, keepInstance, putInstance, selectInstance,
		selectSellerByAK, insertUsage, selectProduct, selectCustomer,
	}
}

// required returns an EINVALID error for the first empty value, named by
// the field before it: required("tenantId", t.ID, "tenantCode", t.Code).
func required(what string, fieldsAndValues ...string) error {
	for i := 0; i+1 < len(fieldsAndValues); i += 2 {
		if fieldsAndValues[i+1] == "" {
			return simulator.Errorf(simulator.EINVALID, fieldsAndValues[i], "is required to store %s", what)
		}
	}
	return nil
}

// exists returns none, the caller's error, when a write changed no row.
func exists(changed int64, err, none error) error {
	if err == nil && changed == 0 {
		return none
	}
	return err
}

// changeAll runs each of queries with args in one transaction and
// returns how many rows they changed in all.
func changeAll(ctx context.Context, c Conn, queries []string, args ...any) (int, error) {
	changed := 0
	err := c.Atomic(ctx, func(c Conn) error {
		for _, query := range queries {
			n, err := c.Exec(ctx, query, args...)
			if err != nil {
				return err
			}
			changed += int(n)
		}
		return nil
	})
	return changed, err
}

// Nanos stores a time as Unix nanoseconds, the zero time as 0. Unix
// nanoseconds cover the years 1678 to 2262; beyond them UnixNano wraps
// around, so a far-future "now" (find the next due message) would read as
// a date in the past: such times are clamped to the range instead.
func Nanos(t time.Time) int64 {
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	switch sec := t.Unix(); {
	case t.IsZero():
		return 0
	case sec >= maxSeconds:
		return math.MaxInt64
	case sec <= -maxSeconds:
		return math.MinInt64 + 1
	}
	return t.UnixNano()
}

// FromNanos reads a time back in UTC, 0 as the zero time.
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
