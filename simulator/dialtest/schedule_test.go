package dialtest

import (
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/tidwall/gjson"
)

// cst is a wall-clock time in Shanghai on 2025-01-01 plus days.
func cst(days, hour, minute int) time.Time {
	return time.Date(2025, 1, 1+days, hour, minute, 0, 0, time.FixedZone("UTC+8", 8*3600))
}

func TestScheduleWindows(t *testing.T) {
	s, err := newSchedule(nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		now    time.Time
		at     time.Time
		end    time.Time
		inside bool
	}{
		{"before the morning run", cst(0, 9, 59), time.Time{}, time.Time{}, false},
		{"the morning run", cst(0, 10, 0), cst(0, 10, 0), cst(0, 11, 0), true},
		{"the morning run late", cst(0, 10, 59), cst(0, 10, 0), cst(0, 11, 0), true},
		{"the morning run missed", cst(0, 11, 0), time.Time{}, time.Time{}, false},
		{"the afternoon run", cst(0, 15, 0), cst(0, 15, 0), cst(0, 16, 0), true},
		{"night", cst(0, 23, 30), time.Time{}, time.Time{}, false},
		{"10:00 Shanghai is 02:00 UTC", time.Date(2025, 1, 2, 2, 0, 0, 0, time.UTC), cst(1, 10, 0), cst(1, 11, 0), true},
		{"02:00 Shanghai is not a run", time.Date(2025, 1, 1, 18, 0, 0, 0, time.UTC), time.Time{}, time.Time{}, false},
	}
	for _, c := range cases {
		at, end, ok := s.window(c.now)
		if ok != c.inside || ok && (!at.Equal(c.at) || !end.Equal(c.end)) {
			t.Errorf("%s: window(%v) = %v, %v, %v; want %v, %v, %v", c.name, c.now, at, end, ok, c.at, c.end, c.inside)
		}
	}
}

func TestScheduleNextRun(t *testing.T) {
	s, _ := newSchedule(nil)
	for _, c := range []struct{ now, next time.Time }{
		{cst(0, 0, 0), cst(0, 10, 0)},
		{cst(0, 10, 0), cst(0, 15, 0)},
		{cst(0, 14, 59), cst(0, 15, 0)},
		{cst(0, 15, 0), cst(1, 10, 0)},
		{cst(0, 23, 59), cst(1, 10, 0)},
	} {
		if _, next := s.around(c.now); !next.Equal(c.next) {
			t.Errorf("next run after %v: %v, want %v", c.now, next, c.next)
		}
	}
}

