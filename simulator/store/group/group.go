// Package group commits the transactions that callers start at about the
// same time as one database transaction (group commit), for every store
// back end: the first caller leads, running its own and every waiting
// caller's function, and commits them with one COMMIT. Each member after
// the first to run is inside a savepoint of its own: one whose function
// fails or panics is rolled back to it and fails alone; the others
// commit. The first needs none: should it fail, the transaction only it
// wrote in is rolled back whole. Every caller
// returns only once its work is committed (or not), so what a caller
// acknowledges is stored as before. The stores have one writer (SQLite's
// one connection, PostgreSQL's write lock): the members ran one after
// another anyway, and now share the commit's cost, which was the largest
// part of a small transaction's.
package group

import (
	"context"
	"fmt"
	"sync"
)

// The statements of a member's savepoint, which SQLite and PostgreSQL
// both take as they are.
const (
	Savepoint  = "SAVEPOINT member"
	RollbackTo = "ROLLBACK TO member"
	Release    = "RELEASE member"
)

// Tx is a group's transaction, as a back end runs it.
type Tx interface {
	// Exec runs Savepoint, RollbackTo or Release.
	Exec(statement string) error
	Commit() error
	Rollback()
}

// Backend is what a group needs of a store: S is the store inside a
// transaction, which the members' functions get.
type Backend[S any] struct {
	// Max bounds the transactions committed together: a group waits for
	// its slowest member, and one COMMIT (one WAL write) is shared by
	// them all.
	Max int
	// Begin begins a group's transaction. It gets no member's context:
	// the transaction is the group's, and one member's context ending
	// must not roll back the others.
	Begin func() (S, Tx, error)
	// Fail turns an error that says the database is at fault into the
	// application error to return, remembering it for the store's
	// health; any other error it returns as it is.
	Fail func(err error) error
	// OK records a commit that succeeded: whatever made writes fail is
	// over.
	OK func()
	// Nest leaves each member's savepoint open when it ends instead of
	// releasing it: the next member's nests inside it, and the COMMIT
	// ends them all. On PostgreSQL a RELEASE is a round trip that frees
	// nothing the COMMIT would not; SQLite releases, since a page changed
	// under several open savepoints is copied once for each.
	Nest bool
}

// Group is one store's group commits.
type Group[S any] struct {
	b       Backend[S]
	mu      sync.Mutex
	pending []*member[S]
	leading bool
}

// New returns the group commits of the store b begins transactions of.
func New[S any](b Backend[S]) *Group[S] {
	return &Group[S]{b: b}
}

// member is one caller's transaction in a group.
type member[S any] struct {
	ctx      context.Context
	fn       func(s S) error
	err      error
	panicked any // what fn panicked with, re-panicked in its caller
	// turn says true when the member is to lead the next group, false
	// when its outcome is set.
	turn chan bool
}

// Run runs fn as a member of a group and returns its outcome: fn's error,
// or the group's transaction's; fn's panic goes on up in its caller once
// its writes are rolled back. A member whose ctx has ended before its
// turn does not run, and fails with ctx's error.
func (g *Group[S]) Run(ctx context.Context, fn func(s S) error) error {
	m := &member[S]{ctx: ctx, fn: fn, turn: make(chan bool, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, m)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		g.lead()
	}
	for <-m.turn {
		g.lead()
	}
	if m.panicked != nil {
		panic(m.panicked)
	}
	return m.err
}

// lead commits one group, the leader's own member first among those
// waiting, then hands the lead to the first caller still waiting, so that
// no caller waits for more than the group before its own and its own
// (a leader that went on committing groups kept its own caller waiting
// for all of them). With none waiting the leadership ends: the next
// caller leads.
func (g *Group[S]) lead() {
	g.commit(g.take(g.b.Max))
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pending) == 0 {
		g.leading = false
		return
	}
	g.pending[0].turn <- true
}

