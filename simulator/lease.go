package simulator

import (
	"context"
	"time"
)

// Leaser is a store that several kgsim processes (replicas) share. A
// lease names a piece of work (a queue's head, a notice to mail) that one
// replica does at a time; it runs out on its own, so that the work of a
// replica that died is taken over once its lease has ended. Leases are
// kept on the wall clock: a replica's death is a matter of real time.
type Leaser interface {
	// Lease takes the lease name for owner until until, or extends it if
	// owner holds it already, and returns true, when no other owner
	// holds it at now; else it returns false and when the other's lease
	// ends.
	Lease(ctx context.Context, name, owner string, now, until time.Time) (held bool, holderUntil time.Time, err error)
	// ReleaseLease gives up owner's lease name, if owner holds it.
	ReleaseLease(ctx context.Context, name, owner string) error
}
