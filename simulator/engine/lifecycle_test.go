package engine_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/engine"
	"github.com/kgsim/kgsim/simulator/market"
	"github.com/kgsim/kgsim/simulator/market/markettest"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/schedule"
)

const (
	v1Key = "v1-lifecycle-key"
	v2Key = "v2-lifecycle-key"
)

// merchants are a V1 and a V2 production interface on loopback, each
// verifying every callback with its product's key and answering as a
// correct merchant does (the same instanceId for the same order).
type merchants struct{ v1, v2 *merchanttest.Merchant }

// take returns what the merchants received since the last take.
func (m merchants) take() []merchanttest.Call { return append(m.v1.Take(), m.v2.Take()...) }

type marketplace struct {
	t        *testing.T
	ctx      context.Context
	clock    *schedule.Virtual
	store    simulator.Store
	market   *market.Market
	engine   *engine.Engine
	merchant merchants
}

var t0 = time.Date(2025, 3, 10, 1, 0, 0, 0, time.UTC)

func newMarketplace(t *testing.T) *marketplace {
	t.Helper()
	m := merchants{&merchanttest.Merchant{T: t, Key: v1Key}, &merchanttest.Merchant{T: t, Key: v2Key}}
	v1URL, v2URL := m.v1.Start(), m.v2.Start()
	mk, clock := markettest.New(t, t0, market.Config{Random: rand.NewChaCha8([32]byte{1}),
		Products: []simulator.Product{
			{ID: "v1-saas", SKUCode: "v1-saas-std", ChargingMode: simulator.Period, PeriodType: "month", URL: v1URL + "/v1", Protocol: simulator.V1, AccessKey: v1Key},
			{ID: "v2-saas", SKUCode: "v2-saas-std", ChargingMode: simulator.Period, PeriodType: "month", URL: v2URL + "/v2", Protocol: simulator.V2, AccessKey: v2Key,
				NoticeTo: []string{"ops@merchant.test"}},
		},
		Customers: []simulator.Customer{{ID: "hwc-buyer", Name: "Buyer Co", MobilePhone: "13900000000"}},
	})
	return &marketplace{t: t, ctx: context.Background(), clock: clock, store: mk.Store, market: mk, engine: mk.Engine, merchant: m}
}

// at moves the clock to at and runs what falls due, the engine's
// transitions and delivery's attempts, until nothing more is due.
func (mp *marketplace) at(at time.Time) {
	mp.t.Helper()
	mp.clock.Set(at)
	if _, err := mp.market.Scheduler.RunDue(mp.ctx); err != nil {
		mp.t.Fatal(err)
	}
}

// expect checks the callbacks the merchant received since the last check:
// their activities in order, and the key parameters of each.
func (mp *marketplace) expect(step string, want ...merchanttest.Call) {
	mp.t.Helper()
	got := mp.merchant.take()
	acts := func(cs []merchanttest.Call) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Activity)
		}
		return out
	}
	if !slices.Equal(acts(got), acts(want)) {
		mp.t.Fatalf("%s: the merchant received %v, want %v", step, acts(got), acts(want))
	}
	for i, w := range want {
		for name, value := range w.Params {
			if got[i].Params[name] != value {
				mp.t.Errorf("%s: %s %s = %q, want %q", step, w.Activity, name, got[i].Params[name], value)
			}
		}
		if _, ok := got[i].Params["testFlag"]; ok {
			mp.t.Errorf("%s: %s carries testFlag; live lifecycle calls omit it", step, w.Activity)
		}
	}
}

func call(activity string, params ...string) merchanttest.Call {
	c := merchanttest.Call{Activity: activity, Params: map[string]string{}}
	for i := 0; i < len(params); i += 2 {
		c.Params[params[i]] = params[i+1]
	}
	return c
}

// stamp is an expiry as the callbacks carry it.
func stamp(t time.Time) string { return t.UTC().Format("20060102150405") }

