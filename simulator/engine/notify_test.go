package engine

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/protocol"
)

// The keys of the generic product: the seller center binds one to each
// interface type (callbacks.md §5.15).
const (
	genericBasicKey  = "basic-key-5d1f0a9c"
	genericNotifyKey = "notify-key-7e2b4c81"
)

// genericProduct is a V2 yearly product on the generic order
// notification, at url.
func genericProduct(url string) simulator.Product {
	return simulator.Product{ID: "v2-generic", SKUCode: "v2-generic-basic", Name: "generic", ChargingMode: simulator.Period, PeriodType: "year",
		URL: url, Protocol: simulator.V2, AccessKey: genericBasicKey, InterfaceType: simulator.GenericInterface, OrderNotifyKey: genericNotifyKey}
}

// A generic product's purchase sends orderNotify instead of newInstance,
// its body the docs' example's (callbacks.md §5.15 [DOC-EX]) member for
// member, without the example's testFlag: live calls carry none (§2.6).
func TestOrderNotifyBody(t *testing.T) {
	w := newWorld(t)
	w.must(w.e.PutProduct(w.ctx, genericProduct("http://merchant.test/v2")))
	o, inst := w.buy(Purchase{ProductID: "v2-generic"})
	ms := w.messages(inst.Key)
	if len(ms) != 1 || ms[0].Activity != "orderNotify" {
		t.Fatalf("the purchase sent %v, want one orderNotify", activities(ms))
	}
	const example = `{"activity":"orderNotify","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}`
	want := strings.NewReplacer("CS2211181819B4LVS", o.ID, `,"testFlag":"1"`, "").Replace(example)
	if got := string(ms[0].Params); got != want {
		t.Errorf("orderNotify body\n got %s\nwant %s", got, want)
	}
	// The debugger's form is the example's without activity and testFlag,
	// which the debugger adds around it.
	if got := DebugActivities(genericProduct("http://merchant.test/v2")); len(got) != 1 || got[0] != "orderNotify" {
		t.Errorf("the debugger offers %v for a generic product, want orderNotify only", got)
	}
}

// notifyMerchant is a generic product's merchant on loopback: it checks
// each orderNotify against the generic interface's key, answers 503 while
// down, and counts what it got.
type notifyMerchant struct {
	t    *testing.T
	mu   sync.Mutex
	down bool
	got  []string // activities, in order
}

func (m *notifyMerchant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	defer m.mu.Unlock()
	if protocol.VerifyV2(genericBasicKey, r.URL.Query(), body, time.Now(), time.Minute) == nil {
		m.t.Errorf("a call verifies with the basic interfaces' key: %s", body)
	}
	if err := protocol.VerifyV2(genericNotifyKey, r.URL.Query(), body, time.Now(), time.Minute); err != nil {
		m.t.Errorf("a call does not verify with the generic interface's key: %v", err)
	}
	m.got = append(m.got, string(body[:strings.IndexByte(string(body), ',')]))
	if m.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set(protocol.BodySignHeaderName, protocol.BodySignHeader(protocol.BodySign(genericNotifyKey, []byte(`{"resultCode":"000000","resultMsg":"ok"}`))))
	w.Write([]byte(`{"resultCode":"000000","resultMsg":"ok"}`))
}

func (m *notifyMerchant) setDown(down bool) {
	m.mu.Lock()
	m.down = down
	m.mu.Unlock()
}

