package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Worker is a part of the simulator with work that falls due on the
// scheduling clock.
type Worker interface {
	// RunDue does what is due at the clock's now and says how much.
	RunDue(ctx context.Context) (int, error)
	// NextDue says when RunDue next has work, false when nothing is
	// scheduled.
	NextDue(ctx context.Context) (time.Time, bool, error)
}

// Starter is a Worker whose work may go on after Start returns: Start
// begins what is due and says how much, and the worker wakes the
// scheduler (Wake) whenever a piece of it ends. Run starts it so, and a
// piece that hangs holds up nothing else; Advance and RunDue still run
// it to the end (RunDue). Wait blocks until none of it is left running.
type Starter interface {
	Worker
	Start(ctx context.Context) (int, error)
	Wait()
}

// Scheduler runs its workers whenever work falls due. On a Virtual clock it
// runs only when told (Advance, RunDue) or woken; on the wall clock it also
// sleeps until the next due time.
type Scheduler struct {
	clock   simulator.Clock
	virtual *Virtual // nil on the wall clock
	workers []Worker
	log     *slog.Logger

	mu   sync.Mutex // one pass at a time: a message must not be attempted twice at once
	wake chan struct{}
	save func(ctx context.Context, now time.Time) error // nil: the clock's position is not kept
}

// Keep has Advance record where the virtual clock stands whenever it
// ends, with save (the store's PutVirtualNow), so that a restart on the
// same store goes on from there.
func (s *Scheduler) Keep(save func(ctx context.Context, now time.Time) error) {
	s.save = save
}

// New returns a scheduler over workers, run in the order given at each
// instant (the engine before delivery, so that what it enqueues for an
// instant is sent at that instant). clock is a *Virtual or Wall.
func New(clock simulator.Clock, log *slog.Logger, workers ...Worker) *Scheduler {
	v, _ := clock.(*Virtual)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{clock: clock, virtual: v, workers: workers, log: log, wake: make(chan struct{}, 1)}
}

// Clock is the scheduling clock.
func (s *Scheduler) Clock() simulator.Clock { return s.clock }

// Virtual reports whether the clock is virtual, so it can be advanced.
func (s *Scheduler) Virtual() bool { return s.virtual != nil }

// Wake tells a running loop that work may be due now (a new order was
// placed). It never blocks.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Report says what an Advance did.
type Report struct {
	From, To time.Time
	Instants int // distinct times at which something was due
	Work     int // transitions, runs and attempts made
}

// maxInstants bounds one Advance: a worker whose NextDue never moves past
// now would otherwise loop for ever.
const maxInstants = 10_000_000

// Advance moves a virtual clock to to, stopping at every instant something
// falls due on the way and running it there, in time order, and returns
// once nothing more is due at to. Retries, expiries and dial tests thus
// happen at the times they would on the wall clock.
func (s *Scheduler) Advance(ctx context.Context, to time.Time) (_ Report, err error) {
	if s.virtual == nil {
		return Report{}, simulator.Errorf(simulator.ECONFLICT, "clock", "the clock is real; only a virtual clock (kgsim serve --clock virtual) can be advanced")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Report{From: s.virtual.Now(), To: to.UTC()}
	defer func() {
		if s.save == nil || !s.virtual.Now().After(r.From) {
			return
		}
		if serr := s.save(context.WithoutCancel(ctx), s.virtual.Now()); err == nil && serr != nil {
			err = fmt.Errorf("the clock moved to %s but its position could not be kept: %w", s.virtual.Now().Format(time.RFC3339), serr)
		}
	}()
	if to.Before(r.From) {
		return r, simulator.Errorf(simulator.EINVALID, "to", "%s is before the clock's now %s; the clock does not go back", to.UTC().Format(time.RFC3339), r.From.Format(time.RFC3339))
	}
	for r.Instants < maxInstants {
		n, err := s.runDue(ctx)
		r.Work += n
		if n > 0 {
			r.Instants++
		}
		if err != nil {
			return r, err
		}
		next, ok, err := s.nextDue(ctx)
		if err != nil {
			return r, err
		}
		now := s.virtual.Now()
		if !ok || next.After(r.To) {
			break
		}
		if !next.After(now) {
			return r, fmt.Errorf("schedule: work reported due at %s did not run at %s", next.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
		}
		s.virtual.set(next)
	}
	if s.virtual.Now().Before(r.To) {
		s.virtual.set(r.To)
		n, err := s.runDue(ctx)
		r.Work += n
		if n > 0 {
			r.Instants++
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// RunDue runs everything due at the clock's now until nothing is.
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runDue(ctx)
}

// runDue passes over the workers until a whole pass finds nothing to do:
// an expiry enqueues a freeze, delivering it may enqueue a poll.
func (s *Scheduler) runDue(ctx context.Context) (int, error) {
	return s.pass(ctx, false)
}

// startDue is runDue, but leaves the work of Starters running.
func (s *Scheduler) startDue(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pass(ctx, true)
}

func (s *Scheduler) pass(ctx context.Context, start bool) (int, error) {
	total := 0
	for {
		pass := 0
		for _, w := range s.workers {
			run := w.RunDue
			if st, ok := w.(Starter); ok && start {
				run = st.Start
			}
			n, err := run(ctx)
			pass += n
			if err != nil {
				return total + pass, err
			}
		}
		total += pass
		if pass == 0 || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// nextDue is the earliest time any worker has work.
func (s *Scheduler) nextDue(ctx context.Context) (time.Time, bool, error) {
	var next time.Time
	found := false
	for _, w := range s.workers {
		t, ok, err := w.NextDue(ctx)
		if err != nil {
			return time.Time{}, false, err
		}
		if ok && (!found || t.Before(next)) {
			next, found = t, true
		}
	}
	return next, found, nil
}

// idle is the longest a loop on the wall clock sleeps without looking:
// a record changed behind its back (another process on the same database)
// is picked up this late at worst.
const idle = time.Minute

// settle is how long the loop on the wall clock waits for a wake before
// asking the workers when they next have work. Under load a wake comes
// within it nearly always (a purchase placed, an attempt ended just after
// the pass), and asking read the store three times for nothing: a
// twentieth of kgsim serve's CPU on purchases. Work falling due meanwhile
// starts this much later at most.
const settle = 2 * time.Millisecond

// wokenWithin says whether the scheduler was woken within d; false also
// when ctx ends, which the caller's wait then sees.
func (s *Scheduler) wokenWithin(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.wake:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	return false
}

// Run runs due work whenever it falls due or the scheduler is woken, until
// ctx is done, and then waits for the work it started (in-flight
// attempts) to end.
func (s *Scheduler) Run(ctx context.Context) error {
	defer func() {
		for _, w := range s.workers {
			if st, ok := w.(Starter); ok {
				st.Wait()
			}
		}
	}()
	for {
		n, err := s.startDue(context.WithoutCancel(ctx))
		if err != nil {
			s.log.Error("scheduled work failed", "err", err)
		} else if n > 0 {
			s.log.Debug("scheduled work done", "work", n)
		}
		if err == nil {
			// A wake that came during the pass (a purchase placed, an
			// attempt ended) asks for another at once. Under load one
			// nearly always has, and asking every worker when it next
			// has work would be reading the store for nothing.
			select {
			case <-s.wake:
				continue
			default:
			}
		}
		wait := idle
		if err != nil {
			wait = time.Second // do not spin on a failing store
		} else if s.virtual == nil {
			if s.wokenWithin(ctx, settle) {
				continue
			}
			if next, ok, err := s.nextDue(ctx); err == nil && ok {
				wait = min(idle, max(0, time.Until(next)))
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}