func TestCloseTimesShareNoWindow(t *testing.T) {
	s, err := newSchedule([]time.Duration{10*time.Hour + 30*time.Minute, 10 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, end, _ := s.window(cst(0, 10, 10)); !end.Equal(cst(0, 10, 30)) {
		t.Errorf("the 10:00 window ends at %v, want 10:30, where the next run's starts", end)
	}
}

func TestBadTimes(t *testing.T) {
	for _, times := range [][]time.Duration{{}, {24 * time.Hour}, {-time.Minute}, {10 * time.Hour, 10 * time.Hour}} {
		_, err := newSchedule(times)
		if simulator.ErrorCode(err) != simulator.EINVALID {
			t.Errorf("Times %v: error %v, want an EINVALID error naming Times", times, err)
		}
	}
}

func TestProbeParams(t *testing.T) {
	cases := []struct {
		name string
		c    simulator.DebugCase
		want string
	}{
		{"newInstance without businessId gets one", simulator.DebugCase{Activity: "newInstance", Params: []byte(`{"orderId":"CS1","orderLineId":"CS1-000001"}`)},
			`{"activity":"newInstance","orderId":"CS1","orderLineId":"CS1-000001","businessId":"m1","testFlag":"1"}`},
		{"newInstance keeps its businessId", simulator.DebugCase{Activity: "newInstance", Params: []byte(`{"businessId":"b-1","orderId":"CS1"}`)},
			`{"activity":"newInstance","businessId":"b-1","orderId":"CS1","testFlag":"1"}`},
		{"testFlag is always 1", simulator.DebugCase{Activity: "releaseInstance", Params: []byte(`{"instanceId":"i-1","testFlag":"0"}`)},
			`{"activity":"releaseInstance","instanceId":"i-1","testFlag":"1"}`},
		{"the case's activity wins", simulator.DebugCase{Activity: "refreshInstance", Params: []byte(`{"activity":"newInstance","nested":{"a":[1,2]}}`)},
			`{"activity":"refreshInstance","nested":{"a":[1,2]},"testFlag":"1"}`},
		{"no parameters", simulator.DebugCase{Activity: "queryInstance"}, `{"activity":"queryInstance","testFlag":"1"}`},
		{"orderNotify has no businessId", simulator.DebugCase{Activity: "orderNotify", Params: []byte(`{"orderId":"CS1","orderLineId":"CS1-000001"}`)},
			`{"activity":"orderNotify","orderId":"CS1","orderLineId":"CS1-000001","testFlag":"1"}`},
	}
	for _, c := range cases {
		got, err := probeParams(simulator.V2, c.c, "m1")
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
		if !gjson.ValidBytes(got) {
			t.Errorf("%s: %s is not JSON", c.name, got)
		}
	}
	if _, err := probeParams(simulator.V2, simulator.DebugCase{Activity: "newInstance", Params: []byte(`[1]`)}, "m1"); err == nil {
		t.Error("params that are an array: no error")
	}
}

func TestFailingDays(t *testing.T) {
	run := func(id string, at time.Time, done, passed bool) simulator.DialRun {
		return simulator.DialRun{ID: id, ProductID: "P", At: at, Done: done, Passed: passed}
	}
	last := run("last", cst(5, 10, 0), true, false)
	cases := []struct {
		name string
		runs []simulator.DialRun
		want int
	}{
		{"only today", nil, 1},
		{"four days before failed", []simulator.DialRun{
			run("a", cst(1, 10, 0), true, false), run("b", cst(2, 15, 0), true, false),
			run("c", cst(3, 10, 0), true, false), run("d", cst(4, 10, 0), true, false),
		}, 5},
		{"a passing day resets", []simulator.DialRun{
			run("a", cst(1, 10, 0), true, false), run("b", cst(2, 10, 0), true, true),
			run("c", cst(3, 10, 0), true, false), run("d", cst(4, 10, 0), true, false),
		}, 3},
		{"one failed run fails a day that also passed", []simulator.DialRun{
			run("a", cst(3, 10, 0), true, false), run("b", cst(3, 15, 0), true, true),
			run("c", cst(4, 10, 0), true, true), run("d", cst(4, 15, 0), true, false),
		}, 3},
		{"days without runs neither count nor reset", []simulator.DialRun{
			run("a", cst(-10, 10, 0), true, true), run("b", cst(0, 10, 0), true, false),
		}, 2},
		{"runs not judged yet are no verdict", []simulator.DialRun{
			run("a", cst(3, 10, 0), true, false), run("b", cst(4, 10, 0), false, false),
		}, 2},
		{"later days do not count", []simulator.DialRun{
			run("a", cst(6, 10, 0), true, false), run("b", cst(4, 10, 0), true, true),
		}, 1},
		{"the day is Shanghai's: 16:30 UTC is after midnight there", []simulator.DialRun{
			run("a", cst(3, 10, 0), true, false),
			run("b", time.Date(2025, 1, 5, 16, 30, 0, 0, time.UTC), true, true), // 2025-01-06 00:30, last's day
		}, 2},
	}
	for _, c := range cases {
		runs := append(c.runs, run("last", last.At, false, false)) // as stored before this verdict
		if got := failingDays(runs, last); got != c.want {
			t.Errorf("%s: %d failing days, want %d", c.name, got, c.want)
		}
	}
}
