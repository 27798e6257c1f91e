package engine

import (
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// A V2 product with v2NewInstanceShape rich is sent the 2024 example's
// body (callbacks.md §5.8): buyerInfo and one orderInfo entry, nested
// members in the listed order, the contact fields encrypted as V1's, or
// plain with v2PlaintextContact.
func TestRichNewInstance(t *testing.T) {
	for _, plain := range []bool{false, true} {
		w := newWorld(t)
		p := simulator.Product{ID: "v2-rich", SKUCode: "v2-rich-basic", ChargingMode: simulator.Period, PeriodType: "month", URL: "http://merchant.test/v2",
			Protocol: simulator.V2, AccessKey: "v2-rich-key", NewInstanceShape: simulator.RichShape, PlaintextContact: plain}
		if err := w.e.PutProduct(w.ctx, p); err != nil {
			t.Fatal(err)
		}
		o, inst := w.buy(Purchase{ProductID: "v2-rich", CustomerID: "hwc-full", Amount: "12.5", LinearAmount: 3})
		ps := w.last(inst.Key).Params
		var names []string
		gjson.ParseBytes(ps).ForEach(func(k, _ gjson.Result) bool { names = append(names, k.Str); return true })
		order := gjson.GetBytes(ps, "orderInfo.0")
		var orderNames []string
		order.ForEach(func(k, _ gjson.Result) bool { orderNames = append(orderNames, k.Str); return true })
		want := "businessId orderId trialFlag orderAmount chargingMode periodType periodNumber productInfo createTime expireTime"
		if got := strings.Join(names, " "); got != "activity buyerInfo orderInfo" {
			t.Errorf("members %s, want activity buyerInfo orderInfo", got)
		}
		if got := strings.Join(orderNames, " "); got != want {
			t.Errorf("orderInfo members %s, want %s", got, want)
		}
		if got := gjson.GetBytes(ps, "orderInfo.#").Int(); got != 1 {
			t.Errorf("%d orderInfo entries, want 1", got)
		}
		for path, v := range map[string]string{
			"buyerInfo.customerId": "hwc-full", "buyerInfo.customerName": "Acme Ltd", "buyerInfo.userName": "ops",
			"orderInfo.0.orderId": o.ID, "orderInfo.0.orderAmount": "12.5", "orderInfo.0.chargingMode": "PERIOD",
			"orderInfo.0.productInfo.0.skuCode": "v2-rich-basic", "orderInfo.0.productInfo.0.productId": "v2-rich", "orderInfo.0.productInfo.0.linearValue": "3",
		} {
			if got := gjson.GetBytes(ps, path).String(); got != v {
				t.Errorf("%s = %q, want %q", path, got, v)
			}
		}
		if gjson.GetBytes(ps, "orderInfo.0.orderAmount").Type != gjson.Number {
			t.Errorf("orderAmount is not a number: %s", gjson.GetBytes(ps, "orderInfo.0.orderAmount").Raw)
		}
		phone := gjson.GetBytes(ps, "buyerInfo.mobilePhone").Str
		if plain {
			if phone != "13800000000" {
				t.Errorf("plain mobilePhone %q", phone)
			}
			continue
		}
		got, err := protocol.NewFieldCipher("v2-rich-key", protocol.AES256).Decrypt(phone)
		if err != nil || got != "13800000000" {
			t.Errorf("mobilePhone %q decrypts to %q, %v", phone, got, err)
		}
	}
}

// v2NewInstanceShape is a V2 SaaS product's, and v2PlaintextContact the
// rich body's.
func TestRichShapeValidation(t *testing.T) {
	base := simulator.Product{ID: "p", SKUCode: "s", ChargingMode: simulator.OneTime, URL: "http://m.test/", Protocol: simulator.V2, AccessKey: "k"}
	for _, tt := range []struct {
		name string
		edit func(*simulator.Product)
		ok   bool
	}{
		{"thin", func(p *simulator.Product) { p.NewInstanceShape = simulator.ThinShape }, true},
		{"rich, plain contact", func(p *simulator.Product) { p.NewInstanceShape, p.PlaintextContact = simulator.RichShape, true }, true},
		{"unknown shape", func(p *simulator.Product) { p.NewInstanceShape = "fat" }, false},
		{"V1", func(p *simulator.Product) { p.NewInstanceShape, p.Protocol = simulator.RichShape, simulator.V1 }, false},
		{"License", func(p *simulator.Product) { p.NewInstanceShape, p.License = simulator.RichShape, true }, false},
		{"plain contact without the rich body", func(p *simulator.Product) { p.PlaintextContact = true }, false},
	} {
		p := base
		tt.edit(&p)
		if err := p.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
