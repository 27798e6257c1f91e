package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// businessChange is what a lifecycle step and a recorded attempt write in
// one Update: new callbacks, an attempt at an enqueued message with its new
// state, and an order. It reads its own writes back on the way.
func businessChange(t *testing.T, tx simulator.Tx) error {
	ctx := t.Context()
	if err := tx.Enqueue(ctx, Pending("02", "CS2", t0), Pending("03", "CS2", t0)); err != nil {
		return err
	}
	if _, err := tx.Message(ctx, "02"); err != nil {
		return fmt.Errorf("a message enqueued in the transaction cannot be read in it: %w", err)
	}
	m := Pending("01", "CS1", t0)
	m.Outcome, m.Attempts, m.FirstAttempt, m.NextAttemptAt = simulator.Succeeded, 1, t0, time.Time{}
	if err := tx.RecordAttempt(ctx, simulator.Attempt{MessageID: "01", N: 1, StartedAt: t0, FinishedAt: t0, Verdict: simulator.Success}, m); err != nil {
		return err
	}
	return tx.PutOrder(ctx, order("CS2", "P1", t0))
}

// enqueueFirst stores the message businessChange attempts, outside any
// Update.
func enqueueFirst(t *testing.T, s simulator.Store) {
	t.Helper()
	check(t, s.Enqueue(t.Context(), Pending("01", "CS1", t0)))
}

// nothingChanged fails the test if any of businessChange's writes is
// visible. It gives up after a while: a transaction left open would hold
// the store.
func nothingChanged(t *testing.T, s simulator.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	notFound(t, "message 02", func() error { _, err := s.Message(ctx, "02"); return err }())
	notFound(t, "message 03", func() error { _, err := s.Message(ctx, "03"); return err }())
	notFound(t, "order CS2", func() error { _, err := s.Order(ctx, "CS2"); return err }())
	if a, err := s.Attempts(ctx, "01"); err != nil || len(a) != 0 {
		t.Errorf("attempts of 01 = %v, %v; want none", a, err)
	}
	if m, err := s.Message(ctx, "01"); err != nil || !reflect.DeepEqual(m, Pending("01", "CS1", t0)) {
		t.Errorf("message 01 = %+v, %v; want it as enqueued", m, err)
	}
	if n, err := s.Pending(ctx); err != nil || n != 1 {
		t.Errorf("Pending = %d, %v; want 1", n, err)
	}
}

func updateCommits(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	enqueueFirst(t, s)
	check(t, s.Update(ctx, func(tx simulator.Tx) error { return businessChange(t, tx) }))
	ms, err := s.Messages(ctx, simulator.MessageFilter{})
	same(t, "messages", ids(ms), err, "01", "02", "03")
	if m, err := s.Message(ctx, "01"); err != nil || m.Outcome != simulator.Succeeded {
		t.Errorf("message 01 = %+v, %v; want SUCCEEDED", m, err)
	}
	if a, err := s.Attempts(ctx, "01"); err != nil || len(a) != 1 {
		t.Errorf("attempts of 01 = %v, %v; want one", a, err)
	}
	if o, err := s.Order(ctx, "CS2"); err != nil || !reflect.DeepEqual(o, order("CS2", "P1", t0)) {
		t.Errorf("order CS2 = %+v, %v", o, err)
	}
	if got := due(t, s, t0, 10); !reflect.DeepEqual(got, []string{"02"}) {
		t.Errorf("due = %v, want [02]", got)
	}
}

