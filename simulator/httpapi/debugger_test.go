package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// The debugger fills the form in, sends one call with testFlag "1" to the
// product's URL, shows it as sent with its verdict, saves it, and the
// dial test then replays the saved case.
func TestDebuggerSendsSavesAndTheDialTestReplays(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	d := w.must(http.StatusOK, "GET", "/admin/v1/products/p1/debugger", "")
	if got := d.get("activities|@ugly").Raw; !strings.HasPrefix(got, `["newInstance","queryInstance","refreshInstance"`) || d.get("licenseRule").Exists() {
		t.Fatalf("debugger = %s", d.body)
	}
	form := w.must(http.StatusOK, "GET", "/admin/v1/products/p1/debugger/newInstance", "")
	params := form.get("params")
	for _, name := range []string{"orderId", "orderLineId", "businessId"} {
		if params.Get(name).String() == "" {
			t.Errorf("the form lacks %s: %s", name, form.body)
		}
	}
	if params.Get("activity").Exists() || params.Get("testFlag").Exists() || form.get("testFlag").String() != "1" {
		t.Errorf("the form's params carry what the debugger sets, or testFlag is not 1: %s", form.body)
	}

	sent := w.must(http.StatusCreated, "POST", "/admin/v1/products/p1/debugger",
		`{"activity":"newInstance","params":`+params.Raw+`,"save":true}`)
	at := sent.get("attempt")
	if at.Get("verdict").String() != "SUCCESS" || !sent.get("saved").Bool() || sent.get("caseIndex").Int() != 0 {
		t.Fatalf("sent = %s", sent.body)
	}
	if u := at.Get("request.fullUrl").String(); !strings.HasPrefix(u, w.mURL+"/produce?") {
		t.Errorf("sent to %s, want the product's URL %s/produce", u, w.mURL)
	}
	body := gjson.Parse(at.Get("request.body").String())
	if body.Get("testFlag").String() != "1" || body.Get("activity").String() != "newInstance" || body.Get("orderId").String() != params.Get("orderId").String() {
		t.Errorf("the request's body = %s", body.Raw)
	}
	if sent.get("message.kind").String() != "DEBUG" || sent.get("debugger.debugCases.#").Int() != 1 {
		t.Errorf("sent = %s", sent.body)
	}
	if got := w.merchant.Activities(); !slices.Equal(got, []string{"newInstance"}) {
		t.Fatalf("the merchant got %v, want one newInstance", got)
	}
	// The merchant's instanceId fills the next forms in.
	refresh := w.must(http.StatusOK, "GET", "/admin/v1/products/p1/debugger/refreshInstance", "")
	if got, want := refresh.get("params.instanceId").String(), "ins-"+params.Get("orderId").String(); got != want {
		t.Errorf("refreshInstance's instanceId = %q, want %q, the answer to the saved purchase", got, want)
	}

	w.must(http.StatusCreated, "POST", "/admin/v1/products/p1/dial-tests", "")
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
	probes := w.must(http.StatusOK, "GET", "/admin/v1/messages?kind=DIAL_TEST", "")
	probe := probes.get("messages.0.params")
	if probes.get("messages.#").Int() != 1 || probe.Get("orderId").String() != params.Get("orderId").String() || probe.Get("testFlag").String() != "1" {
		t.Fatalf("dial-test probes = %s", probes.body)
	}
	if got := w.merchant.Activities(); !slices.Equal(got, []string{"newInstance", "newInstance"}) {
		t.Errorf("the merchant got %v, want the debugger's call and the dial test's", got)
	}
}

// A call that fails shows the verdict with the debugger's message and is
// not saved: the dial tests would replay a failure.
func TestDebuggerFailedCallIsShownNotSaved(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	w.merchant.Down(true)
	sent := w.must(http.StatusCreated, "POST", "/admin/v1/products/p1/debugger", `{"activity":"queryInstance","params":{"instanceId":"i-1"},"save":true}`)
	if sent.get("attempt.verdict").String() != "HTTP_STATUS" || sent.get("attempt.debuggerMessage").String() != "调测失败,接口响应httpCode=503,请检查服务器日志,定位失败原因." {
		t.Errorf("attempt = %s", sent.get("attempt").Raw)
	}
	if sent.get("saved").Bool() || !strings.Contains(sent.get("notSaved").String(), "HTTP_STATUS") {
		t.Errorf("a failed call: saved %v, notSaved %q", sent.get("saved").Bool(), sent.get("notSaved").String())
	}
	if n := w.must(http.StatusOK, "GET", "/admin/v1/products/p1", "").get("debugCases.#").Int(); n != 0 {
		t.Errorf("the product has %d debug cases after a failed call", n)
	}
}

