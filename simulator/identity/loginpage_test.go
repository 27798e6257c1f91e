package identity

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator"
)

// The page's own problems: each shows its text and stays, without a
// redirect (identity.md §2.1).
func TestLoginPageParameters(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name, query string
		status      int
		text        string // in the page's error
		form        bool
	}{
		{"no parameters (the real address before its script runs)", "", 200, "ind=UNOP&appId={appId}", false},
		{"ind other than UNOP", "?ind=OTHER&appId=" + appID, 400, "ind must be UNOP", false},
		{"ind missing", "?appId=" + appID, 400, "ind must be UNOP", false},
		{"unknown appId", "?ind=UNOP&appId=APP-NOSUCH", 400, `No application has the appId "APP-NOSUCH"`, false},
		{"appId missing", "?ind=UNOP", 400, `No application has the appId ""`, false},
		{"altered flow", "?flow=eyJrIjoib2F1dGgifQ.AAAA", 400, "expired or was altered", false},
		{"good", "?ind=UNOP&appId=" + appID, 200, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, w.browser(), w.kgsim.URL+"/unified-login/"+tc.query)
			if r.status != tc.status || !strings.Contains(r.pageError(), tc.text) || (tc.text == "") != (r.pageError() == "") {
				t.Errorf("got %d with error %q, want %d with %q", r.status, r.pageError(), tc.status, tc.text)
			}
			if got := strings.Contains(r.body, `<form method="post"`); got != tc.form {
				t.Errorf("form shown: %v, want %v", got, tc.form)
			}
			if r.header.Get("Location") != "" {
				t.Errorf("redirects to %s", r.header.Get("Location"))
			}
		})
	}
}

// The form's answers to bad logins: the error on the page, the form again
// with the user name kept, no session and no redirect.
func TestLoginFormErrors(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name, user, password string
		status               int
		text                 string
	}{
		{"wrong password", "zhangsan", "wrong", 401, "Wrong user name or password."},
		{"unknown user", "nosuch", password, 401, "Wrong user name or password."},
		{"user not authorised for the app", "lisi", password, 403, "无权限访问该应用"},
		{"no password", "zhangsan", "", 400, "Enter your user name and password."},
		{"no user name", "", password, 400, "Enter your user name and password."},
		{"user name over 256 bytes", strings.Repeat("z", 257), password, 400, "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			browser := w.browser()
			page := get(t, browser, w.authorizeURL(url.Values{"state": {"s1"}}))
			r := page.form(t).submit(t, browser, tc.user, tc.password)
			if r.status != tc.status || !strings.Contains(r.pageError(), tc.text) {
				t.Fatalf("got %d with error %q, want %d with %q", r.status, r.pageError(), tc.status, tc.text)
			}
			again := r.form(t)
			if again.fields.Get("flow") != page.form(t).fields.Get("flow") {
				t.Errorf("the form lost its flow")
			}
			if tc.user != "" && len(tc.user) < 64 && !strings.Contains(r.body, `value="`+tc.user+`"`) {
				t.Errorf("the user name %q is not kept in the form", tc.user)
			}
			kgsim, _ := url.Parse(w.kgsim.URL)
			for _, c := range browser.Jar.Cookies(kgsim) {
				if c.Name == ssoCookie {
					t.Errorf("a refused login set the SSO cookie")
				}
			}
			// The form it shows again works.
			back := again.submit(t, browser, "zhangsan", password).location(t)
			if back.Query().Get("state") != "s1" {
				t.Errorf("after the error, login went to %s, want state s1 kept", back)
			}
		})
	}
}

// The CSRF defence: a form is sent only by the browser it was given to,
// for the flow it was rendered with, within its hour.
func TestLoginFormCSRF(t *testing.T) {
	w := newWorld(t)
	expired := "页面已过期或不是从本页提交的"
	for _, tc := range []struct {
		name string
		send func(t *testing.T, browser *http.Client, f loginForm) response
	}{
		{"no token", func(t *testing.T, b *http.Client, f loginForm) response {
			f.fields.Del("csrf")
			return f.submit(t, b, "zhangsan", password)
		}},
		{"another browser (no cookie)", func(t *testing.T, _ *http.Client, f loginForm) response {
			return f.submit(t, w.browser(), "zhangsan", password)
		}},
		{"token of another form", func(t *testing.T, b *http.Client, f loginForm) response {
			other := get(t, b, w.authorizeURL(url.Values{"state": {"other"}})).form(t)
			f.fields.Set("csrf", other.fields.Get("csrf"))
			return f.submit(t, b, "zhangsan", password)
		}},
		{"token an hour old", func(t *testing.T, b *http.Client, f loginForm) response {
			w.clock.Advance(formLifetime - 1)
			r := get(t, b, w.authorizeURL(nil)) // a fresh form still works
			w.clock.Advance(1)
			f2 := r.form(t)
			f.fields.Set("flow", f2.fields.Get("flow"))
			return f.submit(t, b, "zhangsan", password)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			browser := w.browser()
			f := get(t, browser, w.authorizeURL(nil)).form(t)
			r := tc.send(t, browser, f)
			if r.status != http.StatusForbidden || !strings.Contains(r.pageError(), expired) {
				t.Errorf("got %d with error %q, want 403 with %q", r.status, r.pageError(), expired)
			}
		})
	}
}

