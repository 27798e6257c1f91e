package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/schedule"
)

func TestBuyAdvanceAndReadTheCallback(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	p := w.must(http.StatusCreated, "PUT", "/admin/v1/products/p1", w.productJSON("p1", ""))
	if got := p.get("accessKey").String(); got != "****"+accessKey[len(accessKey)-2:] {
		t.Errorf("accessKey shown as %q, want it masked", got)
	}
	if got := p.get("status").String(); got != "ON_SALE" {
		t.Errorf("a new product's status = %q, want ON_SALE", got)
	}
	w.must(http.StatusCreated, "POST", "/admin/v1/customers", `{"customerId":"c1","customerName":"Acme Ltd"}`)

	bought := w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","periodNumber":2,"amount":"240.5"}`)
	orderID, key := bought.get("order.orderId").String(), bought.get("instance.instanceKey").String()
	if orderID == "" || key == "" || bought.header.Get("Location") != "/admin/v1/orders/"+orderID {
		t.Fatalf("buy answered %s (Location %q)", bought.body, bought.header.Get("Location"))
	}
	if s := bought.get("order.state").String(); s != "PROCESSING" {
		t.Errorf("a new order is %s, want PROCESSING before its callback", s)
	}
	if len(w.merchant.Activities()) != 0 {
		t.Fatal("a callback went out before the clock moved")
	}

	clock := w.must(http.StatusOK, "GET", "/admin/v1/clock", "")
	if !clock.get("virtual").Bool() || clock.get("now").Time() != t0 {
		t.Errorf("clock = %s, want virtual at %s", clock.body, t0)
	}
	adv := w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"90m"}`)
	if adv.get("to").Time() != t0.Add(90*time.Minute) || adv.get("now").Time() != t0.Add(90*time.Minute) || adv.get("work").Int() < 1 {
		t.Errorf("advance answered %s", adv.body)
	}
	if got := w.merchant.Activities(); !slices.Equal(got, []string{"newInstance"}) {
		t.Errorf("merchant received %v, want one newInstance", got)
	}

	order := w.must(http.StatusOK, "GET", "/admin/v1/orders/"+orderID, "")
	if s := order.get("state").String(); s != "COMPLETED" {
		t.Errorf("order state %s after the acknowledged callback, want COMPLETED", s)
	}
	inst := w.must(http.StatusOK, "GET", "/admin/v1/instances/"+key, "")
	if inst.get("state").String() != "ACTIVE" || inst.get("instanceId").String() != "ins-"+orderID {
		t.Errorf("instance %s, want ACTIVE with the merchant's instanceId", inst.body)
	}
	if n := w.must(http.StatusOK, "GET", "/admin/v1/instances?state=ACTIVE&productId=p1", "").get("instances.#").Int(); n != 1 {
		t.Errorf("%d active instances of p1 listed, want 1", n)
	}
	if n := w.must(http.StatusOK, "GET", "/admin/v1/orders?state=PROCESSING", "").get("orders.#").Int(); n != 0 {
		t.Errorf("%d orders still processing, want 0", n)
	}

	msgs := w.must(http.StatusOK, "GET", "/admin/v1/messages?orderId="+orderID+"&kind=LIFECYCLE", "")
	if msgs.get("messages.#").Int() != 1 {
		t.Fatalf("messages of the order: %s", msgs.body)
	}
	id := msgs.get("messages.0.messageId").String()
	m := w.must(http.StatusOK, "GET", "/admin/v1/messages/"+id, "")
	checks := map[string]string{
		"activity": "newInstance", "outcome": "SUCCEEDED", "attemptCount": "1", "params.orderId": orderID,
		"attempts.#": "1", "attempts.0.verdict": "SUCCESS", "attempts.0.request.signing.signature": "",
		"attempts.0.response.status": "200", "attempts.0.n": "1",
	}
	for path, want := range checks {
		got := m.get(path).String()
		if path == "attempts.0.request.signing.signature" {
			if len(got) != 64 {
				t.Errorf("%s = %q, want the 64-hex V2 signature", path, got)
			}
			continue
		}
		if got != want {
			t.Errorf("message %s = %q, want %q", path, got, want)
		}
	}
	if !strings.Contains(m.get("attempts.0.request.signing.canonicalRequest").String(), "<accessKey>") {
		t.Errorf("the canonical request should show the key as <accessKey>: %s", m.get("attempts.0.request.signing"))
	}
}

func TestRestartAStoppedMessage(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	key := w.active().Get("instanceKey").String()

	w.merchant.Down(true)
	renewed := w.must(http.StatusOK, "POST", "/admin/v1/instances/"+key+"/renew", `{"periodNumber":1}`)
	renewal := renewed.get("order.orderId").String()
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"2h"}`)

	stopped := w.must(http.StatusOK, "GET", "/admin/v1/messages?outcome=STOPPED_AWAITING_MANUAL_RESTART", "")
	if stopped.get("messages.#").Int() != 1 || stopped.get("messages.0.orderId").String() != renewal {
		t.Fatalf("stopped messages: %s", stopped.body)
	}
	id := stopped.get("messages.0.messageId").String()
	tries := stopped.get("messages.0.attemptCount").Int()
	if tries < 2 {
		t.Errorf("the renewal stopped after %d attempts; its schedule retries through the hour", tries)
	}
	if s := w.must(http.StatusOK, "GET", "/admin/v1/orders/"+renewal, "").get("state").String(); s != "STALLED" {
		t.Errorf("the renewal order is %s, want STALLED", s)
	}

	// Still down: the attempt is recorded, the message stays stopped.
	r := w.must(http.StatusOK, "POST", "/admin/v1/messages/"+id+"/restart", "")
	if r.get("attempt.verdict").String() != "HTTP_STATUS" || r.get("message.outcome").String() != "STOPPED_AWAITING_MANUAL_RESTART" {
		t.Errorf("restart against a merchant still down: %s", r.body)
	}
	w.merchant.Down(false)
	r = w.must(http.StatusOK, "POST", "/admin/v1/messages/"+id+"/restart", "{}")
	if r.get("attempt.verdict").String() != "SUCCESS" || r.get("message.outcome").String() != "SUCCEEDED_AFTER_RESTART" {
		t.Errorf("restart against a merchant back up: %s", r.body)
	}
	if n := r.get("attempt.n").Int(); n != tries+2 {
		t.Errorf("the restart's attempt is #%d, want #%d", n, tries+2)
	}
	m := w.must(http.StatusOK, "GET", "/admin/v1/messages/"+id, "")
	if n := m.get("attempts.#").Int(); n != tries+2 {
		t.Errorf("the message shows %d attempts, want %d", n, tries+2)
	}
	if s := w.must(http.StatusOK, "GET", "/admin/v1/orders/"+renewal, "").get("state").String(); s != "COMPLETED" {
		t.Errorf("the renewal order is %s after a successful restart, want COMPLETED", s)
	}

	again := w.must(http.StatusConflict, "POST", "/admin/v1/messages/"+id+"/restart", "")
	if again.get("error.code").String() != "conflict" || again.get("error.field").String() != "message" {
		t.Errorf("restarting a delivered message: %s", again.body)
	}

	// The failed attempts raised notices; each shows its call record.
	ns := w.must(http.StatusOK, "GET", "/admin/v1/notices?messageId="+id, "")
	if ns.get("notices.#").Int() == 0 || ns.get("notices.0.record").Exists() {
		t.Fatalf("notices of the stopped message, listed without records: %s", ns.body)
	}
	n := w.must(http.StatusOK, "GET", "/admin/v1/notices/"+ns.get("notices.0.noticeId").String(), "")
	if n.get("record.callId").String() != id || !n.get("record.attempts.0.verdict").Exists() {
		t.Errorf("a notice's record, as JSON: %s", n.get("record"))
	}
}