// orderNotify is delivered as newInstance is (callbacks.md §9.2): at T0,
// +1 h, +2 h, +3 h, signed with the generic interface's key (its answer's
// Body-Sign too, which delivery checks with that key). An acknowledgement
// completes the order, whose instance is then in use without an
// instanceId and with nothing scheduled; when the attempts run out the
// order fails and is unsubscribed, as a purchase's does. Nothing else is
// ever sent for the product.
func TestOrderNotifyDelivered(t *testing.T) {
	for _, tc := range []struct {
		name     string
		downFor  time.Duration // the merchant answers 503 until then; -1: always
		attempts int
		order    simulator.OrderState
		instance simulator.InstanceState
	}{
		{"acknowledged at once", 0, 1, simulator.OrderCompleted, simulator.Active},
		{"acknowledged at the third attempt", 2 * time.Hour, 3, simulator.OrderCompleted, simulator.Active},
		{"never acknowledged", -1, 4, simulator.OrderFailedUnsubscribed, simulator.NeverProvisioned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			m := &notifyMerchant{t: t, down: true}
			srv := httptest.NewServer(m)
			t.Cleanup(srv.Close)
			w.must(w.e.PutProduct(w.ctx, genericProduct(srv.URL)))
			d := &delivery.Deliverer{Store: w.store, Sender: delivery.NewSender(5 * time.Second), Clock: w.clock, Wall: time.Now,
				Random: rand.NewChaCha8([32]byte{9}), Settlers: []simulator.Settler{w.e}}
			o, inst := w.buy(Purchase{ProductID: "v2-generic", PeriodNumber: 1})
			for at := t0; at.Before(t0.Add(48 * time.Hour)); at = at.Add(10 * time.Minute) {
				if tc.downFor >= 0 && !at.Before(t0.Add(tc.downFor)) {
					m.setDown(false)
				}
				w.clock.Set(at)
				if _, err := d.RunDue(context.Background()); err != nil {
					t.Fatal(err)
				}
				w.runDue(at)
			}
			attempts, err := w.store.Attempts(w.ctx, w.last(inst.Key).ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(attempts) != tc.attempts {
				t.Fatalf("%d attempts, want %d", len(attempts), tc.attempts)
			}
			for i, a := range attempts {
				if want := t0.Add(time.Duration(i) * time.Hour); !a.StartedAt.Equal(want) {
					t.Errorf("attempt %d at %s, want %s", a.N, a.StartedAt, want)
				}
			}
			if got := w.order(o.ID).State; got != tc.order {
				t.Errorf("order %s, want %s", got, tc.order)
			}
			got := w.instance(inst.Key)
			if got.State != tc.instance || got.ID != "" || !got.NextEventAt.IsZero() {
				t.Errorf("instance %s %q next %v; want %s, no instanceId, nothing scheduled", got.State, got.ID, got.NextEventAt, tc.instance)
			}
			if ms := w.messages(inst.Key); len(ms) != 1 {
				t.Errorf("messages %v, want the orderNotify only", activities(ms))
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			if len(m.got) != tc.attempts || strings.Count(strings.Join(m.got, ""), `{"activity":"orderNotify"`) != tc.attempts {
				t.Errorf("merchant got %v, want %d orderNotify", m.got, tc.attempts)
			}
		})
	}
}

// The docs define no callback after orderNotify: every action on a
// generic product's instance is refused, saying why, and sends nothing.
func TestGenericProductActsNoFurther(t *testing.T) {
	w := newWorld(t)
	w.must(w.e.PutProduct(w.ctx, genericProduct("http://merchant.test/v2")))
	_, inst := w.buy(Purchase{ProductID: "v2-generic", PeriodNumber: 1})
	w.answer(w.last(inst.Key), simulator.Succeeded, `{"resultCode":"000000","resultMsg":"ok"}`)
	if got := w.instance(inst.Key); got.State != simulator.Active {
		t.Fatalf("instance %s after orderNotify was acknowledged, want ACTIVE", got.State)
	}
	for name, act := range map[string]func() error{
		"renew":       func() error { _, err := w.e.Renew(w.ctx, inst.Key, Renewal{PeriodNumber: 1}); return err },
		"freeze":      func() error { return w.e.Freeze(w.ctx, inst.Key) },
		"unsubscribe": func() error { _, err := w.e.Unsubscribe(w.ctx, inst.Key); return err },
		"upgrade":     func() error { _, err := w.e.Upgrade(w.ctx, inst.Key, Change{LinearAmount: 2}); return err },
		"query":       func() error { _, err := w.e.Query(w.ctx, inst.Key); return err },
	} {
		err := act()
		if simulator.ErrorCode(err) != simulator.ECONFLICT || !strings.Contains(err.Error(), "orderNotify") {
			t.Errorf("%s: %v, want a conflict naming orderNotify", name, err)
		}
	}
	if w.runDue(t0.AddDate(2, 0, 0)) != 0 {
		t.Errorf("something fell due for a generic product's instance")
	}
	if ms := w.messages(inst.Key); len(ms) != 1 {
		t.Errorf("messages %v, want the orderNotify only", activities(ms))
	}
}

// interfaceType generic is a V2 SaaS product's, with a key of its own.
func TestGenericProductValidation(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(*simulator.Product)
		field string // "" when valid
	}{
		{"generic", func(*simulator.Product) {}, ""},
		{"basic, the default", func(p *simulator.Product) { p.InterfaceType, p.OrderNotifyKey = simulator.BasicInterface, "" }, ""},
		{"unknown type", func(p *simulator.Product) { p.InterfaceType = "license" }, "interfaceType"},
		{"V1", func(p *simulator.Product) { p.Protocol = simulator.V1 }, "interfaceType"},
		{"License", func(p *simulator.Product) { p.License = true }, "interfaceType"},
		{"rich newInstance", func(p *simulator.Product) { p.NewInstanceShape = simulator.RichShape }, "v2NewInstanceShape"},
		{"no key", func(p *simulator.Product) { p.OrderNotifyKey = "" }, "orderNotifyKey"},
		{"the basic key", func(p *simulator.Product) { p.OrderNotifyKey = p.AccessKey }, "orderNotifyKey"},
		{"a key without the type", func(p *simulator.Product) { p.InterfaceType = "" }, "orderNotifyKey"},
	} {
		p := genericProduct("http://merchant.test/v2")
		tt.edit(&p)
		err := p.Validate()
		if tt.field == "" && err != nil || tt.field != "" && !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: %v, want %s", tt.name, err, map[bool]string{true: "valid", false: "an error naming " + tt.field}[tt.field == ""])
		}
	}
}
