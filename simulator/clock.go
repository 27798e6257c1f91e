package simulator

import "time"

// Clock is the scheduling clock: when retries, expiry and dial tests fall
// due. It is virtual in tests and certification, where it jumps; signed
// timestamps sent to merchants always use the wall clock instead, because
// merchants check them against their own.
type Clock interface {
	Now() time.Time
}

// Beijing is the marketplace's time zone (Asia/Shanghai): the day a dial
// test runs and counts for, the month an order settles in, an order ID's
// minute, a kit body's timestamps and the times the seller center and the
// failure notices show are reckoned in it. Built in because scratch images
// carry no tzdata; China has kept UTC+8 without daylight saving since 1991.
func Beijing() *time.Location { return time.FixedZone("CST", 8*3600) }
