package engine_test

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/engine"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
	"github.com/tidwall/gjson"
)

const (
	v1Key = "v1-lifecycle-key"
	v2Key = "v2-lifecycle-key"
)

// received is one callback as the merchant got it: its activity and its
// parameters (V1 query, V2 top-level body members).
type received struct {
	activity string
	params   map[string]string
}

// merchant is a production interface on loopback that verifies every
// request's signature, answers as a correct merchant does (Body-Signed
// JSON, the same instanceId for the same order), or 500 while down, and
// records what it received.
type merchant struct {
	t    *testing.T
	mu   sync.Mutex
	down bool
	got  []received
}

func (m *merchant) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		m.t.Errorf("merchant: reading the request: %v", err)
	}
	rec := received{params: map[string]string{}}
	key := v2Key
	if r.URL.Path == "/v1" {
		key = v1Key
		if r.Method != http.MethodGet {
			m.t.Errorf("merchant: V1 %s, want GET", r.Method)
		}
		if err := protocol.VerifyV1(key, r.URL.RawQuery); err != nil {
			m.t.Errorf("merchant: V1 authToken: %v", err)
		}
		for name, values := range r.URL.Query() {
			rec.params[name] = values[0]
		}
	} else {
		if r.Method != http.MethodPost {
			m.t.Errorf("merchant: V2 %s, want POST", r.Method)
		}
		if err := protocol.VerifyV2(key, r.URL.Query(), body, time.Now(), protocol.FreshnessWindow); err != nil {
			m.t.Errorf("merchant: V2 signature: %v", err)
		}
		gjson.ParseBytes(body).ForEach(func(k, v gjson.Result) bool {
			rec.params[k.Str] = v.Raw
			if v.Type == gjson.String {
				rec.params[k.Str] = v.Str
			}
			return true
		})
	}
	rec.activity = rec.params["activity"]
	m.mu.Lock()
	m.got = append(m.got, rec)
	down := m.down
	m.mu.Unlock()
	if down {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return
	}
	answer := map[string]any{"resultCode": "000000", "resultMsg": "success"}
	instanceID := "ins-" + rec.params["orderId"] // the same order, the same instance (callbacks.md §10)
	switch rec.activity {
	case "newInstance":
		answer["instanceId"] = instanceID
		answer["appInfo"] = map[string]string{"frontEndUrl": "https://app.merchant.test/" + instanceID}
	case "queryInstance":
		answer["info"] = []any{map[string]any{"instanceId": rec.params["instanceId"], "appInfo": map[string]string{"frontEndUrl": "https://app.merchant.test/"}}}
	}
	out, _ := json.Marshal(answer)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set(protocol.BodySignHeaderName, protocol.BodySignHeader(protocol.BodySign(key, out)))
	w.Write(out)
}

func (m *merchant) setDown(down bool) {
	m.mu.Lock()
	m.down = down
	m.mu.Unlock()
}

// received returns what the merchant got, and forgets it.
func (m *merchant) take() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	got := m.got
	m.got = nil
	return got
}

type virtualClock struct{ now time.Time }

func (c *virtualClock) Now() time.Time { return c.now }

type marketplace struct {
	t        *testing.T
	ctx      context.Context
	clock    *virtualClock
	store    *sqlite.DB
	engine   *engine.Engine
	deliver  *delivery.Deliverer
	merchant *merchant
}

var t0 = time.Date(2025, 3, 10, 1, 0, 0, 0, time.UTC)

func newMarketplace(t *testing.T) *marketplace {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kgsim.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	m := &merchant{t: t}
	srv := httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(srv.Close)
	clock := &virtualClock{t0}
	eng := &engine.Engine{Store: store, Clock: clock, Random: rand.NewChaCha8([32]byte{1})}
	products := []simulator.Product{
		{ID: "v1-saas", SKUCode: "v1-saas-std", ChargingMode: simulator.Period, PeriodType: "month", URL: srv.URL + "/v1", Protocol: simulator.V1, AccessKey: v1Key},
		{ID: "v2-saas", SKUCode: "v2-saas-std", ChargingMode: simulator.Period, PeriodType: "month", URL: srv.URL + "/v2", Protocol: simulator.V2, AccessKey: v2Key,
			NoticeTo: []string{"ops@merchant.test"}},
	}
	customers := []simulator.Customer{{ID: "hwc-buyer", Name: "Buyer Co", MobilePhone: "13900000000"}}
	if err := eng.Load(ctx, products, customers); err != nil {
		t.Fatal(err)
	}
	d := &delivery.Deliverer{
		Store: store, Sender: delivery.NewSender(delivery.DefaultTimeout), Clock: clock, Wall: time.Now,
		Random: rand.NewChaCha8([32]byte{2}), Settlers: []simulator.Settler{eng},
	}
	return &marketplace{t: t, ctx: ctx, clock: clock, store: store, engine: eng, deliver: d, merchant: m}
}

