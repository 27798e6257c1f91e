package delivery

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// DefaultWorkers is how many attempts are in flight at once to one
// merchant, one origin of callback URLs (simulator.Origin), when
// Deliverer.Workers is 0. Attempts mostly wait on the merchant, so a few
// more than the machine's cores keep one merchant's callbacks flowing;
// more would only queue up behind the store's one writer. Each merchant
// has its own: one that hangs for the whole timeout holds its own workers
// and no one else's.
const DefaultWorkers = 8

// maxInFlight bounds the attempts in flight to all merchants together,
// each a goroutine, a connection and up to maxAnswer of answer: 32
// merchants hanging at once with the default workers, before a 33rd
// waits.
const maxInFlight = 256

// batch is how many due queue heads one read of the outbox returns.
const batch = 64

// Backoff of a queue whose attempt could not be recorded (the disk is
// full, the database broken): its message stays due in the store, and is
// sent again after minHold, doubling up to maxHold, instead of at once.
const (
	minHold = time.Second
	maxHold = 5 * time.Minute
)

// flight is what the deliverer has in flight, shared by RunDue, Start and
// Restart.
type flight struct {
	mu       sync.Mutex
	busy     map[string]bool // queues attempted right now
	released map[string]bool // queues released since the last read of the outbox
	origins  map[string]int  // attempts in flight per origin
	inFlight int
	recorded int           // attempts recorded, ever
	ended    chan struct{} // closed when an attempt ends, then replaced
	held     map[string]hold
	// leasedOut are the queues another replica holds, until when.
	leasedOut map[string]time.Time
	err       error // the first error of a background attempt not yet reported
	// lastRead is when the outbox was last read with a merchant at its
	// bound, and freed whether an attempt ended since (see skipRead).
	lastRead time.Time
	freed    bool
}

// lookAgain is how soon the outbox is read again while a merchant is at
// its bound and no attempt has ended. Such a read once walked every due
// head of that merchant to find the others' behind them (the store now
// reads past it origin by origin), and a backlog of thousands made it the
// largest cost of a busy marketplace when it ran on every new purchase;
// it still finds nothing to start unless another merchant's callback fell
// due. Another merchant's new callback waits this long at worst.
const lookAgain = 20 * time.Millisecond

// hold keeps a queue whose background attempt failed from being started
// again before until.
type hold struct {
	until    time.Time
	failures int
}

func (d *Deliverer) workers() int {
	if d.Workers > 0 {
		return d.Workers
	}
	return DefaultWorkers
}

// RunDue attempts every message due at the scheduling clock's now, queue
// heads first, until none is due and none is in flight (attempts left
// running by Start included), and returns how many attempts were recorded
// meanwhile. Up to Workers attempts are in flight to one merchant at
// once; a queue's messages never overlap and keep their order, because
// only a queue's head is ever due and a queue is attempted by one worker
// at a time. A head whose merchant is at its bound does not hide the
// heads of other merchants behind it. Each attempt is recorded in a
// transaction of its own. On an error RunDue starts nothing more, lets
// the attempts in flight finish and returns the first error.
//
// Done means: a read of the outbox made while no attempt was in flight,
// with none ending until RunDue returns, found nothing it could start.
// When RunDue returns nil, no message is therefore due at the clock's now
// but the heads of queues held back after a failed background attempt
// (until their hold ends) and of queues another replica holds; a message
// that became due through an attempt RunDue waited for (the next in its
// queue, a poll) was attempted too. What falls due later, by the clock
// moving or another process's write, is the next call's.
func (d *Deliverer) RunDue(ctx context.Context) (int, error) {
	d.run.Lock()
	defer d.run.Unlock()
	before := d.count()
	// first is set by an attempt that failed, before it gives its queue
	// back: a message whose attempt was rolled back is due again at once,
	// and must not be started again.
	var mu sync.Mutex
	var first error
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return first != nil
	}
	report := func(_ simulator.Message, err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
		}
	}
	for {
		ended := d.endedSignal()
		if !failed() {
			n, err := d.start(ctx, report, failed)
			if err != nil {
				report(simulator.Message{}, err)
			}
			if n > 0 {
				continue
			}
		}
		if d.settled(ended) {
			break
		}
		select {
		case <-ended:
			continue // the read may have missed what that attempt freed
		default:
		}
		if wait := d.skipRead(); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ended:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		<-ended
	}
	if err := d.takeErr(); err != nil && first == nil {
		first = err
	}
	return d.count() - before, first
}

