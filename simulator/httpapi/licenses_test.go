package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator/openapi"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// A License product's test code through the admin API: created for a
// purchase, claimed by hand, activated and checked by the merchant over
// the open APIs, released with its instance.
func TestLicensesAdmin(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.secrets = append(w.secrets, sellerSK)
	w.must(http.StatusCreated, "PUT", "/admin/v1/sellers/s1", `{"name":"Seller one","ak":"AK-S1","sk":"`+sellerSK+`"}`)
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/lic", w.productJSON("lic", `,"license":true,"sellerId":"s1"`))
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/saas", w.productJSON("saas", `,"sellerId":"s1"`))
	w.must(http.StatusCreated, "POST", "/admin/v1/customers", `{"customerId":"c1","customerName":"Acme Ltd"}`)
	order := w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"lic","customerId":"c1","linearAmount":5}`).get("order")
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`) // the merchant provisions it

	a := w.must(http.StatusCreated, "POST", "/admin/v1/licenses", `{"productId":"lic","orderId":"`+order.Get("orderId").String()+`"}`)
	code := a.get("license").String()
	if !strings.HasPrefix(code, "PL") || a.get("state").String() != "UNCLAIMED" || a.get("amount").Int() != 5 ||
		a.get("instanceKey").String() != order.Get("instanceKey").String() || a.get("createdAt").String() != t0.Add(60e9).Format("2006-01-02T15:04:05Z07:00") {
		t.Errorf("created %s", a.body)
	}
	other := w.must(http.StatusCreated, "POST", "/admin/v1/licenses", `{"productId":"lic"}`).get("license").String()
	if a := w.must(http.StatusOK, "GET", "/admin/v1/licenses?productId=lic", ""); a.get("licenses.#").Int() != 2 || a.get("licenses.0.license").String() != code {
		t.Errorf("listing %s", a.body)
	}
	if a := w.must(http.StatusOK, "GET", "/admin/v1/licenses?orderId="+order.Get("orderId").String(), ""); a.get("licenses.#").Int() != 1 {
		t.Errorf("listing by order %s", a.body)
	}

	activate := func() answer {
		return w.openAPI("AK-S1", sellerSK, "POST", openapi.LicenseActivatePath, "", `{"license":"`+code+`"}`, nil)
	}
	if a := activate(); a.get("error_code").String() != "92020004" {
		t.Errorf("activating an unclaimed code: %d %s", a.status, a.body)
	}
	if a := w.must(http.StatusOK, "POST", "/admin/v1/licenses/"+code+"/claim", ""); a.get("state").String() != "CLAIMED" {
		t.Errorf("claimed %s", a.body)
	}
	if a := activate(); a.status != http.StatusOK || a.get("error_code").String() != "92020000" {
		t.Fatalf("activating the claimed code: %d %s", a.status, a.body)
	}
	if a := w.must(http.StatusOK, "GET", "/admin/v1/licenses/"+code, ""); a.get("state").String() != "ACTIVATED" || a.get("activatedAt").String() == "" {
		t.Errorf("after the activation %s", a.body)
	}
	w.must(http.StatusOK, "POST", "/admin/v1/instances/"+order.Get("instanceKey").String()+"/unsubscribe", "")
	hb := w.openAPI("AK-S1", sellerSK, "POST", openapi.LicenseHeartbeatPath, "", `{"license":"`+code+`"}`, nil)
	if hb.get("data.status").String() != "RELEASED" {
		t.Errorf("heartbeat after the unsubscription: %d %s", hb.status, hb.body)
	}
	if a := w.must(http.StatusOK, "GET", "/admin/v1/licenses?state=RELEASED", ""); a.get("licenses.#").Int() != 1 || a.get("licenses.0.license").String() != code {
		t.Errorf("released codes %s", a.body)
	}
	w.must(http.StatusOK, "POST", "/admin/v1/licenses/"+other+"/expire", "")
	w.must(http.StatusOK, "POST", "/admin/v1/licenses/"+other+"/release", "")

	for _, c := range []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"no product", "POST", "/admin/v1/licenses", `{}`, 400, "productId"},
		{"a SaaS product", "POST", "/admin/v1/licenses", `{"productId":"saas"}`, 400, "productId"},
		{"unknown order", "POST", "/admin/v1/licenses", `{"productId":"lic","orderId":"CS-NONE"}`, 404, "orderId"},
		{"a released instance's order", "POST", "/admin/v1/licenses", `{"productId":"lic","orderId":"` + order.Get("orderId").String() + `"}`, 409, "orderId"},
		{"unknown member", "POST", "/admin/v1/licenses", `{"productId":"lic","count":2}`, 400, "count"},
		{"unknown code", "GET", "/admin/v1/licenses/PLNONE", "", 404, "license"},
		{"claiming an unknown code", "POST", "/admin/v1/licenses/PLNONE/claim", "", 404, "license"},
		{"claiming a released code", "POST", "/admin/v1/licenses/" + code + "/claim", "", 409, "license"},
		{"an action with a body", "POST", "/admin/v1/licenses/" + other + "/release", `{"reason":"x"}`, 400, "reason"},
		{"unknown state", "GET", "/admin/v1/licenses?state=ALIVE", "", 400, "state"},
		{"unknown filter", "GET", "/admin/v1/licenses?sellerId=s1", "", 400, "sellerId"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := w.call(c.method, c.path, c.body)
			if a.status != c.status || a.get("error.field").String() != c.field {
				t.Errorf("%d %s, want %d on %q", a.status, a.body, c.status, c.field)
			}
		})
	}
	w.must(http.StatusMethodNotAllowed, "DELETE", "/admin/v1/licenses/"+code, "")
	if a := w.must(http.StatusOK, "GET", "/admin/v1/licenses", ""); a.get("licenses.#").Int() != 2 {
		t.Errorf("refusals stored codes: %s", a.body)
	}
}
