package delivery

import (
	"context"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Replica makes a deliverer one of several kgsim processes sharing one
// store. A queue's head is attempted under the queue's lease, so that
// exactly one replica makes each attempt; a replica that dies holding a
// lease leaves its queue to the others once the lease has run out, and
// only the attempt it had in flight can then be made again (the crash
// rule of one process).
type Replica struct {
	Leases simulator.Leaser
	Owner  string // this process, unique among the replicas
	// Lease is how long a queue's lease lasts unless renewed. The holder
	// renews it every third of that while its attempt is in flight, so an
	// attempt may take longer (its recording waiting for the database);
	// a dead replica's queues wait that long.
	Lease time.Duration
}

// take takes the lease name and keeps renewing it until the returned
// release gives it up. Without the renewals an attempt outlasting the
// lease (its answer recorded late by a busy database, the process not
// scheduled) would let another replica take the queue over and send the
// same attempt again while this one is still in flight. When held is
// false until is when the holder's lease ends.
func (r *Replica) take(ctx context.Context, name string) (held bool, until time.Time, release func(), err error) {
	now := time.Now()
	held, until, err = r.Leases.Lease(ctx, name, r.Owner, now, now.Add(r.Lease))
	if err != nil || !held {
		return held, until, nil, err
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				// A renewal that fails is tried again at the next tick:
				// the lease still has two thirds to run.
				now := time.Now()
				r.Leases.Lease(context.WithoutCancel(ctx), name, r.Owner, now, now.Add(r.Lease))
			}
		}
	}()
	return true, time.Time{}, func() {
		close(stop)
		<-done // no renewal after the lease is given back
		r.Leases.ReleaseLease(context.WithoutCancel(ctx), name, r.Owner)
	}, nil
}

// leaseName is the name of a queue's lease.
func leaseName(queue string) string { return "queue:" + queue }

// leased makes attempt, the attempt at m, under its queue's lease, and
// says whether an attempt was recorded. A queue another replica holds is
// left to it (and out of the reads of the outbox until its lease ends).
// Once the lease is taken m is read again: the holder before may have
// attempted it since the outbox was read, and it is then not attempted
// again.
func (d *Deliverer) leased(ctx context.Context, m simulator.Message, attempt func() error) (bool, error) {
	r := d.Replica
	if r == nil {
		err := attempt()
		return err == nil, err
	}
	held, until, release, err := r.take(ctx, leaseName(m.Queue))
	if err != nil {
		return false, err
	}
	if !held {
		d.elsewhere(m.Queue, until)
		return false, nil
	}
	defer release()
	cur, err := d.Store.Message(ctx, m.ID)
	if err != nil {
		return false, err
	}
	if cur.Outcome != m.Outcome || cur.Attempts != m.Attempts || !cur.NextAttemptAt.Equal(m.NextAttemptAt) {
		return false, nil
	}
	err = attempt()
	return err == nil, err
}

// elsewhere leaves queue to the replica that holds it until until, and
// has the scheduler look again then.
func (d *Deliverer) elsewhere(queue string, until time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.leasedOut == nil {
		d.leasedOut = map[string]time.Time{}
	}
	d.leasedOut[queue] = until
	if d.Notify != nil {
		time.AfterFunc(time.Until(until), d.Notify)
	}
}