// Start starts the attempts due now that the bounds allow and returns
// without waiting for them, with how many it started and the first error
// of an attempt it started before. It calls Notify whenever one ends, so
// that the scheduler looks again: a merchant that hangs delays nothing
// but its own callbacks. An attempt that cannot be recorded leaves its
// message due in the store, and its queue waits from a second to five
// minutes, doubling, before it is sent again.
func (d *Deliverer) Start(ctx context.Context) (int, error) {
	d.run.Lock()
	defer d.run.Unlock()
	n, err := d.start(ctx, d.hold, func() bool { return false })
	if err != nil {
		return n, err
	}
	return n, d.takeErr()
}

// Wait blocks until no attempt is in flight.
func (d *Deliverer) Wait() {
	for {
		ended := d.endedSignal()
		if d.idle() {
			return
		}
		<-ended
	}
}

// start reads the due heads the bounds allow to start and starts each in
// a goroutine of its own, until stop says so. report learns how each
// attempt ended, before its queue is given back.
func (d *Deliverer) start(ctx context.Context, report func(simulator.Message, error), stop func() bool) (int, error) {
	if d.skipRead() > 0 {
		return 0, nil
	}
	f, ok := d.filter(d.Clock.Now(), batch, true)
	if !ok {
		return 0, nil
	}
	due, err := d.Store.Due(ctx, f)
	if err != nil {
		return 0, err
	}
	products := &products{store: d.Store}
	started := 0
	for _, m := range due {
		if stop() {
			break
		}
		origin := simulator.Origin(m.URL)
		if !d.claim(m.Queue, origin, true) {
			continue // stale, or the merchant's bound was reached
		}
		started++
		go func() {
			recorded, err := d.leased(ctx, m, func() error { return d.attempt(ctx, m, products) })
			report(m, err)
			d.release(m.Queue, origin, recorded)
			if d.Notify != nil {
				d.Notify()
			}
		}()
	}
	return started, nil
}

// skipRead says how long to wait before reading the outbox again, 0 to
// read now: while a merchant is at its bound, and no attempt ended since
// the last read, at most every lookAgain.
func (d *Deliverer) skipRead() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.freed || !d.saturated() {
		return 0
	}
	return max(0, lookAgain-time.Since(d.lastRead))
}

// saturated says whether a merchant is at its bound; d.mu is held.
func (d *Deliverer) saturated() bool {
	for _, n := range d.origins {
		if n >= d.workers() {
			return true
		}
	}
	return false
}

// filter is what the next read of the outbox leaves out: the queues in
// flight or held back and the merchants at their bound. It also marks
// the start of the read: a queue released from now on may have moved on
// to another head than the read returns, if read says it starts one. It
// is false when nothing more may start.
//
// A read that starts attempts returns at most as many heads as could
// start: the free places of the merchants with attempts in flight and
// one merchant's worth more. Under a backlog a read came after nearly
// every attempt and returned 64 heads of a merchant with one place free;
// reading out the 63 it could not start was most of the read's cost.
// Heads past the limit are not lost: a read that starts one is followed
// by another, and one whose heads all went stale by the release that
// made them so. Another merchant's heads behind more than the limit of
// one merchant's wait for the next read, at most lookAgain, as they did
// behind 64.
func (d *Deliverer) filter(now time.Time, limit int, read bool) (simulator.DueFilter, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if read {
		clear(d.released)
		d.lastRead, d.freed = time.Now(), false
	}
	f := simulator.DueFilter{Now: now, Limit: limit}
	for q := range d.busy {
		f.SkipQueues = append(f.SkipQueues, q)
	}
	wall := time.Now()
	for q, h := range d.held {
		if wall.Before(h.until) {
			f.SkipQueues = append(f.SkipQueues, q)
		}
	}
	for q, until := range d.leasedOut {
		if wall.Before(until) {
			f.SkipQueues = append(f.SkipQueues, q)
		} else {
			delete(d.leasedOut, q)
		}
	}
	// A merchant with nothing in flight yet counts for one head: should
	// the read return one, the pass that starts it reads again, knowing
	// that merchant's free slots. Counting it for a merchant's bound of
	// heads made every read behind a busy merchant's backlog return that
	// many of the busy merchant's heads, of which the bound let one or
	// two start: most of the read's work was thrown away.
	free := 1
	for o, n := range d.origins {
		if n >= d.workers() {
			f.SkipOrigins = append(f.SkipOrigins, o)
		} else {
			free += d.workers() - n
		}
	}
	if read {
		f.Limit = min(f.Limit, free, maxInFlight-d.inFlight)
	}
	return f, d.inFlight < maxInFlight
}

