package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// RunShared runs the tests of a back end that several kgsim processes
// share: open returns two stores on one new, empty database, each with
// connections of its own, as two processes would have. What one process
// guarantees alone (a credential spent once, a key claimed once, an
// attempt recorded once, a read-modify-write not lost) must hold across
// them.
func RunShared(t *testing.T, open func(t *testing.T) (a, b simulator.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b simulator.Store)
	}{
		{"CredentialsSpentOnceAcrossStores", credentialsSpentOnceAcrossStores},
		{"KeyClaimedOnceAcrossStores", keyClaimedOnceAcrossStores},
		{"AttemptRecordedOnceAcrossStores", attemptRecordedOnceAcrossStores},
		{"UpdatesSerialAcrossStores", updatesSerialAcrossStores},
		{"QueueOrderAcrossStores", queueOrderAcrossStores},
		{"Leases", leases},
		{"LeaseTakenOnceAcrossStores", leaseTakenOnceAcrossStores},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := open(t)
			t.Cleanup(func() { a.Close(); b.Close() })
			tt.fn(t, a, b)
		})
	}
}

// racers is how many callers race for one record, half on each store.
const racers = 16

// onlyOne runs fn racers times at once, alternately on a and b, and fails
// the test unless exactly one call succeeded. Every other call must fail
// with loser, the error code of "someone else got it" (any error when
// loser is empty).
func onlyOne(t *testing.T, what string, a, b simulator.Store, loser string, fn func(s simulator.Store, i int) error) {
	t.Helper()
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			errs[i] = fn(s, i)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case loser != "" && simulator.ErrorCode(err) != loser:
			t.Errorf("%s, caller %d: err = %v, want nil or %s", what, i, err, loser)
		}
	}
	if won != 1 {
		t.Errorf("%s succeeded %d times, want once", what, won)
	}
}

// Of many exchanges of one authorization code, uses of one refresh token
// or validations of one ticket through two stores at once, exactly one
// succeeds.
func credentialsSpentOnceAcrossStores(t *testing.T, a, b simulator.Store) {
	ctx := t.Context()
	check(t, a.AddCode(ctx, authCode("shared", "cid", "T1", t0.Add(time.Hour))))
	check(t, a.AddToken(ctx, token("at-shared", "rt-shared", "code")))
	check(t, b.AddTicket(ctx, simulator.Ticket{Ticket: "ST-shared", TenantID: "T1", ExpiresAt: t0.Add(time.Minute)}))
	onlyOne(t, "exchanging the code", a, b, simulator.ECONFLICT, func(s simulator.Store, _ int) error {
		_, err := s.ConsumeCode(ctx, "shared", t0)
		return err
	})
	onlyOne(t, "using the refresh token", a, b, simulator.ECONFLICT, func(s simulator.Store, _ int) error {
		_, err := s.ConsumeRefresh(ctx, "rt-shared", t0)
		return err
	})
	onlyOne(t, "validating the ticket", a, b, simulator.ECONFLICT, func(s simulator.Store, _ int) error {
		_, err := s.ConsumeTicket(ctx, "ST-shared", t0)
		return err
	})
}

// An Idempotency-Key sent to two processes at once is claimed by one.
func keyClaimedOnceAcrossStores(t *testing.T, a, b simulator.Store) {
	ctx := t.Context()
	onlyOne(t, "claiming the key", a, b, simulator.ECONFLICT, func(s simulator.Store, _ int) error {
		return s.ClaimKey(ctx, simulator.IdempotentAnswer{Key: "k1", Request: []byte("sha"), CreatedAt: t0})
	})
}

// Two processes recording the same attempt of a message: one is stored,
// the others refused, and the message counts one attempt.
func attemptRecordedOnceAcrossStores(t *testing.T, a, b simulator.Store) {
	ctx := t.Context()
	m := Pending("01A", "q", t0)
	check(t, a.Enqueue(ctx, m))
	m.Attempts, m.FirstAttempt, m.NextAttemptAt = 1, t0, t0.Add(time.Minute)
	onlyOne(t, "recording attempt 1", a, b, "", func(s simulator.Store, _ int) error {
		return s.RecordAttempt(ctx, simulator.Attempt{MessageID: m.ID, N: 1, StartedAt: t0, FinishedAt: t0, Verdict: simulator.Timeout}, m)
	})
	if got, err := b.Attempts(ctx, m.ID); err != nil || len(got) != 1 {
		t.Errorf("attempts stored = %d, %v; want 1", len(got), err)
	}
}

