package delivery

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/schedule"
)

const asyncInstance = "i-async"

// asyncSetup returns a deliverer on a virtual clock at t0 and a merchant
// that answers newInstance and getLicenseAsync with 000004 and makes the
// instance ready after readyAfter polls (never if negative).
func asyncSetup(t *testing.T, readyAfter int) (*Deliverer, *schedule.Virtual, *merchanttest.Merchant, string) {
	m, url := newMerchant(t)
	accepted := merchanttest.Reply{Code: "000004", Fields: map[string]any{"instanceId": asyncInstance}}
	m.Answer("newInstance", accepted)
	m.Answer("getLicenseAsync", accepted)
	polls := []merchanttest.Reply{{Fields: map[string]any{"info": []any{map[string]any{"instanceId": asyncInstance}}}}} // no appInfo yet
	if readyAfter >= 0 {
		polls = append(slices.Repeat(polls, readyAfter), merchanttest.Reply{})
	}
	m.Answer("queryInstance", polls...)
	clock := schedule.NewVirtual(t0)
	return newDeliverer(t, clock, url), clock, m, url
}

// polled returns the instanceId of every queryInstance the merchant got.
func polled(m *merchanttest.Merchant) []string {
	var out []string
	for _, c := range m.Named("queryInstance") {
		out = append(out, c.Params["instanceId"])
	}
	return out
}

// pollOf returns the poll message enqueued for a purchase.
func pollOf(t *testing.T, d *Deliverer, orderID string) simulator.Message {
	t.Helper()
	polls, err := d.Store.Messages(context.Background(), simulator.MessageFilter{Kind: simulator.KindPoll, OrderID: orderID})
	if err != nil || len(polls) != 1 {
		t.Fatalf("poll messages of %s: %v, %v; want one", orderID, polls, err)
	}
	return polls[0]
}

// settled records what the settlers were shown.
type settled struct{ msgs []simulator.Message }

func (s *settled) Settle(_ context.Context, _ simulator.Tx, m simulator.Message, _ simulator.Attempt) error {
	s.msgs = append(s.msgs, m)
	return nil
}

func TestAcceptedAsyncIsPolledUntilReady(t *testing.T) {
	ctx := context.Background()
	d, clock, merchant, url := asyncSetup(t, 2)
	s := &settled{}
	d.Settlers = []simulator.Settler{s}
	buy := newInstanceMessage("01", "CS1", url, t0)
	buy.CustomerID = "C1"
	if err := d.Store.Enqueue(ctx, buy); err != nil {
		t.Fatal(err)
	}
	advance(t, d, clock, t0)
	if got := outcome(t, d, "01"); got.Outcome != simulator.Polling || !got.NextAttemptAt.IsZero() {
		t.Fatalf("after 000004: %s, next %v; want POLLING, nothing scheduled", got.Outcome, got.NextAttemptAt)
	}
	poll := pollOf(t, d, "CS1")
	want := simulator.Message{
		ID: poll.ID, Kind: simulator.KindPoll, Protocol: simulator.V2, Activity: "queryInstance", Queue: "CS1",
		ProductID: "P1", OrderID: "CS1", OrderLineID: "CS1-000001", InstanceID: asyncInstance, CustomerID: "C1", URL: url,
		Params:  []byte(`{"activity":"queryInstance","instanceId":"i-async","testFlag":"1"}`),
		Outcome: simulator.Pending, FirstAttempt: t0, NextAttemptAt: t0.Add(10 * time.Second), CreatedAt: t0,
	}
	if !sameMessage(poll, want) {
		t.Fatalf("poll message\n%+v\nwant\n%+v", poll, want)
	}
	steps := []struct {
		at       time.Duration
		attempts int
		outcome  simulator.Outcome
	}{
		{9 * time.Second, 0, simulator.Pending},
		{10 * time.Second, 1, simulator.Pending}, // not ready
		{29 * time.Second, 0, simulator.Pending},
		{30 * time.Second, 1, simulator.Pending}, // not ready
		{time.Minute, 1, simulator.Succeeded},    // ready
		{3 * time.Hour, 0, simulator.Succeeded},
	}
	for _, st := range steps {
		if n := advance(t, d, clock, t0.Add(st.at)); n != st.attempts {
			t.Fatalf("at +%v: %d attempts, want %d", st.at, n, st.attempts)
		}
		if got := outcome(t, d, poll.ID); got.Outcome != st.outcome {
			t.Fatalf("at +%v: poll %s, want %s", st.at, got.Outcome, st.outcome)
		}
	}
	attempts, _ := d.Store.Attempts(ctx, poll.ID)
	if got, want := verdicts(attempts), []simulator.Verdict{simulator.NotReady, simulator.NotReady, simulator.Success}; !slices.Equal(got, want) {
		t.Errorf("poll verdicts %v, want %v", got, want)
	}
	if !slices.Equal(polled(merchant), []string{asyncInstance, asyncInstance, asyncInstance}) {
		t.Errorf("the merchant was polled for %v", polled(merchant))
	}
	// A poll that is not ready yet is no failure notice.
	if ns, _ := d.Store.Notices(ctx, simulator.NoticeFilter{}); len(ns) != 0 {
		t.Errorf("%d notices, want none", len(ns))
	}
	// The settlers see the purchase start polling, then every poll.
	var seen []string
	for _, m := range s.msgs {
		seen = append(seen, m.Kind+"/"+string(m.Outcome))
	}
	if want := []string{"LIFECYCLE/POLLING", "POLL/PENDING", "POLL/PENDING", "POLL/SUCCEEDED"}; !slices.Equal(seen, want) {
		t.Errorf("settlers saw %v, want %v", seen, want)
	}
	if _, err := d.Restart(ctx, "01"); simulator.ErrorCode(err) != simulator.ECONFLICT || !strings.Contains(err.Error(), "POLL message of order CS1") {
		t.Errorf("restart of a purchase that went asynchronous: %v", err)
	}
}

