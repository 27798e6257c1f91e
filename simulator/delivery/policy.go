package delivery

import (
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
)

// Policy is the retry schedule of one message (callbacks.md §9.2): when
// each attempt is due, counted from the first, and the outcome once the
// last one has failed.
type Policy struct {
	// Offsets are from the message's first attempt; Offsets[0] is 0, but
	// for a poll, whose FirstAttempt is the time of the newInstance answer
	// it follows and whose first poll is 10 s later.
	Offsets   []time.Duration
	Exhausted simulator.Outcome
}

// Attempts is how many attempts the policy makes before giving up.
func (p Policy) Attempts() int { return len(p.Offsets) }

// Next returns the first scheduled attempt strictly after the attempt made
// at, for a message first attempted at first, or false when the schedule
// has none left. The schedule is by time, not by count: an extra attempt (a
// manual restart) or a late one does not shift the others.
func (p Policy) Next(first, at time.Time) (time.Time, bool) {
	for _, o := range p.Offsets {
		if t := first.Add(o); t.After(at) {
			return t, true
		}
	}
	return time.Time{}, false
}

func every(interval time.Duration, attempts int) []time.Duration {
	out := make([]time.Duration, attempts)
	for i := range out {
		out[i] = time.Duration(i) * interval
	}
	return out
}

// PolicyFor returns the schedule of a message. Debug calls, dial-test
// probes and the purchase the resource details repeat are tried once and
// stop; a poll after 000004 follows the polling schedule and fails the
// order when it runs out (callbacks.md §10.1); any other call's schedule
// is its activity's retry class (a kit sync's: once, then the console's
// restart, kit-sync.md §8).
func PolicyFor(m simulator.Message) Policy {
	switch m.Kind {
	case simulator.KindDebug, simulator.KindDialTest, simulator.KindDetails:
		return Policy{Offsets: every(0, 1), Exhausted: simulator.Stopped}
	case simulator.KindPoll:
		return Policy{Offsets: PollOffsets(), Exhausted: simulator.OrderFailed}
	}
	return retryPolicy(activity.Of(m).Retry)
}

// retryPolicy is the schedule of a retry class. The docs give the window
// (3 hours for a new purchase or an upgrade, "once an hour"; 1 hour for
// the others) and not the cadence; the cadence is the spec's decision.
func retryPolicy(r activity.Retry) Policy {
	switch r {
	case activity.RetryHourly:
		// T0 and three hourly retries (callbacks.md §15 Q4).
		return Policy{Offsets: every(time.Hour, 4), Exhausted: simulator.OrderFailed}
	case activity.RetryQuarterHourly:
		// Every 15 minutes through the documented hour (§15 Q2).
		return Policy{Offsets: every(15*time.Minute, 5), Exhausted: simulator.Stopped}
	case activity.RetryNever:
		return Policy{Offsets: every(0, 1), Exhausted: simulator.ChangeRefused}
	}
	// queryInstance from the buyer's page, getLicenseAsync and anything
	// unknown: one attempt, then the seller center's restart button.
	return Policy{Offsets: every(0, 1), Exhausted: simulator.Stopped}
}

// pollWindow is how long V2 queryInstance is polled after a newInstance
// answered 000004 (callbacks.md §10.1).
const pollWindow = 3 * time.Hour

// PollOffsets returns when queryInstance is polled after an asynchronous
// newInstance answer, counted from the answer: +10 s, +30 s, +1 min,
// +2 min, +5 min, then every 10 min until 3 hours after the answer.
func PollOffsets() []time.Duration {
	out := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute}
	for d := 10 * time.Minute; d <= pollWindow; d += 10 * time.Minute {
		out = append(out, d)
	}
	return out
}
