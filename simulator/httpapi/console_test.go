package httpapi

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/schedule"
)

// browser is a client of the console without JavaScript: it keeps
// cookies, follows nothing by itself, and posts forms as a browser does,
// with the CSRF token of the page it read last.
type browser struct {
	w      *world
	client *http.Client
	lang   string
	csrf   string // of the last page read
}

func newBrowser(w *world) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return &browser{w: w, lang: "zh-CN,zh;q=0.9", client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is a console answer.
type page struct {
	status   int
	location string
	header   http.Header
	body     string
}

var consoleCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) send(req *http.Request) page {
	b.w.t.Helper()
	req.Header.Set("Accept-Language", b.lang)
	resp, err := b.client.Do(req)
	if err != nil {
		b.w.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.w.t.Fatal(err)
	}
	body := string(raw)
	for _, s := range append(b.w.secrets, accessKey) {
		for _, form := range []string{s, html.EscapeString(s), url.QueryEscape(s)} {
			if strings.Contains(body, form) {
				b.w.t.Errorf("%s %s: the page shows the secret %q", req.Method, req.URL.Path, s)
			}
		}
	}
	if m := consoleCSRF.FindStringSubmatch(body); m != nil {
		b.csrf = html.UnescapeString(m[1])
	}
	return page{resp.StatusCode, resp.Header.Get("Location"), resp.Header, body}
}

// get reads a page; want is its status.
func (b *browser) get(want int, path string) page {
	b.w.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.w.api.URL+path, nil)
	if err != nil {
		b.w.t.Fatal(err)
	}
	p := b.send(req)
	if p.status != want {
		b.w.t.Fatalf("GET %s = %d, want %d:\n%s", path, p.status, want, text(p.body))
	}
	return p
}

// post sends a form as a browser does, with the CSRF token of the last
// page read; want is the answer's status.
func (b *browser) post(want int, path string, form url.Values) page {
	b.w.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.w.api.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.w.api.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	p := b.send(req)
	if p.status != want {
		b.w.t.Fatalf("POST %s = %d, want %d:\n%s", path, p.status, want, text(p.body))
	}
	return p
}

// follow posts a form that must succeed (303) and reads where it leads;
// the page's location is where that is.
func (b *browser) follow(path string, form url.Values) page {
	b.w.t.Helper()
	p := b.post(http.StatusSeeOther, path, form)
	to := b.get(http.StatusOK, p.location)
	to.location = p.location
	return to
}

var tags = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)

// text is a page's text as a person reads it: tags out, entities decoded,
// blanks squeezed.
func text(body string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(body, " "))), " ")
}

func (p page) has(t *testing.T, want ...string) {
	t.Helper()
	txt := text(p.body)
	for _, w := range want {
		if !strings.Contains(txt, w) {
			t.Errorf("the page lacks %q:\n%s", w, txt)
		}
	}
}

// fieldError is the error the page shows beside the field named name.
var fieldErrorAfter = regexp.MustCompile(`(?s)name="([A-Za-z]+)"[^>]*>(?:[^<]|<option[^>]*>[^<]*</option>|</?select[^>]*>)*<span class="ferr" role="alert">([^<]*)</span>`)