// A user name in two tenants, each bound to the app and authorised, with
// the same password: the page asks for the enterprise code.
func TestLoginAsksForTheTenant(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	hash, err := simulator.HashPassword(password, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.store.PutUser(ctx, simulator.User{TenantID: betaID, UserName: "zhangsan", ID: "u-0004", PasswordHash: hash, Name: "张三 (Beta)", Role: "user"}); err != nil {
		t.Fatal(err)
	}
	if err := w.store.PutAuthorisation(ctx, simulator.Authorisation{TenantID: betaID, AppID: appID, UserName: "zhangsan", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	browser := w.browser()
	r := get(t, browser, w.kgsim.URL+"/unified-login/?ind=UNOP&appId="+appID).form(t).submit(t, browser, "zhangsan", password)
	if r.status != http.StatusConflict || !strings.Contains(r.pageError(), "enter your enterprise code") || !strings.Contains(r.body, `name="tenant"`) {
		t.Fatalf("got %d with %q, want 409 asking for the enterprise code", r.status, r.pageError())
	}
	f := r.form(t)
	f.fields.Set("tenant", betaCode)
	back := f.submit(t, browser, "zhangsan", password).location(t)
	if back.Query().Get("tenant") != betaID {
		t.Errorf("went to %s, want tenant %s", back, betaID)
	}
	// Through a tenant's /authorize the tenant is known: no question.
	if q := w.login(w.browser(), nil); q.Get("tenant") != acmeID {
		t.Errorf("authorize at acme came back with tenant %s", q.Get("tenant"))
	}
}

// The login page's headers keep it out of frames and caches.
func TestLoginPageHeaders(t *testing.T) {
	w := newWorld(t)
	r := get(t, w.browser(), w.kgsim.URL+"/unified-login/?ind=UNOP&appId="+appID)
	for name, want := range map[string]string{
		"Content-Type":    "text/html;charset=UTF-8",
		"Cache-Control":   "no-store",
		"X-Frame-Options": "DENY",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	var form *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == formCookie {
			form = c
		}
	}
	if form == nil || !form.HttpOnly || form.SameSite != http.SameSiteStrictMode {
		t.Errorf("form cookie %+v, want HttpOnly and SameSite=Strict", form)
	}

	browser := w.browser()
	res := get(t, browser, w.authorizeURL(nil)).form(t).submit(t, browser, "zhangsan", password)
	var sso *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == ssoCookie {
			sso = c
		}
	}
	if sso == nil || !sso.HttpOnly || sso.SameSite != http.SameSiteLaxMode || sso.Path != "/" {
		t.Errorf("SSO cookie %+v, want KGSIM_SSO, HttpOnly, SameSite=Lax, path /", sso)
	}

	static := get(t, http.DefaultClient, w.kgsim.URL+"/unified-login/static/login.js")
	if static.status != http.StatusOK || !strings.Contains(static.header.Get("Content-Type"), "javascript") {
		t.Errorf("login.js: %d %s", static.status, static.header.Get("Content-Type"))
	}
	if r := get(t, http.DefaultClient, w.kgsim.URL+"/unified-login/static/"); r.status != http.StatusNotFound {
		t.Errorf("the static directory lists: %d", r.status)
	}
}

// Logout goes only to the origin of a registered address, and ends the
// session also when it refuses to go; without an address, to the login
// page of the app last used (identity.md §3.4).
func TestLogoutRedirects(t *testing.T) {
	w := newWorld(t)
	browser := w.browser()
	w.login(browser, nil)
	r := get(t, browser, w.domain(acmeCode)+"/api/v1/logout?redirect_url="+url.QueryEscape("https://evil.example/"))
	if r.status != http.StatusBadRequest || r.header.Get("Location") != "" || !strings.Contains(r.pageError(), "You are logged out, but redirect_url") {
		t.Errorf("logout to an unregistered host: %d to %q with %q, want 400, no redirect and the reason", r.status, r.header.Get("Location"), r.pageError())
	}
	if r := get(t, browser, w.authorizeURL(nil)); r.status != http.StatusOK || !strings.Contains(r.body, `<form method="post"`) {
		t.Errorf("after the refused logout, authorize answered %d without the form: the session is still live", r.status)
	}

	w.login(browser, nil)
	out := get(t, noRedirects(browser), w.domain(acmeCode)+"/api/v1/logout").location(t)
	if want := w.kgsim.URL + "/unified-login/#/portal-login?ind=UNOP&appId=" + appID; out.String() != want {
		t.Errorf("logout went to %s, want %s", out, want)
	}
	if out := get(t, noRedirects(browser), w.domain(acmeCode)+"/api/v1/logout").location(t); out.String() != w.kgsim.URL+"/unified-login/" {
		t.Errorf("logout without a session went to %s, want the bare login page", out)
	}
}