// Bad input is refused naming the field, and nothing is sent or changed.
func TestDebuggerRefusesBadInput(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	for _, c := range []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"no activity", "p1", `{"params":{}}`, 400, "activity"},
		{"a V1 activity", "p1", `{"activity":"expireInstance","params":{}}`, 400, "activity"},
		{"params not an object", "p1", `{"activity":"queryInstance","params":["i-1"]}`, 400, "params"},
		{"params a string", "p1", `{"activity":"queryInstance","params":"instanceId=i-1"}`, 400, "params"},
		{"testFlag 0", "p1", `{"activity":"queryInstance","params":{"testFlag":"0"}}`, 400, "params"},
		{"another activity", "p1", `{"activity":"queryInstance","params":{"activity":"newInstance"}}`, 400, "params"},
		{"a URL of one's own", "p1", `{"activity":"queryInstance","params":{},"url":"http://127.0.0.1:1/"}`, 400, "url"},
		{"unknown product", "nope", `{"activity":"queryInstance","params":{}}`, 404, "productId"},
	} {
		a := w.call("POST", "/admin/v1/products/"+c.path+"/debugger", c.body)
		if a.status != c.status || a.get("error.field").String() != c.field && c.status == 400 {
			t.Errorf("%s: %d %s, want %d naming %s", c.name, a.status, a.body, c.status, c.field)
		}
	}
	w.must(http.StatusBadRequest, "GET", "/admin/v1/products/p1/debugger/getLicenseAsync", "")
	w.must(http.StatusBadRequest, "DELETE", "/admin/v1/products/p1/debug-cases/x", "")
	w.must(http.StatusNotFound, "DELETE", "/admin/v1/products/p1/debug-cases/0", "")
	if got := w.merchant.Activities(); len(got) != 0 {
		t.Errorf("refused calls reached the merchant: %v", got)
	}
	if n := w.must(http.StatusOK, "GET", "/admin/v1/messages?kind=DEBUG", "").get("messages.#").Int(); n != 0 {
		t.Errorf("refused calls left %d messages", n)
	}
}

// An Online License product keeps five debug cases, the last two
// releaseInstance and getLicenseAsync (callbacks.md §1).
func TestDebuggerLicenseFiveCases(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/lic", w.productJSON("lic", `,"license":true`))
	save := func(activity string, want int) answer {
		t.Helper()
		a := w.call("POST", "/admin/v1/products/lic/debugger", `{"activity":"`+activity+`","params":{"instanceId":"i-1"},"save":true}`)
		if a.status != want {
			t.Fatalf("saving %s = %d %s, want %d", activity, a.status, a.body, want)
		}
		return a
	}
	save("getLicenseAsync", 400)
	save("releaseInstance", 400)
	for _, activity := range []string{"newInstance", "queryInstance", "refreshInstance"} {
		save(activity, 201)
	}
	if r := w.must(http.StatusOK, "GET", "/admin/v1/products/lic/debugger", "").get("licenseRule"); r.Get("saved").Int() != 3 || r.Get("next").String() != "releaseInstance" {
		t.Errorf("licenseRule = %s", r.Raw)
	}
	if a := save("getLicenseAsync", 400); !strings.Contains(a.get("error.message").String(), "must be releaseInstance") {
		t.Errorf("refusal = %s", a.body)
	}
	save("releaseInstance", 201)
	save("updateInstanceStatus", 400)
	save("getLicenseAsync", 201)
	save("queryInstance", 409)
	// Without saving, any activity may still be sent.
	w.must(http.StatusCreated, "POST", "/admin/v1/products/lic/debugger", `{"activity":"updateInstanceStatus","params":{"instanceId":"i-1","status":"FREEZE"}}`)
	cases := w.must(http.StatusOK, "DELETE", "/admin/v1/products/lic/debug-cases/4", "").get("debugCases.#.activity|@ugly").Raw
	if cases != `["newInstance","queryInstance","refreshInstance","releaseInstance"]` {
		t.Errorf("cases after deleting the fifth = %s", cases)
	}
	if n := len(w.merchant.Activities()); n != 6 {
		t.Errorf("the merchant got %d calls, want 6: refusals send nothing", n)
	}
}

