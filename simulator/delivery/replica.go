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
	// Lease is how long a queue's lease lasts: longer than an attempt and
	// its recording take. A dead replica's queues wait that long.
	Lease time.Duration
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
	name := leaseName(m.Queue)
	now := time.Now()
	held, until, err := r.Leases.Lease(ctx, name, r.Owner, now, now.Add(r.Lease))
	if err != nil {
		return false, err
	}
	if !held {
		d.elsewhere(m.Queue, until)
		return false, nil
	}
	defer r.Leases.ReleaseLease(context.WithoutCancel(ctx), name, r.Owner)
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