func TestLifecycle(t *testing.T) {
	for _, c := range []struct {
		protocol simulator.Protocol
		product  string
	}{
		{simulator.V2, "v2-saas"},
		{simulator.V1, "v1-saas"},
	} {
		t.Run(string(c.protocol), func(t *testing.T) {
			v2 := c.protocol == simulator.V2
			pick := func(v1, v2name string) string {
				if v2 {
					return v2name
				}
				return v1
			}
			mp := newMarketplace(t)
			o, inst, err := mp.engine.Buy(mp.ctx, engine.Purchase{ProductID: c.product, CustomerID: "hwc-buyer", Amount: "99"})
			if err != nil {
				t.Fatal(err)
			}
			mp.at(t0)
			id := "ins-" + o.ID
			firstExpiry := time.Date(2025, 4, 10, 1, 0, 0, 0, time.UTC)
			if v2 {
				mp.expect("buy", call("newInstance", "orderId", o.ID, "orderLineId", o.LineID))
			} else {
				mp.expect("buy", call("newInstance", "orderId", o.ID, "customerId", "hwc-buyer", "productId", "v1-saas", "skuCode", "v1-saas-std",
					"chargingMode", "PERIOD", "periodType", "month", "periodNumber", "1", "orderAmount", "99", "expireTime", stamp(firstExpiry)))
			}
			if got, _ := mp.store.Instance(mp.ctx, inst.Key); got.State != simulator.Active || got.ID != id {
				t.Fatalf("after newInstance: instance %s %q, want ACTIVE %q", got.State, got.ID, id)
			}

			renewal, err := mp.engine.Renew(mp.ctx, inst.Key, engine.Renewal{PeriodNumber: 2})
			if err != nil {
				t.Fatal(err)
			}
			mp.at(t0.Add(time.Minute))
			secondExpiry := time.Date(2025, 6, 10, 1, 0, 0, 0, time.UTC)
			refresh := call("refreshInstance", "instanceId", id, "orderId", renewal.ID, "expireTime", stamp(secondExpiry))
			if v2 {
				refresh.Params["scene"], refresh.Params["orderLineId"] = "RENEWAL", renewal.LineID
			}
			mp.expect("renew", refresh)
			if got, _ := mp.store.Order(mp.ctx, renewal.ID); got.State != simulator.OrderCompleted {
				t.Errorf("renewal order %s, want COMPLETED", got.State)
			}

			mp.at(secondExpiry.Add(-time.Second))
			mp.expect("before expiry")
			mp.at(secondExpiry)
			if v2 {
				mp.expect("expiry", call("updateInstanceStatus", "instanceId", id, "status", "FREEZE"))
			} else {
				mp.expect("expiry", call("expireInstance", "instanceId", id, "orderId", o.ID))
			}

			mp.at(secondExpiry.Add(3 * 24 * time.Hour))
			again, err := mp.engine.Renew(mp.ctx, inst.Key, engine.Renewal{})
			if err != nil {
				t.Fatal(err)
			}
			mp.at(mp.clock.Now())
			thirdExpiry := time.Date(2025, 7, 10, 1, 0, 0, 0, time.UTC)
			refresh = call("refreshInstance", "instanceId", id, "orderId", again.ID, "expireTime", stamp(thirdExpiry))
			if v2 {
				refresh.Params["scene"] = "RENEWAL"
			}
			mp.expect("renew frozen", refresh,
				call(pick("instanceStatus", "updateInstanceStatus"), "instanceId", id, pick("instanceStatus", "status"), pick("NORMAL", "UNFREEZE")))

			mp.at(thirdExpiry)
			mp.at(thirdExpiry.Add(15*24*time.Hour - time.Second))
			mp.expect("expiry again", call(pick("expireInstance", "updateInstanceStatus"), "instanceId", id))
			mp.at(thirdExpiry.Add(15 * 24 * time.Hour))
			release := call("releaseInstance", "instanceId", id)
			if !v2 {
				release.Params["orderId"] = o.ID
			}
			mp.expect("retention over", release)
			got, _ := mp.store.Instance(mp.ctx, inst.Key)
			if got.State != simulator.Released {
				t.Errorf("instance %s, want RELEASED", got.State)
			}
			if _, err := mp.engine.Renew(mp.ctx, inst.Key, engine.Renewal{}); simulator.ErrorCode(err) != simulator.ECONFLICT {
				t.Errorf("renewing a released instance: %v, want a conflict", err)
			}
			mp.at(mp.clock.Now().Add(24 * time.Hour))
			mp.expect("after the refusal")
		})
	}
}

// A merchant answering 500 for 3 hours fails the purchase: the order is
// unsubscribed, the instance never existed, nothing more is sent. Six such
// orders in a month delist the product, with a notice.
func TestMerchantDownFailsOrdersAndDelists(t *testing.T) {
	mp := newMarketplace(t)
	mp.merchant.v2.Answer("", merchanttest.Reply{Status: http.StatusInternalServerError})
	var keys []string
	var orders []string
	for range 6 {
		o, inst, err := mp.engine.Buy(mp.ctx, engine.Purchase{ProductID: "v2-saas", CustomerID: "hwc-buyer"})
		if err != nil {
			t.Fatal(err)
		}
		keys, orders = append(keys, inst.Key), append(orders, o.ID)
	}
	for h := range 4 {
		mp.at(t0.Add(time.Duration(h) * time.Hour))
		got := mp.merchant.take()
		if len(got) != 6 {
			t.Fatalf("hour %d: %d calls, want one newInstance per order", h, len(got))
		}
		if h < 3 {
			if p, _ := mp.store.Product(mp.ctx, "v2-saas"); p.Status != simulator.OnSale {
				t.Fatalf("hour %d: product %s before the retries ran out", h, p.Status)
			}
		}
	}
	for i, key := range keys {
		inst, _ := mp.store.Instance(mp.ctx, key)
		o, _ := mp.store.Order(mp.ctx, orders[i])
		if inst.State != simulator.NeverProvisioned || o.State != simulator.OrderFailedUnsubscribed {
			t.Errorf("order %s %s, instance %s; want FAILED_UNSUBSCRIBED, NEVER_PROVISIONED", o.ID, o.State, inst.State)
		}
	}
	mp.merchant.v2.Answer("")
	mp.at(t0.Add(10 * 24 * time.Hour))
	if got := mp.merchant.take(); len(got) != 0 {
		t.Errorf("after the failed orders the merchant received %d calls, want none (no releaseInstance, §15 Q3)", len(got))
	}
	p, _ := mp.store.Product(mp.ctx, "v2-saas")
	if p.Status != simulator.Delisted {
		t.Fatalf("product %s after 6 failed orders, want DELISTED", p.Status)
	}
	notices, err := mp.store.Notices(mp.ctx, simulator.NoticeFilter{ProductID: "v2-saas"})
	if err != nil {
		t.Fatal(err)
	}
	var status []simulator.Notice
	for _, n := range notices {
		if n.Kind == simulator.NoticeProduct {
			status = append(status, n)
		}
	}
	if len(status) != 1 || !slices.Equal(status[0].To, []string{"ops@merchant.test"}) || !strings.Contains(status[0].Subject, "delisted") {
		t.Errorf("PRODUCT_STATUS notices %+v, want one to ops@merchant.test saying delisted", status)
	}
	if _, _, err := mp.engine.Buy(mp.ctx, engine.Purchase{ProductID: "v2-saas", CustomerID: "hwc-buyer"}); err == nil || !strings.Contains(err.Error(), "DELISTED") {
		t.Errorf("buying a delisted product: %v", err)
	}
}