// A call sent without params carries the form's, as the page sends the
// form untouched: every member its row of the activity table marks
// mandatory, and the instanceId the merchant answered the latest passing
// debugger purchase with.
func TestDebuggerFillsLeftOutParamsFromTheForm(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	// Before a debugger purchase there is no instanceId to fill in: the
	// form's placeholder is not sent.
	a := w.call("POST", "/admin/v1/products/p1/debugger", `{"activity":"queryInstance"}`)
	if a.status != http.StatusConflict || !strings.Contains(a.get("error.message").String(), "send newInstance first") {
		t.Errorf("queryInstance without params before any purchase: %d %s, want 409 saying to send newInstance first", a.status, a.body)
	}
	if got := w.merchant.Activities(); len(got) != 0 {
		t.Errorf("a refused call reached the merchant: %v", got)
	}
	var purchase gjson.Result
	for _, c := range []struct{ activity, body string }{
		{"newInstance", `{"activity":"newInstance"}`},
		{"refreshInstance", `{"activity":"refreshInstance","params":null}`},
	} {
		sent := w.must(http.StatusCreated, "POST", "/admin/v1/products/p1/debugger", c.body)
		body := gjson.Parse(sent.get("attempt.request.body").String())
		spec, _ := activity.Lookup(simulator.V2, c.activity)
		for _, member := range spec.Request {
			if !body.Get(member).Exists() {
				t.Errorf("%s sent without params: no %s (%s) in %s", c.activity, member, spec.Section, body.Raw)
			}
		}
		if body.Get("activity").String() != c.activity || body.Get("testFlag").String() != "1" {
			t.Errorf("%s sent without params: %s", c.activity, body.Raw)
		}
		if c.activity == "newInstance" {
			purchase = body
		} else if got, want := body.Get("instanceId").String(), "ins-"+purchase.Get("orderId").String(); got != want {
			t.Errorf("refreshInstance's instanceId = %q, want %q, the answer to the purchase", got, want)
		}
	}
	// Params given, even empty, are the caller's and go as given.
	sent := w.must(http.StatusCreated, "POST", "/admin/v1/products/p1/debugger", `{"activity":"queryInstance","params":{}}`)
	if body := sent.get("attempt.request.body").String(); body != `{"activity":"queryInstance","testFlag":"1"}` {
		t.Errorf("queryInstance with empty params sent %s", body)
	}
}

// A product without periods is sent no refreshInstance: the debugger
// neither offers nor sends one, and says why (callbacks.md §2.1, §5.10).
func TestDebuggerRefusesRefreshForAOneTimeProduct(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/once", `{"skuCode":"once-basic","name":"Test once","chargingMode":"ONE_TIME",`+
		`"url":"`+w.mURL+`/produce","protocol":"v2","accessKey":"`+accessKey+`","dialTests":false}`)
	if got := w.must(http.StatusOK, "GET", "/admin/v1/products/once/debugger", "").get("activities|@ugly").Raw; strings.Contains(got, "refreshInstance") {
		t.Errorf("the debugger offers %s for a ONE_TIME product", got)
	}
	for _, a := range []answer{
		w.call("GET", "/admin/v1/products/once/debugger/refreshInstance", ""),
		w.call("POST", "/admin/v1/products/once/debugger", `{"activity":"refreshInstance","params":{"instanceId":"i-1","expireTime":"20250401000000"}}`),
		w.call("POST", "/admin/v1/products/once/debugger", `{"activity":"refreshInstance"}`),
	} {
		if msg := a.get("error.message").String(); a.status != http.StatusBadRequest || a.get("error.field").String() != "activity" || !strings.Contains(msg, "ONE_TIME") || !strings.Contains(msg, "PERIOD") {
			t.Errorf("refreshInstance for a ONE_TIME product: %d %s, want 400 naming the activity and why", a.status, a.body)
		}
	}
	if got := w.merchant.Activities(); len(got) != 0 {
		t.Errorf("refused calls reached the merchant: %v", got)
	}
}
