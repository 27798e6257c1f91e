package simulator

import "time"

// Clock is the scheduling clock: when retries, expiry and dial tests fall
// due. It is virtual in tests and certification, where it jumps; signed
// timestamps sent to merchants always use the wall clock instead, because
// merchants check them against their own.
type Clock interface {
	Now() time.Time
}
