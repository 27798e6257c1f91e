package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Reads of records that were never stored, and updates of them, say
// ENOTFOUND.
func unknownRecords(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	check(t, s.Enqueue(ctx, Pending("01A", "q", t0)))
	check(t, s.PutProduct(ctx, product("P1")))
	check(t, s.PutCustomer(ctx, simulator.Customer{ID: "C1", Name: "Buyer"}))
	check(t, s.PutOrder(ctx, order("CS1", "P1", t0)))
	check(t, s.PutInstance(ctx, instance("CS1-000001", "P1", t0)))
	check(t, s.AddNotice(ctx, simulator.Notice{ID: "N1", Kind: simulator.NoticeFinal, ProductID: "P1", CreatedAt: t0}))
	reads := map[string]func() error{
		"Message":  func() error { _, err := s.Message(ctx, "01B"); return err },
		"Product":  func() error { _, err := s.Product(ctx, "P2"); return err },
		"Customer": func() error { _, err := s.Customer(ctx, "C2"); return err },
		"Order":    func() error { _, err := s.Order(ctx, "CS2"); return err },
		// The merchant's instanceId is not the key.
		"Instance":   func() error { _, err := s.Instance(ctx, "CS2-000001"); return err },
		"Notice":     func() error { _, err := s.Notice(ctx, "N2"); return err },
		"PutMessage": func() error { return s.PutMessage(ctx, Pending("01B", "q", t0)) },
		"MarkMailed": func() error { return s.MarkMailed(ctx, "N2", t0) },
	}
	for name, read := range reads {
		notFound(t, name, read())
	}
	if _, err := s.Instance(ctx, "i-CS1-000001"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("Instance by the merchant's instanceId: err = %v, want ENOTFOUND (instances are read by key)", err)
	}
}

// PutMessage changes what delivery changes and nothing else: the message
// keeps its contents and its place in its queue.
func putMessageUpdatesDeliveryState(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	m1, m2 := Pending("01A", "q", t0), Pending("01B", "q", t0)
	check(t, s.Enqueue(ctx, m1, m2))
	put := m1
	put.Outcome, put.Attempts, put.FirstAttempt, put.NextAttemptAt = simulator.Stopped, 7, t0.Add(time.Minute), time.Time{}
	put.URL, put.Params, put.Queue, put.CreatedAt = "http://127.0.0.1:2/other", []byte(`{}`), "other", t0.Add(time.Hour)
	check(t, s.PutMessage(ctx, put))
	want := m1
	want.Outcome, want.Attempts, want.FirstAttempt, want.NextAttemptAt = simulator.Stopped, 7, t0.Add(time.Minute), time.Time{}
	if got, err := s.Message(ctx, "01A"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("after PutMessage\n got %+v, %v\nwant %+v", got, err, want)
	}
	if got := due(t, s, t0, 10); !reflect.DeepEqual(got, []string{"01B"}) {
		t.Errorf("due after stopping 01A = %v, want [01B]", got)
	}
	put.Outcome, put.NextAttemptAt = simulator.Pending, t0
	check(t, s.PutMessage(ctx, put))
	if got := due(t, s, t0, 10); !reflect.DeepEqual(got, []string{"01A"}) {
		t.Errorf("due after putting 01A back = %v, want [01A]: it keeps its place ahead of 01B", got)
	}
}

