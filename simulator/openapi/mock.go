package openapi

import "time"

// mockOrders are the MOCK orders every merchant can query with any
// registered AK (open-api.md §3.1), in the table's order.
func mockOrders() []struct {
	id, orderType, chargingMode, periodType string
	periodNumber                            int
	expire                                  func(now time.Time) time.Time
} {
	endOfDay := func(t time.Time) time.Time {
		y, m, d := t.UTC().Date()
		return time.Date(y, m, d, 23, 59, 59, 0, time.UTC)
	}
	in := func(years, months, days int) func(time.Time) time.Time {
		return func(now time.Time) time.Time { return endOfDay(now.AddDate(years, months, days)) }
	}
	type mock = struct {
		id, orderType, chargingMode, periodType string
		periodNumber                            int
		expire                                  func(now time.Time) time.Time
	}
	return []mock{
		{"MOCKPERIODYEARNEW", "NEW", "PERIOD", "year", 1, in(1, 0, 0)},
		{"MOCKONETIMENEW", "NEW", "ONE_TIME", "", 0, nil},
		{"MOCKONDEMAND", "NEW", "ON_DEMAND", "", 0, nil},
		{"MOCKONDEMANDPKG", "NEW", "ON_DEMAND_PKG", "year", 1, in(1, 0, 0)},
		{"MOCKPERIODDAYTRIAL", "TRIAL", "PERIOD", "day", 7, in(0, 0, 7)},
		{"MOCKMONTYTRIALTOFORMAL", "TRIAL_TO_FORMAL", "PERIOD", "month", 1, in(0, 1, 0)},
		// An unsubscription ends the service: it expires the day it is
		// placed.
		{"MOCKMONTYUNSUBSCRIBE", "UNSUBSCRIBE", "PERIOD", "month", 1, in(0, 0, 0)},
		{"MOCKMONTYRENEW", "RENEW", "PERIOD", "month", 1, in(0, 1, 0)},
		{"MOCKMONTYCHANGE", "CHANGE", "PERIOD", "month", 1, in(0, 1, 0)},
	}
}

func mockIDs() []string {
	var ids []string
	for _, m := range mockOrders() {
		ids = append(ids, m.id)
	}
	return ids
}

// mockOrder is the MOCK order id placed now, or nil for another id. Every
// one has the captured MOCKPERIODYEARNEW answer's product, buyer and
// extendParams.
func mockOrder(id string, now time.Time) *orderInfo {
	for _, m := range mockOrders() {
		if m.id != id {
			continue
		}
		str := func(v string) *string { return &v }
		customerType := 0
		l := orderLine{
			OrderLineID: id + "-000001", ChargingMode: m.chargingMode, PeriodType: m.periodType, PeriodNumber: m.periodNumber,
			ProductInfo: []productInfo{{
				ProductID: "OFFI846204237451911168", SKUCode: "0a4d1578-5295-46a7-92d4-7c803dccc51d", LinearValue: 50,
				ProductName: "MOCK测试商品,测试规格,基础版,包周期",
			}},
			ExtendParams:          []nameValue{{"emailDomainName", "test.xxxx.com"}, {"ip", "127.0.0.1"}},
			Currency:              "100",
			CurrencyAfterDiscount: "100",
		}
		if m.expire != nil {
			l.ExpireTime = m.expire(now).Format(businessTime)
		}
		return &orderInfo{
			OrderID: id, OrderType: m.orderType, CreateTime: now.UTC().Format(businessTime), OrderLine: []orderLine{l},
			BuyerInfo: buyerInfo{
				MobilePhone: str("18688888888"), CustomerID: str("459bbbec25d24749b2eb83be37b602a8"), CustomerName: str("mock_user_01"),
				CustomerRealName: str("测试用户1"), CustomerType: &customerType,
			},
			ExtendParams: []nameValue{},
		}
	}
	return nil
}