func (p page) fieldErrors() map[string]string {
	out := map[string]string{}
	for _, m := range fieldErrorAfter.FindAllStringSubmatch(p.body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// TestConsoleWithoutJavaScript reproduces a failed-callback e-mail with
// plain form posts: a purchase to a merchant that is down, the failed
// attempts and their 异常信息 in the list, the clock advanced, the
// merchant back up, 重新启动, the order completed; the notice in the
// mailbox, with its call record and replay command.
func TestConsoleWithoutJavaScript(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	b := newBrowser(w)

	b.get(http.StatusOK, "/console/").has(t, "概览", "生产接口消息", "Test p1")
	w.merchant.Down(true)
	b.get(http.StatusOK, "/console/orders?buy=p1")
	order := b.follow("/console/orders", url.Values{"productId": {"p1"}, "customerId": {"c1"}, "periodNumber": {"1"}, "amount": {"120.5"}})
	order.has(t, "订单已提交", "处理中", "newInstance")
	orderPath, _, _ := strings.Cut(order.location, "?")

	b.follow("/console/clock", url.Values{"by": {"1m"}}).has(t, "时钟已拨动", "本次到期执行的内容", "newInstance")
	list := b.get(http.StatusOK, "/console/messages?activity=newInstance")
	list.has(t, "newInstance", "重试中", "调测失败,接口响应httpCode=503")
	id := regexp.MustCompile(`href="/console/messages/([^"/]+)"`).FindStringSubmatch(list.body)
	if id == nil {
		t.Fatalf("no message in the list:\n%s", text(list.body))
	}
	msg := "/console/messages/" + id[1]

	b.follow("/console/clock", url.Values{"by": {"2h"}})
	m := b.get(http.StatusOK, msg)
	m.has(t, "第 3 次调用", "HTTP 503", "maintenance", "重新启动", "signature=", "canonical request <accessKey>")
	if strings.Contains(m.body, `id="no-restart"`) {
		t.Errorf("a purchase within its 3 hours offers no restart:\n%s", text(m.body))
	}

	w.merchant.Down(false)
	restarted := b.follow(msg+"/restart", nil)
	restarted.has(t, "已重新启动", "重新启动后成功", "第 4 次调用", "SUCCESS")
	if !strings.Contains(restarted.body, `id="no-restart"`) {
		t.Errorf("a delivered message still offers a restart")
	}
	b.get(http.StatusOK, orderPath).has(t, "已完成")

	mailbox := b.get(http.StatusOK, "/console/notices")
	mailbox.has(t, "调用失败")
	nid := regexp.MustCompile(`href="/console/notices/([^"/]+)"`).FindStringSubmatch(mailbox.body)
	if nid == nil {
		t.Fatalf("no notice in the mailbox:\n%s", text(mailbox.body))
	}
	n := b.get(http.StatusOK, "/console/notices/"+nid[1])
	n.has(t, "ops@merchant.test", "call-record-"+nid[1]+".json", "kgsim replay --notice call-record-"+nid[1]+".json", "调用记录", "查看消息")
	if !strings.Contains(n.body, `href="/console/messages/`+id[1]+`"`) {
		t.Errorf("the notice does not link to its message")
	}
	rec := b.get(http.StatusOK, "/console/notices/"+nid[1]+"/call-record.json")
	if !strings.Contains(rec.header.Get("Content-Disposition"), "attachment") || !strings.Contains(rec.body, `"callId": "`+id[1]+`"`) {
		t.Errorf("the call record download: %v\n%s", rec.header, rec.body)
	}
}

// TestConsoleFormErrors: each wrong value gets the admin API's message
// beside its field, the page again with what was typed, and nothing
// changes.
func TestConsoleFormErrors(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	key := w.active().Get("instanceKey").String()
	b := newBrowser(w)
	b.get(http.StatusOK, "/console/orders")
	orders := w.orders()

	for _, tc := range []struct {
		path   string
		form   url.Values
		status int
		field  string // "" for an error above the form
		want   string
	}{
		{"/console/orders", url.Values{"productId": {"p1"}, "customerId": {"c1"}, "periodNumber": {"twelve"}}, 400, "periodNumber", "must be an integer"},
		{"/console/orders", url.Values{"productId": {"nosuch"}, "customerId": {"c1"}}, 404, "productId", `no product "nosuch"`},
		{"/console/orders", url.Values{"productId": {"p1"}, "customerId": {"c1"}, "amount": {"1.23456"}}, 400, "amount", "1.23456"},
		{"/console/clock", url.Values{"by": {"soon"}}, 400, "by", `"soon" is not a duration`},
		{"/console/clock", url.Values{"to": {"tomorrow"}}, 400, "to", `"tomorrow" is not an RFC 3339 time`},
		{"/console/clock", url.Values{"by": {"1h"}, "to": {"2025-03-01 10:00"}}, 400, "by", "not both"},
		{"/console/products/p1/status", url.Values{"status": {"GONE"}}, 400, "status", `"GONE" is not one of`},
		{"/console/instances/" + key + "/renew", url.Values{"periodNumber": {"-3"}}, 400, "periodNumber", "must be 1 to 99"},
		{"/console/instances/" + key + "/license", url.Values{"deviceFingerprint": {"x"}}, 409, "", "License"},
	} {
		b.get(http.StatusOK, "/console/")
		p := b.post(tc.status, tc.path, tc.form)
		errs := p.fieldErrors()
		got, ok := errs[tc.field]
		if tc.field == "" {
			got, ok = formError(p.body)
		}
		if !ok || !strings.Contains(got, tc.want) {
			t.Errorf("POST %s %v: error beside %q = %q (all: %v), want one holding %q", tc.path, tc.form, tc.field, got, errs, tc.want)
		}
		for name, v := range tc.form {
			// What was typed is shown again; a list shows its choices.
			if name != "status" && name != "productId" && name != "customerId" && !strings.Contains(p.body, `value="`+html.EscapeString(v[0])+`"`) {
				t.Errorf("POST %s: the page does not show %s=%q again", tc.path, name, v[0])
			}
		}
	}
	if n := w.orders(); n != orders {
		t.Errorf("%d orders after the refused forms, want %d", n, orders)
	}
	if now := w.must(http.StatusOK, "GET", "/admin/v1/clock", "").get("now").String(); now != t0.Add(time.Minute).Format(time.RFC3339) {
		t.Errorf("the clock moved to %s", now)
	}
}

// formError is the error a page shows above a form, if any.
func formError(body string) (string, bool) {
	m := regexp.MustCompile(`<form[^>]*>(?:\s|<input type="hidden"[^>]*>|<h3>[^<]*</h3>)*<span class="ferr" role="alert">([^<]*)</span>`).FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}

// TestConsoleRefusesForgedPosts: a post without the session's CSRF token,
// with another session's, or from a page of another site changes
// nothing; the same post from the console's own page does.
func TestConsoleRefusesForgedPosts(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	b, other := newBrowser(w), newBrowser(w)
	b.get(http.StatusOK, "/console/orders")
	other.get(http.StatusOK, "/console/orders")
	buy := func() url.Values {
		return url.Values{"productId": {"p1"}, "customerId": {"c1"}, "periodNumber": {"1"}}
	}
	forged := buy()
	forged.Set("csrf", "")
	b.post(http.StatusForbidden, "/console/orders", forged).has(t, "CSRF")
	forged.Set("csrf", other.csrf)
	b.post(http.StatusForbidden, "/console/orders", forged).has(t, "CSRF")
	noSession := newBrowser(w)
	noSession.csrf = b.csrf
	noSession.post(http.StatusForbidden, "/console/orders", buy())

	for _, h := range []struct{ name, value, says string }{
		{"Origin", "http://evil.example", "cross-origin request refused"},
		{"Sec-Fetch-Site", "cross-site", "cross-site request refused"},
		{"Sec-Fetch-Site", "same-site", "same-site request refused"},
	} {
		form := buy()
		form.Set("csrf", b.csrf)
		req, _ := http.NewRequest(http.MethodPost, w.api.URL+"/console/orders", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(h.name, h.value)
		if p := b.send(req); p.status != http.StatusForbidden || !strings.Contains(p.body, h.says) {
			t.Errorf("a post with %s: %s = %d, want 403 saying %q:\n%s", h.name, h.value, p.status, h.says, text(p.body))
		}
	}
	req, _ := http.NewRequest(http.MethodGet, w.api.URL+"/console/", nil)
	req.Host = "rebound.example:80"
	if p := b.send(req); p.status != http.StatusForbidden {
		t.Errorf("a page under a name rebound to kgsim: %d, want 403", p.status)
	}
	if n := w.orders(); n != 0 {
		t.Fatalf("%d orders after forged posts, want 0", n)
	}
	b.follow("/console/orders", buy())
	if n := w.orders(); n != 1 {
		t.Errorf("%d orders after the console's own post, want 1", n)
	}
}

// TestConsoleLogin: with an admin token, every page needs a session that
// the token starts; the cookie is HttpOnly and SameSite=Strict, the token
// never shows, and logging out ends the session.
func TestConsoleLogin(t *testing.T) {
	const token = "console-admin-token-5b1e0c77"
	w := newGuardedWorld(t, schedule.NewVirtual(t0), Access{Token: token})
	w.catalogue()
	b := newBrowser(w)
	p := b.get(http.StatusSeeOther, "/console/messages?outcome=PENDING")
	if !strings.HasPrefix(p.location, "/console/login?next=") {
		t.Fatalf("a page without a session sends to %q, want the login page", p.location)
	}
	login := b.get(http.StatusOK, p.location)
	login.has(t, "管理令牌")
	b.post(http.StatusUnauthorized, "/console/login", url.Values{"token": {"not-the-token-at-all"}, "next": {"/console/messages"}}).has(t, "令牌不正确")
	b.post(http.StatusForbidden, "/console/login", url.Values{"token": {token}, "csrf": {"forged"}})

	in := b.post(http.StatusSeeOther, "/console/login", url.Values{"token": {token}, "next": {"/console/messages?outcome=PENDING"}})
	if in.location != "/console/messages?outcome=PENDING" {
		t.Errorf("after the login: %q, want the page asked for", in.location)
	}
	cookie := in.header.Get("Set-Cookie")
	for _, want := range []string{"kgsim_console=", "Path=/console/", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("the session cookie %q lacks %s", cookie, want)
		}
	}
	b.get(http.StatusOK, in.location).has(t, "生产接口消息", "退出")
	b.follow("/console/orders", url.Values{"productId": {"p1"}, "customerId": {"c1"}})

	for _, evil := range []string{"https://evil.example/", "//evil.example/x", "/admin/v1/orders", `/\evil.example`} {
		b.get(http.StatusOK, "/console/")
		b.post(http.StatusSeeOther, "/console/logout", nil)
		b.get(http.StatusOK, "/console/login")
		if to := b.post(http.StatusSeeOther, "/console/login", url.Values{"token": {token}, "next": {evil}}).location; to != "/console/" {
			t.Errorf("a login asked to go on to %q goes to %q, want /console/", evil, to)
		}
	}
	b.get(http.StatusOK, "/console/")
	out := b.post(http.StatusSeeOther, "/console/logout", nil)
	if out.location != "/console/login" {
		t.Errorf("logout goes to %q", out.location)
	}
	b.get(http.StatusSeeOther, "/console/")
	b.post(http.StatusUnauthorized, "/console/orders", url.Values{"productId": {"p1"}, "customerId": {"c1"}})
	if n := w.orders(); n != 1 {
		t.Errorf("%d orders, want the one bought while logged in", n)
	}
}

// TestConsoleEscapesStoredStrings: what merchants and operators typed is
// shown as text, never as markup: product and customer names, a
// merchant's answer.
func TestConsoleEscapesStoredStrings(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`
	quoted, _ := json.Marshal(evil)
	// A merchant that answers with markup, in its body and a header.
	m := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("X-Note", evil)
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(rw, `{"resultCode":"000001","resultMsg":%s}`, quoted)
	}))
	t.Cleanup(m.Close)
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/p1", `{"skuCode":"p1-basic","name":`+string(quoted)+`,"chargingMode":"PERIOD",`+
		`"periodType":"year","url":"`+m.URL+`/produce","protocol":"v2","accessKey":"`+accessKey+`","dialTests":false}`)
	w.must(http.StatusCreated, "POST", "/admin/v1/customers", `{"customerId":"c1","customerName":`+string(quoted)+`}`)
	b := newBrowser(w)
	b.get(http.StatusOK, "/console/orders")
	order := b.follow("/console/orders", url.Values{"productId": {"p1"}, "customerId": {"c1"}})
	b.follow("/console/clock", url.Values{"by": {"1m"}})
	msgs := b.get(http.StatusOK, "/console/messages")
	id := regexp.MustCompile(`href="/console/messages/([^"/]+)"`).FindStringSubmatch(msgs.body)
	if id == nil {
		t.Fatal("no message listed")
	}
	for _, path := range []string{"/console/", "/console/products", "/console/products/p1", "/console/orders", order.location,
		"/console/messages", "/console/messages/" + id[1], "/console/notices", "/console/instances"} {
		p := b.get(http.StatusOK, path)
		if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img src=x") {
			t.Errorf("%s shows the stored markup as markup", path)
		}
		if path == "/console/messages/"+id[1] || path == "/console/products" || path == "/console/orders" {
			p.has(t, "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&")
		}
	}
}

