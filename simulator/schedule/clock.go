// Package schedule moves the scheduling clock and runs what falls due: the
// engine's expiries and releases, the dial tests, the outbox. On the
// virtual clock, hours of retries take as long as the work they cause.
package schedule

import (
	"sync"
	"time"
)

// Wall is the real clock, in UTC.
type Wall struct{}

func (Wall) Now() time.Time { return time.Now().UTC() }

// Virtual is a scheduling clock that moves only when the Scheduler advances
// it, so tests and certification control time and never sleep.
type Virtual struct {
	mu  sync.Mutex
	now time.Time
}

// NewVirtual returns a virtual clock standing at start.
func NewVirtual(start time.Time) *Virtual { return &Virtual{now: start.UTC()} }

func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// Set stands the clock at t, earlier or later: tests put it where their
// story happens. The Scheduler moves it only forward.
func (v *Virtual) Set(t time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.now = t.UTC()
}

// Advance moves the clock d on.
func (v *Virtual) Advance(d time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.now = v.now.Add(d)
}

// set moves the clock; it never goes back.
func (v *Virtual) set(t time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if t.After(v.now) {
		v.now = t.UTC()
	}
}
