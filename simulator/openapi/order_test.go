package openapi_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/engine"
)

// The real MOCKPERIODYEARNEW answer captured in a public sample
// (open-api.md §3.1), with createTime and expireTime as kgsim sets them:
// now, and a year later at the end of the day.
const capturedMock = `{"resultCode":"MKT.0000","resultMsg":"Success","orderInfo":{"orderId":"MOCKPERIODYEARNEW","orderType":"NEW","createTime":"20250301080000","orderLine":[{"orderLineId":"MOCKPERIODYEARNEW-000001","chargingMode":"PERIOD","periodType":"year","periodNumber":1,"expireTime":"20260301235959","productInfo":[{"productId":"OFFI846204237451911168","skuCode":"0a4d1578-5295-46a7-92d4-7c803dccc51d","linearValue":50,"productName":"MOCK测试商品,测试规格,基础版,包周期"}],"extendParams":[{"name":"emailDomainName","value":"test.xxxx.com"},{"name":"ip","value":"127.0.0.1"}],"currency":"100","currencyAfterDiscount":"100"}],"buyerInfo":{"mobilePhone":"18688888888","email":null,"customerId":"459bbbec25d24749b2eb83be37b602a8","customerName":"mock_user_01","customerRealName":"测试用户1","customerType":0,"userId":null,"userName":null},"extendParams":[]}}`

func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("answer %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("answer\n%s\nwant\n%s", got, want)
	}
}

func TestMockPeriodYearNewAsCaptured(t *testing.T) {
	w := newWorld(t)
	for _, ak := range [][2]string{{ak1, sk1}, {ak2, sk2}} {
		a := w.send(orderQuery("MOCKPERIODYEARNEW"), ak[0], ak[1], nil)
		if a.status != http.StatusOK {
			t.Fatalf("answer %d %s", a.status, a.body)
		}
		sameJSON(t, a.body, capturedMock)
	}
}

func TestMockOrders(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		id, orderType, mode, periodType string
		periodNumber                    int
		expire                          string
	}{
		{"MOCKPERIODYEARNEW", "NEW", "PERIOD", "year", 1, "20260301235959"},
		{"MOCKONETIMENEW", "NEW", "ONE_TIME", "", 0, ""},
		{"MOCKONDEMAND", "NEW", "ON_DEMAND", "", 0, ""},
		{"MOCKONDEMANDPKG", "NEW", "ON_DEMAND_PKG", "year", 1, "20260301235959"},
		{"MOCKPERIODDAYTRIAL", "TRIAL", "PERIOD", "day", 7, "20250308235959"},
		{"MOCKMONTYTRIALTOFORMAL", "TRIAL_TO_FORMAL", "PERIOD", "month", 1, "20250401235959"},
		{"MOCKMONTYUNSUBSCRIBE", "UNSUBSCRIBE", "PERIOD", "month", 1, "20250301235959"},
		{"MOCKMONTYRENEW", "RENEW", "PERIOD", "month", 1, "20250401235959"},
		{"MOCKMONTYCHANGE", "CHANGE", "PERIOD", "month", 1, "20250401235959"},
	} {
		t.Run(c.id, func(t *testing.T) {
			req := orderQuery(c.id)
			req.query = append(req.query, [2]string{"orderLineId", c.id + "-000001"})
			a := w.send(req, ak2, sk2, nil)
			info := a.json.Get("orderInfo")
			line := info.Get("orderLine.0")
			if a.status != 200 || info.Get("orderId").String() != c.id || info.Get("orderType").String() != c.orderType ||
				info.Get("createTime").String() != "20250301080000" || line.Get("orderLineId").String() != c.id+"-000001" ||
				line.Get("chargingMode").String() != c.mode || line.Get("periodType").String() != c.periodType ||
				int(line.Get("periodNumber").Int()) != c.periodNumber || line.Get("expireTime").String() != c.expire ||
				line.Get("productInfo.0.productId").String() != "OFFI846204237451911168" || info.Get("buyerInfo.customerName").String() != "mock_user_01" {
				t.Errorf("answer %d %s", a.status, a.body)
			}
			for _, absent := range []string{"periodType", "periodNumber", "expireTime"} {
				if c.periodType == "" && line.Get(absent).Exists() {
					t.Errorf("%s line has %s: %s", c.mode, absent, line)
				}
			}
		})
	}
}