// TestConsoleLanguage: the browser's Accept-Language picks Chinese or
// English, the switch on every page overrides it and is remembered.
func TestConsoleLanguage(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	b := newBrowser(w)
	b.lang = "en-GB,en;q=0.9,zh;q=0.5"
	p := b.get(http.StatusOK, "/console/messages")
	p.has(t, "Production interface messages", "中文")
	if !strings.Contains(p.body, `<html lang="en">`) {
		t.Error("an English page does not say so")
	}
	b.get(http.StatusOK, "/console/messages?lang=zh").has(t, "生产接口消息", "English")
	b.get(http.StatusOK, "/console/products").has(t, "商品", "在售")
	for header, want := range map[string]lang{
		"": zh, "en": en, "fr-FR, en;q=0.8": en, "zh-TW": zh, "en;q=0.5, zh;q=0.9": zh, "en, zh": zh, "de": zh, "en;q=0": zh, "en;q=x": zh,
	} {
		if got := acceptLanguage(header); got != want {
			t.Errorf("Accept-Language %q picks %v, want %v", header, got, want)
		}
	}
}

// Every text a template asks for is in the dictionary, in both languages.
func TestConsoleDictionaryCoversTheTemplates(t *testing.T) {
	files, err := filepath.Glob("../web/templates/console/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no console templates: %v", err)
	}
	d := words()
	used := regexp.MustCompile(`\.T "([^"]+)"`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			w, ok := d[m[1]]
			if !ok || w[zh] == "" || w[en] == "" {
				t.Errorf("%s: %q is not in the dictionary in both languages", filepath.Base(f), m[1])
			}
		}
	}
	for _, a := range instanceForms() {
		if _, ok := d["act."+a.Name]; !ok {
			t.Errorf("instance action %s has no name in the dictionary", a.Name)
		}
	}
}

