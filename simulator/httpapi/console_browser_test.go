package httpapi

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kgsim/kgsim/simulator/browsertest"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// screenshotsEnv names a directory to keep the console's screenshots in
// (the README's come from docs/console); without it they go to a
// temporary one.
const screenshotsEnv = "KGSIM_SCREENSHOTS"

// tab is a browser tab on the console, with the steps a test takes in it.
type tab struct {
	t     *testing.T
	w     *world
	ctx   context.Context
	shots string
}

func (tb *tab) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		at, _ := chromedp.Run(tb.ctx, chromedp.Location())
		body, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		tb.t.Fatalf("%s (at %s): %v\n%s", step, at, err, body)
	}
}

func (tb *tab) text() string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}

func (tb *tab) location() string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}

// open navigates to a console page and waits for its main part.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do("open "+path, chromedp.Navigate(tb.w.api.URL+path), chromedp.WaitVisible(chromedp.ID("main")))
}

// submit clicks a form's button and waits for the page it leads to.
func (tb *tab) submit(button string, wait string) {
	tb.t.Helper()
	tb.do("click "+button, chromedp.Click(chromedp.ID(button)), chromedp.WaitVisible(chromedp.ID(wait)))
}

// shot takes a screenshot of the page as it stands, checks that it is no
// blank image and that the page says each of want, and keeps it as
// name.png.
func (tb *tab) shot(name string, want ...string) {
	tb.t.Helper()
	txt := tb.text()
	for _, w := range want {
		if !strings.Contains(txt, w) {
			tb.t.Errorf("%s: the page does not say %q:\n%s", name, w, txt)
		}
	}
	raw, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("%s: screenshot: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		tb.t.Fatalf("%s: the screenshot is no PNG: %v", name, err)
	}
	if n := colours(img); n < 16 {
		tb.t.Errorf("%s: the screenshot has %d colours: a blank page", name, n)
	}
	if err := os.WriteFile(filepath.Join(tb.shots, name+".png"), raw, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// newTab opens a Chromium tab on w's console, 1280 pixels wide and height
// high, asking for Chinese; its screenshots go to $KGSIM_SCREENSHOTS, or
// a temporary directory.
func newTab(t *testing.T, w *world, height int) *tab {
	t.Helper()
	shots := os.Getenv(screenshotsEnv)
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &tab{t: t, w: w, shots: shots,
		ctx: browsertest.Tab(t, 3*time.Minute, chromedp.WindowSize(1280, height), chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"))}
}

// colours counts the distinct colours of img, up to 1000.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= 1000 {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// TestConsoleInABrowser reproduces a failed-callback e-mail in the
// console, in Chromium: a purchase to a merchant that is down, the failed
// attempt and its 异常信息 in the list (which updates by itself), the
// clock advanced 2 hours, the merchant back up, 重新启动, the order
// completed, the notice opened from the mailbox. Each page is
// photographed and checked.
func TestConsoleInABrowser(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/trial", w.productJSON("trial", `,"trial":true,"name":"CRM 试用版"`))
	tb := newTab(t, w, 860)
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	tb.open("/console/products")
	tb.shot("products", "商品", "Test p1", "在售", "****")

	w.merchant.Down(true)
	tb.open("/console/orders?buy=p1")
	tb.do("fill in the purchase",
		chromedp.SetValue(id("buy-periodNumber"), "1"),
		chromedp.SetValue(id("buy-amount"), "120.5"),
	)
	tb.submit("buy-submit", "flash")
	if !regexp.MustCompile(`/console/orders/CS[0-9A-Z]+\?ok=bought$`).MatchString(tb.location()) {
		t.Fatalf("after the purchase the browser is at %s", tb.location())
	}
	order := strings.TrimSuffix(strings.TrimPrefix(tb.location(), w.api.URL), "?ok=bought")

	// The list shows the pending purchase and, without a reload, its
	// first attempt once it is made.
	tb.open("/console/messages")
	tb.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`))
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`)
	tb.do("wait for the failed attempt to show",
		chromedp.Poll[chromedp.Void](`document.querySelector("#message-table").innerText.includes("调测失败,接口响应httpCode=503")`, chromedp.WithPollingTimeout(20*time.Second)))
	if same, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`window.sameDocument === true`)); !same {
		t.Error("the list was reloaded instead of updated in place")
	}
	if via, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.body.dataset.liveVia || ""`)); via != "events" {
		t.Errorf("the list learnt of the attempt by %q, want the server's events", via)
	}
	tb.shot("messages", "生产接口消息", "newInstance", "重试中", "调测失败,接口响应httpCode=503", "重新启动")

	tb.open("/console/clock")
	tb.do("advance 2 hours", chromedp.SendKeys(id("advance-by"), "2h"))
	tb.submit("advance-submit", "fell-due")
	tb.shot("clock", "时钟已拨动", "本次到期执行的内容", "2025-03-01 10:01:00")

	tb.open("/console/")
	tb.shot("overview", "概览", "待投递消息", "需要处理的消息", "调测失败,接口响应httpCode=503", "Test p1", "虚拟时钟")
	tb.open("/console/messages?activity=newInstance")
	tb.do("open the message", chromedp.Click(`#message-table tbody a[href^="/console/messages/"]`), chromedp.WaitVisible(id("restart")))
	tb.shot("message", "第 3 次调用", "调测失败,接口响应httpCode=503", "HTTP 503", "签名输入", "<accessKey>")

	w.merchant.Down(false)
	tb.submit("restart", "flash")
	tb.shot("message-restarted", "已重新启动", "重新启动后成功", "第 4 次调用", "SUCCESS")

	tb.open(order)
	tb.shot("order", "已完成", "重新启动后成功")
	key := regexp.MustCompile(`CS[0-9A-Z]+-000001`).FindString(tb.text())
	tb.open("/console/instances/" + key)
	tb.shot("instance", "买家与运营操作", "续费", "冻结", "正常")

	tb.open("/console/notices")
	tb.shot("mailbox", "邮件通知", "调用失败")
	tb.do("open the first notice", chromedp.Click(`#notice-table tbody a`), chromedp.WaitVisible(id("mail-body")))
	tb.shot("notice", "ops@merchant.test", "call-record-", "kgsim replay --notice", "调用记录", "查看消息")
	tb.do("open its message", chromedp.Click(id("open-message")), chromedp.WaitVisible(id("restart-box")))

	w.must(http.StatusCreated, "POST", "/admin/v1/apps", w.appJSON())
	w.must(http.StatusCreated, "POST", "/admin/v1/users", `{"tenant":"acme","userName":"zhangsan","password":"pw-zhangsan-8c1f","name":"张三","role":"admin"}`)
	w.must(http.StatusCreated, "POST", "/admin/v1/tenants/acme/apps", `{"appId":"APP-1","instanceId":"inst-1","orderId":"CS1","userNames":["zhangsan"]}`)
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1s"}`)
	tb.open("/console/tenants/acme")
	tb.shot("tenant", "已绑定的应用", "APP-1", "张三")

	tb.open("/console/messages?lang=en")
	tb.shot("messages-en", "Production interface messages", "Succeeded after restart", "中文")
}