func TestDialTestRunNow(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/p1",
		w.productJSON("p1", `,"debugCases":[{"activity":"newInstance","params":{"orderId":"CS-DIAL","orderLineId":"CS-DIAL-000001","businessId":"x"}}]`))
	run := w.must(http.StatusCreated, "POST", "/admin/v1/products/p1/dial-tests", "")
	if run.get("productId").String() != "p1" || run.get("done").Bool() {
		t.Fatalf("a run just started: %s", run.body)
	}
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"0s"}`)
	runs := w.must(http.StatusOK, "GET", "/admin/v1/products/p1/dial-tests", "")
	if runs.get("runs.#").Int() != 1 || !runs.get("runs.0.done").Bool() || !runs.get("runs.0.passed").Bool() {
		t.Errorf("runs after delivery: %s", runs.body)
	}
	if got := w.merchant.Activities(); !slices.Equal(got, []string{"newInstance"}) {
		t.Errorf("merchant received %v, want the one saved case", got)
	}
	w.must(http.StatusNotFound, "GET", "/admin/v1/products/nope/dial-tests", "")
}

func TestProductStatusAction(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	p := w.must(http.StatusOK, "PUT", "/admin/v1/products/p1/status", `{"status":"DELISTED","reason":"test"}`)
	if p.get("status").String() != "DELISTED" {
		t.Fatalf("set status: %s", p.body)
	}
	refused := w.must(http.StatusConflict, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1"}`)
	if refused.get("error.code").String() != "conflict" {
		t.Errorf("buying a delisted product: %s", refused.body)
	}
	ns := w.must(http.StatusOK, "GET", "/admin/v1/notices?productId=p1", "")
	if ns.get("notices.#").Int() != 1 || ns.get("notices.0.kind").String() != "PRODUCT_STATUS" {
		t.Errorf("delisting should raise one product notice: %s", ns.body)
	}
	w.must(http.StatusOK, "PUT", "/admin/v1/products/p1/status", `{"status":"ON_SALE"}`)
	w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1"}`)
	if n := w.must(http.StatusOK, "GET", "/admin/v1/notices?productId=p1", "").get("notices.#").Int(); n != 1 {
		t.Errorf("relisting raised a notice: %d notices", n)
	}

	// A product read from the API can be put back as it is: the masked key
	// and the status it has keep what is stored.
	got := w.must(http.StatusOK, "GET", "/admin/v1/products/p1", "")
	w.must(http.StatusOK, "PUT", "/admin/v1/products/p1", string(got.body))
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
	if got := w.merchant.Activities(); !slices.Equal(got, []string{"newInstance"}) {
		t.Errorf("after putting the product back, the merchant received %v (a lost key fails the signature)", got)
	}
	if n := w.must(http.StatusOK, "GET", "/admin/v1/products", "").get("products.#").Int(); n != 1 {
		t.Errorf("%d products listed, want 1", n)
	}
}