// claim takes a queue for one attempt at a merchant's origin, false if an
// attempt at the queue is in flight, or (for a head from a read of the
// outbox) if one was made since the read, which makes the head it
// returned stale, or if the merchant or the deliverer is at its bound. A
// restart is the seller center's button and ignores the bounds.
func (d *Deliverer) claim(queue, origin string, fromRead bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy[queue] || fromRead && (d.released[queue] || d.origins[origin] >= d.workers() || d.inFlight >= maxInFlight) {
		return false
	}
	if d.busy == nil {
		d.busy, d.released, d.origins, d.held = map[string]bool{}, map[string]bool{}, map[string]int{}, map[string]hold{}
	}
	if d.ended == nil {
		// Not replaced when there is one: a Wait or RunDue may hold it,
		// and only release closes it.
		d.ended = make(chan struct{})
	}
	d.busy[queue] = true
	d.origins[origin]++
	d.inFlight++
	return true
}

// release gives a claimed queue back.
func (d *Deliverer) release(queue, origin string, recorded bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.busy, queue)
	d.released[queue] = true
	if d.origins[origin]--; d.origins[origin] == 0 {
		delete(d.origins, origin)
	}
	d.inFlight--
	d.freed = true
	if recorded {
		d.recorded++
	}
	close(d.ended)
	d.ended = make(chan struct{})
}

// hold reports how a background attempt ended: a failure holds its queue
// back and keeps the error for the next Start, a success lifts the hold.
func (d *Deliverer) hold(m simulator.Message, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil {
		delete(d.held, m.Queue)
		return
	}
	h := d.held[m.Queue]
	wait := min(maxHold, minHold<<min(h.failures, 16))
	h.failures++
	h.until = time.Now().Add(wait)
	d.held[m.Queue] = h
	if d.err == nil {
		d.err = err
	}
	if d.Notify != nil {
		time.AfterFunc(wait, d.Notify)
	}
}

// endedSignal is closed when the next attempt ends.
func (d *Deliverer) endedSignal() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ended == nil {
		d.ended = make(chan struct{})
	}
	return d.ended
}

func (d *Deliverer) idle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inFlight == 0
}

// settled says whether nothing is in flight and no attempt has ended
// since ended was taken: then a read of the outbox made since saw every
// queue and every merchant, none passed over for an attempt in flight.
// Both under one lock, because release changes both under it: asked one
// after the other, an attempt ending between the two answers made RunDue
// return after a read that had passed over its queue, with the message
// behind it due (a dial-test run's second probe, due once the first is
// recorded).
func (d *Deliverer) settled(ended <-chan struct{}) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-ended:
		return false
	default:
		return d.inFlight == 0
	}
}

func (d *Deliverer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.recorded
}

func (d *Deliverer) takeErr() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	err := d.err
	d.err = nil
	return err
}

// NextDue returns when the earliest queue head that could be started falls
// due, false when none is pending: the scheduler sleeps until then. Heads
// of queues in flight or held back, and of merchants at their bound, are
// left out; the end of an attempt or of a hold wakes the scheduler
// instead.
func (d *Deliverer) NextDue(ctx context.Context) (time.Time, bool, error) {
	if wait := d.skipRead(); wait > 0 {
		return d.Clock.Now().Add(wait), true, nil
	}
	f, ok := d.filter(time.Unix(0, math.MaxInt64), 1, false)
	if !ok {
		return time.Time{}, false, nil
	}
	due, err := d.Store.Due(ctx, f)
	if err != nil || len(due) == 0 {
		return time.Time{}, false, err
	}
	return due[0].NextAttemptAt, true, nil
}
