package delivery

import (
	"context"
	"math"
	"sync/atomic"
	"time"
)

// DefaultWorkers is how many attempts are in flight at once when
// Deliverer.Workers is 0. Attempts mostly wait on the merchant, so a few
// more than the machine's cores keep it busy, and a handful of slow
// merchants (up to 20 s each) do not hold up the others; more would only
// queue up behind the store's one writer.
const DefaultWorkers = 8

// batch is how many due queue heads one read of the outbox returns, on top
// of the ones in flight.
const batch = 64

func (d *Deliverer) workers() int {
	if d.Workers > 0 {
		return d.Workers
	}
	return DefaultWorkers
}

// RunDue attempts every message due at the scheduling clock's now, queue
// heads first, until none is due, and returns how many attempts it
// recorded. Up to Workers queues are attempted at once; a queue's messages
// never overlap and keep their order, because only a queue's head is ever
// due and a queue is attempted by one worker at a time. Each attempt is
// recorded in a transaction of its own. On an error RunDue starts nothing
// more, lets the attempts in flight finish and returns the first error.
func (d *Deliverer) RunDue(ctx context.Context) (int, error) {
	d.run.Lock()
	defer d.run.Unlock()
	workers := d.workers()
	results := make(chan error, workers)
	inFlight, made := 0, 0
	var first error
	// failed is set by an attempt that failed, before it gives its queue
	// back: a message whose attempt was rolled back is due again at once,
	// and must not be started again before the error is collected.
	var failed atomic.Bool
	collect := func() {
		err := <-results
		inFlight--
		switch {
		case err == nil:
			made++
		case first == nil:
			first = err
		}
	}
	for first == nil {
		d.snapshot()
		products := &products{store: d.Store}
		due, err := d.Store.Due(ctx, d.Clock.Now(), batch+workers)
		if err != nil {
			first = err
			break
		}
		started := 0
		for _, m := range due {
			for inFlight == workers && first == nil {
				collect()
			}
			if first != nil || failed.Load() {
				break
			}
			if !d.claim(m.Queue, true) {
				continue // in flight, or attempted since the read
			}
			inFlight++
			started++
			go func() {
				err := d.attempt(ctx, m, products)
				if err != nil {
					failed.Store(true)
				}
				d.release(m.Queue) // before the result: the next read may hand out its new head
				results <- err
			}()
		}
		if started == 0 {
			if inFlight == 0 {
				break
			}
			collect()
		}
	}
	for inFlight > 0 {
		collect()
	}
	return made, first
}

// snapshot marks the start of a read of the outbox: a queue released from
// now on may have moved on to another head than the read returns.
func (d *Deliverer) snapshot() {
	d.mu.Lock()
	clear(d.released)
	d.mu.Unlock()
}

// claim takes a queue for one attempt, false if an attempt at it is in
// flight, or (for a head from a read of the outbox) if one was made since
// the read, which makes the head it returned stale.
func (d *Deliverer) claim(queue string, fromRead bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy[queue] || fromRead && d.released[queue] {
		return false
	}
	if d.busy == nil {
		d.busy, d.released = map[string]bool{}, map[string]bool{}
	}
	d.busy[queue] = true
	return true
}

// release gives a claimed queue back.
func (d *Deliverer) release(queue string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.busy, queue)
	d.released[queue] = true
}

// NextDue returns when the earliest pending queue head falls due, false
// when nothing is pending: the scheduler sleeps until then.
func (d *Deliverer) NextDue(ctx context.Context) (time.Time, bool, error) {
	due, err := d.Store.Due(ctx, time.Unix(0, math.MaxInt64), 1)
	if err != nil || len(due) == 0 {
		return time.Time{}, false, err
	}
	return due[0].NextAttemptAt, true, nil
}