// Every filter field narrows a listing; listings go in enqueue order, not
// ID order.
func messageFilters(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	m := func(id, queue, kind, product, order string, outcome simulator.Outcome) simulator.Message {
		msg := Pending(id, queue, t0)
		msg.Kind, msg.ProductID, msg.OrderID, msg.Outcome = kind, product, order, outcome
		return msg
	}
	check(t, s.Enqueue(ctx,
		m("05", "q1", simulator.KindLifecycle, "P1", "CS1", simulator.Pending),
		m("04", "q1", simulator.KindLifecycle, "P1", "CS2", simulator.Succeeded),
		m("03", "q2", simulator.KindPoll, "P1", "CS1", simulator.Pending),
	))
	late := m("02", "q3", simulator.KindDialTest, "P2", "", simulator.Stopped)
	late.Activity, late.InstanceID, late.CreatedAt = "queryInstance", "i-9", t0.Add(time.Hour)
	late.Protocol = simulator.Kit
	last := m("01", "q1", simulator.KindLifecycle, "P2", "CS3", simulator.Pending)
	last.CreatedAt = t0.Add(2 * time.Hour)
	check(t, s.Enqueue(ctx, late, last))
	tests := []struct {
		name string
		f    simulator.MessageFilter
		want []string
	}{
		{"all", simulator.MessageFilter{}, []string{"05", "04", "03", "02", "01"}},
		{"kind", simulator.MessageFilter{Kind: simulator.KindLifecycle}, []string{"05", "04", "01"}},
		{"protocol", simulator.MessageFilter{Protocol: simulator.Kit}, []string{"02"}},
		{"kind and protocol", simulator.MessageFilter{Kind: simulator.KindLifecycle, Protocol: simulator.V2}, []string{"05", "04", "01"}},
		{"product", simulator.MessageFilter{ProductID: "P2"}, []string{"02", "01"}},
		{"order", simulator.MessageFilter{OrderID: "CS1"}, []string{"05", "03"}},
		{"queue", simulator.MessageFilter{Queue: "q1"}, []string{"05", "04", "01"}},
		{"outcome", simulator.MessageFilter{Outcome: simulator.Pending}, []string{"05", "03", "01"}},
		{"limit", simulator.MessageFilter{Limit: 2}, []string{"05", "04"}},
		{"fields together", simulator.MessageFilter{Queue: "q1", ProductID: "P1", Outcome: simulator.Pending}, []string{"05"}},
		{"limit after filter", simulator.MessageFilter{Outcome: simulator.Pending, Limit: 2}, []string{"05", "03"}},
		{"nothing matches", simulator.MessageFilter{Kind: simulator.KindDebug}, nil},
		{"activity", simulator.MessageFilter{Activity: "queryInstance"}, []string{"02"}},
		{"merchant's instanceId", simulator.MessageFilter{InstanceID: "i-9"}, []string{"02"}},
		{"created since, inclusive", simulator.MessageFilter{Since: t0.Add(time.Hour)}, []string{"02", "01"}},
		{"created until, exclusive", simulator.MessageFilter{Until: t0.Add(time.Hour)}, []string{"05", "04", "03"}},
		{"created in a window", simulator.MessageFilter{Since: t0.Add(time.Hour), Until: t0.Add(time.Hour + 1)}, []string{"02"}},
		// Pages follow enqueue order either way, from the record named.
		{"newest first", simulator.MessageFilter{Page: simulator.Page{Newest: true}}, []string{"01", "02", "03", "04", "05"}},
		{"after", simulator.MessageFilter{Page: simulator.Page{After: "04"}, Limit: 2}, []string{"03", "02"}},
		{"after, newest first", simulator.MessageFilter{Page: simulator.Page{After: "03", Newest: true}}, []string{"04", "05"}},
		{"after, filtered", simulator.MessageFilter{Queue: "q1", Page: simulator.Page{After: "05"}}, []string{"04", "01"}},
		{"after the last", simulator.MessageFilter{Page: simulator.Page{After: "01"}}, nil},
		{"after an unknown message", simulator.MessageFilter{Page: simulator.Page{After: "99"}}, nil},
	}
	for _, tt := range tests {
		ms, err := s.Messages(ctx, tt.f)
		same(t, tt.name, ids(ms), err, tt.want...)
	}
}

