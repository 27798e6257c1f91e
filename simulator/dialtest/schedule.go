package dialtest

import (
	"fmt"
	"slices"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// defaultTimes are the morning and afternoon runs (callbacks.md §11).
var defaultTimes = []time.Duration{10 * time.Hour, 15 * time.Hour}

// late is how long after its scheduled time a run may still start: a slow
// tick or a short restart delays a run, a longer outage skips it.
const late = time.Hour

// schedule is the sorted offsets into a Shanghai day at which runs start.
type schedule []time.Duration

func newSchedule(times []time.Duration) (schedule, error) {
	if times == nil {
		times = defaultTimes
	}
	if len(times) == 0 {
		return nil, simulator.Errorf(simulator.EINVALID, "Times", "is empty: give at least one offset into the day, or nil for 10:00 and 15:00")
	}
	s := slices.Clone(times)
	slices.Sort(s)
	for i, d := range s {
		if d < 0 || d >= 24*time.Hour {
			return nil, simulator.Errorf(simulator.EINVALID, "Times", "%v is not an offset into a day (0 to 23h59m)", d)
		}
		if i > 0 && d == s[i-1] {
			return nil, simulator.Errorf(simulator.EINVALID, "Times", "%v is given twice", d)
		}
	}
	return s, nil
}

// around returns the latest scheduled time at or before now and the first
// after it.
func (s schedule) around(now time.Time) (prev, next time.Time) {
	local := now.In(simulator.Beijing())
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
	for day := -1; day <= 1; day++ {
		start := today.AddDate(0, 0, day)
		for _, d := range s {
			at := start.Add(d)
			if at.After(now) {
				return prev, at
			}
			prev = at
		}
	}
	panic(fmt.Sprintf("dialtest: no scheduled time after %v", now)) // unreachable: tomorrow has one
}

// window returns the scheduled time whose run may start at now, and the
// end of its window: runs started in [at, end) count as that time's run.
// ok is false between windows.
func (s schedule) window(now time.Time) (at, end time.Time, ok bool) {
	prev, next := s.around(now)
	end = prev.Add(late)
	if next.Before(end) {
		end = next
	}
	return prev, end, now.Before(end)
}

// day is the Beijing date of t, which decides the day a run counts for.
func day(t time.Time) string {
	return t.In(simulator.Beijing()).Format(time.DateOnly)
}