// When fn fails, none of its writes is kept, and Update returns fn's error.
func updateRollsBackOnError(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	enqueueFirst(t, s)
	refused := errors.New("the merchant refused the change")
	err := s.Update(ctx, func(tx simulator.Tx) error {
		if err := businessChange(t, tx); err != nil {
			t.Errorf("the change itself failed: %v", err)
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Errorf("Update = %v, want fn's error", err)
	}
	nothingChanged(t, s)
	// A failing write inside fn (a duplicate ID) undoes the earlier ones.
	err = s.Update(ctx, func(tx simulator.Tx) error {
		if err := tx.PutOrder(ctx, order("CS2", "P1", t0)); err != nil {
			return err
		}
		return tx.Enqueue(ctx, Pending("02", "CS2", t0), Pending("01", "CS1", t0))
	})
	if err == nil {
		t.Error("enqueueing a duplicate ID in Update succeeded")
	}
	nothingChanged(t, s)
}

// A panic in fn rolls its writes back and goes on up; the store stays
// usable.
func updateRollsBackOnPanic(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	enqueueFirst(t, s)
	type bug struct{}
	func() {
		defer func() {
			if r := recover(); r != (bug{}) {
				t.Errorf("recovered %v, want fn's panic", r)
			}
		}()
		s.Update(ctx, func(tx simulator.Tx) error {
			if err := businessChange(t, tx); err != nil {
				t.Errorf("the change itself failed: %v", err)
			}
			panic(bug{})
		})
		t.Error("Update returned after fn panicked")
	}()
	nothingChanged(t, s)
	check(t, s.Update(ctx, func(tx simulator.Tx) error { return businessChange(t, tx) }))
	if _, err := s.Order(ctx, "CS2"); err != nil {
		t.Errorf("after the panic, a later Update was lost: %v", err)
	}
}

// Updates and single calls from several goroutines all land; none fails
// with a busy database.
func updatesInParallel(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := range workers {
		wg.Go(func() {
			errs <- s.Update(ctx, func(tx simulator.Tx) error {
				for i := range each {
					if err := tx.Enqueue(ctx, Pending(fmt.Sprintf("u%d-%d", w, i), fmt.Sprintf("q%d", w), t0)); err != nil {
						return err
					}
				}
				return nil
			})
		})
		wg.Go(func() { errs <- s.Enqueue(ctx, Pending(fmt.Sprintf("e%d", w), "e", t0)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		check(t, err)
	}
	if n, err := s.Pending(ctx); err != nil || n != workers*each+workers {
		t.Errorf("Pending = %d, %v; want %d", n, err, workers*each+workers)
	}
}

// Updates made at once may be committed together (a back end may group
// them), but each is all or nothing on its own: of many concurrent
// updates, one that fails, one whose write is refused (on PostgreSQL that
// aborts the whole transaction unless undone) and one that panics leave
// nothing, the panic reaches its caller, and every other commits; the
// store goes on working. The first update holds its transaction until the
// others have been started, so that a grouping back end has them waiting
// to join it.
func concurrentUpdatesFailAlone(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	check(t, s.Enqueue(ctx, Pending("before", "q-before", t0)))
	const n = 16
	started := make(chan struct{}, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	panics := make([]any, n)
	for i := range n {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			if i > 0 {
				started <- struct{}{}
			}
			errs[i] = s.Update(ctx, func(tx simulator.Tx) error {
				if i == 0 {
					for range n - 1 {
						<-started
					}
				}
				if err := tx.Enqueue(ctx, Pending(fmt.Sprintf("g%02d", i), fmt.Sprintf("q%02d", i), t0)); err != nil {
					return err
				}
				switch i {
				case 5:
					return errors.New("member 5 fails")
				case 9:
					panic("member 9 panics")
				case 12:
					return tx.Enqueue(ctx, Pending("before", "q-before", t0))
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i := range n {
		_, err := s.Message(ctx, fmt.Sprintf("g%02d", i))
		switch i {
		case 5:
			if errs[i] == nil || !strings.Contains(errs[i].Error(), "member 5 fails") {
				t.Errorf("the failing update returned %v", errs[i])
			}
			notFound(t, "the failing update's message", err)
		case 9:
			if panics[i] != "member 9 panics" {
				t.Errorf("the panicking update's caller recovered %v, want its panic", panics[i])
			}
			notFound(t, "the panicking update's message", err)
		case 12:
			if errs[i] == nil {
				t.Error("the update enqueueing a message twice succeeded")
			}
			notFound(t, "the refused update's message", err)
		default:
			if errs[i] != nil || panics[i] != nil || err != nil {
				t.Errorf("update %d: %v, panic %v, its message: %v; want it committed", i, errs[i], panics[i], err)
			}
		}
	}
	check(t, s.Enqueue(ctx, Pending("after", "q-after", t0)))
	if n, err := s.Pending(ctx); err != nil || n != 15 {
		t.Errorf("Pending = %d, %v; want 15 (13 committed updates, one before and one after)", n, err)
	}
}

// An update whose context ends before it runs stores nothing and returns
// its context's error, while the updates made with it commit: its context
// is not that of the transaction it may share with them. The first update
// holds its transaction until the others have been started, then cancels
// one of them.
func cancelledUpdateFailsAlone(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	const n, cancelled = 8, 3
	gone, cancel := context.WithCancel(ctx)
	defer cancel()
	inside := make(chan struct{})
	started := make(chan struct{}, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			uctx := ctx
			if i == cancelled {
				uctx = gone
			}
			if i > 0 {
				<-inside
				started <- struct{}{}
			}
			errs[i] = s.Update(uctx, func(tx simulator.Tx) error {
				if i == 0 {
					close(inside)
					for range n - 1 {
						<-started
					}
					cancel()
				}
				return tx.Enqueue(uctx, Pending(fmt.Sprintf("c%d", i), fmt.Sprintf("q%d", i), t0))
			})
		})
	}
	wg.Wait()
	for i := range n {
		_, err := s.Message(ctx, fmt.Sprintf("c%d", i))
		if i == cancelled {
			if !errors.Is(errs[i], context.Canceled) {
				t.Errorf("the cancelled update returned %v, want its context's error", errs[i])
			}
			notFound(t, "the cancelled update's message", err)
			continue
		}
		if errs[i] != nil || err != nil {
			t.Errorf("update %d: %v, its message: %v; want it committed", i, errs[i], err)
		}
	}
}
