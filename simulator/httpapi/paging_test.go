package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/storetest"
)

// TestListingsPageWithCursors reads each long listing whole, a few records
// at a time, both ways, past what one answer can hold: every record once,
// in order, and no "next" on the last page.
func TestListingsPageWithCursors(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	ctx := context.Background()
	const n = 7
	var want []string
	for i := range n {
		id := fmt.Sprintf("m%02d", i)
		m := storetest.Pending(id, "q"+id, t0)
		m.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		if err := w.store.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
		o := simulator.Order{ID: "CS" + id, LineID: "CS" + id + "-000001", Kind: simulator.NewPurchase, State: simulator.OrderCompleted,
			InstanceKey: "CS" + id + "-000001", ProductID: "p1", CustomerID: "c1", CreatedAt: t0} // one time: ties go as stored
		if err := w.store.PutOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
		if err := w.store.PutInstance(ctx, simulator.Instance{Key: o.InstanceKey, ProductID: "p1", State: simulator.Active, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := w.store.AddNotice(ctx, simulator.Notice{ID: "n" + id, Kind: simulator.NoticeFinal, ProductID: "p1", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := w.store.PutLicense(ctx, simulator.License{Code: "PL" + id, ProductID: "p1", State: simulator.LicenseUnclaimed, CreatedAt: t0, UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.store.AddUsage(ctx, simulator.UsageRecord{SellerID: "s1", API: simulator.UsageNew, InstanceKey: "K1", InstanceID: "i-1",
			ProductID: "p1", UsageValue: "1", MeteringSN: "sn-" + id, AcceptedAt: t0}); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	for _, l := range []struct{ path, name, id, prefix, suffix string }{
		{"/admin/v1/messages", "messages", "messageId", "", ""},
		{"/admin/v1/orders", "orders", "orderId", "CS", ""},
		{"/admin/v1/instances", "instances", "instanceKey", "CS", "-000001"},
		{"/admin/v1/notices", "notices", "noticeId", "n", ""},
		{"/admin/v1/licenses", "licenses", "license", "PL", ""},
		// A usage record's ID is its place among those accepted, named
		// here by its metering_sn.
		{"/admin/v1/usage", "records", "meteringSn", "sn-", ""},
	} {
		var all []string
		for _, id := range want {
			all = append(all, l.prefix+id+l.suffix)
		}
		for _, order := range []string{"", "newest"} {
			expect := slices.Clone(all)
			if order == "newest" {
				slices.Reverse(expect)
			}
			var got []string
			pages, cursor := 0, ""
			for {
				q := url.Values{"limit": {"3"}}
				if order != "" {
					q.Set("order", order)
				}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				a := w.must(http.StatusOK, "GET", l.path+"?"+q.Encode(), "")
				pages++
				for _, r := range a.get(l.name).Array() {
					got = append(got, r.Get(l.id).String())
				}
				next := a.get("next")
				if !next.Exists() {
					break
				}
				if pages > n {
					t.Fatalf("%s: still a next page after %d pages", l.path, pages)
				}
				cursor = next.String()
			}
			if !slices.Equal(got, expect) || pages != 3 {
				t.Errorf("%s order=%q: %d pages of %v, want 3 pages of %v", l.path, order, pages, got, expect)
			}
		}
		exact := w.must(http.StatusOK, "GET", l.path+"?limit=7", "")
		if exact.get("next").Exists() || len(exact.get(l.name).Array()) != n {
			t.Errorf("%s?limit=7 holds every record: %s", l.path, exact.body)
		}
		for _, bad := range []struct{ query, field string }{
			{"cursor=nosuch", "cursor"},
			{"cursor=999999", "cursor"},
			{"order=sideways", "order"},
			{"cursor=" + all[0] + "&cursor=" + all[1], "cursor"},
		} {
			a := w.must(http.StatusBadRequest, "GET", l.path+"?"+bad.query, "")
			if a.get("error.field").String() != bad.field {
				t.Errorf("%s?%s: %s, want an error on %s", l.path, bad.query, a.body, bad.field)
			}
		}
	}
}

// TestMessageListingFilters: the filters the console offers, through the
// admin API.
func TestMessageListingFilters(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	ctx := context.Background()
	for i, activity := range []string{"newInstance", "refreshInstance", "newInstance"} {
		m := storetest.Pending(fmt.Sprint(i), fmt.Sprint("q", i), t0)
		m.Activity, m.InstanceID, m.CreatedAt = activity, fmt.Sprint("i-", i), t0.Add(time.Duration(i)*time.Hour)
		if err := w.store.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for query, want := range map[string][]string{
		"activity=newInstance": {"0", "2"},
		"instanceId=i-1":       {"1"},
		"since=" + t0.Add(time.Hour).Format(time.RFC3339):                                                           {"1", "2"},
		"until=" + t0.Add(time.Hour).Format(time.RFC3339):                                                           {"0"},
		"activity=newInstance&since=" + url.QueryEscape(t0.Add(time.Minute).Format(time.RFC3339)) + "&order=newest": {"2"},
	} {
		var got []string
		for _, m := range w.must(http.StatusOK, "GET", "/admin/v1/messages?"+query, "").get("messages").Array() {
			got = append(got, m.Get("messageId").String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("messages?%s = %v, want %v", query, got, want)
		}
	}
	if a := w.must(http.StatusBadRequest, "GET", "/admin/v1/messages?since=yesterday", ""); a.get("error.field").String() != "since" {
		t.Errorf("since=yesterday: %s", a.body)
	}
}