// TestConsoleActionsByFormPost drives every instance action, the product
// status, a dial test and a trial purchase through the console's forms
// alone, and checks what each did through the admin API.
func TestConsoleActionsByFormPost(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/trial", w.productJSON("trial", `,"trial":true`))
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/lic", w.productJSON("lic", `,"license":true`))
	b := newBrowser(w)
	buy := func(product string, trial bool) string {
		t.Helper()
		b.get(http.StatusOK, "/console/orders")
		form := url.Values{"productId": {product}, "customerId": {"c1"}}
		if trial {
			form.Set("trial", "on")
		}
		order := b.follow("/console/orders", form)
		b.follow("/console/clock", url.Values{"by": {"1m"}})
		o := regexp.MustCompile(`/console/orders/(CS[0-9A-Z]+)`).FindStringSubmatch(order.location)
		if o == nil {
			t.Fatalf("the purchase led to %s", order.location)
		}
		return w.must(http.StatusOK, "GET", "/admin/v1/orders/"+o[1], "").get("instanceKey").String()
	}
	key, trial, lic := buy("p1", false), buy("trial", true), buy("lic", false)
	if w.must(http.StatusOK, "GET", "/admin/v1/instances/"+trial, "").get("trial").Bool() != true {
		t.Error("the trial box bought no trial")
	}
	for _, s := range []struct {
		key, action string
		form        url.Values
		state       string // the instance's, once delivered
		sent        string // what the merchant received for it
	}{
		{key, "freeze", nil, "FROZEN", "updateInstanceStatus"},
		{key, "unfreeze", nil, "ACTIVE", "updateInstanceStatus"},
		{key, "query", nil, "ACTIVE", "queryInstance"},
		{key, "upgrade", url.Values{"linearAmount": {"3"}}, "ACTIVE", "upgradeInstance"},
		{key, "renew", url.Values{"periodNumber": {"1"}, "amount": {"99"}}, "ACTIVE", "refreshInstance"},
		{key, "unsubscribe-renewal", nil, "ACTIVE", "refreshInstance"},
		{key, "change-spec", url.Values{"linearAmount": {"5"}, "periodNumber": {"1"}}, "ACTIVE", "changeInstanceCheck"},
		{key, "unsubscribe", nil, "RELEASED", "releaseInstance"},
		{trial, "convert-trial", url.Values{"periodNumber": {"1"}}, "ACTIVE", "refreshInstance"},
		{lic, "license", url.Values{"deviceFingerprint": {"hw-1"}}, "ACTIVE", "getLicenseAsync"},
	} {
		before := len(w.merchant.Activities())
		b.get(http.StatusOK, "/console/instances/"+s.key)
		b.follow("/console/instances/"+s.key+"/"+s.action, s.form).has(t, "操作已提交")
		b.follow("/console/clock", url.Values{"by": {"1m"}})
		if got := w.must(http.StatusOK, "GET", "/admin/v1/instances/"+s.key, "").get("state").String(); got != s.state {
			t.Errorf("%s: instance %s, want %s", s.action, got, s.state)
		}
		if got := w.merchant.Activities()[before:]; !slices.Contains(got, s.sent) {
			t.Errorf("%s: the merchant received %v, want %s among them", s.action, got, s.sent)
		}
	}
	b.get(http.StatusNotFound, "/console/instances/nosuch")
	b.get(http.StatusOK, "/console/instances/"+key)
	b.post(http.StatusNotFound, "/console/instances/"+key+"/explode", nil)

	b.get(http.StatusOK, "/console/products/p1")
	b.follow("/console/products/p1/status", url.Values{"status": {"DELISTED"}, "reason": {"a test"}}).has(t, "商品状态已修改", "已下架")
	if s := w.must(http.StatusOK, "GET", "/admin/v1/products/p1", "").get("status").String(); s != "DELISTED" {
		t.Errorf("the product is %s after the status form", s)
	}
	b.get(http.StatusOK, "/console/notices").has(t, "商品状态")
	// A dial test replays saved debug cases: without one it is refused.
	b.get(http.StatusOK, "/console/products/trial")
	if got, _ := formError(b.post(http.StatusBadRequest, "/console/products/trial/dial-tests", nil).body); !strings.Contains(got, "no saved debug cases") {
		t.Errorf("a dial test without debug cases: %q", got)
	}
	w.must(http.StatusCreated, "PUT", "/admin/v1/products/dial",
		w.productJSON("dial", `,"debugCases":[{"activity":"newInstance","params":{"orderId":"CS-DIAL","orderLineId":"CS-DIAL-000001","businessId":"x"}}]`))
	b.get(http.StatusOK, "/console/products/dial")
	b.follow("/console/products/dial/dial-tests", nil).has(t, "拨测已开始")
	b.follow("/console/clock", url.Values{"by": {"0s"}})
	b.get(http.StatusOK, "/console/products/dial").has(t, "拨测记录", "通过", "newInstance")
}

