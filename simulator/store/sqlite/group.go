package sqlite

import (
	"context"
	"fmt"
	"sync"
)

// maxGroup bounds the transactions committed together: a group waits for
// its slowest member, and one COMMIT (one WAL write) is shared by them
// all.
const maxGroup = 64

// group commits the transactions that callers start at about the same
// time as one SQLite transaction: the first caller leads, running its own
// and every waiting caller's function, each inside a savepoint of its
// own, and commits them with one COMMIT. A member whose function fails or
// panics is rolled back to its savepoint and fails alone; the others
// commit. Every caller returns only once its work is committed (or not),
// so what a caller acknowledges is on disk as before; with one connection
// the members ran one after another anyway, and now share the commit's
// cost, which was the largest part of a small transaction's.
type group struct {
	mu      sync.Mutex
	pending []*member
	leading bool
}

// member is one caller's transaction in a group.
type member struct {
	ctx      context.Context
	fn       func(s store) error
	err      error
	panicked any // what fn panicked with, re-panicked in its caller
	done     chan struct{}
}

// run runs fn as a member of a group and returns its outcome.
func (g *group) run(ctx context.Context, s store, fn func(s store) error) error {
	m := &member{ctx: ctx, fn: fn, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, m)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		g.lead(s)
	}
	<-m.done
	if m.panicked != nil {
		panic(m.panicked)
	}
	return m.err
}

// lead commits groups until no caller waits.
func (g *group) lead(s store) {
	for {
		batch := g.take(maxGroup, true)
		if len(batch) == 0 {
			return
		}
		g.commit(s, batch)
	}
}

// take removes up to n waiting members. If last and none waits, the
// leadership ends: the next caller leads.
func (g *group) take(n int, last bool) []*member {
	g.mu.Lock()
	defer g.mu.Unlock()
	n = min(n, len(g.pending))
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	if n == 0 && last {
		g.leading = false
	}
	return batch
}

// commit runs the members in one transaction, taking in those that come
// meanwhile up to maxGroup, and commits it.
func (g *group) commit(s store, batch []*member) {
	defer func() {
		for _, m := range batch {
			close(m.done)
		}
	}()
	// The transaction is the group's, not any member's: one member's
	// context ending must not roll back the others.
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		failAll(batch, s.health.fail(err))
		return
	}
	s = s.in(tx)
	for i := 0; i < len(batch); i++ {
		if err := runMember(s, batch[i]); err != nil {
			// The transaction itself is broken (SQLite rolls it back
			// whole on a full disk or an I/O error): nothing commits.
			tx.Rollback()
			failAll(batch, s.health.fail(err))
			return
		}
		if i == len(batch)-1 && len(batch) < maxGroup {
			batch = append(batch, g.take(maxGroup-len(batch), false)...)
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(batch, s.health.fail(err))
		return
	}
	s.health.ok()
}

// runMember runs m's function inside a savepoint, rolled back to when the
// function fails or panics. Its error is m's; the error returned is the
// transaction's, when the savepoint itself could not be handled.
func runMember(s store, m *member) error {
	if err := m.ctx.Err(); err != nil {
		m.err = err
		return nil
	}
	if err := s.savepoint(savepoint); err != nil {
		return err
	}
	m.panicked, m.err = call(s, m.fn)
	if m.err != nil || m.panicked != nil {
		m.err = s.health.fail(m.err)
		if err := s.savepoint(rollbackTo); err != nil {
			return err
		}
	}
	return s.savepoint(release)
}

// A member's savepoint, prepared with the hot statements: every member
// of every group opens and releases one, and parsing them each time was
// two parses more per transaction.
const (
	savepoint  = "SAVEPOINT member"
	rollbackTo = "ROLLBACK TO member"
	release    = "RELEASE member"
)

// savepoint runs one of the savepoint statements in s's transaction.
func (s store) savepoint(query string) error {
	_, err := s.on(context.Background(), query).ExecContext(context.Background(), query)
	return err
}

// call runs fn, recovering a panic.
func call(s store, fn func(s store) error) (panicked any, err error) {
	defer func() {
		if v := recover(); v != nil {
			panicked = v
		}
	}()
	return nil, fn(s)
}

// failAll fails every member that had not failed on its own with err.
func failAll(batch []*member, err error) {
	for _, m := range batch {
		if m.err == nil && m.panicked == nil {
			m.err = fmt.Errorf("the transaction it was committed in failed: %w", err)
		}
	}
}
