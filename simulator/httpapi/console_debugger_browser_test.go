package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kgsim/kgsim/simulator/schedule"
)

// TestConsoleDebuggerInABrowser debugs a product in Chromium as the seller
// center's 调试 page is used: the product and activity picked, the
// parameters filled in and edited, one call sent and saved as a debug
// case, a failing call shown with the debugger's message; then the dial
// test replays the saved case. Each page is photographed and checked.
func TestConsoleDebuggerInABrowser(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/lic", w.productJSON("lic", `,"license":true,"name":"License 在线开通"`))
	tb := newTab(t, w, 1100)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	// From the License product's page (its five-case rule shown) to p1's,
	// which has none: that tells the pages apart.
	tb.open("/console/products/lic")
	tb.do("open the debugger", chromedp.Click(id("product-debug")), chromedp.WaitVisible(id("license-rule")))
	tb.do("pick p1 and newInstance",
		chromedp.SetValue(id("debug-product"), "p1"),
		chromedp.SetValue(id("debug-activity"), "newInstance"),
		chromedp.Click(id("debug-fill")),
		chromedp.WaitNotPresent(id("license-rule")),
		chromedp.WaitVisible(id("debug-params")))
	params, err := chromedp.Run(tb.ctx, chromedp.Value(id("debug-params")))
	if err != nil || !strings.Contains(params, `"orderId"`) || strings.Contains(params, "testFlag") {
		t.Fatalf("the form's parameters = %s (%v)", params, err)
	}
	// Edit a parameter as a merchant would: its own order ID.
	edited := strings.Replace(params, `"orderId": "`, `"orderId": "CSDEBUG`, 1)
	tb.do("edit the parameters", chromedp.SetValue(id("debug-params"), edited))
	tb.submit("debug-save", "call")
	tb.shot("debugger", "接口调试", "调测通过，已保存为调试用例", "SUCCESS", "调测成功", "CSDEBUG", "签名输入", "<accessKey>", "newInstance")
	if got := w.must(http.StatusOK, "GET", "/admin/v1/products/p1", "").get("debugCases.0.params.orderId").String(); !strings.HasPrefix(got, "CSDEBUG") {
		t.Errorf("the saved case's orderId = %q, want the edited one", got)
	}

	w.merchant.Down(true)
	tb.do("pick queryInstance", chromedp.SetValue(id("debug-activity"), "queryInstance"), chromedp.Click(id("debug-fill")),
		chromedp.WaitNotPresent(id("call")), chromedp.WaitVisible(id("debug-params")))
	tb.submit("debug-send", "call")
	tb.shot("debugger-failed", "HTTP_STATUS", "调测失败,接口响应httpCode=503,请检查服务器日志,定位失败原因.", "maintenance")
	w.merchant.Down(false)

	tb.open("/console/debugger?product=lic&activity=getLicenseAsync")
	tb.do("save getLicenseAsync first", chromedp.Click(id("debug-save")),
		chromedp.WaitVisible(`#debug-form .ferr`))
	tb.shot("debugger-license", "在线开通License商品需保存 5 个调试用例", "getLicenseAsync is one of its last two debug cases")

	tb.open("/console/products/p1")
	tb.do("run the dial test", chromedp.Click(`#dial-form button[type=submit]`), chromedp.WaitVisible(id("flash")))
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
	tb.open("/console/products/p1")
	tb.shot("product-dial", "拨测记录", "通过", "已保存的调试用例", "newInstance")
}