// Pending is the outbox depth: pending messages only, whether due or not.
func pendingCountsOutboxDepth(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	pending := func(want int) {
		t.Helper()
		if n, err := s.Pending(ctx); err != nil || n != want {
			t.Errorf("Pending = %d, %v; want %d", n, err, want)
		}
	}
	pending(0)
	later := Pending("3", "q3", t0.Add(time.Hour))
	polling := Pending("4", "q4", t0)
	polling.Outcome = simulator.Polling
	check(t, s.Enqueue(ctx, Pending("1", "q", t0), Pending("2", "q", t0), later, polling))
	pending(3)
	m := Pending("1", "q", t0)
	m.Outcome, m.Attempts, m.NextAttemptAt = simulator.Succeeded, 1, time.Time{}
	check(t, s.RecordAttempt(ctx, simulator.Attempt{MessageID: "1", N: 1, Verdict: simulator.Success}, m))
	pending(2)
	later.Outcome, later.NextAttemptAt = simulator.Stopped, time.Time{}
	check(t, s.PutMessage(ctx, later))
	pending(1)
}

// A limit that can only be a mistake is refused rather than read as "none"
// or "all".
func badLimits(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	check(t, s.Enqueue(ctx, Pending("1", "q", t0)))
	calls := map[string]func() error{
		"Due(0)":                  func() error { _, err := s.Due(ctx, simulator.DueFilter{Now: t0}); return err },
		"DueInstances(0)":         func() error { _, err := s.DueInstances(ctx, t0, 0); return err },
		"Messages(Limit: -1)":     func() error { _, err := s.Messages(ctx, simulator.MessageFilter{Limit: -1}); return err },
		"Orders(Limit: -1)":       func() error { _, err := s.Orders(ctx, simulator.OrderFilter{Limit: -1}); return err },
		"Instances(Limit: -1)":    func() error { _, err := s.Instances(ctx, simulator.InstanceFilter{Limit: -1}); return err },
		"Notices(Limit: -1)":      func() error { _, err := s.Notices(ctx, simulator.NoticeFilter{Limit: -1}); return err },
		"PutOrder without ID":     func() error { return s.PutOrder(ctx, simulator.Order{ProductID: "P1"}) },
		"PutInstance without key": func() error { return s.PutInstance(ctx, simulator.Instance{ID: "i-1"}) },
		"PutProduct without ID":   func() error { return s.PutProduct(ctx, simulator.Product{Name: "x"}) },
		"PutCustomer without ID":  func() error { return s.PutCustomer(ctx, simulator.Customer{Name: "x"}) },
		"AddNotice without ID":    func() error { return s.AddNotice(ctx, simulator.Notice{ProductID: "P1"}) },
		"PutDialRun without ID":   func() error { return s.PutDialRun(ctx, simulator.DialRun{ProductID: "P1"}) },
		"MarkMailed at zero time": func() error { return s.MarkMailed(ctx, "N1", time.Time{}) },
	}
	for name, call := range calls {
		if err := call(); simulator.ErrorCode(err) != simulator.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
}

// Due returns the heads behind a skipped merchant's backlog of 1,000 due
// heads as it returns them behind a few: the earliest of every other
// origin's, in due order, ties in enqueue order, the skipped queues left
// out and a queue's later messages behind its head.
func dueSkipsABacklog(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	at := func(id, queue, url string, due time.Time) simulator.Message {
		m := Pending(id, queue, due)
		m.URL = url
		return m
	}
	var backlog []simulator.Message
	for i := range 1000 {
		q := fmt.Sprintf("H%04d", i)
		backlog = append(backlog, at("h"+q, q, "http://hang.example/produce", t0))
	}
	check(t, s.Enqueue(ctx, backlog...))
	check(t, s.Enqueue(ctx,
		at("a1", "A1", "https://a.example/produce", t0.Add(3*time.Second)),
		at("b1", "B1", "https://b.example:8443/produce", t0.Add(2*time.Second)),
		at("a2", "A2", "https://a.example/produce", t0.Add(time.Second)),
		at("a2-later", "A2", "https://a.example/produce", t0),
		at("b2", "B2", "https://b.example:8443/produce", t0.Add(2*time.Second)),
		at("a3", "A3", "https://a.example?x=1", t0.Add(4*time.Second)),
		at("a4", "A4", "https://a.example/produce", t0.Add(5*time.Second)),
		at("b3", "B3", "https://b.example:8443/produce", t0.Add(time.Hour)),
	))
	read := func(limit int, queues ...string) []string {
		t.Helper()
		ms, err := s.Due(ctx, simulator.DueFilter{Now: t0.Add(time.Minute), Limit: limit, SkipQueues: queues, SkipOrigins: []string{"http://hang.example"}})
		check(t, err)
		return ids(ms)
	}
	if got := read(3); !slices.Equal(got, []string{"a2", "b1", "b2"}) {
		t.Errorf("3 behind the backlog = %v, want [a2 b1 b2]", got)
	}
	if got := read(10, "B1", "H0001"); !slices.Equal(got, []string{"a2", "b2", "a1", "a3", "a4"}) {
		t.Errorf("10 behind the backlog, B1 skipped = %v, want [a2 b2 a1 a3 a4]", got)
	}
	if got := read(2, "A2"); !slices.Equal(got, []string{"b1", "b2"}) {
		t.Errorf("2 behind the backlog, A2 skipped = %v, want [b1 b2]: a queue's later message stays behind its head", got)
	}
	ms, err := s.Due(ctx, simulator.DueFilter{Now: t0.Add(time.Minute), Limit: 2, SkipOrigins: []string{"https://a.example", "https://b.example:8443"}})
	check(t, err)
	if got := ids(ms); !slices.Equal(got, []string{"hH0000", "hH0001"}) {
		t.Errorf("the backlog's merchant alone = %v, want [hH0000 hH0001]", got)
	}
}

// Due leaves out the queues and the origins it is told to skip, and still
// returns the heads behind them up to its limit: an origin is matched
// whole, not as a prefix of a longer host or port.
func dueSkipsQueuesAndOrigins(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	at := func(id, queue, url string) simulator.Message {
		m := Pending(id, queue, t0)
		m.URL = url
		return m
	}
	check(t, s.Enqueue(ctx,
		at("1", "A", "http://hang.example:8080/produce"),
		at("2", "B", "http://hang.example:8080?x=1"),
		at("3", "C", "http://hang.example:8080"),
		at("4", "D", "http://hang.example:80801/produce"),
		at("5", "E", "http://hang.example.org:8080/produce"),
		at("6", "F", "https://ok.example/produce"),
		at("7", "F", "https://ok.example/produce"),
		at("8", "G", "https://ok.example/produce"),
	))
	read := func(f simulator.DueFilter) []string {
		t.Helper()
		f.Now = t0
		ms, err := s.Due(ctx, f)
		check(t, err)
		return ids(ms)
	}
	if got := read(simulator.DueFilter{Limit: 3, SkipOrigins: []string{"http://hang.example:8080"}}); !slices.Equal(got, []string{"4", "5", "6"}) {
		t.Errorf("skipping http://hang.example:8080 = %v, want [4 5 6]", got)
	}
	if got := read(simulator.DueFilter{Limit: 10, SkipQueues: []string{"F", "A"}, SkipOrigins: []string{"http://hang.example.org:8080", "http://hang.example:80801"}}); !slices.Equal(got, []string{"2", "3", "8"}) {
		t.Errorf("skipping queues F, A and two origins = %v, want [2 3 8]: a skipped queue's later messages stay behind its head", got)
	}
	if got := read(simulator.DueFilter{Limit: 10, SkipOrigins: []string{"https://ok.example", "http://hang.example:8080", "http://hang.example:80801", "http://hang.example.org:8080"}}); len(got) != 0 {
		t.Errorf("every origin skipped: %v, want none", got)
	}
}
