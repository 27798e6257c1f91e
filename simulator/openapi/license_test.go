package openapi_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/openapi"
)

// licenseWorld adds to the world a License product of each seller, an
// instance of each with its purchase order, and codes in every state:
// the codes of seller 1's instance K5 (expiring 2025-04-01 08:00 UTC), a
// claimed one of seller 2's, and a claimed one tied to no order.
func licenseWorld(t *testing.T) (*world, map[string]simulator.License) {
	w := newWorld(t)
	ctx := t.Context()
	for _, p := range []struct{ id, seller string }{{"P1-LIC", "S1"}, {"P2-LIC", "S2"}} {
		w.check(w.store.PutProduct(ctx, simulator.Product{ID: p.id, SKUCode: "sku-" + p.id, Name: p.id, ChargingMode: simulator.Period, PeriodType: "month",
			License: true, URL: "http://127.0.0.1:1/produce", Protocol: simulator.V2, AccessKey: key1, SellerID: p.seller}))
	}
	placed := start.Add(-time.Hour)
	expiry := time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC)
	for _, i := range []struct{ key, product string }{{"K5", "P1-LIC"}, {"K6", "P2-LIC"}} {
		w.check(w.store.PutOrder(ctx, simulator.Order{ID: "O-" + i.key, LineID: i.key, Kind: simulator.NewPurchase, InstanceKey: i.key, ProductID: i.product,
			SKUCode: "sku-" + i.product, CustomerID: "C1", State: simulator.OrderCompleted, CreatedAt: placed}))
		w.check(w.store.PutInstance(ctx, simulator.Instance{Key: i.key, ID: "i-" + i.key, ProductID: i.product, CustomerID: "C1", OrderID: "O-" + i.key,
			OrderLineID: i.key, State: simulator.Active, ExpireAt: expiry, CreatedAt: placed, UpdatedAt: placed}))
	}
	activated := start.Add(-30 * time.Minute)
	codes := map[string]simulator.License{}
	for _, l := range []simulator.License{
		{Code: "PLCLAIMED", State: simulator.LicenseClaimed, ClaimedAt: placed},
		{Code: "PLCLAIMED2", State: simulator.LicenseClaimed, ClaimedAt: placed},
		{Code: "PLUNCLAIMED", State: simulator.LicenseUnclaimed},
		{Code: "PLACTIVE", State: simulator.LicenseActivated, ClaimedAt: placed, ActivatedAt: activated},
		{Code: "PLEXPIRED", State: simulator.LicenseExpired, ClaimedAt: placed, ActivatedAt: activated},
		{Code: "PLRELEASED", State: simulator.LicenseReleased, ClaimedAt: placed, ActivatedAt: activated},
		{Code: "PLNEVER", State: simulator.LicenseExpired, ClaimedAt: placed},
		{Code: "PLSELLER2", State: simulator.LicenseClaimed, ClaimedAt: placed, ProductID: "P2-LIC", OrderID: "O-K6", InstanceKey: "K6"},
		{Code: "PLSTANDALONE", State: simulator.LicenseClaimed, ClaimedAt: placed, OrderID: "-", InstanceKey: "-"},
	} {
		switch {
		case l.OrderID == "-":
			l.ProductID, l.OrderID, l.InstanceKey = "P1-LIC", "", ""
		case l.ProductID == "":
			l.ProductID, l.OrderID, l.InstanceKey = "P1-LIC", "O-K5", "K5"
		}
		l.Amount, l.CreatedAt, l.UpdatedAt = 2, placed, placed
		w.check(w.store.PutLicense(ctx, l))
		codes[l.Code] = l
	}
	return w, codes
}

func licenseCall(path, body string) request {
	return request{method: http.MethodPost, path: path, body: []byte(body), header: [][2]string{{"Content-Type", "application/json"}}}
}

func (w *world) license(code string) simulator.License {
	w.t.Helper()
	l, err := w.store.License(w.t.Context(), code)
	w.check(err)
	return l
}

