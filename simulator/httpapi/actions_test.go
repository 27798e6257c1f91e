package httpapi

import (
	"net/http"
	"slices"
	"testing"

	"github.com/kgsim/kgsim/simulator/schedule"
)

// TestInstanceActions drives each instance action through the API and
// checks that it reached the engine: the order or callback it answers
// with, the instance's state, and what the merchant then received.
func TestInstanceActions(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/trial", w.productJSON("trial", `,"trial":true`))
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/lic", w.productJSON("lic", `,"license":true`))
	key := w.active().Get("instanceKey").String()
	buy := func(product, extra string) string {
		a := w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"`+product+`","customerId":"c1"`+extra+`}`)
		w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
		return a.get("instance.instanceKey").String()
	}
	trial, lic := buy("trial", `,"trial":true`), buy("lic", "")

	steps := []struct {
		key, action, body string
		order, activity   string // the answer's order.kind or message.activity
		state             string // the instance's, once delivered
		sent              string // what the merchant received for it
	}{
		{key, "freeze", "", "", "", "FROZEN", "updateInstanceStatus"},
		{key, "unfreeze", "{}", "", "", "ACTIVE", "updateInstanceStatus"},
		{key, "query", "", "", "queryInstance", "ACTIVE", "queryInstance"},
		{key, "upgrade", `{"linearAmount":3}`, "UPGRADE", "", "ACTIVE", "upgradeInstance"},
		{key, "renew", `{"periodNumber":1,"amount":"99"}`, "RENEWAL", "", "ACTIVE", "refreshInstance"},
		{key, "unsubscribe-renewal", "", "UNSUBSCRIBE_RENEWAL_PERIOD", "", "ACTIVE", "refreshInstance"},
		{key, "change-spec", `{"linearAmount":5,"periodNumber":1}`, "RENEWAL_CHANGE", "", "ACTIVE", "changeInstanceCheck"},
		{key, "unsubscribe", "", "UNSUBSCRIBE", "", "RELEASED", "releaseInstance"},
		{trial, "convert-trial", `{"periodNumber":1}`, "TRIAL_TO_FORMAL", "", "ACTIVE", "refreshInstance"},
		{lic, "license", `{"deviceFingerprint":"hw-1"}`, "", "getLicenseAsync", "ACTIVE", "getLicenseAsync"},
	}
	for _, s := range steps {
		before := len(w.merchant.Activities())
		a := w.must(http.StatusOK, "POST", "/admin/v1/instances/"+s.key+"/"+s.action, s.body)
		if got := a.get("order.kind").String(); got != s.order {
			t.Errorf("%s: order kind %q, want %q: %s", s.action, got, s.order, a.body)
		}
		if got := a.get("message.activity").String(); got != s.activity {
			t.Errorf("%s: message activity %q, want %q: %s", s.action, got, s.activity, a.body)
		}
		if a.get("instance.instanceKey").String() != s.key {
			t.Errorf("%s: the answer's instance is %s", s.action, a.get("instance"))
		}
		w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
		if got := w.must(http.StatusOK, "GET", "/admin/v1/instances/"+s.key, "").get("state").String(); got != s.state {
			t.Errorf("%s: instance %s, want %s", s.action, got, s.state)
		}
		if got := w.merchant.Activities()[before:]; !slices.Contains(got, s.sent) {
			t.Errorf("%s: merchant received %v, want %s among them", s.action, got, s.sent)
		}
	}
	refused := w.must(http.StatusConflict, "POST", "/admin/v1/instances/"+key+"/renew", "")
	if refused.get("error.field").String() != "instanceKey" {
		t.Errorf("renewing a released instance: %s", refused.body)
	}
}

// The query action names more of the buyer's instances of the product in
// one queryInstance, comma-separated (callbacks.md §5.9); an instance of
// another product is refused, naming the field.
func TestQueryOfSeveralInstances(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/trial", w.productJSON("trial", `,"trial":true`))
	a, b := w.active().Get("instanceKey").String(), w.active().Get("instanceKey").String()
	ids := w.must(http.StatusOK, "GET", "/admin/v1/instances/"+a, "").get("instanceId").String() + "," +
		w.must(http.StatusOK, "GET", "/admin/v1/instances/"+b, "").get("instanceId").String()
	q := w.must(http.StatusOK, "POST", "/admin/v1/instances/"+a+"/query", `{"with":["`+b+`"]}`)
	if got := q.get("message.params.instanceId").String(); got != ids {
		t.Errorf("the query names %q, want %q", got, ids)
	}
	other := w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"trial","customerId":"c1","trial":true}`).get("instance.instanceKey").String()
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
	if r := w.must(http.StatusBadRequest, "POST", "/admin/v1/instances/"+a+"/query", `{"with":["`+other+`"]}`); r.get("error.field").String() != "with" {
		t.Errorf("a query with another product's instance: %s", r.body)
	}
}
