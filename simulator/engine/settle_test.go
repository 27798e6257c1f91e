package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

func TestSettlePurchase(t *testing.T) {
	for _, c := range []struct {
		name     string
		outcome  simulator.Outcome
		body     string
		order    simulator.OrderState
		instance simulator.InstanceState
		id       string
	}{
		{"acknowledged", simulator.Succeeded, `{"resultCode":"000000","instanceId":"ins-1"}`, simulator.OrderCompleted, simulator.Active, "ins-1"},
		{"acknowledged after a restart", simulator.SucceededAfterRestart, `{"resultCode":"000000","instanceId":"ins-2"}`, simulator.OrderCompleted, simulator.Active, "ins-2"},
		{"failed attempt, retries left", simulator.Pending, `boom`, simulator.OrderProcessing, simulator.Provisioning, ""},
		{"accepted asynchronously", simulator.Polling, `{"resultCode":"000004","instanceId":"ins-3"}`, simulator.OrderProcessing, simulator.Provisioning, ""},
		{"retries ran out", simulator.OrderFailed, `boom`, simulator.OrderFailedUnsubscribed, simulator.NeverProvisioned, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			o, inst := w.buy(Purchase{ProductID: "v2-year"})
			w.clock.Set(t0.Add(time.Hour))
			w.answer(w.last(inst.Key), c.outcome, c.body)
			gotO, gotI := w.order(o.ID), w.instance(inst.Key)
			if gotO.State != c.order || gotI.State != c.instance || gotI.ID != c.id {
				t.Errorf("order %s, instance %s %q; want %s, %s %q", gotO.State, gotI.State, gotI.ID, c.order, c.instance, c.id)
			}
			// A settled order says when; the schedule starts once the instance exists.
			settled := c.order != simulator.OrderProcessing
			if settled != gotO.SettledAt.Equal(w.clock.Now()) {
				t.Errorf("settled at %v (order %s)", gotO.SettledAt, gotO.State)
			}
			wantNext := time.Time{}
			if c.instance == simulator.Active {
				wantNext = t0.AddDate(1, 0, 0)
			}
			if !gotI.NextEventAt.Equal(wantNext) {
				t.Errorf("next event at %v, want %v", gotI.NextEventAt, wantNext)
			}
			// No releaseInstance follows a failed purchase (callbacks.md §15 Q3).
			if n := len(w.messages(inst.Key)); n != 1 {
				t.Errorf("%d messages in the queue, want only the newInstance", n)
			}
		})
	}
}

// After 000004 the poll's success provisions the instance under the ID the
// merchant answered; running out of polls fails the purchase.
func TestSettlePoll(t *testing.T) {
	for _, c := range []struct {
		outcome  simulator.Outcome
		instance simulator.InstanceState
		id       string
	}{
		{simulator.Succeeded, simulator.Active, "ins-async"},
		{simulator.OrderFailed, simulator.NeverProvisioned, ""},
	} {
		t.Run(string(c.outcome), func(t *testing.T) {
			w := newWorld(t)
			o, inst := w.buy(Purchase{ProductID: "v2-year"})
			purchase := w.last(inst.Key)
			w.answer(purchase, simulator.Polling, `{"resultCode":"000004","instanceId":"ins-async"}`)
			poll := simulator.Message{
				ID: "m-poll", Kind: simulator.KindPoll, Protocol: simulator.V2, Activity: "queryInstance", Queue: inst.Key, ProductID: "v2-year",
				OrderID: o.ID, OrderLineID: o.LineID, InstanceID: "ins-async", URL: purchase.URL, Params: []byte(`{"activity":"queryInstance","instanceId":"ins-async"}`),
				Outcome: simulator.Pending, NextAttemptAt: t0, CreatedAt: t0,
			}
			if err := w.store.Enqueue(w.ctx, poll); err != nil {
				t.Fatal(err)
			}
			w.answer(poll, c.outcome, `{"resultCode":"000000","info":[{"instanceId":"ins-async","appInfo":{"frontEndUrl":"https://x.test"}}]}`)
			if got := w.instance(inst.Key); got.State != c.instance || got.ID != c.id {
				t.Errorf("instance %s %q, want %s %q", got.State, got.ID, c.instance, c.id)
			}
		})
	}
}

