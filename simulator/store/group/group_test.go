package group

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTx records what a group runs in its transaction, and fails the
// statement or the commit it is told to.
type fakeTx struct {
	ran        *[]string
	failExec   string // the statement that fails
	failCommit bool
	onCommit   func() // called as the transaction commits
}

var errBroken = errors.New("the database broke")

func (t fakeTx) Exec(statement string) error {
	*t.ran = append(*t.ran, statement)
	if statement == t.failExec {
		return errBroken
	}
	return nil
}

func (t fakeTx) Commit() error {
	*t.ran = append(*t.ran, "COMMIT")
	if t.onCommit != nil {
		t.onCommit()
	}
	if t.failCommit {
		return errBroken
	}
	return nil
}

func (t fakeTx) Rollback() { *t.ran = append(*t.ran, "ROLLBACK") }

// world is a group over a fakeTx, with its health as recorded.
type world struct {
	ran    []string
	failed []error
	oks    int
	g      *Group[string]
}

func newWorld(tx fakeTx) *world { return newNestWorld(tx, false) }

// newNestWorld is newWorld with the backend's Nest.
func newNestWorld(tx fakeTx, nest bool) *world {
	w := &world{}
	tx.ran = &w.ran
	w.g = New(Backend[string]{
		Max:   4,
		Nest:  nest,
		Begin: func() (string, Tx, error) { w.ran = append(w.ran, "BEGIN"); return "in tx", tx, nil },
		Fail: func(err error) error {
			if err != nil {
				w.failed = append(w.failed, err)
			}
			return err
		},
		OK: func() { w.oks++ },
	})
	return w
}

// One member alone: its function gets the store inside the transaction,
// with no savepoint, since nothing else ran in it.
func TestOneMember(t *testing.T) {
	w := newWorld(fakeTx{})
	var got string
	if err := w.g.Run(t.Context(), func(s string) error { got = s; return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{"BEGIN", "COMMIT"}
	if got != "in tx" || !slices.Equal(w.ran, want) || w.oks != 1 {
		t.Errorf("store %q, ran %v, %d OK; want %q, %v, 1 OK", got, w.ran, w.oks, "in tx", want)
	}
}

// A member that fails alone rolls back its transaction, and its failure
// is recorded, not cleared.
func TestFailingMemberAlone(t *testing.T) {
	w := newWorld(fakeTx{})
	refused := errors.New("refused")
	if err := w.g.Run(t.Context(), func(string) error { return refused }); err != refused {
		t.Errorf("Run = %v, want the member's error", err)
	}
	want := []string{"BEGIN", "ROLLBACK"}
	if !slices.Equal(w.ran, want) || w.oks != 0 || len(w.failed) != 1 {
		t.Errorf("ran %v, %d OK, failures %v; want %v, no OK, the member's failure", w.ran, w.oks, w.failed, want)
	}
}

// runTwo runs first and second as one group: second calls Run while
// first runs, and joins first's group. It returns both outcomes, a
// panic as an error.
func runTwo(t *testing.T, g *Group[string], first, second func(string) error) (err1, err2 error) {
	t.Helper()
	done := make(chan error, 1)
	err1 = runRecovered(func() error {
		return g.Run(t.Context(), func(s string) error {
			go func() { done <- runRecovered(func() error { return g.Run(t.Context(), second) }) }()
			for waiting := 0; waiting == 0; {
				g.mu.Lock()
				waiting = len(g.pending)
				g.mu.Unlock()
				runtime.Gosched()
			}
			return first(s)
		})
	})
	return err1, <-done
}

// runRecovered runs fn, returning a panic as an error.
func runRecovered(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return fn()
}

// The members after the first each run in a savepoint of their own; a
// failing one is rolled back to it, fails alone, and the others commit.
func TestMembersAfterTheFirst(t *testing.T) {
	w := newWorld(fakeTx{})
	refused := errors.New("refused")
	err1, err2 := runTwo(t, w.g, func(string) error { return nil }, func(string) error { return refused })
	want := []string{"BEGIN", Savepoint, RollbackTo, Release, "COMMIT"}
	if err1 != nil || err2 != refused || !slices.Equal(w.ran, want) || w.oks != 1 {
		t.Errorf("outcomes %v, %v; ran %v, %d OK; want nil, refused, %v, 1 OK", err1, err2, w.ran, w.oks, want)
	}
}

// With Nest, a member's savepoint is left open for the next to nest in;
// a failing member is still rolled back to its own, and fails alone.
func TestNestedMembers(t *testing.T) {
	w := newNestWorld(fakeTx{}, true)
	refused := errors.New("refused")
	err1, err2 := runTwo(t, w.g, func(string) error { return nil }, func(string) error { return refused })
	want := []string{"BEGIN", Savepoint, RollbackTo, "COMMIT"}
	if err1 != nil || err2 != refused || !slices.Equal(w.ran, want) || w.oks != 1 {
		t.Errorf("outcomes %v, %v; ran %v, %d OK; want nil, refused, %v, 1 OK", err1, err2, w.ran, w.oks, want)
	}
}

// A first member that fails or panics rolls back the transaction only it
// wrote in; the next member commits in a new one.
func TestFailingFirstMember(t *testing.T) {
	for name, first := range map[string]func(string) error{
		"fails":  func(string) error { return errors.New("refused") },
		"panics": func(string) error { panic("the member broke") },
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(fakeTx{})
			err1, err2 := runTwo(t, w.g, first, func(string) error { return nil })
			want := []string{"BEGIN", "ROLLBACK", "BEGIN", "COMMIT"}
			if err1 == nil || err2 != nil || !slices.Equal(w.ran, want) || w.oks != 1 {
				t.Errorf("outcomes %v, %v; ran %v, %d OK; want the first's failure, nil, %v, 1 OK", err1, err2, w.ran, w.oks, want)
			}
		})
	}
}