func TestAsyncInstanceNeverReadyFailsTheOrderAfterThreeHours(t *testing.T) {
	ctx := context.Background()
	d, clock, merchant, url := asyncSetup(t, -1)
	if err := d.Store.Enqueue(ctx, newInstanceMessage("01", "CS1", url, t0)); err != nil {
		t.Fatal(err)
	}
	// The purchase is answered at +5 s: the polls count from the answer.
	answered := t0.Add(5 * time.Second)
	advance(t, d, clock, answered)
	poll := pollOf(t, d, "CS1")
	// Ten-second steps through the window: every poll is made when due,
	// and only then.
	polls := 0
	for at := answered; at.Before(answered.Add(3*time.Hour + time.Minute)); at = at.Add(10 * time.Second) {
		polls += advance(t, d, clock, at)
		got := outcome(t, d, poll.ID)
		if at.Before(answered.Add(3*time.Hour)) && got.Outcome != simulator.Pending {
			t.Fatalf("at answer +%v: poll %s, want PENDING", at.Sub(answered), got.Outcome)
		}
		if !at.Before(answered.Add(3*time.Hour)) && got.Outcome != simulator.OrderFailed {
			t.Fatalf("at answer +%v: poll %s, want ORDER_FAILED_UNSUBSCRIBED", at.Sub(answered), got.Outcome)
		}
	}
	// +10 s, +30 s, +1, +2, +5 min, then every 10 min to +3 h: 5 + 18.
	if polls != 23 || len(polled(merchant)) != 23 {
		t.Fatalf("%d polls recorded, %d received; want 23", polls, len(polled(merchant)))
	}
	attempts, _ := d.Store.Attempts(ctx, poll.ID)
	if len(attempts) != 23 || attempts[22].Verdict != simulator.NotReady {
		t.Fatalf("%d poll attempts recorded, last %v; want 23, NOT_READY", len(attempts), verdicts(attempts[len(attempts)-1:]))
	}
	if got := outcome(t, d, "01"); got.Outcome != simulator.Polling {
		t.Errorf("the purchase itself: %s, want POLLING (its poll carries the outcome)", got.Outcome)
	}
	ns, _ := d.Store.Notices(ctx, simulator.NoticeFilter{})
	if len(ns) != 1 || ns[0].Kind != simulator.NoticeFinal || ns[0].MessageID != poll.ID || ns[0].AttemptN != 23 {
		t.Fatalf("notices %+v; want one FINAL about the poll's 23rd attempt", ns)
	}
	if _, err := d.Restart(ctx, poll.ID); simulator.ErrorCode(err) != simulator.ECONFLICT || !strings.Contains(err.Error(), "window is over") {
		t.Errorf("restart of the failed poll: %v", err)
	}
}

// getLicenseAsync answered 000004 is done: the merchant uploads the
// License later through the open API.
func TestLicenseAnsweredAsynchronouslyIsDone(t *testing.T) {
	ctx := context.Background()
	d, clock, merchant, url := asyncSetup(t, -1)
	lic := newInstanceMessage("01", "i-1", url, t0)
	lic.Activity, lic.Params = "getLicenseAsync", []byte(`{"activity":"getLicenseAsync","instanceId":"i-1","eventId":"e1"}`)
	// A dial-test probe of newInstance answered 000004 is done too.
	probe := newInstanceMessage("02", "run1", url, t0)
	probe.Kind = simulator.KindDialTest
	if err := d.Store.Enqueue(ctx, lic, probe); err != nil {
		t.Fatal(err)
	}
	advance(t, d, clock, t0)
	advance(t, d, clock, t0.Add(3*time.Hour))
	for _, id := range []string{"01", "02"} {
		if got := outcome(t, d, id); got.Outcome != simulator.Succeeded || got.Attempts != 1 {
			t.Errorf("%s: %s after %d attempts, want SUCCEEDED after 1", id, got.Outcome, got.Attempts)
		}
	}
	if polls, _ := d.Store.Messages(ctx, simulator.MessageFilter{Kind: simulator.KindPoll}); len(polls) != 0 || len(polled(merchant)) != 0 {
		t.Errorf("%d poll messages, %d polls made; want none", len(polls), len(polled(merchant)))
	}
}

// sameMessage compares messages field by field, times by instant.
func sameMessage(a, b simulator.Message) bool {
	times := func(m simulator.Message) [3]time.Time {
		return [3]time.Time{m.FirstAttempt, m.NextAttemptAt, m.CreatedAt}
	}
	ta, tb := times(a), times(b)
	for i := range ta {
		if !ta[i].Equal(tb[i]) {
			return false
		}
	}
	a.FirstAttempt, a.NextAttemptAt, a.CreatedAt = time.Time{}, time.Time{}, time.Time{}
	b.FirstAttempt, b.NextAttemptAt, b.CreatedAt = time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}