// A buyer's query or a debug call names the purchase order but does not
// settle it.
func TestSettleIgnoresOtherCallbacks(t *testing.T) {
	w := newWorld(t)
	o, inst := w.buy(Purchase{ProductID: "v2-year"})
	m := w.last(inst.Key)
	for _, kind := range []string{simulator.KindDebug, simulator.KindDialTest} {
		probe := m
		probe.ID, probe.Kind = "m-"+kind, kind
		if err := w.store.Enqueue(w.ctx, probe); err != nil {
			t.Fatal(err)
		}
		w.answer(probe, simulator.Succeeded, `{"resultCode":"000000","instanceId":"ins-probe"}`)
	}
	if got := w.order(o.ID); got.State != simulator.OrderProcessing {
		t.Errorf("a probe settled the order: %s", got.State)
	}
	w.answer(m, simulator.Succeeded, `{"resultCode":"000000","instanceId":"ins-1"}`)
	q, err := w.e.Query(w.ctx, inst.Key)
	if err != nil {
		t.Fatal(err)
	}
	w.answer(q, simulator.Stopped, `boom`)
	if got := w.order(o.ID); got.State != simulator.OrderCompleted {
		t.Errorf("a failed query changed the purchase: %s", got.State)
	}
}

func TestSettleOrdersAboutAnInstance(t *testing.T) {
	t.Run("renewal stalls, then completes on restart", func(t *testing.T) {
		w := newWorld(t)
		inst := w.active(Purchase{ProductID: "v2-year"}, "ins-1")
		r := w.ok(w.e.Renew(w.ctx, inst.Key, Renewal{}))
		refresh := w.last(inst.Key)
		w.answer(refresh, simulator.Stopped, `boom`)
		if got := w.order(r.ID); got.State != simulator.OrderStalled || !got.SettledAt.IsZero() {
			t.Errorf("order %s settled %v, want STALLED, unsettled", got.State, got.SettledAt)
		}
		w.answer(w.last(inst.Key), simulator.SucceededAfterRestart, `{"resultCode":"000000"}`)
		if got := w.order(r.ID); got.State != simulator.OrderCompleted {
			t.Errorf("order %s, want COMPLETED", got.State)
		}
	})
	t.Run("upgrade acknowledged", func(t *testing.T) {
		w := newWorld(t)
		inst := w.active(Purchase{ProductID: "v2-year"}, "ins-1")
		u := w.ok(w.e.Upgrade(w.ctx, inst.Key, Change{ProductID: "v2-month"}))
		if got := w.instance(inst.Key); got.ProductID != "v2-year" {
			t.Errorf("the instance moved before the upgrade was acknowledged: %s", got.ProductID)
		}
		w.answer(w.last(inst.Key), simulator.Succeeded, `{"resultCode":"000000"}`)
		got := w.instance(inst.Key)
		if w.order(u.ID).State != simulator.OrderCompleted || got.ProductID != "v2-month" || got.SKUCode != "v2-month-basic" {
			t.Errorf("order %s, instance %s/%s; want COMPLETED, v2-month/v2-month-basic", w.order(u.ID).State, got.ProductID, got.SKUCode)
		}
	})
	t.Run("upgrade failed", func(t *testing.T) {
		w := newWorld(t)
		inst := w.active(Purchase{ProductID: "v2-year"}, "ins-1")
		u := w.ok(w.e.Upgrade(w.ctx, inst.Key, Change{SKUCode: "v2-year-pro"}))
		w.answer(w.last(inst.Key), simulator.OrderFailed, `boom`)
		got := w.instance(inst.Key)
		if w.order(u.ID).State != simulator.OrderFailedUnsubscribed || got.State != simulator.Active || got.SKUCode != "v2-year-basic" {
			t.Errorf("order %s, instance %s %s; want FAILED_UNSUBSCRIBED and the instance active on its old SKU", w.order(u.ID).State, got.State, got.SKUCode)
		}
	})
	t.Run("unsubscribe acknowledged", func(t *testing.T) {
		w := newWorld(t)
		inst := w.active(Purchase{ProductID: "v2-year"}, "ins-1")
		u := w.ok(w.e.Unsubscribe(w.ctx, inst.Key))
		if got := w.instance(inst.Key); got.State != simulator.Released || !got.NextEventAt.IsZero() {
			t.Errorf("instance %s next %v, want RELEASED with nothing scheduled", got.State, got.NextEventAt)
		}
		w.answer(w.last(inst.Key), simulator.Succeeded, `{"resultCode":"000000"}`)
		if got := w.order(u.ID); got.State != simulator.OrderCompleted {
			t.Errorf("order %s, want COMPLETED", got.State)
		}
	})
	t.Run("spec change refused", func(t *testing.T) {
		w := newWorld(t)
		inst := w.active(Purchase{ProductID: "v2-year"}, "ins-1")
		c := w.ok(w.e.ChangeSpec(w.ctx, inst.Key, Change{SKUCode: "v2-year-mini"}))
		w.answer(w.last(inst.Key), simulator.ChangeRefused, `{"resultCode":"000005"}`)
		got := w.instance(inst.Key)
		if o := w.order(c.ID); o.State != simulator.OrderRefused || o.SettledAt.IsZero() {
			t.Errorf("order %s settled %v, want REFUSED and settled", o.State, o.SettledAt)
		}
		if got.SKUCode != "v2-year-basic" || !got.ExpireAt.Equal(t0.AddDate(1, 0, 0)) {
			t.Errorf("a refused change changed the instance: %s, expires %s", got.SKUCode, got.ExpireAt)
		}
		if acts := activities(w.messages(inst.Key)); !slices.Equal(acts, []string{"newInstance", "changeInstanceCheck"}) {
			t.Errorf("callbacks %v, want no refresh after a refusal", acts)
		}
	})
	t.Run("spec change allowed", func(t *testing.T) {
		w := newWorld(t)
		inst := w.active(Purchase{ProductID: "v2-year"}, "ins-1")
		c := w.ok(w.e.ChangeSpec(w.ctx, inst.Key, Change{SKUCode: "v2-year-mini", PeriodNumber: 2}))
		w.answer(w.last(inst.Key), simulator.Succeeded, `{"resultCode":"000000"}`)
		got := w.instance(inst.Key)
		if got.SKUCode != "v2-year-mini" || !got.ExpireAt.Equal(t0.AddDate(3, 0, 0)) || !got.NextEventAt.Equal(got.ExpireAt) {
			t.Errorf("instance %s expires %s next %s; want v2-year-mini, both %s", got.SKUCode, got.ExpireAt, got.NextEventAt, t0.AddDate(3, 0, 0))
		}
		if o := w.order(c.ID); o.State != simulator.OrderProcessing {
			t.Errorf("order %s before its refresh is acknowledged, want PROCESSING", o.State)
		}
		if acts := activities(w.messages(inst.Key)); !slices.Equal(acts, []string{"newInstance", "changeInstanceCheck", "refreshInstance RENEWAL_CHANGE"}) {
			t.Errorf("callbacks %v", acts)
		}
		w.answer(w.last(inst.Key), simulator.Succeeded, `{"resultCode":"000000"}`)
		if o := w.order(c.ID); o.State != simulator.OrderCompleted {
			t.Errorf("order %s, want COMPLETED", o.State)
		}
	})
}

