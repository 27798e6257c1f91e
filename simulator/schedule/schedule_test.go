package schedule

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// timetable is a worker with work at fixed times; running an entry may
// schedule another (a retry, or work for another worker at the same
// instant).
type timetable struct {
	name  string
	clock simulator.Clock
	due   []time.Time
	then  map[time.Time][]time.Time // work that running the key schedules
	other *timetable                // receives then-work instead, when set
	ran   *[]string                 // shared log of name@offset
}

func (w *timetable) RunDue(context.Context) (int, error) {
	now := w.clock.Now()
	n := 0
	for i := 0; i < len(w.due); {
		if w.due[i].After(now) {
			i++
			continue
		}
		at := w.due[i]
		w.due = slices.Delete(w.due, i, i+1)
		*w.ran = append(*w.ran, w.name+"@"+at.Sub(t0).String()+"/"+now.Sub(t0).String())
		target := w
		if w.other != nil {
			target = w.other
		}
		target.due = append(target.due, w.then[at]...)
		n++
	}
	return n, nil
}

func (w *timetable) NextDue(context.Context) (time.Time, bool, error) {
	if len(w.due) == 0 {
		return time.Time{}, false, nil
	}
	return slices.MinFunc(w.due, func(a, b time.Time) int { return a.Compare(b) }), true, nil
}

func TestAdvanceRunsEachInstantInTimeOrder(t *testing.T) {
	clock := NewVirtual(t0)
	var ran []string
	delivery := &timetable{name: "deliver", clock: clock, ran: &ran,
		due:  []time.Time{t0.Add(2 * time.Hour), t0}, // a retry at +2h, a callback now
		then: map[time.Time][]time.Time{t0: {t0.Add(time.Hour)}}}
	engine := &timetable{name: "engine", clock: clock, ran: &ran, other: delivery,
		due:  []time.Time{t0.Add(90 * time.Minute), t0.Add(5 * time.Hour)},
		then: map[time.Time][]time.Time{t0.Add(90 * time.Minute): {t0.Add(90 * time.Minute)}}}
	s := New(clock, nil, engine, delivery)
	r, err := s.Advance(context.Background(), t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Each piece of work runs at its own time, not at the end; the
	// engine's expiry at +1h30 enqueues a callback delivered at +1h30.
	want := []string{"deliver@0s/0s", "deliver@1h0m0s/1h0m0s", "engine@1h30m0s/1h30m0s", "deliver@1h30m0s/1h30m0s", "deliver@2h0m0s/2h0m0s"}
	if !slices.Equal(ran, want) {
		t.Fatalf("ran %v\nwant %v", ran, want)
	}
	if r.Work != 5 || r.Instants != 4 || !clock.Now().Equal(t0.Add(3*time.Hour)) {
		t.Errorf("report %+v, clock %v", r, clock.Now())
	}
	// The engine's work at +5h has not run.
	if len(engine.due) != 1 {
		t.Errorf("work after the target ran: %v", engine.due)
	}
}

func TestAdvanceRefusals(t *testing.T) {
	ctx := context.Background()
	clock := NewVirtual(t0)
	s := New(clock, nil)
	if _, err := s.Advance(ctx, t0.Add(-time.Second)); simulator.ErrorCode(err) != simulator.EINVALID {
		t.Errorf("advance into the past: %v", err)
	}
	if _, err := New(Wall{}, nil).Advance(ctx, time.Now().Add(time.Hour)); simulator.ErrorCode(err) != simulator.ECONFLICT {
		t.Errorf("advance of the wall clock: %v", err)
	}
}

// stuck says work is due but never does it.
type stuck struct{ at time.Time }

func (s stuck) RunDue(context.Context) (int, error)              { return 0, nil }
func (s stuck) NextDue(context.Context) (time.Time, bool, error) { return s.at, true, nil }

func TestAdvanceStopsOnAWorkerThatNeverRuns(t *testing.T) {
	s := New(NewVirtual(t0), nil, stuck{t0.Add(time.Minute)})
	_, err := s.Advance(context.Background(), t0.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "did not run") {
		t.Fatalf("err = %v, want a report of work that did not run", err)
	}
}

func TestRunWakesOnRequestAndStops(t *testing.T) {
	clock := NewVirtual(t0)
	var ran []string
	w := &timetable{name: "w", clock: clock, ran: &ran}
	s := New(clock, nil, w)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	// Work placed while the loop waits runs once it is woken; RunDue
	// (which shares the loop's lock) shows when it has.
	s.mu.Lock()
	w.due = append(w.due, t0)
	s.mu.Unlock()
	s.Wake()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		n := len(ran)
		s.mu.Unlock()
		if n == 1 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		case <-deadline:
			t.Fatal("the woken loop did not run the due work")
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A test stands the virtual clock where it wants, back as well as on; the
// scheduler's own moves still never go back.
func TestVirtualSetAndAdvance(t *testing.T) {
	beijing := time.FixedZone("CST", 8*3600)
	clock := NewVirtual(t0)
	clock.Advance(90 * time.Minute)
	if got, want := clock.Now(), t0.Add(90*time.Minute); !got.Equal(want) {
		t.Fatalf("after Advance: %v, want %v", got, want)
	}
	clock.Set(time.Date(2025, 3, 1, 6, 0, 0, 0, beijing))
	if got, want := clock.Now(), t0.Add(-2*time.Hour); got != want {
		t.Fatalf("after Set back: %v, want %v in UTC", got, want)
	}
	clock.set(t0.Add(-3 * time.Hour))
	if got, want := clock.Now(), t0.Add(-2*time.Hour); got != want {
		t.Fatalf("the scheduler moved the clock back to %v, want it kept at %v", got, want)
	}
}