// TestConsoleTenants: the tenants and apps, a tenant's bindings with the
// syncs each sent, its users and departments; no secret (kit key, client
// secret, password) and no markup a user name holds.
func TestConsoleTenants(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	w.secrets = append(w.secrets, "acme-secret-0123456789", "pw-zhangsan-8c1f")
	w.must(http.StatusCreated, "POST", "/admin/v1/apps", w.appJSON())
	w.must(http.StatusCreated, "POST", "/admin/v1/users", `{"tenant":"acme","userName":"zhangsan","password":"pw-zhangsan-8c1f",`+
		`"name":"<b>张三</b>","email":"zhangsan@example.com","role":"admin"}`)
	w.must(http.StatusCreated, "POST", "/admin/v1/tenants/acme/apps", `{"appId":"APP-1","instanceId":"inst-1","orderId":"CS1","userNames":["zhangsan"]}`)
	w.must(http.StatusCreated, "PUT", "/admin/v1/tenants/acme/departments/dev", `{"orgName":"研发部"}`)
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1s"}`)
	b := newBrowser(w)

	list := b.get(http.StatusOK, "/console/tenants")
	list.has(t, "租户与应用", "acme", "APP-1", "acme-client", "https://isv.example.com/callback", maskKey(kitKey))
	tenant := b.get(http.StatusOK, "/console/tenants/acme")
	tenant.has(t, "已绑定的应用", "APP-1", "inst-1", "zhangsan", "<b>张三</b>", "研发部", "dev")
	if strings.Contains(tenant.body, "<b>张三") {
		t.Error("a user's name is shown as markup")
	}
	syncs := regexp.MustCompile(`href="(/console/messages\?queue=[^"]+)"`).FindStringSubmatch(tenant.body)
	if syncs == nil {
		t.Fatalf("no link to the binding's syncs:\n%s", text(tenant.body))
	}
	b.get(http.StatusOK, html.UnescapeString(syncs[1])).has(t, "tenantSync", "applicationSync", "authSync", "成功")
	// The syncs are the messages of protocol kit, and the only ones here.
	row := regexp.MustCompile(`href="/console/messages/[^"/?]+"`)
	if kit := b.get(http.StatusOK, "/console/messages?protocol=kit"); len(row.FindAllString(kit.body, -1)) < 3 {
		t.Errorf("the protocol filter kit lists no syncs:\n%s", text(kit.body))
	}
	if v2 := b.get(http.StatusOK, "/console/messages?protocol=v2"); row.MatchString(v2.body) {
		t.Errorf("the protocol filter v2 lists a sync:\n%s", text(v2.body))
	}
	b.get(http.StatusBadRequest, "/console/messages?protocol=KIT")
	b.get(http.StatusNotFound, "/console/tenants/nosuch")
	b.get(http.StatusNotFound, "/console/nosuch/page").has(t, "no console page /console/nosuch/page")
	b.get(http.StatusNotFound, "/console/messages/nosuch").has(t, "no message nosuch")
}

