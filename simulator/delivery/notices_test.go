package delivery

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/tidwall/gjson"
)

func notices(t *testing.T, d *Deliverer, messageID string) []simulator.Notice {
	t.Helper()
	ns, err := d.Store.Notices(context.Background(), simulator.NoticeFilter{MessageID: messageID})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// Every failed attempt raises a notice, and running out of retries one
// more, each with the call record of every attempt so far (callbacks.md
// §12).
func TestNoticesOfAPurchaseThatFails(t *testing.T) {
	ctx := context.Background()
	d, clock, _, url := setup(t)
	if err := d.Store.Enqueue(ctx, newInstanceMessage("01", "CS1", url, t0)); err != nil {
		t.Fatal(err)
	}
	for h := range 4 {
		advance(t, d, clock, t0.Add(time.Duration(h)*time.Hour))
		if got := len(notices(t, d, "01")); got != h+1 && h < 3 {
			t.Fatalf("after attempt %d: %d notices, want %d", h+1, got, h+1)
		}
	}
	ns := notices(t, d, "01")
	var kinds []simulator.NoticeKind
	for _, n := range ns {
		kinds = append(kinds, n.Kind)
	}
	want := []simulator.NoticeKind{simulator.NoticeAttemptFailed, simulator.NoticeAttemptFailed, simulator.NoticeAttemptFailed, simulator.NoticeAttemptFailed, simulator.NoticeFinal}
	if !slices.Equal(kinds, want) {
		t.Fatalf("notice kinds %v, want %v", kinds, want)
	}
	ids := map[string]bool{}
	for i, n := range ns {
		attempt := min(i+1, 4)
		if n.AttemptN != attempt || n.OrderID != "CS1" || n.ProductID != "P1" || !slices.Equal(n.To, []string{"ops@merchant.example"}) {
			t.Errorf("notice %d: attempt %d, order %s, product %s, to %v", i, n.AttemptN, n.OrderID, n.ProductID, n.To)
		}
		// A failed attempt's notice stores that attempt alone; the final
		// one, raised once, all of them. Resolved, each lists every
		// attempt so far, timed on the scheduling clock.
		stored := int64(1)
		if n.Kind == simulator.NoticeFinal {
			stored = 4
		}
		if got := gjson.GetBytes(n.Record, "attempts.#").Int(); got != stored || gjson.GetBytes(n.Record, "attempts.@reverse.0.n").Int() != int64(attempt) {
			t.Errorf("notice %d: its stored record has %d attempts ending with %d, want %d ending with %d",
				i, got, gjson.GetBytes(n.Record, "attempts.@reverse.0.n").Int(), stored, attempt)
		}
		full, err := notice.Resolve(ctx, d.Store, n)
		if err != nil {
			t.Fatal(err)
		}
		for j, a := range gjson.GetBytes(full.Record, "attempts").Array() {
			if want := t0.Add(time.Duration(j) * time.Hour).Format("2006-01-02T15:04:05.000Z"); a.Get("n").Int() != int64(j+1) || a.Get("startedAt").Str != want {
				t.Errorf("notice %d, attempt %d of its record: n %d at %s, want n %d at %s (the scheduling clock)", i, j+1, a.Get("n").Int(), a.Get("startedAt").Str, j+1, want)
			}
		}
		if got := gjson.GetBytes(full.Record, "attempts.#").Int(); got != int64(attempt) {
			t.Errorf("notice %d: its resolved record has %d attempts, want %d", i, got, attempt)
		}
		if strings.Contains(string(n.Record), key) || strings.Contains(n.Body, key) {
			t.Errorf("notice %d carries the access key", i)
		}
		if !n.CreatedAt.Equal(t0.Add(time.Duration(attempt-1) * time.Hour)) {
			t.Errorf("notice %d created at %v, want the scheduling clock's time of attempt %d", i, n.CreatedAt, attempt)
		}
		if ids[n.ID] || !strings.HasPrefix(n.ID, "n") {
			t.Errorf("notice %d: ID %q repeated or without the n prefix", i, n.ID)
		}
		ids[n.ID] = true
	}
	// What is stored grows with the attempts, not their square.
	if first, fourth := len(ns[0].Record), len(ns[3].Record); fourth > first*5/4 {
		t.Errorf("the 4th failed attempt's notice stores %d bytes of record, the 1st's %d: it copies the earlier attempts", fourth, first)
	}
	if outcome := gjson.GetBytes(ns[4].Record, "outcome").Str; outcome != string(simulator.OrderFailed) {
		t.Errorf("the final notice's record says %q", outcome)
	}
}

// A restart that fails again is one more failed attempt, not a second end
// of retries; a delivered callback raises nothing.
func TestNoticesOfARestartAndOfASuccess(t *testing.T) {
	ctx := context.Background()
	d, clock, m, url := setup(t)
	if err := d.Store.Enqueue(ctx, releaseMessage("01", url)); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		advance(t, d, clock, t0.Add(time.Duration(i)*15*time.Minute))
	}
	if got := len(notices(t, d, "01")); got != 6 {
		t.Fatalf("%d notices after 5 failed attempts, want 5 + the final one", got)
	}
	if _, err := d.Restart(ctx, "01"); err != nil {
		t.Fatal(err)
	}
	ns := notices(t, d, "01")
	if len(ns) != 7 || ns[6].Kind != simulator.NoticeAttemptFailed || ns[6].AttemptN != 6 {
		t.Fatalf("after a failed restart: %d notices, last %s about attempt %d; want 7, ATTEMPT_FAILED about 6", len(ns), ns[len(ns)-1].Kind, ns[len(ns)-1].AttemptN)
	}
	m.Down(false)
	if _, err := d.Restart(ctx, "01"); err != nil {
		t.Fatal(err)
	}
	if err := d.Store.Enqueue(ctx, newInstanceMessage("02", "CS2", url, t0.Add(5*time.Hour))); err != nil {
		t.Fatal(err)
	}
	advance(t, d, clock, t0.Add(5*time.Hour))
	if got, other := len(notices(t, d, "01")), len(notices(t, d, "02")); got != 7 || other != 0 {
		t.Errorf("after successes: %d and %d notices, want 7 and 0", got, other)
	}
}

// Probes raise no notice per attempt: the dial tester sends one per run.
func TestProbesRaiseNoNotices(t *testing.T) {
	ctx := context.Background()
	d, clock, _, url := setup(t)
	probe := newInstanceMessage("01", "run1", url, t0)
	probe.Kind = simulator.KindDialTest
	debug := newInstanceMessage("02", "debug1", url, t0)
	debug.Kind = simulator.KindDebug
	if err := d.Store.Enqueue(ctx, probe, debug); err != nil {
		t.Fatal(err)
	}
	if n := advance(t, d, clock, t0); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
	if ns, _ := d.Store.Notices(ctx, simulator.NoticeFilter{}); len(ns) != 0 {
		t.Errorf("%d notices, want none", len(ns))
	}
}
