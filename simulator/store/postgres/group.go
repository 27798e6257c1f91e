package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/kgsim/kgsim/simulator/store/group"
)

// grouped is the group commits of the store s is (package group): every
// transaction that writes holds the write lock until it commits, so the
// members ran one after another anyway, each paying a commit of its own.
func grouped(s store) *group.Group[store] {
	return group.New(group.Backend[store]{Max: maxGroup, Begin: s.begin, Fail: s.health.fail, OK: s.health.ok, Nest: true})
}

// maxGroup bounds a group, well below SQLite's 64. A member that writes
// takes a subtransaction ID for its savepoint, and so does each of its
// writes that may be refused (execSaved); past 64 in one transaction the
// server's cache of them overflows, and until that transaction ends every
// other session's snapshot (other replicas' too) has to look its IDs up
// in pg_subtrans.
const maxGroup = 16

// begin begins a group's transaction, holding the write lock.
func (s store) begin() (store, group.Tx, error) {
	tx, err := s.pool.BeginTx(context.Background(), pgx.TxOptions{BeginQuery: beginLocked})
	if err != nil {
		return s, nil, err
	}
	return s.in(tx), groupTx{tx}, nil
}

// groupTx is a group's transaction.
type groupTx struct{ tx pgx.Tx }

func (t groupTx) Exec(statement string) error {
	_, err := t.tx.Exec(context.Background(), statement)
	return err
}

func (t groupTx) Commit() error { return t.tx.Commit(context.Background()) }

func (t groupTx) Rollback() { t.tx.Rollback(context.Background()) }

// detached is the context a statement runs with, ctx being its caller's.
// In a group's transaction a statement once sent runs to its end: pgx
// stops one whose context ends by breaking the connection, and with it
// the transaction of the whole group. A member whose context has ended
// sends no more: pgx refuses a context already done before it sends, and
// the member fails alone.
func (s store) detached(ctx context.Context) context.Context {
	if s.tx == nil || ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}
