package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/tidwall/gjson"
)

// Every attempt at a purchase carries a new businessId, at the top of the
// thin body and in the rich V2 body's orderInfo entry (callbacks.md §5.8,
// §9.2); nothing else changes.
func TestBusinessIDReplaced(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"activity":"newInstance","businessId":"b","orderId":"CS1"}`, `{"activity":"newInstance","businessId":"x","orderId":"CS1"}`},
		{`{"activity":"newInstance","buyerInfo":{"customerId":"c"},"orderInfo":[{"businessId":"b","orderId":"CS1","productInfo":[{"skuCode":"s"}]}]}`,
			`{"activity":"newInstance","buyerInfo":{"customerId":"c"},"orderInfo":[{"businessId":"x","orderId":"CS1","productInfo":[{"skuCode":"s"}]}]}`},
		{`{"activity":"newInstance","orderInfo":[{"businessId":"b"},{"businessId":"c"}]}`, `{"activity":"newInstance","orderInfo":[{"businessId":"x"},{"businessId":"c"}]}`},
	} {
		if got := string(withBusinessID(gjson.Parse(tt.in), `"x"`)); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestRichPurchaseRetriedWithNewBusinessIDs(t *testing.T) {
	d, clock, m, url := setup(t)
	msg := newInstanceMessage("01", "CS1", url, t0)
	msg.Params = []byte(`{"activity":"newInstance","buyerInfo":{"customerId":"c1"},"orderInfo":[{"businessId":"CS1","orderId":"CS1","productInfo":[{"skuCode":"S1","productId":"P1"}]}]}`)
	if err := d.Store.Enqueue(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	advance(t, d, clock, t0)
	m.Down(false)
	advance(t, d, clock, t0.Add(time.Hour))
	attempts, err := d.Store.Attempts(context.Background(), "01")
	if err != nil || len(attempts) != 2 {
		t.Fatalf("%d attempts, %v; want 2", len(attempts), err)
	}
	seen := map[string]bool{"CS1": true}
	for _, a := range attempts {
		b := gjson.GetBytes(a.Body, "orderInfo.0.businessId").Str
		if seen[b] || b == "" {
			t.Errorf("attempt %d carries businessId %q again", a.N, b)
		}
		seen[b] = true
		if got := gjson.GetBytes(a.Body, "orderInfo.0.productInfo.0.skuCode").Str; got != "S1" || gjson.GetBytes(a.Body, "buyerInfo.customerId").Str != "c1" {
			t.Errorf("attempt %d changed the body: %s", a.N, a.Body)
		}
	}
	if got, _ := d.Store.Message(context.Background(), "01"); got.Outcome != simulator.Succeeded {
		t.Errorf("outcome %s, want SUCCEEDED", got.Outcome)
	}
}