// Different orders must never get the same instanceId (callbacks.md §10):
// the second purchase fails, with a notice, and nothing is sent about it.
func TestSettleDuplicateInstanceID(t *testing.T) {
	w := newWorld(t)
	first := w.active(Purchase{ProductID: "v2-year"}, "ins-same")
	o, inst := w.buy(Purchase{ProductID: "v2-year"})
	w.answer(w.last(inst.Key), simulator.Succeeded, `{"resultCode":"000000","instanceId":"ins-same"}`)
	if got := w.instance(inst.Key); got.State != simulator.NeverProvisioned || got.ID != "" {
		t.Errorf("second instance %s %q, want NEVER_PROVISIONED without an ID", got.State, got.ID)
	}
	if got := w.order(o.ID); got.State != simulator.OrderFailedUnsubscribed {
		t.Errorf("second order %s, want FAILED_UNSUBSCRIBED", got.State)
	}
	if got := w.instance(first.Key); got.State != simulator.Active || got.ID != "ins-same" {
		t.Errorf("first instance %s %q, want untouched", got.State, got.ID)
	}
	notices, err := w.store.Notices(w.ctx, simulator.NoticeFilter{OrderID: o.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || notices[0].Kind != simulator.NoticeFinal || !strings.Contains(notices[0].Body, `instanceId "ins-same"`) ||
		!strings.Contains(notices[0].Body, first.OrderID) || len(notices[0].Record) == 0 || !slices.Equal(notices[0].To, []string{"ops@merchant.test"}) {
		t.Errorf("notices %+v: want one FINAL notice naming the instanceId and the other order, with the call record", notices)
	}
}

// More than 5 failed orders of a product in a calendar month of Beijing
// time delist it, with a notice (callbacks.md §9.2).
func TestFailedOrdersDelistTheProduct(t *testing.T) {
	w := newWorld(t)
	fail := func(at time.Time) {
		w.clock.Set(at)
		_, inst := w.buy(Purchase{ProductID: "v2-year"})
		w.clock.Set(at.Add(3 * time.Hour))
		w.answer(w.last(inst.Key), simulator.OrderFailed, `boom`)
	}
	// Orders fail 3 hours after purchase: at 15:59 UTC on 31 January, still
	// January in Beijing, and from 16:00 UTC, 1 February there.
	for range 5 {
		fail(time.Date(2025, 1, 31, 12, 59, 0, 0, time.UTC))
	}
	for i := range 5 {
		fail(time.Date(2025, 1, 31, 13, 0, 0, 0, time.UTC).Add(time.Duration(i) * 24 * time.Hour))
		if p := w.product("v2-year"); p.Status != simulator.OnSale {
			t.Fatalf("delisted after %d failed orders in February: %s", i+1, p.Status)
		}
	}
	fail(time.Date(2025, 2, 20, 0, 0, 0, 0, time.UTC))
	if p := w.product("v2-year"); p.Status != simulator.Delisted {
		t.Fatalf("status %s after 6 failed orders in February, want DELISTED", p.Status)
	}
	notices, err := w.store.Notices(w.ctx, simulator.NoticeFilter{ProductID: "v2-year"})
	if err != nil {
		t.Fatal(err)
	}
	var product []simulator.Notice
	for _, n := range notices {
		if n.Kind == simulator.NoticeProduct {
			product = append(product, n)
		}
	}
	if len(product) != 1 || !strings.Contains(product[0].Body, "DELISTED") || !strings.Contains(product[0].Body, "6 orders failed in 2025-02") {
		t.Errorf("product notices %+v, want one saying 6 orders failed in 2025-02", product)
	}
	if _, _, err := w.e.Buy(w.ctx, Purchase{ProductID: "v2-year", CustomerID: "hwc-plain"}); simulator.ErrorCode(err) != simulator.ECONFLICT {
		t.Errorf("buying a delisted product: %v", err)
	}
	// Reloading the catalogue keeps the marketplace's status.
	if err := w.e.Load(w.ctx, testProducts, nil); err != nil {
		t.Fatal(err)
	}
	if p := w.product("v2-year"); p.Status != simulator.Delisted {
		t.Errorf("reloaded product is %s, want still DELISTED", p.Status)
	}
}

// An acknowledgement without a usable instanceId: an empty one fails the
// purchase (no later callback could name the instance); a V1 getLicense
// answer without one makes the order's ID the instance's (§5.16).
func TestSettleWithoutInstanceID(t *testing.T) {
	w := newWorld(t)
	o, inst := w.buy(Purchase{ProductID: "v2-year"})
	w.answer(w.last(inst.Key), simulator.Succeeded, `{"resultCode":"000000","instanceId":""}`)
	if got := w.instance(inst.Key); got.State != simulator.NeverProvisioned || w.order(o.ID).State != simulator.OrderFailedUnsubscribed {
		t.Errorf("empty instanceId: instance %s, order %s; want NEVER_PROVISIONED, FAILED_UNSUBSCRIBED", got.State, w.order(o.ID).State)
	}
	if n, _ := w.store.Notices(w.ctx, simulator.NoticeFilter{OrderID: o.ID}); len(n) != 1 || !strings.Contains(n[0].Body, "empty instanceId") {
		t.Errorf("notices %+v, want one about the empty instanceId", n)
	}

	o, inst = w.buy(Purchase{ProductID: "v1-license"})
	w.answer(w.last(inst.Key), simulator.Succeeded, `{"resultCode":"000000","license":"LIC-1"}`)
	if got := w.instance(inst.Key); got.State != simulator.Active || got.ID != o.ID {
		t.Errorf("getLicense without instanceId: instance %s %q, want ACTIVE %q", got.State, got.ID, o.ID)
	}
}