func TestActivate(t *testing.T) {
	w, _ := licenseWorld(t)
	a := w.send(licenseCall(openapi.LicenseActivatePath, `{"license":"PLCLAIMED"}`), ak1, sk1, nil)
	if a.status != http.StatusOK || a.json.Get("error_code").String() != "92020000" || a.json.Get("error_msg").String() != "success" || a.json.Get("kgsim").Exists() {
		t.Fatalf("answer %d %s", a.status, a.body)
	}
	// license_code_info is a JSON string (open-api.md §5.1), its members
	// in the documented order.
	info := a.json.Get("data.license_code_info")
	if info.Type != gjson.String {
		t.Fatalf("license_code_info is %s, want a string: %s", info.Type, a.body)
	}
	if want := `{"status":"ALIVE","expire_time":"20250401080000","product_id":"P1-LIC","amount":2,"order_id":"O-K5"}`; info.Str != want {
		t.Errorf("license_code_info\n %s\nwant\n %s", info.Str, want)
	}
	l := w.license("PLCLAIMED")
	if l.State != simulator.LicenseActivated || !l.ActivatedAt.Equal(w.clock.Now()) {
		t.Errorf("stored %s activated at %v; want ACTIVATED at the scheduling clock's now, %v", l.State, l.ActivatedAt, w.clock.Now())
	}

	// real_effect_time sets when the code takes effect; a code tied to no
	// order has no expiry or order.
	a = w.send(licenseCall(openapi.LicenseActivatePath, `{"license":"PLSTANDALONE","real_effect_time":"20250301070000"}`), ak1, sk1, nil)
	if got := a.json.Get("data.license_code_info").Str; got != `{"status":"ALIVE","product_id":"P1-LIC","amount":2}` {
		t.Errorf("a code tied to no order: %d %s", a.status, a.body)
	}
	if l := w.license("PLSTANDALONE"); !l.ActivatedAt.Equal(time.Date(2025, 3, 1, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("activated at %v, want the real_effect_time", l.ActivatedAt)
	}
}

// Every refusal has §5.3's status, code and message, explains itself, and
// changes no code.
func TestLicenseRefusals(t *testing.T) {
	w, codes := licenseWorld(t)
	json := "application/json"
	for _, tc := range []struct {
		name, path, body, contentType string
		ak, sk                        string
		status                        int
		code, msg, field, says        string
	}{
		{"unclaimed", openapi.LicenseActivatePath, `{"license":"PLUNCLAIMED"}`, json, ak1, sk1, 200, "92020004", "can not active before user received.", "license", "claim"},
		{"activated already", openapi.LicenseActivatePath, `{"license":"PLACTIVE"}`, json, ak1, sk1, 200, "92020003", "illegal state", "license", "activated already"},
		{"expired", openapi.LicenseActivatePath, `{"license":"PLEXPIRED"}`, json, ak1, sk1, 200, "92020003", "illegal state", "license", "EXPIRED"},
		{"released", openapi.LicenseActivatePath, `{"license":"PLRELEASED"}`, json, ak1, sk1, 200, "92020003", "illegal state", "license", "RELEASED"},
		{"unknown", openapi.LicenseActivatePath, `{"license":"PLNOSUCHCODE"}`, json, ak1, sk1, 200, "92020005", "license code not exist.", "license", "no License code PLNOSUCHCODE"},
		{"another seller's", openapi.LicenseActivatePath, `{"license":"PLSELLER2"}`, json, ak1, sk1, 200, "92020005", "license code not exist.", "license", "seller S1 has no License code"},
		{"no license", openapi.LicenseActivatePath, `{"real_effect_time":"20250301080000"}`, json, ak1, sk1, 400, "92020002", "invalid param", "license", "required"},
		{"license too long", openapi.LicenseActivatePath, `{"license":"PL` + strings.Repeat("X", 63) + `"}`, json, ak1, sk1, 400, "92020002", "invalid param", "license", "65 characters"},
		{"license not a string", openapi.LicenseActivatePath, `{"license":42}`, json, ak1, sk1, 400, "92020002", "invalid param", "", "not {"},
		{"time badly written", openapi.LicenseActivatePath, `{"license":"PLCLAIMED","real_effect_time":"2025-03-01 08:00:00"}`, json, ak1, sk1, 400, "92020002", "invalid param", "real_effect_time", "yyyyMMddHHmmss"},
		{"time before the order", openapi.LicenseActivatePath, `{"license":"PLCLAIMED","real_effect_time":"20250301065959"}`, json, ak1, sk1, 400, "92020002", "invalid param", "real_effect_time", "before the order was placed (20250301070000 UTC)"},
		{"malformed JSON", openapi.LicenseActivatePath, `{"license":`, json, ak1, sk1, 400, "92020002", "invalid param", "", "not {"},
		{"not JSON", openapi.LicenseActivatePath, `license=PLCLAIMED`, "application/x-www-form-urlencoded", ak1, sk1, 400, "92020002", "invalid param", "Content-Type", "application/json"},
		{"heartbeat never activated", openapi.LicenseHeartbeatPath, `{"license":"PLCLAIMED"}`, json, ak1, sk1, 200, "92020003", "illegal state", "license", "never activated"},
		{"heartbeat expired before activation", openapi.LicenseHeartbeatPath, `{"license":"PLNEVER"}`, json, ak1, sk1, 200, "92020003", "illegal state", "license", "never activated"},
		{"heartbeat another seller's", openapi.LicenseHeartbeatPath, `{"license":"PLACTIVE"}`, json, ak2, sk2, 200, "92020005", "license code not exist.", "license", "seller S2"},
		{"heartbeatInfo without account", openapi.LicenseHeartbeatPath, `{"license":"PLACTIVE","heartbeatInfo":{"ip":"192.168.1.51"}}`, json, ak1, sk1, 400, "92020002", "invalid param", "heartbeatInfo.thirdPartyAccount", "required"},
		{"heartbeatInfo IP too long", openapi.LicenseHeartbeatPath, `{"license":"PLACTIVE","heartbeatInfo":{"thirdPartyAccount":"a","ip":"` + strings.Repeat("1", 33) + `"}}`, json, ak1, sk1, 400, "92020002", "invalid param", "heartbeatInfo.ip", "over 32"},
		{"batch empty", openapi.LicenseActivateV2Path, `{"licenses":[]}`, json, ak1, sk1, 400, "92020002", "invalid param", "licenses", "1 to 100"},
		{"batch of 101", openapi.LicenseHeartbeatV2Path, `{"licenses":[` + strings.Repeat(`{"license":"PLACTIVE"},`, 100) + `{"license":"PLX"}]}`, json, ak1, sk1, 400, "92020002", "invalid param", "licenses", "101 entries"},
		{"batch naming a code twice", openapi.LicenseActivateV2Path, `{"licenses":[{"license":"PLCLAIMED"},{"license":"PLCLAIMED2"},{"license":"PLCLAIMED"}]}`, json, ak1, sk1, 400, "92020002", "invalid param", "licenses[2].license", "also entry 0"},
		{"batch entry without license", openapi.LicenseActivateV2Path, `{"licenses":[{"license":"PLCLAIMED"},{}]}`, json, ak1, sk1, 400, "92020002", "invalid param", "licenses[1].license", "required"},
		{"batch as v1", openapi.LicenseActivateV2Path, `{"license":"PLCLAIMED"}`, json, ak1, sk1, 400, "92020002", "invalid param", "licenses", "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := licenseCall(tc.path, tc.body)
			req.header[0][1] = tc.contentType
			a := w.send(req, tc.ak, tc.sk, nil)
			if a.status != tc.status || a.json.Get("error_code").String() != tc.code || a.json.Get("error_msg").String() != tc.msg ||
				a.json.Get("kgsim.field").String() != tc.field || !strings.Contains(a.json.Get("kgsim.problem").String(), tc.says) || a.json.Get("data").Exists() {
				t.Errorf("answer %d %s\nwant %d %s %q, field %q, saying %q", a.status, a.body, tc.status, tc.code, tc.msg, tc.field, tc.says)
			}
			for code, want := range codes {
				if got := w.license(code); !reflect.DeepEqual(got, want) {
					t.Errorf("code %s changed:\n %+v\nwas\n %+v", code, got, want)
				}
			}
		})
	}
}