// TestAccessKeyNeverShown runs against a merchant that echoes the key in
// its answers and makes it its instanceId: every answer is checked by
// call, and the log too.
func TestAccessKeyNeverShown(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.echo()
	w.catalogue()
	o := w.active()
	key := o.Get("instanceKey").String()
	inst := w.must(http.StatusOK, "GET", "/admin/v1/instances/"+key, "")
	if inst.get("instanceId").String() != "<accessKey>" {
		t.Errorf("an instanceId equal to the key should show as <accessKey>: %s", inst.body)
	}
	for _, path := range []string{
		"/admin/v1/products", "/admin/v1/products/p1", "/admin/v1/customers", "/admin/v1/orders", "/admin/v1/instances",
		"/admin/v1/messages", "/admin/v1/notices", "/admin/v1/orders/" + o.Get("orderId").String(),
	} {
		w.must(http.StatusOK, "GET", path, "")
	}
	ms := w.must(http.StatusOK, "GET", "/admin/v1/messages", "")
	m := w.must(http.StatusOK, "GET", "/admin/v1/messages/"+ms.get("messages.0.messageId").String(), "")
	if got := m.get("attempts.0.response.body").String(); !strings.Contains(got, "your key is <accessKey>") {
		t.Errorf("the echoed answer should show with the key replaced: %q", got)
	}
	w.call("PUT", "/admin/v1/products/p1", w.productJSON("p1", `,"chargingMode":"NOPE"`))
	if strings.Contains(w.logs.String(), accessKey) {
		t.Errorf("the log holds the access key:\n%s", w.logs.String())
	}
	if !strings.Contains(w.logs.String(), "route=/admin/v1/instances/{key}") {
		t.Errorf("the access log should name routes by template:\n%s", w.logs.String())
	}
}

func TestAdvanceARealClockIsAConflict(t *testing.T) {
	w := newWorld(t, schedule.Wall{})
	a := w.must(http.StatusConflict, "POST", "/admin/v1/clock/advance", `{"by":"1h"}`)
	if a.get("error.code").String() != "conflict" || a.get("error.field").String() != "clock" {
		t.Errorf("advancing a real clock: %s", a.body)
	}
	if c := w.must(http.StatusOK, "GET", "/admin/v1/clock", ""); c.get("virtual").Bool() {
		t.Errorf("a real clock reported as virtual: %s", c.body)
	}
}