// Updates that read a record and write it back, made through two stores
// at once, lose none of each other's writes: each sees the last one's.
func updatesSerialAcrossStores(t *testing.T, a, b simulator.Store) {
	ctx := t.Context()
	check(t, a.Enqueue(ctx, Pending("counter", "q", t0)))
	const workers, each = 8, 5
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for range each {
				err := s.Update(ctx, func(tx simulator.Tx) error {
					m, err := tx.Message(ctx, "counter")
					if err != nil {
						return err
					}
					m.Attempts++
					return tx.PutMessage(ctx, m)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		check(t, err)
	}
	if m, err := a.Message(ctx, "counter"); err != nil || m.Attempts != workers*each {
		t.Errorf("after %d increments the count is %d, %v", workers*each, m.Attempts, err)
	}
}

// A queue enqueued to through both stores in turn delivers in the order
// the messages were enqueued.
func queueOrderAcrossStores(t *testing.T, a, b simulator.Store) {
	ctx := t.Context()
	var want []string
	for i := range 6 {
		s := a
		if i%2 == 1 {
			s = b
		}
		id := fmt.Sprintf("%02d", 9-i) // IDs against the enqueue order
		check(t, s.Enqueue(ctx, Pending(id, "q", t0)))
		want = append(want, id)
	}
	ms, err := b.Messages(ctx, simulator.MessageFilter{Queue: "q"})
	same(t, "the queue's messages", ids(ms), err, want...)
	if got := due(t, a, t0, 10); len(got) != 1 || got[0] != want[0] {
		t.Errorf("due = %v, want the first enqueued, %s", got, want[0])
	}
}

// leasers returns a and b as the Leasers a shared store must be.
func leasers(t *testing.T, a, b simulator.Store) (simulator.Leaser, simulator.Leaser) {
	t.Helper()
	la, okA := a.(simulator.Leaser)
	lb, okB := b.(simulator.Leaser)
	if !okA || !okB {
		t.Fatal("a store several processes share must be a simulator.Leaser")
	}
	return la, lb
}

// A lease is held until it runs out (at its until, not after), extended by
// its owner, refused to others meanwhile with when it ends, and free
// again once released; releasing another's lease does nothing.
func leases(t *testing.T, a, b simulator.Store) {
	ctx := t.Context()
	la, lb := leasers(t, a, b)
	take := func(l simulator.Leaser, owner string, now, until time.Time, want bool, wantUntil time.Time) {
		t.Helper()
		held, holderUntil, err := l.Lease(ctx, "queue:q", owner, now, until)
		if err != nil || held != want || !holderUntil.Equal(wantUntil) {
			t.Errorf("%s leasing at %v: held %v (holder's lease ends %v), %v; want %v (%v)", owner, now, held, holderUntil, err, want, wantUntil)
		}
	}
	take(la, "A", t0, t0.Add(10*time.Second), true, time.Time{})
	take(lb, "B", t0.Add(5*time.Second), t0.Add(time.Minute), false, t0.Add(10*time.Second))
	take(la, "A", t0.Add(6*time.Second), t0.Add(20*time.Second), true, time.Time{})
	take(lb, "B", t0.Add(19*time.Second).In(shanghai), t0.Add(time.Minute), false, t0.Add(20*time.Second))
	take(lb, "B", t0.Add(20*time.Second), t0.Add(time.Minute), true, time.Time{})
	check(t, la.ReleaseLease(ctx, "queue:q", "A")) // not A's any more
	take(la, "A", t0.Add(21*time.Second), t0.Add(time.Hour), false, t0.Add(time.Minute))
	check(t, lb.ReleaseLease(ctx, "queue:q", "B"))
	take(la, "A", t0.Add(22*time.Second), t0.Add(time.Hour), true, time.Time{})
	if _, _, err := la.Lease(ctx, "", "A", t0, t0.Add(time.Hour)); simulator.ErrorCode(err) != simulator.EINVALID {
		t.Errorf("a lease without a name: err = %v, want EINVALID", err)
	}
}

// Of many replicas asking for one lease at once, one gets it.
func leaseTakenOnceAcrossStores(t *testing.T, a, b simulator.Store) {
	ctx := t.Context()
	la, lb := leasers(t, a, b)
	onlyOne(t, "taking the lease", a, b, simulator.ECONFLICT, func(s simulator.Store, i int) error {
		l := la
		if s == b {
			l = lb
		}
		held, _, err := l.Lease(ctx, "notice:N1", fmt.Sprintf("replica-%d", i), t0, t0.Add(time.Minute))
		if err == nil && !held {
			err = simulator.Errorf(simulator.ECONFLICT, "lease", "held by another")
		}
		return err
	})
}