// Orders kgsim created answer with their line, product, buyer and type,
// to their seller's AK only.
func TestKgsimOrders(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	w.check(w.store.PutCustomer(ctx, simulator.Customer{ID: "C1", Name: "kgsim_buyer_01", UserID: "U1", UserName: "buyer", MobilePhone: "13800000000", Email: "b@example.com"}))
	e := &engine.Engine{Store: w.store, Clock: w.clock, Random: rand.Reader}
	o, _, err := e.Buy(ctx, engine.Purchase{ProductID: "P1-PERIOD", CustomerID: "C1", PeriodNumber: 3, Amount: "29.9", LinearAmount: 5})
	w.check(err)
	a := w.send(orderQuery(o.ID), ak1, sk1, nil)
	sameJSON(t, a.body, `{"resultCode":"MKT.0000","resultMsg":"Success","orderInfo":{"orderId":"`+o.ID+`","orderType":"NEW","createTime":"20250301080000",
		"orderLine":[{"orderLineId":"`+o.LineID+`","chargingMode":"PERIOD","periodType":"month","periodNumber":3,"expireTime":"20250601080000",
		"productInfo":[{"productId":"P1-PERIOD","skuCode":"sku-P1-PERIOD","linearValue":5,"productName":"Product P1-PERIOD"}],"extendParams":[],
		"currency":"29.9","currencyAfterDiscount":"29.9"}],
		"buyerInfo":{"mobilePhone":"13800000000","email":"b@example.com","customerId":"C1","customerName":"kgsim_buyer_01","customerRealName":null,"customerType":null,"userId":"U1","userName":"buyer"},
		"extendParams":[]}}`)

	// Another seller's AK gets the answer of an unknown order.
	for _, id := range []string{o.ID, "CS0000000000NOONE"} {
		a := w.send(orderQuery(id), ak2, sk2, nil)
		if a.status != http.StatusBadRequest || a.json.Get("resultCode").String() != "MKT.0150" || a.json.Get("resultMsg").String() != "Illegal operation" ||
			a.json.Get("orderInfo").Exists() || !strings.Contains(a.json.Get("kgsim.problem").String(), "seller S2 has no order "+id) {
			t.Errorf("order %s to seller 2: %d %s", id, a.status, a.body)
		}
	}

	// Each kind of order kgsim places has its order type.
	for _, c := range []struct {
		kind  simulator.OrderKind
		trial bool
		want  string
	}{
		{simulator.NewPurchase, true, "TRIAL"}, {simulator.Renewal, false, "RENEW"}, {simulator.TrialToFormal, false, "TRIAL_TO_FORMAL"},
		{simulator.UnsubscribeRenewal, false, "UNSUBSCRIBE"}, {simulator.Unsubscribe, false, "UNSUBSCRIBE"},
		{simulator.RenewalChange, false, "CHANGE"}, {simulator.Upgrade, false, "CHANGE"},
	} {
		id := "CS-" + string(c.kind)
		created := start.Add(-time.Hour)
		o := simulator.Order{ID: id, LineID: id + "-000001", Kind: c.kind, ProductID: "P1-PERIOD", SKUCode: "sku", CustomerID: "C1",
			State: simulator.OrderCompleted, Trial: c.trial, CreatedAt: created, ExpireTime: created.AddDate(0, 0, 7)}
		w.check(w.store.PutOrder(ctx, o))
		a := w.send(orderQuery(id), ak1, sk1, nil)
		if got := a.json.Get("orderInfo.orderType").String(); got != c.want {
			t.Errorf("%s order: orderType %q, want %q (%s)", c.kind, got, c.want, a.body)
		}
		if c.trial && (a.json.Get("orderInfo.orderLine.0.periodType").String() != "day" || a.json.Get("orderInfo.orderLine.0.periodNumber").Int() != 7) {
			t.Errorf("a 7-day trial's line: %s", a.json.Get("orderInfo.orderLine.0"))
		}
	}
}

func TestOrderQueryBadInput(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		name  string
		query [][2]string
		code  string
		says  string
	}{
		{"no orderId", nil, "MKT.0101", "orderId is required"},
		{"empty orderId", [][2]string{{"orderId", ""}}, "MKT.0101", "orderId is required"},
		{"orderId twice", [][2]string{{"orderId", "MOCKONDEMAND"}, {"orderId", "MOCKONETIMENEW"}}, "MKT.0101", "given 2 times"},
		{"orderId of 65 characters", [][2]string{{"orderId", strings.Repeat("C", 65)}}, "MKT.0101", "at most 64"},
		{"orderLineId of another order", [][2]string{{"orderId", "MOCKONDEMAND"}, {"orderLineId", "MOCKONETIMENEW-000001"}}, "MKT.0101", "has no line MOCKONETIMENEW-000001"},
		{"unknown order", [][2]string{{"orderId", "MOCKNOTHING"}}, "MKT.0150", "has no order MOCKNOTHING"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := orderQuery("")
			req.query = c.query
			a := w.send(req, ak1, sk1, nil)
			if a.status != http.StatusBadRequest || a.json.Get("resultCode").String() != c.code || a.json.Get("orderInfo").Exists() ||
				!strings.Contains(a.json.Get("kgsim.problem").String(), c.says) {
				t.Errorf("answer %d %s, want 400 %s saying %q", a.status, a.body, c.code, c.says)
			}
		})
	}
}
