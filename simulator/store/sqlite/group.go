package sqlite

import (
	"context"

	"github.com/kgsim/kgsim/simulator/store/group"
)

// grouped is the group commits of the store s is (package group): with
// one connection the members ran one after another anyway.
func grouped(s store) *group.Group[store] {
	return group.New(group.Backend[store]{Max: maxGroup, Begin: s.begin, Fail: s.health.fail, OK: s.health.ok})
}

// maxGroup bounds a group: it waits for its slowest member, and one
// COMMIT (one WAL write) is shared by them all.
const maxGroup = 64

// begin begins a group's transaction on the one connection.
func (s store) begin() (store, group.Tx, error) {
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		return s, nil, err
	}
	s = s.in(tx)
	return s, groupTx{s}, nil
}

// groupTx is a group's transaction. Its savepoint statements are
// prepared with the hot statements: every member of every group opens
// and releases one, and parsing them each time was two parses more per
// transaction.
type groupTx struct{ s store }

func (t groupTx) Exec(statement string) error {
	_, err := t.s.on(context.Background(), statement).ExecContext(context.Background(), statement)
	return err
}

func (t groupTx) Commit() error {
	if err := t.s.tx.Commit(); err != nil {
		return err
	}
	t.s.ckpt.committed()
	return nil
}

func (t groupTx) Rollback() { t.s.tx.Rollback() }
