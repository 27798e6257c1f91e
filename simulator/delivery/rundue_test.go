package delivery

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// lateEnd is a store on which the first attempt recorded ends exactly as
// RunDue decides whether it is done: its queue's next message is due by
// then, and the read RunDue made just before passed the queue over,
// because the attempt was in flight. The read, once it has that queue in
// SkipQueues, takes the deliverer's lock, lets the attempt's recording
// return, and returns once the attempt waits for the lock to give its
// queue back; the lock is handed over once RunDue waits for it too, so
// that the attempt ends first. Before, RunDue asked whether an attempt
// had ended since the read, and then, apart, whether any was in flight:
// an attempt ending between the two made it return with the queue's next
// message due (about once in 600 runs of the dial tests under load).
type lateEnd struct {
	Store
	t     *testing.T
	d     *Deliverer
	queue string

	mu       sync.Mutex
	recorded bool          // the first attempt's Update has committed
	finish   chan struct{} // lets it return
	read     bool          // the read passing the queue over was made
}

func (s *lateEnd) Update(ctx context.Context, fn func(simulator.Tx) error) error {
	err := s.Store.Update(ctx, fn)
	s.mu.Lock()
	first := !s.recorded
	s.recorded = true
	s.mu.Unlock()
	if first {
		<-s.finish
	}
	return err
}

func (s *lateEnd) Due(ctx context.Context, f simulator.DueFilter) ([]simulator.Message, error) {
	due, err := s.Store.Due(ctx, f)
	s.mu.Lock()
	first := !s.read && slices.Contains(f.SkipQueues, s.queue)
	s.read = s.read || first
	s.mu.Unlock()
	if !first {
		return due, err
	}
	s.d.mu.Lock()
	close(s.finish)
	s.waitForLock("(*Deliverer).release(")
	go func() {
		s.waitForLock("(*Deliverer).RunDue(")
		s.d.mu.Unlock()
	}()
	return due, err
}

// waitForLock returns once a goroutine with frame in its stack waits for
// a sync.Mutex.
func (s *lateEnd) waitForLock(frame string) {
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); runtime.Gosched() {
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, " [sync.Mutex.Lock") && strings.Contains(g, frame) {
				return
			}
		}
	}
	s.t.Errorf("no goroutine waits for a lock in %s", frame)
}

// RunDue returns only once nothing is due, however the end of an attempt
// falls: here between the read that passed its queue over and RunDue's
// decision that it is done.
func TestRunDueWaitsForAnAttemptEndingAsItIsDone(t *testing.T) {
	d := newDeliverer(t, schedule.NewVirtual(t0), "http://ok.example/produce")
	d.Sender = &Sender{client: &http.Client{Timeout: DefaultTimeout, Transport: &merchants{delivered: map[string]time.Time{}}}}
	ctx := context.Background()
	first := newInstanceMessage("Q-1", "Q", "http://ok.example/produce", t0)
	second := newInstanceMessage("Q-2", "Q", "http://ok.example/produce", t0)
	if err := d.Store.Enqueue(ctx, first, second); err != nil {
		t.Fatal(err)
	}
	d.Store = &lateEnd{Store: d.Store, t: t, d: d, queue: "Q", finish: make(chan struct{})}
	n, err := d.RunDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	due, err := d.Store.Due(ctx, simulator.DueFilter{Now: t0, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || len(due) != 0 {
		t.Errorf("RunDue recorded %d attempts and returned with %d messages due, want 2 and none", n, len(due))
	}
}