// The License APIs are open APIs like the others: APIG-signed, POST only.
func TestLicenseCallsAreSigned(t *testing.T) {
	w, _ := licenseWorld(t)
	a := w.send(licenseCall(openapi.LicenseActivatePath, `{"license":"PLCLAIMED"}`), ak1, sk2, nil)
	if a.status != http.StatusUnauthorized || a.json.Get("error_code").String() != "APIGW.0301" || !strings.Contains(a.json.Get("kgsim.likely_cause").String(), "seller S2") {
		t.Errorf("signed with another seller's SK: %d %s", a.status, a.body)
	}
	get := licenseCall(openapi.LicenseHeartbeatPath, "")
	get.method = http.MethodGet
	if a := w.send(get, ak1, sk1, nil); a.status != http.StatusNotFound || a.json.Get("error_code").String() != "APIGW.0101" {
		t.Errorf("GET heartbeat: %d %s", a.status, a.body)
	}
	if l := w.license("PLCLAIMED"); l.State != simulator.LicenseClaimed {
		t.Errorf("a refused call activated the code: %s", l.State)
	}
}

func TestHeartbeat(t *testing.T) {
	w, _ := licenseWorld(t)
	for _, tc := range []struct{ code, status string }{{"PLACTIVE", "ALIVE"}, {"PLEXPIRED", "EXPIRED"}, {"PLRELEASED", "RELEASED"}} {
		a := w.send(licenseCall(openapi.LicenseHeartbeatPath, `{"license":"`+tc.code+`","heartbeatInfo":{"thirdPartyAccount":"myaccount1","ip":"192.168.1.51"},"extra":1}`), ak1, sk1, nil)
		want := fmt.Sprintf(`{"error_code":"92020000","error_msg":"success","data":{"license_code":%q,"status":%q,"activate_time":"20250301073000","expire_time":"20250401080000"}}`, tc.code, tc.status)
		if a.status != http.StatusOK {
			t.Errorf("%s: status %d", tc.code, a.status)
		}
		sameJSON(t, a.body, want)
		if l := w.license(tc.code); !l.LastHeartbeatAt.Equal(w.clock.Now()) {
			t.Errorf("%s: last heartbeat %v, want the clock's now", tc.code, l.LastHeartbeatAt)
		}
	}
}