// A savepoint that cannot be handled, or a commit that fails, is the
// transaction's failure: every member fails with it, wrapped, nothing
// commits, and the store's health hears of it.
func TestBrokenTransaction(t *testing.T) {
	for _, tc := range []struct {
		name string
		tx   fakeTx
		last string
	}{
		{"savepoint", fakeTx{failExec: Savepoint}, "ROLLBACK"},
		{"release", fakeTx{failExec: Release}, "ROLLBACK"},
		{"commit", fakeTx{failCommit: true}, "COMMIT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(tc.tx)
			ok := func(string) error { return nil }
			err1, err2 := runTwo(t, w.g, ok, ok)
			for _, err := range []error{err1, err2} {
				if !errors.Is(err, errBroken) || !strings.Contains(err.Error(), "the transaction it was committed in failed") {
					t.Errorf("Run = %v, want the transaction's failure", err)
				}
			}
			if w.ran[len(w.ran)-1] != tc.last || w.oks != 0 || len(w.failed) != 1 {
				t.Errorf("ran %v, %d OK, failures %v; want it to end with %s, no OK, one failure", w.ran, w.oks, w.failed, tc.last)
			}
		})
	}
}

// A member whose context has ended does not run.
func TestEndedContext(t *testing.T) {
	w := newWorld(fakeTx{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	if err := w.g.Run(ctx, func(string) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Run = %v, function ran: %v; want context.Canceled, not run", err, ran)
	}
}

// A leader commits its own group and hands the lead to a caller that came
// meanwhile: it returns without waiting for that caller's group, whose
// function waits until the first caller has returned.
func TestLeaderHandsOver(t *testing.T) {
	var g *Group[string]
	returned := make(chan struct{})
	second := make(chan error, 1)
	var once sync.Once
	w := newWorld(fakeTx{onCommit: func() {
		once.Do(func() {
			go func() {
				second <- g.Run(context.Background(), func(string) error {
					select {
					case <-returned:
						return nil
					case <-time.After(10 * time.Second):
						return errors.New("the first caller had not returned")
					}
				})
			}()
			for waiting := 0; waiting == 0; {
				g.mu.Lock()
				waiting = len(g.pending)
				g.mu.Unlock()
				runtime.Gosched()
			}
		})
	}})
	g = w.g
	if err := g.Run(t.Context(), func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	close(returned)
	if err := <-second; err != nil {
		t.Error(err)
	}
}