// take removes up to n waiting members.
func (g *Group[S]) take(n int) []*member[S] {
	g.mu.Lock()
	defer g.mu.Unlock()
	n = min(n, len(g.pending))
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	return batch
}

// commit runs the members in one transaction, taking in those that come
// meanwhile up to the bound, and commits it.
func (g *Group[S]) commit(batch []*member[S]) {
	defer func() {
		for _, m := range batch {
			m.turn <- false
		}
	}()
	// Until a member has written in it, the transaction needs no
	// savepoint: should the first member to run fail, the transaction
	// is rolled back whole, and the next member begins a new one. A
	// member alone (a light load) thus runs as BEGIN, its statements and
	// COMMIT, and every group saves a savepoint's statements and the
	// copies of the pages its first member changes.
	var (
		s     S
		tx    Tx // nil until a member is to run, and after a rollback
		fresh bool
	)
	for i := 0; i < len(batch); i++ {
		m := batch[i]
		if tx == nil {
			var err error
			if s, tx, err = g.b.Begin(); err != nil {
				failAll(batch, g.b.Fail(err))
				return
			}
			fresh = true
		}
		switch {
		case !fresh:
			if err := g.run(s, tx, m); err != nil {
				// The transaction itself is broken (SQLite rolls it
				// back whole on a full disk or an I/O error, a
				// PostgreSQL connection may have gone): nothing
				// commits.
				tx.Rollback()
				failAll(batch, g.b.Fail(err))
				return
			}
		case !g.runFirst(s, m):
			// It did not run: the transaction is still empty.
		case m.err == nil && m.panicked == nil:
			fresh = false
		default:
			tx.Rollback()
			tx = nil
		}
		if i == len(batch)-1 && len(batch) < g.b.Max {
			batch = append(batch, g.take(g.b.Max-len(batch))...)
		}
	}
	if tx == nil {
		return // the last member to run failed alone, and was rolled back
	}
	if err := tx.Commit(); err != nil {
		failAll(batch, g.b.Fail(err))
		return
	}
	// A commit of members that all failed stored nothing: it does not
	// say that the database takes writes again (a read-only one commits
	// an empty transaction), so what their failures recorded stays.
	for _, m := range batch {
		if m.err == nil && m.panicked == nil {
			g.b.OK()
			return
		}
	}
}

// run runs m's function inside a savepoint, rolled back to when the
// function fails or panics (the latest savepoint of the name: with Nest,
// m's). Its error is m's; the error returned is the
// transaction's, when the savepoint itself could not be handled.
func (g *Group[S]) run(s S, tx Tx, m *member[S]) error {
	if err := m.ctx.Err(); err != nil {
		m.err = err
		return nil
	}
	if err := tx.Exec(Savepoint); err != nil {
		return err
	}
	m.panicked, m.err = call(s, m.fn)
	if m.err != nil || m.panicked != nil {
		m.err = g.b.Fail(m.err)
		if err := tx.Exec(RollbackTo); err != nil {
			return err
		}
	}
	if g.b.Nest {
		return nil
	}
	return tx.Exec(Release)
}

// runFirst runs m's function first in the transaction, without a
// savepoint, and says whether it ran. Its error is m's.
func (g *Group[S]) runFirst(s S, m *member[S]) bool {
	if err := m.ctx.Err(); err != nil {
		m.err = err
		return false
	}
	m.panicked, m.err = call(s, m.fn)
	if m.err != nil || m.panicked != nil {
		m.err = g.b.Fail(m.err)
	}
	return true
}

// call runs fn, recovering a panic.
func call[S any](s S, fn func(s S) error) (panicked any, err error) {
	defer func() {
		if v := recover(); v != nil {
			panicked = v
		}
	}()
	return nil, fn(s)
}

// failAll fails every member that had not failed on its own with err.
func failAll[S any](batch []*member[S], err error) {
	for _, m := range batch {
		if m.err == nil && m.panicked == nil {
			m.err = fmt.Errorf("the transaction it was committed in failed: %w", err)
		}
	}
}
