package httpapi

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator/schedule"
)

var debugParams = regexp.MustCompile(`(?s)<textarea name="params"[^>]*>([^<]*)</textarea>\s*(?:<span class="ferr" role="alert">([^<]*)</span>)?`)

// paramsField is the debugger form's parameters and the error beside them.
func paramsField(t *testing.T, p page) (params, ferr string) {
	t.Helper()
	m := debugParams.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no parameters field:\n%s", text(p.body))
	}
	return html.UnescapeString(m[1]), html.UnescapeString(m[2])
}

// TestConsoleDebugger sends one call and saves it by plain form posts, as
// the seller center's 调试 page does, and refuses bad input beside the
// field with nothing sent.
func TestConsoleDebugger(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	b := newBrowser(w)

	form := b.get(http.StatusOK, "/console/debugger?product=p1&activity=newInstance")
	form.has(t, "接口调试", "newInstance", "testFlag", w.mURL+"/produce", "还没有调试用例")
	params, _ := paramsField(t, form)
	var filled map[string]any
	if err := json.Unmarshal([]byte(params), &filled); err != nil || filled["orderId"] == nil || filled["testFlag"] != nil {
		t.Fatalf("the form's parameters = %s (%v)", params, err)
	}

	// Bad parameters: the admin API's error beside the field, nothing sent.
	for _, bad := range []string{`{"instanceId":`, `["x"]`, `{"testFlag":"0"}`} {
		p := b.post(http.StatusBadRequest, "/console/debugger", url.Values{"product": {"p1"}, "activity": {"newInstance"}, "params": {bad}})
		got, ferr := paramsField(t, p)
		if got != bad || ferr == "" {
			t.Errorf("params %s: the form shows %q with error %q, want it back with the error", bad, got, ferr)
		}
	}
	if got := b.post(http.StatusBadRequest, "/console/debugger", url.Values{"product": {"p1"}, "activity": {"getLicenseAsync"}, "params": {"{}"}}); !strings.Contains(text(got.body), "getLicenseAsync") {
		t.Errorf("an activity the product lacks is not refused by name:\n%s", text(got.body))
	}
	b.post(http.StatusNotFound, "/console/debugger", url.Values{"product": {"nope"}, "activity": {"newInstance"}, "params": {"{}"}})
	if got := w.merchant.Activities(); len(got) != 0 {
		t.Fatalf("refused forms reached the merchant: %v", got)
	}

	saved := b.follow("/console/debugger", url.Values{"product": {"p1"}, "activity": {"newInstance"}, "params": {params}, "save": {"1"}})
	saved.has(t, "调测通过，已保存为调试用例", "SUCCESS", "调测成功", "signature=", "testFlag")
	if !strings.Contains(saved.body, `id="case-0"`) {
		t.Errorf("the saved case is not listed:\n%s", text(saved.body))
	}
	if again, _ := paramsField(t, saved); !strings.Contains(again, fmt.Sprint(filled["orderId"])) {
		t.Errorf("after the call the form holds %s, not what was sent", again)
	}
	if n := w.must(http.StatusOK, "GET", "/admin/v1/products/p1", "").get("debugCases.#").Int(); n != 1 {
		t.Errorf("the product has %d debug cases, want 1", n)
	}

	w.merchant.Down(true)
	failed := b.follow("/console/debugger", url.Values{"product": {"p1"}, "activity": {"queryInstance"}, "params": {`{"instanceId":"i-1"}`}, "save": {"1"}})
	failed.has(t, "调测未通过，未保存用例", "HTTP_STATUS", "调测失败,接口响应httpCode=503,请检查服务器日志,定位失败原因.", "maintenance")

	b.follow("/console/debugger/cases/delete", url.Values{"product": {"p1"}, "index": {"0"}}).has(t, "调试用例已删除", "还没有调试用例")
	b.post(http.StatusNotFound, "/console/debugger/cases/delete", url.Values{"product": {"p1"}, "index": {"0"}})

	forged := url.Values{"product": {"p1"}, "activity": {"queryInstance"}, "params": {`{"instanceId":"i-1"}`}, "csrf": {"forged"}}
	b.post(http.StatusForbidden, "/console/debugger", forged).has(t, "CSRF")
	if n := len(w.merchant.Activities()); n != 2 {
		t.Errorf("the merchant got %d calls, want the 2 sent from the page", n)
	}
}

// A merchant's answer and a product's name with markup are shown as text.
func TestConsoleDebuggerEscapes(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	const evil = `<script>alert(1)</script>`
	m := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(rw, `{"resultCode":"000001","resultMsg":%q}`, evil)
	}))
	t.Cleanup(m.Close)
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/p1", `{"skuCode":"p1-basic","name":"`+evil+`","chargingMode":"ONE_TIME",`+
		`"url":"`+m.URL+`/produce","protocol":"v2","accessKey":"`+accessKey+`","dialTests":false}`)
	b := newBrowser(w)
	b.get(http.StatusOK, "/console/debugger")
	p := b.follow("/console/debugger", url.Values{"product": {"p1"}, "activity": {"queryInstance"}, "params": {`{"instanceId":"` + evil + `"}`}})
	if strings.Contains(p.body, evil) {
		t.Error("the debugger shows stored markup as markup")
	}
	p.has(t, "RESULT_CODE", "调用失败,生产接口resultCode返回错误.", evil)
}
