package openapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/openapi"
)

// observer collects the exchanges a server observes.
type observer struct {
	mu  sync.Mutex
	got []openapi.Exchange
}

func (o *observer) observe(e openapi.Exchange) {
	o.mu.Lock()
	o.got = append(o.got, e)
	o.mu.Unlock()
}

func (o *observer) apis() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, e := range o.got {
		out = append(out, e.API+" "+e.Code())
	}
	return out
}

// observed is a server over w's store that tells obs of every call.
func observed(t *testing.T, w *world, obs *observer) *openapi.Server {
	s, err := openapi.New(openapi.Config{Store: w.store, Clock: w.clock, Wall: func() time.Time { return w.wall }, Observe: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Two marketplaces behind one address: each call goes to the one that
// owns its order, instance or License code, even when its signature is
// refused; what none owns goes to the fallback; a marketplace removed
// owns nothing any more.
func TestDirectoryRoutesToTheOwner(t *testing.T) {
	a, b, fb := newWorld(t), newWorld(t), newWorld(t)
	ctx := t.Context()
	a.check(a.store.PutOrder(ctx, simulator.Order{ID: "O-A", LineID: "O-A-000001", Kind: simulator.NewPurchase, InstanceKey: "K1", ProductID: "P1-DEMAND",
		CustomerID: "C1", State: simulator.OrderCompleted, CreatedAt: start}))
	b.check(b.store.PutInstance(ctx, simulator.Instance{Key: "KB", ID: "i-only-b", ProductID: "P1-DEMAND", CustomerID: "C1", OrderID: "O-B",
		OrderLineID: "KB", State: simulator.Active, CreatedAt: start, UpdatedAt: start}))
	var oa, ob, ofb observer
	dir := openapi.NewDirectory(observed(t, fb, &ofb))
	removeA := dir.Add(observed(t, a, &oa))
	dir.Add(observed(t, b, &ob))
	front := &world{t: t, wall: start, srv: httptest.NewServer(dir)}
	t.Cleanup(front.srv.Close)

	if got := front.send(orderQuery("O-A"), ak1, sk1, nil); got.status != http.StatusOK || got.json.Get("orderInfo.orderId").String() != "O-A" {
		t.Errorf("the order of marketplace A: %d %s", got.status, got.body)
	}
	front.send(orderQuery("O-A"), ak1, sk2, nil) // refused, and judged by A all the same
	body := `{"usage_records":[{"begin_time":"20250301T060000Z","end_time":"20250301T070000Z","instance_id":"i-only-b","metering_sn":"sn-1","record_time":"20250301T070000Z","usage_value":"1"}]}`
	if got := front.send(newPush(body, key1), ak1, sk1, nil); got.status != http.StatusOK {
		t.Errorf("the usage of marketplace B's instance: %d %s", got.status, got.body)
	}
	front.send(orderQuery("MOCKONDEMAND"), ak2, sk2, nil)
	front.send(orderQuery("O-NONE"), ak1, sk1, nil)
	removeA()
	if got := front.send(orderQuery("O-A"), ak1, sk1, nil); got.json.Get("resultCode").String() != "MKT.0150" {
		t.Errorf("the order of a marketplace removed: %d %s", got.status, got.body)
	}

	for _, c := range []struct {
		name string
		obs  *observer
		want []string
	}{
		{"A", &oa, []string{"order query MKT.0000", "order query APIGW.0301"}},
		{"B", &ob, []string{"usage push MKT.0000"}},
		{"the fallback", &ofb, []string{"order query MKT.0000", "order query MKT.0150", "order query MKT.0150"}},
	} {
		if got := c.obs.apis(); strings.Join(got, "; ") != strings.Join(c.want, "; ") {
			t.Errorf("%s observed %q, want %q", c.name, got, c.want)
		}
	}
	// An exchange is the call as received and the answer as sent.
	e := oa.got[1]
	if e.Method != "GET" || e.URL != openapi.OrderQueryPath+"?orderId=O-A" || e.Status != http.StatusUnauthorized || e.Accepted() ||
		!strings.Contains(string(e.Answer), `"likely_cause"`) || !strings.HasPrefix(e.Header.Get("Authorization"), "SDK-HMAC-SHA256 Access="+ak1) {
		t.Errorf("the refused call as observed: %s %s %v: %d %s", e.Method, e.URL, e.Header, e.Status, e.Answer)
	}
	if u := ob.got[0]; string(u.Body) != body || !u.Accepted() || u.Took < 0 {
		t.Errorf("the usage push as observed: %d %s for %s", u.Status, u.Answer, u.Body)
	}
}
