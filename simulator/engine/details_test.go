package engine

import (
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/tidwall/gjson"
)

// Opening a V1 instance's resource details sends its purchase's
// newInstance again, once (kind DETAILS), then queryInstance; a failed
// repeat changes neither the order nor the instance. V2 and V1 License
// products send the query alone.
func TestResourceDetailsRepeatTheV1Purchase(t *testing.T) {
	for _, tt := range []struct {
		product string
		repeat  bool
	}{{"v1-month", true}, {"v1-demand", true}, {"v2-year", false}, {"v1-license", false}} {
		t.Run(tt.product, func(t *testing.T) {
			w := newWorld(t)
			o, inst := w.buy(Purchase{ProductID: tt.product})
			buy := w.last(inst.Key)
			w.answer(buy, simulator.Succeeded, `{"resultCode":"000000","instanceId":"ins-1","appInfo":{"frontEndUrl":"https://m.test/1"}}`)
			if _, err := w.e.Query(w.ctx, inst.Key); err != nil {
				t.Fatal(err)
			}
			ms := w.messages(inst.Key)
			sent := ms[1:]
			want := []string{"queryInstance"}
			if tt.repeat {
				want = []string{"newInstance", "queryInstance"}
			}
			if got := activities(sent); len(got) != len(want) || got[0] != want[0] {
				t.Fatalf("opening the details sent %v, want %v", got, want)
			}
			if !tt.repeat {
				return
			}
			repeat := sent[0]
			if repeat.Kind != simulator.KindDetails || delivery.PolicyFor(repeat).Attempts() != 1 {
				t.Errorf("the repeat is of kind %s with %d attempts, want DETAILS, tried once", repeat.Kind, delivery.PolicyFor(repeat).Attempts())
			}
			for _, name := range []string{"orderId", "customerId", "productId", "skuCode", "chargingMode", "businessId"} {
				if a, b := gjson.GetBytes(repeat.Params, name).String(), gjson.GetBytes(buy.Params, name).String(); a != b || a == "" {
					t.Errorf("the repeat's %s is %q, the purchase's %q", name, a, b)
				}
			}
			w.answer(repeat, simulator.Stopped, `boom`)
			if got, i := w.order(o.ID), w.instance(inst.Key); got.State != simulator.OrderCompleted || i.State != simulator.Active || i.ID != "ins-1" {
				t.Errorf("a failed repeat changed the purchase: order %s, instance %s %s", got.State, i.ID, i.State)
			}
		})
	}
}

// The buyer's page listing several instances of a product sends one
// queryInstance naming them all, comma-separated (callbacks.md §5.9);
// instances of another product or buyer, one named twice, one not yet
// acknowledged, or more than 100 are refused, and nothing is sent.
func TestQueryOfSeveralInstances(t *testing.T) {
	w := newWorld(t)
	a := w.active(Purchase{ProductID: "v2-year"}, "ins-1")
	b := w.active(Purchase{ProductID: "v2-year"}, "ins-2")
	m, err := w.e.Query(w.ctx, a.Key, b.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(m.Params, "instanceId").Str; m.Activity != "queryInstance" || got != "ins-1,ins-2" || m.Queue != a.Key {
		t.Errorf("sent %s for %q on queue %s, want queryInstance for \"ins-1,ins-2\" on %s", m.Activity, got, m.Queue, a.Key)
	}
	other := w.active(Purchase{ProductID: "v2-month"}, "ins-3")
	_, pending := w.buy(Purchase{ProductID: "v2-year"})
	many := make([]string, 100)
	for i := range many {
		many[i] = b.Key
	}
	before := len(w.messages(a.Key))
	for _, tt := range []struct {
		name   string
		others []string
		code   string
	}{
		{"another product", []string{other.Key}, simulator.EINVALID},
		{"named twice", []string{b.Key, b.Key}, simulator.EINVALID},
		{"itself", []string{a.Key}, simulator.EINVALID},
		{"not acknowledged", []string{pending.Key}, simulator.ECONFLICT},
		{"unknown", []string{"no-such-instance"}, simulator.ENOTFOUND},
		{"over 100", many, simulator.EINVALID},
	} {
		if _, err := w.e.Query(w.ctx, a.Key, tt.others...); simulator.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	if after := len(w.messages(a.Key)); after != before {
		t.Errorf("refused queries sent %d messages", after-before)
	}
}
