package schedule

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// busy wakes its scheduler from inside its first passes, as a purchase
// placed or an attempt ended during a pass does, and reports when asked
// what it does next.
type busy struct {
	s        *Scheduler
	wakes    int32 // passes that wake the scheduler
	runs     atomic.Int32
	nextDues atomic.Int32
	asked    chan int32 // runs so far, each time NextDue is asked
}

func (b *busy) RunDue(context.Context) (int, error) {
	if b.runs.Add(1) <= b.wakes {
		b.s.Wake()
	}
	return 0, nil
}

func (b *busy) NextDue(context.Context) (time.Time, bool, error) {
	b.nextDues.Add(1)
	select {
	case b.asked <- b.runs.Load():
	default: // only the first is looked at
	}
	return time.Time{}, false, nil
}

// On the wall clock, a wake during a pass starts the next pass at once:
// when work is next due is asked only once the loop is about to sleep.
func TestRunAsksNextDueOnlyBeforeSleeping(t *testing.T) {
	b := &busy{wakes: 3, asked: make(chan int32, 1)}
	b.s = New(Wall{}, nil, b)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- b.s.Run(ctx) }()
	select {
	case runs := <-b.asked:
		if runs != b.wakes+1 {
			t.Errorf("NextDue asked after %d passes, want %d: after the passes woken during a pass and the one that was not", runs, b.wakes+1)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the loop never asked when work is next due")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := b.nextDues.Load(); n != 1 {
		t.Errorf("NextDue asked %d times, want 1", n)
	}
}

// late wakes its scheduler a millisecond after each of its first passes
// returns, as an attempt that ends just after a pass does.
type late struct {
	busy
}

func (l *late) RunDue(context.Context) (int, error) {
	if l.runs.Add(1) <= l.wakes {
		time.AfterFunc(time.Millisecond, l.s.Wake)
	}
	return 0, nil
}

// A wake that comes just after a pass, within settle, starts the next
// pass without asking the workers when they next have work.
func TestRunWaitsForALateWakeBeforeAskingNextDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := &late{busy{wakes: 3, asked: make(chan int32, 1)}}
		l.s = New(Wall{}, nil, l)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- l.s.Run(ctx) }()
		runs := <-l.asked
		if runs != l.wakes+1 {
			t.Errorf("NextDue asked after %d passes, want %d: after the passes woken just after them and the one that was not", runs, l.wakes+1)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := l.nextDues.Load(); n != 1 {
			t.Errorf("NextDue asked %d times, want 1", n)
		}
	})
}