func TestHealthz(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	if a := w.must(http.StatusOK, "GET", "/healthz", ""); string(a.body) != "ok\n" {
		t.Errorf("healthz = %q", a.body)
	}
	w.store.Close()
	w.must(http.StatusServiceUnavailable, "GET", "/healthz", "")
}

func TestBadInput(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	key := w.active().Get("instanceKey").String()
	huge := `{"customerId":"c2","customerName":"` + strings.Repeat("x", MaxBody) + `"}`
	tests := []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"malformed JSON", "POST", "/admin/v1/orders", `{"productId":`, 400, "invalid", ""},
		{"not JSON", "POST", "/admin/v1/orders", `productId=p1`, 400, "invalid", ""},
		{"an array, not an object", "POST", "/admin/v1/orders", `[]`, 400, "invalid", ""},
		{"trailing data", "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1"} {}`, 400, "invalid", ""},
		{"empty body", "POST", "/admin/v1/orders", ``, 400, "invalid", ""},
		{"unknown field", "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","periods":2}`, 400, "invalid", "periods"},
		{"wrong type", "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","periodNumber":"two"}`, 400, "invalid", "periodNumber"},
		{"fraction for an integer", "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","periodNumber":1.5}`, 400, "invalid", "periodNumber"},
		{"amount as a number", "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","amount":12.5}`, 400, "invalid", "amount"},
		{"missing productId", "POST", "/admin/v1/orders", `{"customerId":"c1"}`, 400, "invalid", "productId"},
		{"missing customerId", "POST", "/admin/v1/orders", `{"productId":"p1"}`, 400, "invalid", "customerId"},
		{"unknown product", "POST", "/admin/v1/orders", `{"productId":"p9","customerId":"c1"}`, 404, "not_found", "productId"},
		{"body over 1 MiB", "POST", "/admin/v1/customers", huge, 413, "invalid", ""},
		{"customer without a name", "POST", "/admin/v1/customers", `{"customerId":"c2"}`, 400, "invalid", "customerName"},
		{"customer exists", "POST", "/admin/v1/customers", `{"customerId":"c1","customerName":"Again"}`, 409, "conflict", "customerId"},
		{"product id differs from the path", "PUT", "/admin/v1/products/p1", w.productJSON("p2", `,"productId":"p2"`), 400, "invalid", "productId"},
		{"product fails validation", "PUT", "/admin/v1/products/p3", w.productJSON("p3", `,"chargingMode":"FREE"`), 400, "invalid", "chargingMode"},
		{"new product without a key", "PUT", "/admin/v1/products/p3", strings.Replace(w.productJSON("p3", ""), accessKey, "", 1), 400, "invalid", "accessKey"},
		{"another product's masked key", "PUT", "/admin/v1/products/p3", strings.Replace(w.productJSON("p3", ""), accessKey, "****xy", 1), 400, "invalid", "accessKey"},
		{"status changed by PUT", "PUT", "/admin/v1/products/p1", w.productJSON("p1", `,"status":"DELISTED"`), 400, "invalid", "status"},
		{"unknown status", "PUT", "/admin/v1/products/p1/status", `{"status":"GONE"}`, 400, "invalid", "status"},
		{"status of no product", "PUT", "/admin/v1/products/p9/status", `{"status":"DELISTED"}`, 404, "not_found", "productId"},
		{"dial test without cases", "POST", "/admin/v1/products/p1/dial-tests", ``, 400, "invalid", "debugCases"},
		{"bad duration", "POST", "/admin/v1/clock/advance", `{"by":"soon"}`, 400, "invalid", "by"},
		{"negative duration", "POST", "/admin/v1/clock/advance", `{"by":"-1h"}`, 400, "invalid", "by"},
		{"neither by nor to", "POST", "/admin/v1/clock/advance", `{}`, 400, "invalid", "by"},
		{"both by and to", "POST", "/admin/v1/clock/advance", `{"by":"1h","to":"2030-01-01T00:00:00Z"}`, 400, "invalid", "by"},
		{"bad time", "POST", "/admin/v1/clock/advance", `{"to":"tomorrow"}`, 400, "invalid", "to"},
		{"too far", "POST", "/admin/v1/clock/advance", `{"by":"3661d"}`, 400, "invalid", "by"},
		{"too far a time", "POST", "/admin/v1/clock/advance", `{"to":"2099-01-01T00:00:00Z"}`, 400, "invalid", "to"},
		{"time in the past", "POST", "/admin/v1/clock/advance", `{"to":"2020-01-01T00:00:00Z"}`, 400, "invalid", "to"},
		{"limit zero", "GET", "/admin/v1/messages?limit=0", ``, 400, "invalid", "limit"},
		{"limit not a number", "GET", "/admin/v1/orders?limit=ten", ``, 400, "invalid", "limit"},
		{"limit over the maximum", "GET", "/admin/v1/instances?limit=1001", ``, 400, "invalid", "limit"},
		{"unknown filter", "GET", "/admin/v1/orders?productID=p1", ``, 400, "invalid", "productID"},
		{"repeated filter", "GET", "/admin/v1/orders?state=COMPLETED&state=PROCESSING", ``, 400, "invalid", "state"},
		{"unknown order state", "GET", "/admin/v1/orders?state=DONE", ``, 400, "invalid", "state"},
		{"unknown instance state", "GET", "/admin/v1/instances?state=ALIVE", ``, 400, "invalid", "state"},
		{"unknown outcome", "GET", "/admin/v1/messages?outcome=OK", ``, 400, "invalid", "outcome"},
		{"unknown kind", "GET", "/admin/v1/messages?kind=EMAIL", ``, 400, "invalid", "kind"},
		{"bad time filter", "GET", "/admin/v1/orders?settledSince=yesterday", ``, 400, "invalid", "settledSince"},
		{"bad boolean", "GET", "/admin/v1/notices?unmailed=maybe", ``, 400, "invalid", "unmailed"},
		{"filter where there are none", "GET", "/admin/v1/products?limit=5", ``, 400, "invalid", "limit"},
		{"no such order", "GET", "/admin/v1/orders/CS000", ``, 404, "not_found", "orderId"},
		{"no such message", "POST", "/admin/v1/messages/m000/restart", ``, 404, "not_found", "message"},
		{"no such instance", "POST", "/admin/v1/instances/nope/freeze", ``, 404, "not_found", "instanceKey"},
		{"body on an action without one", "POST", "/admin/v1/instances/" + key + "/freeze", `{"reason":"x"}`, 400, "invalid", "reason"},
		{"upgrade takes no periodNumber", "POST", "/admin/v1/instances/" + key + "/upgrade", `{"periodNumber":2}`, 400, "invalid", "periodNumber"},
		{"unknown action", "POST", "/admin/v1/instances/" + key + "/explode", ``, 404, "not_found", ""},
		{"unknown route", "GET", "/admin/v1/widgets", ``, 404, "not_found", ""},
		{"outside the API", "GET", "/index.html", ``, 404, "not_found", ""},
		{"wrong method", "DELETE", "/admin/v1/products/p1", ``, 405, "method_not_allowed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := w.call(tt.method, tt.path, tt.body)
			if a.status != tt.status {
				t.Fatalf("%s %s = %d, want %d:\n%s", tt.method, tt.path, a.status, tt.status, a.body)
			}
			if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			if got := a.get("error.code").String(); got != tt.code {
				t.Errorf("code %q, want %q: %s", got, tt.code, a.body)
			}
			if got := a.get("error.field").String(); got != tt.field {
				t.Errorf("field %q, want %q: %s", got, tt.field, a.body)
			}
			if a.get("error.message").String() == "" {
				t.Errorf("no message: %s", a.body)
			}
		})
	}
	if a := w.call("DELETE", "/admin/v1/products/p1", ""); a.header.Get("Allow") != "GET, PUT" {
		t.Errorf("405 Allow = %q, want GET, PUT", a.header.Get("Allow"))
	}
	// Nothing refused changed anything.
	if n := w.must(http.StatusOK, "GET", "/admin/v1/orders", "").get("orders.#").Int(); n != 1 {
		t.Errorf("%d orders after the refusals, want the 1 bought", n)
	}
	if c := w.must(http.StatusOK, "GET", "/admin/v1/clock", "").get("now").Time(); !c.Equal(t0.Add(time.Minute)) {
		t.Errorf("the clock moved to %s during the refusals", c)
	}
}