// Sessions end after their lifetime on the wall clock given, and when
// full the ones not logged in go first, then those nearest their end.
func TestConsoleSessions(t *testing.T) {
	ss := newSessions(2)
	now := t0
	start := func(authed bool, old *http.Cookie) *http.Cookie {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/console/", nil)
		if old != nil {
			req.AddCookie(old)
		}
		rec := httptest.NewRecorder()
		if _, err := ss.start(rec, req, now, authed); err != nil {
			t.Fatal(err)
		}
		return rec.Result().Cookies()[0]
	}
	live := func(c *http.Cookie, at time.Time) bool {
		req := httptest.NewRequest(http.MethodGet, "/console/", nil)
		req.AddCookie(c)
		_, ok := ss.get(req, at)
		return ok
	}
	anon := start(false, nil)
	now = now.Add(time.Minute)
	logged := start(true, nil)
	now = now.Add(time.Minute)
	other := start(true, nil) // full: the session not logged in goes
	if live(anon, now) || !live(logged, now) || !live(other, now) {
		t.Errorf("after a third session: anonymous %v, logged in %v, %v", live(anon, now), live(logged, now), live(other, now))
	}
	again := start(true, logged) // a new login ends the session it came with
	if live(logged, now) || !live(again, now) {
		t.Error("a login kept the session it came with")
	}
	if !live(again, now.Add(sessionLifetime-time.Second)) || live(again, now.Add(sessionLifetime)) {
		t.Errorf("a session lives %v", sessionLifetime)
	}
	if live(&http.Cookie{Name: sessionCookie, Value: strings.Repeat("x", 65)}, now) {
		t.Error("an overlong cookie names a session")
	}
}
