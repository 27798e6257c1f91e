package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator/schedule"
)

// A generic product (callbacks.md §5.15) through the admin API: its
// fields round-trip, its order-notification key is masked like the access
// key and kept when the product is put back as read, its purchase is
// notified with orderNotify, and the key appears in no answer and no log
// line, even echoed by the merchant (call and the world's log check
// every answer and the log for w.secrets).
func TestGenericProduct(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.secrets = append(w.secrets, orderNotifyKey)
	w.echo()
	generic := `,"interfaceType":"generic","orderNotifyKey":"` + orderNotifyKey + `"`
	p := w.must(http.StatusCreated, "PUT", "/admin/v1/products/g1", w.productJSON("g1", generic))
	if got := p.get("orderNotifyKey").String(); got != "****"+orderNotifyKey[len(orderNotifyKey)-2:] {
		t.Errorf("orderNotifyKey shown as %q, want it masked", got)
	}
	if got := p.get("interfaceType").String(); got != "generic" {
		t.Errorf("interfaceType %q, want generic", got)
	}
	// Put back as read: both masked keys keep the stored ones, which the
	// merchant checks the purchase's orderNotify with below.
	w.must(http.StatusOK, "PUT", "/admin/v1/products/g1", string(w.must(http.StatusOK, "GET", "/admin/v1/products/g1", "").body))

	for _, tc := range []struct{ name, extra, field string }{
		{"the access key again", `,"interfaceType":"generic","orderNotifyKey":"` + accessKey + `"`, "orderNotifyKey"},
		{"no key", `,"interfaceType":"generic"`, "orderNotifyKey"},
		{"another product's masked key", `,"interfaceType":"generic","orderNotifyKey":"****xy"`, "orderNotifyKey"},
		{"a key without the generic interface", `,"orderNotifyKey":"` + orderNotifyKey + `"`, "orderNotifyKey"},
		{"an unknown interface type", `,"interfaceType":"license"`, "interfaceType"},
		{"V1", `,"protocol":"v1"` + generic, "interfaceType"},
	} {
		a := w.call("PUT", "/admin/v1/products/g2", w.productJSON("g2", tc.extra))
		if a.status != http.StatusBadRequest || a.get("error.field").String() != tc.field {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.name, a.status, a.body, tc.field)
		}
	}

	w.must(http.StatusCreated, "POST", "/admin/v1/customers", `{"customerId":"c1","customerName":"Acme Ltd"}`)
	bought := w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"g1","customerId":"c1","periodNumber":1,"amount":"120.5"}`)
	orderID, key := bought.get("order.orderId").String(), bought.get("instance.instanceKey").String()
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
	if got := w.merchant.Activities(); !slices.Equal(got, []string{"orderNotify"}) {
		t.Errorf("merchant received %v, want one orderNotify", got)
	}
	if s := w.must(http.StatusOK, "GET", "/admin/v1/orders/"+orderID, "").get("state").String(); s != "COMPLETED" {
		t.Errorf("order %s after orderNotify was acknowledged, want COMPLETED", s)
	}
	inst := w.must(http.StatusOK, "GET", "/admin/v1/instances/"+key, "")
	if inst.get("state").String() != "ACTIVE" || inst.get("instanceId").Exists() {
		t.Errorf("instance %s, want ACTIVE without an instanceId", inst.body)
	}
	if a := w.call("POST", "/admin/v1/instances/"+key+"/renew", `{"periodNumber":1}`); a.status != http.StatusConflict || !strings.Contains(a.get("error.message").String(), "orderNotify") {
		t.Errorf("renewing a generic product's instance: %d %s, want 409 saying why", a.status, a.body)
	}
	ms := w.must(http.StatusOK, "GET", "/admin/v1/messages?productId=g1", "")
	m := w.must(http.StatusOK, "GET", "/admin/v1/messages/"+ms.get("messages.0.messageId").String(), "")
	if got := m.get("attempts.0.response.body").String(); !strings.Contains(got, "your key is <orderNotifyKey>") {
		t.Errorf("the echoed answer should show with the key replaced: %q", got)
	}
	for _, path := range []string{"/admin/v1/products", "/admin/v1/messages", "/admin/v1/notices", "/admin/v1/orders", "/console/products"} {
		w.must(http.StatusOK, "GET", path, "")
	}
	// The debugger offers orderNotify alone, and sends the docs' example
	// byte for byte but for the order (callbacks.md §5.15 [DOC-EX]),
	// signed with the generic interface's key, which the merchant checks.
	if got := w.must(http.StatusOK, "GET", "/admin/v1/products/g1/debugger", "").get("activities|@ugly").Raw; got != `["orderNotify"]` {
		t.Errorf("the debugger offers %s for a generic product, want orderNotify alone", got)
	}
	form := w.must(http.StatusOK, "GET", "/admin/v1/products/g1/debugger/orderNotify", "")
	sent := w.must(http.StatusCreated, "POST", "/admin/v1/products/g1/debugger", `{"activity":"orderNotify","params":`+form.get("params").Raw+`}`)
	const example = `{"activity":"orderNotify","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}`
	want := strings.ReplaceAll(example, "CS2211181819B4LVS", form.get("params.orderId").String())
	if got := sent.get("attempt.request.body").String(); got != want || sent.get("attempt.verdict").String() != "SUCCESS" {
		t.Errorf("the debugger sent %s (%s), want %s, acknowledged", got, sent.get("attempt.verdict"), want)
	}
	page := w.must(http.StatusOK, "GET", "/console/products/g1", "")
	if !strings.Contains(string(page.body), "通用接口（orderNotify）") || !strings.Contains(string(page.body), "****"+orderNotifyKey[len(orderNotifyKey)-2:]) {
		t.Errorf("the console's product page should show the interface type and the masked key:\n%s", page.body)
	}
}
