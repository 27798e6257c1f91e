package engine

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
)

// The debugger's form holds what a live call of the activity carries,
// without the activity and testFlag, for every activity it offers.
func TestDebugParams(t *testing.T) {
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	e := &Engine{}
	for _, p := range []simulator.Product{
		{ID: "v1", SKUCode: "s1", ChargingMode: simulator.Period, PeriodType: "month", Protocol: simulator.V1, AccessKey: "k"},
		{ID: "v2", SKUCode: "s2", ChargingMode: simulator.OneTime, Protocol: simulator.V2, AccessKey: "k", License: true},
	} {
		for _, activity := range DebugActivities(p) {
			params, err := e.DebugParams(p, activity, "", now)
			if err != nil {
				t.Fatalf("%s %s: %v", p.ID, activity, err)
			}
			obj := gjson.ParseBytes(params)
			if !json.Valid(params) || !obj.IsObject() || obj.Get("activity").Exists() || obj.Get("testFlag").Exists() {
				t.Errorf("%s %s: %s", p.ID, activity, params)
			}
			if activity != "newInstance" && obj.Get("instanceId").String() != "<instanceId>" {
				t.Errorf("%s %s: instanceId = %q, want the placeholder", p.ID, activity, obj.Get("instanceId").String())
			}
		}
	}
	v1 := simulator.Product{ID: "v1", SKUCode: "s1", ChargingMode: simulator.Period, PeriodType: "month", Protocol: simulator.V1, AccessKey: "k"}
	params, err := e.DebugParams(v1, "newInstance", "", now)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"productId": "v1", "skuCode": "s1", "chargingMode": "PERIOD", "periodType": "month", "periodNumber": "1", "trialFlag": "0", "expireTime": "20250401000000"} {
		if got := gjson.GetBytes(params, name).String(); got != want {
			t.Errorf("V1 newInstance %s = %q, want %q: %s", name, got, want, params)
		}
	}
	if id := gjson.GetBytes(params, "orderId").String(); len(id) != 17 || id[:2] != "CS" || gjson.GetBytes(params, "businessId").String() == "" {
		t.Errorf("V1 newInstance's order: %s", params)
	}
	if got, _ := e.DebugParams(v1, "queryInstance", "i-7", now); gjson.GetBytes(got, "instanceId").String() != "i-7" {
		t.Errorf("queryInstance for i-7: %s", got)
	}
	if _, err := e.DebugParams(v1, "getLicenseAsync", "", now); simulator.ErrorCode(err) != simulator.EINVALID {
		t.Errorf("a V2 activity for a V1 product: err = %v, want EINVALID", err)
	}
}