// at moves the clock to at and runs what falls due, the engine's
// transitions and delivery's attempts, until nothing more is due.
func (mp *marketplace) at(at time.Time) {
	mp.t.Helper()
	mp.clock.now = at
	for {
		n, err := mp.engine.RunDue(mp.ctx)
		if err != nil {
			mp.t.Fatal(err)
		}
		m, err := mp.deliver.RunDue(mp.ctx)
		if err != nil {
			mp.t.Fatal(err)
		}
		if n+m == 0 {
			return
		}
	}
}

// expect checks the callbacks the merchant received since the last check:
// their activities in order, and the key parameters of each.
func (mp *marketplace) expect(step string, want ...received) {
	mp.t.Helper()
	got := mp.merchant.take()
	acts := func(rs []received) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.activity)
		}
		return out
	}
	if !slices.Equal(acts(got), acts(want)) {
		mp.t.Fatalf("%s: the merchant received %v, want %v", step, acts(got), acts(want))
	}
	for i, w := range want {
		for name, value := range w.params {
			if got[i].params[name] != value {
				mp.t.Errorf("%s: %s %s = %q, want %q", step, w.activity, name, got[i].params[name], value)
			}
		}
		if _, ok := got[i].params["testFlag"]; ok {
			mp.t.Errorf("%s: %s carries testFlag; live lifecycle calls omit it", step, w.activity)
		}
	}
}

func call(activity string, params ...string) received {
	r := received{activity: activity, params: map[string]string{}}
	for i := 0; i < len(params); i += 2 {
		r.params[params[i]] = params[i+1]
	}
	return r
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
				refresh.params["scene"], refresh.params["orderLineId"] = "RENEWAL", renewal.LineID
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
			mp.at(mp.clock.now)
			thirdExpiry := time.Date(2025, 7, 10, 1, 0, 0, 0, time.UTC)
			refresh = call("refreshInstance", "instanceId", id, "orderId", again.ID, "expireTime", stamp(thirdExpiry))
			if v2 {
				refresh.params["scene"] = "RENEWAL"
			}
			mp.expect("renew frozen", refresh,
				call(pick("instanceStatus", "updateInstanceStatus"), "instanceId", id, pick("instanceStatus", "status"), pick("NORMAL", "UNFREEZE")))

			mp.at(thirdExpiry)
			mp.at(thirdExpiry.Add(15*24*time.Hour - time.Second))
			mp.expect("expiry again", call(pick("expireInstance", "updateInstanceStatus"), "instanceId", id))
			mp.at(thirdExpiry.Add(15 * 24 * time.Hour))
			release := call("releaseInstance", "instanceId", id)
			if !v2 {
				release.params["orderId"] = o.ID
			}
			mp.expect("retention over", release)
			got, _ := mp.store.Instance(mp.ctx, inst.Key)
			if got.State != simulator.Released {
				t.Errorf("instance %s, want RELEASED", got.State)
			}
			if _, err := mp.engine.Renew(mp.ctx, inst.Key, engine.Renewal{}); simulator.ErrorCode(err) != simulator.ECONFLICT {
				t.Errorf("renewing a released instance: %v, want a conflict", err)
			}
			mp.at(mp.clock.now.Add(24 * time.Hour))
			mp.expect("after the refusal")
		})
	}
}

// A merchant answering 500 for 3 hours fails the purchase: the order is
// unsubscribed, the instance never existed, nothing more is sent. Six such
// orders in a month delist the product, with a notice.
func TestMerchantDownFailsOrdersAndDelists(t *testing.T) {
	mp := newMarketplace(t)
	mp.merchant.setDown(true)
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
	mp.merchant.setDown(false)
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
