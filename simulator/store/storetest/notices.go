package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

func notice(id, productID, orderID, messageID string, created time.Time) simulator.Notice {
	return simulator.Notice{
		ID: id, Kind: simulator.NoticeAttemptFailed, ProductID: productID, OrderID: orderID, MessageID: messageID, AttemptN: 1,
		To: []string{"ops@isv.example.com"}, Subject: "callback failed", Body: "newInstance failed", CreatedAt: created,
	}
}

func noticeRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	full := simulator.Notice{
		ID: "N1", Kind: simulator.NoticeFinal, ProductID: "P1", OrderID: "CS1", InstanceID: "i-1", MessageID: "01", AttemptN: 4,
		To: []string{"ops@isv.example.com", "cs@isv.example.com"}, Subject: "订单 CS1 开通失败", Body: "line 1\nline 2",
		Record: []byte(`{"activity": "newInstance", "attempts": []}`), CreatedAt: t0.In(shanghai), MailedAt: t0.Add(time.Minute),
	}
	// Nil and empty stay apart.
	empty := simulator.Notice{ID: "N2", Kind: simulator.NoticeDialTest, ProductID: "P1", To: []string{}, Record: []byte{}, CreatedAt: t0}
	bare := simulator.Notice{ID: "N3"}
	for _, n := range []simulator.Notice{full, empty, bare} {
		check(t, s.AddNotice(ctx, n))
		if got, err := s.Notice(ctx, n.ID); err != nil || !reflect.DeepEqual(got, inUTC(n)) {
			t.Errorf("notice %s read back\n got %#v, %v\nwant %#v", n.ID, got, err, inUTC(n))
		}
	}
}

// A notice is a record of something that happened: adding one again is a
// conflict, and leaves the first as it was.
func noticeAddedOnce(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	first := notice("N1", "P1", "CS1", "01", t0)
	check(t, s.AddNotice(ctx, first))
	again := first
	again.Subject = "changed"
	if err := s.AddNotice(ctx, again); simulator.ErrorCode(err) != simulator.ECONFLICT {
		t.Errorf("adding notice N1 again: err = %v, want ECONFLICT", err)
	}
	if got, err := s.Notice(ctx, "N1"); err != nil || !reflect.DeepEqual(got, first) {
		t.Errorf("notice N1 = %+v, %v; want the first one", got, err)
	}
}

func noticeFiltersAndMailing(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	for _, n := range []simulator.Notice{
		notice("N4", "P2", "", "", t0.Add(time.Hour)),
		notice("N2", "P1", "CS1", "02", t0),
		notice("N1", "P1", "CS1", "01", t0), // same time as N2, added after it
		notice("N3", "P1", "CS2", "03", t0.Add(time.Minute)),
	} {
		check(t, s.AddNotice(ctx, n))
	}
	mailed := t0.Add(2 * time.Minute).In(shanghai)
	check(t, s.MarkMailed(ctx, "N2", mailed))
	check(t, s.MarkMailed(ctx, "N4", mailed))
	if got, err := s.Notice(ctx, "N2"); err != nil || !got.MailedAt.Equal(mailed) || got.MailedAt.Location() != time.UTC {
		t.Errorf("N2 mailed at %v, %v; want %v in UTC", got.MailedAt, err, mailed)
	}
	tests := []struct {
		name string
		f    simulator.NoticeFilter
		want []string
	}{
		{"all", simulator.NoticeFilter{}, []string{"N2", "N1", "N3", "N4"}},
		{"product", simulator.NoticeFilter{ProductID: "P1"}, []string{"N2", "N1", "N3"}},
		{"order", simulator.NoticeFilter{OrderID: "CS1"}, []string{"N2", "N1"}},
		{"message", simulator.NoticeFilter{MessageID: "03"}, []string{"N3"}},
		{"unmailed", simulator.NoticeFilter{Unmailed: true}, []string{"N1", "N3"}},
		{"limit", simulator.NoticeFilter{Limit: 3}, []string{"N2", "N1", "N3"}},
		{"unmailed of an order", simulator.NoticeFilter{OrderID: "CS1", Unmailed: true}, []string{"N1"}},
		{"nothing matches", simulator.NoticeFilter{ProductID: "P2", Unmailed: true}, nil},
		{"created since, inclusive", simulator.NoticeFilter{Since: t0.Add(time.Minute)}, []string{"N3", "N4"}},
		{"after", simulator.NoticeFilter{Page: simulator.Page{After: "N2"}, Limit: 2}, []string{"N1", "N3"}},
		{"newest first", simulator.NoticeFilter{Page: simulator.Page{Newest: true}}, []string{"N4", "N3", "N1", "N2"}},
		{"after, newest first", simulator.NoticeFilter{ProductID: "P1", Page: simulator.Page{After: "N3", Newest: true}}, []string{"N1", "N2"}},
		{"after an unknown notice", simulator.NoticeFilter{Page: simulator.Page{After: "N9"}}, nil},
	}
	for _, tt := range tests {
		ns, err := s.Notices(ctx, tt.f)
		same(t, tt.name, keys(ns, func(n simulator.Notice) string { return n.ID }), err, tt.want...)
	}
}

// DialRuns: a product's runs at or after since, oldest first; PutDialRun
// replaces a run rather than adding one.
func dialRuns(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	runs := []simulator.DialRun{
		{ID: "R3", ProductID: "P1", At: t0.Add(48 * time.Hour)},
		{ID: "R1", ProductID: "P1", At: t0.In(shanghai), Done: true},
		{ID: "X1", ProductID: "P2", At: t0.Add(24 * time.Hour)},
		{ID: "R2", ProductID: "P1", At: t0.Add(24 * time.Hour), Done: true, Passed: true},
	}
	for _, r := range runs {
		check(t, s.PutDialRun(ctx, r))
	}
	// The run ends: the same run, now judged.
	r3 := simulator.DialRun{ID: "R3", ProductID: "P1", At: t0.Add(48 * time.Hour), Done: true, Passed: false}
	check(t, s.PutDialRun(ctx, r3))
	got, err := s.DialRuns(ctx, "P1", time.Time{})
	want := []simulator.DialRun{inUTC(runs[1]), runs[3], r3}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("runs of P1\n got %+v, %v\nwant %+v", got, err, want)
	}
	since := func(at time.Time) ([]string, error) {
		rs, err := s.DialRuns(ctx, "P1", at)
		return keys(rs, func(r simulator.DialRun) string { return r.ID }), err
	}
	ids, err := since(t0.Add(24 * time.Hour))
	same(t, "since the second run", ids, err, "R2", "R3")
	ids, err = since(t0.Add(24*time.Hour + 1))
	same(t, "just after the second run", ids, err, "R3")
	ids, err = since(t0.Add(24 * time.Hour).In(shanghai))
	same(t, "since the second run, in another zone", ids, err, "R2", "R3")
	ids, err = since(t0.Add(49 * time.Hour))
	same(t, "after the last run", ids, err)
	rs, err := s.DialRuns(ctx, "P3", time.Time{})
	same(t, "runs of a product without any", keys(rs, func(r simulator.DialRun) string { return r.ID }), err)
}
