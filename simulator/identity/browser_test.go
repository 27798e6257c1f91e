package identity

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tidwall/gjson"
	"golang.org/x/oauth2"

	"github.com/kgsim/kgsim/simulator/browsertest"
)

// merchantApp is a merchant's web app as the marketplace's login sequence
// describes it: its login button goes to /authorize with a state of its
// own, its callback checks the state, exchanges the code and reads
// userinfo server to server with golang.org/x/oauth2, and its logout goes
// through kgsim's.
type merchantApp struct {
	w     *world
	mu    sync.Mutex
	state string
	log   []string // what the callback saw, for failure messages
}

func (m *merchantApp) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w := m.w
	conf := w.oauthConfig(oauth2.AuthStyleInParams)
	page := func(body string) {
		rw.Header().Set("Content-Type", "text/html;charset=UTF-8")
		fmt.Fprintf(rw, "<!DOCTYPE html><html><head><title>Acme CRM</title></head><body>%s</body></html>", body)
	}
	switch r.URL.Path {
	case "/login":
		m.mu.Lock()
		m.state = fmt.Sprintf("st%d", time.Now().UnixNano())
		state := m.state
		m.mu.Unlock()
		http.Redirect(rw, r, conf.AuthCodeURL(state), http.StatusFound)
	case "/oauth/callback":
		q := r.URL.Query()
		m.mu.Lock()
		m.log = append(m.log, r.URL.RawQuery)
		wantState := m.state
		m.mu.Unlock()
		// The unified page's own address carries no state (identity.md
		// §2.2); a login the app started must come back with its own.
		if q.Has("state") && q.Get("state") != wantState {
			http.Error(rw, "state mismatch", http.StatusForbidden)
			return
		}
		tok, err := conf.Exchange(r.Context(), q.Get("code"))
		if err != nil {
			http.Error(rw, "exchange: "+err.Error(), http.StatusBadGateway)
			return
		}
		res, err := conf.Client(r.Context(), tok).Get(w.domain(acmeCode) + "/api/v1/oauth2/userinfo")
		if err != nil {
			http.Error(rw, "userinfo: "+err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		page(fmt.Sprintf(`<h1 id="welcome">欢迎，%s</h1><p id="tenant">%s</p><p id="state">%s</p><a id="logout" href="/logout">退出</a>`,
			html.EscapeString(gjson.GetBytes(body, "name").String()), html.EscapeString(q.Get("tenant")), html.EscapeString(q.Get("state"))))
	case "/logout":
		http.Redirect(rw, r, w.domain(acmeCode)+"/api/v1/logout?redirect_url="+url.QueryEscape(w.merchant.URL+"/bye"), http.StatusFound)
	case "/bye":
		page(`<h1 id="bye">已退出 Acme CRM</h1>`)
	default:
		http.NotFound(rw, r)
	}
}

// A real browser through the login page: the app's login button, the
// form, the callback with code, tenant and state, the app's welcome page,
// logout, and the form again; then the unified page by its real address
// with its parameters in the fragment, a wrong password shown on the
// page, and the right one.
func TestBrowserLogin(t *testing.T) {
	ctx := browsertest.Tab(t, 90*time.Second, chromedp.WindowSize(1280, 800), chromedp.Flag("lang", "zh-CN"))
	w := newWorld(t)
	app := &merchantApp{w: w}
	w.merchantHandler = app

	// do runs a step's actions; value reads one thing from the page.
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			at, _ := chromedp.Run(ctx, chromedp.Location())
			app.mu.Lock()
			defer app.mu.Unlock()
			t.Fatalf("%s: %v (browser at %s; callbacks %v)", step, err, at, app.log)
		}
	}
	value := func(a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	do("the app's login button leads to the login page",
		chromedp.Navigate(w.merchant.URL+"/login"),
		chromedp.WaitVisible(id("login-form")),
	)
	if at := value(chromedp.Location()); !strings.Contains(at, "/unified-login/?flow=") || !strings.Contains(at, "#/portal-login?ind=UNOP&appId="+appID) {
		t.Errorf("login page at %s, want the unified page with its fragment", at)
	}
	if name := value(chromedp.Text(id("app-name"))); name != crmName {
		t.Errorf("the page logs in to %q, want %q", name, crmName)
	}
	screenshot(t, ctx, "login-page.png")

	do("logging in sends the browser to the app's callback",
		chromedp.SendKeys(id("username"), "zhangsan"),
		chromedp.SendKeys(id("password"), password),
		chromedp.Click(id("login-submit")),
		chromedp.WaitVisible(id("welcome")),
	)
	if welcome := value(chromedp.Text(id("welcome"))); welcome != "欢迎，张三" {
		t.Errorf("the app's page says %q, want 欢迎，张三", welcome)
	}
	location := value(chromedp.Location())
	callback, _ := url.Parse(location)
	app.mu.Lock()
	wantState := app.state
	app.mu.Unlock()
	if q := callback.Query(); q.Get("tenant") != acmeID || q.Get("state") != wantState || !codeShape.MatchString(q.Get("code")) {
		t.Errorf("callback %s, want code, tenant %s and state %s", location, acmeID, wantState)
	}

	do("logout goes through kgsim back to the app",
		chromedp.Click(id("logout")),
		chromedp.WaitVisible(id("bye")),
	)
	do("after logout the app's login button shows the form again",
		chromedp.Navigate(w.merchant.URL+"/login"),
		chromedp.WaitVisible(id("login-form")),
	)

	do("the unified page's real address: the script reads the fragment",
		chromedp.Navigate(w.kgsim.URL+"/unified-login/#/portal-login?ind=UNOP&appId="+appID),
		chromedp.WaitVisible(id("login-form")),
	)
	if at := value(chromedp.Location()); !strings.HasSuffix(at, "#/portal-login?ind=UNOP&appId="+appID) {
		t.Errorf("the page moved to %s, want its fragment kept", at)
	}
	do("a wrong password is shown on the page",
		chromedp.SendKeys(id("username"), "zhangsan"),
		chromedp.SendKeys(id("password"), "not-the-password"),
		chromedp.Click(id("login-submit")),
		chromedp.WaitVisible(id("login-error")),
	)
	if text := value(chromedp.Text(id("login-error"))); !strings.Contains(text, "账号或密码错误") {
		t.Errorf("wrong password shows %q, want 账号或密码错误", text)
	}
	screenshot(t, ctx, "login-error.png")
	// The page shown again keeps the user name and an empty password.
	if name := value(chromedp.Value(id("username"))); name != "zhangsan" {
		t.Errorf("user name field %q after the error, want zhangsan", name)
	}
	do("the right password then logs in",
		chromedp.SendKeys(id("password"), password),
		chromedp.Click(id("login-submit")),
		chromedp.WaitVisible(id("welcome")),
	)
	if tenant, at := value(chromedp.Text(id("tenant"))), value(chromedp.Location()); tenant != acmeID || strings.Contains(at, "state=") {
		t.Errorf("callback %s shows tenant %q, want %s and no state", at, tenant, acmeID)
	}

	do("an unknown appId shows an error and stays",
		chromedp.Navigate(w.kgsim.URL+"/unified-login/#/portal-login?ind=UNOP&appId=APP-NOSUCH"),
		chromedp.WaitVisible(id("login-error")),
	)
	if text := value(chromedp.Text(id("login-error"))); !strings.Contains(text, "APP-NOSUCH") {
		t.Errorf("unknown appId shows %q", text)
	}
}

// screenshot saves the page to KGSIM_SCREENSHOTS, when set, for a person
// to look at.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("KGSIM_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}