// A v2 call takes a batch and answers each code's result; the codes it
// activates are stored.
func TestLicenseBatches(t *testing.T) {
	w, _ := licenseWorld(t)
	a := w.send(licenseCall(openapi.LicenseActivateV2Path, `{"licenses":[{"license":"PLCLAIMED"},{"license":"PLUNCLAIMED"},{"license":"PLSELLER2"},{"license":"PLCLAIMED2","real_effect_time":"20250301073000"}]}`), ak1, sk1, nil)
	if a.status != http.StatusOK || a.json.Get("error_code").String() != "92020000" {
		t.Fatalf("answer %d %s", a.status, a.body)
	}
	results := a.json.Get("data.results").Array()
	want := []struct{ license, code, msg string }{
		{"PLCLAIMED", "92020000", "success"}, {"PLUNCLAIMED", "92020004", "can not active before user received."},
		{"PLSELLER2", "92020005", "license code not exist."}, {"PLCLAIMED2", "92020000", "success"},
	}
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d: %s", len(results), len(want), a.body)
	}
	for i, wr := range want {
		r := results[i]
		if r.Get("license").String() != wr.license || r.Get("error_code").String() != wr.code || r.Get("error_msg").String() != wr.msg ||
			r.Get("license_code_info").Exists() != (wr.code == "92020000") || r.Get("kgsim.field").String() != map[bool]string{true: "", false: fmt.Sprintf("licenses[%d].license", i)}[wr.code == "92020000"] {
			t.Errorf("result %d: %s; want %+v", i, r, wr)
		}
	}
	if got := results[0].Get("license_code_info").Str; got != `{"status":"ALIVE","expire_time":"20250401080000","product_id":"P1-LIC","amount":2,"order_id":"O-K5"}` {
		t.Errorf("license_code_info %s", got)
	}
	for _, code := range []string{"PLCLAIMED", "PLCLAIMED2"} {
		if w.license(code).State != simulator.LicenseActivated {
			t.Errorf("%s not activated", code)
		}
	}

	a = w.send(licenseCall(openapi.LicenseHeartbeatV2Path, `{"licenses":[{"license":"PLCLAIMED2"},{"license":"PLEXPIRED"},{"license":"PLUNCLAIMED"}]}`), ak1, sk1, nil)
	want2 := `{"error_code":"92020000","error_msg":"success","data":{"results":[` +
		`{"license":"PLCLAIMED2","error_code":"92020000","error_msg":"success","license_info":{"license_code":"PLCLAIMED2","status":"ALIVE","activate_time":"20250301073000","expire_time":"20250401080000"}},` +
		`{"license":"PLEXPIRED","error_code":"92020000","error_msg":"success","license_info":{"license_code":"PLEXPIRED","status":"EXPIRED","activate_time":"20250301073000","expire_time":"20250401080000"}},` +
		`{"license":"PLUNCLAIMED","error_code":"92020003","error_msg":"illegal state","kgsim":{"problem":"` + a.json.Get("data.results.2.kgsim.problem").String() + `","field":"licenses[2].license","spec":"open-api.md §5.2"}}]}}`
	sameJSON(t, a.body, want2)
	if !strings.Contains(a.json.Get("data.results.2.kgsim.problem").String(), "never activated") {
		t.Errorf("the unactivated code's problem: %s", a.body)
	}
}
