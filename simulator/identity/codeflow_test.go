package identity

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/kgsim/kgsim/simulator/vectors"
)

// oauthConfig is the merchant's client as golang.org/x/oauth2 sees it,
// built from what the kit syncs hand over: the tenant's domain, clientId
// and the decrypted clientSecret (identity.md §1).
func (w *world) oauthConfig(style oauth2.AuthStyle) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   w.domain(acmeCode) + "/api/v1/oauth2/authorize",
			TokenURL:  w.domain(acmeCode) + "/api/v1/oauth2/token",
			AuthStyle: style,
		},
		RedirectURL: w.callback,
		Scopes:      []string{"get_user_info"},
	}
}

var (
	codeShape    = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	accessShape  = regexp.MustCompile(`^kgsim-at-[a-z0-9]{32}$`)
	refreshShape = regexp.MustCompile(`^kgsim-rt-[a-z0-9]{32}$`)
)

// The whole code flow for a plain HTTP client with cookies: /authorize
// shows the form, the form sends the browser to the callback with code,
// tenant and the state given to /authorize; golang.org/x/oauth2 exchanges
// the code and refreshes; userinfo answers; a second /authorize rides the
// SSO session; logout ends it.
func TestCodeFlowWithoutJavaScript(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	browser := w.browser()

	conf := w.oauthConfig(oauth2.AuthStyleInParams)
	page := get(t, browser, conf.AuthCodeURL("s7ate42"))
	if page.status != http.StatusOK || page.url.Path != "/unified-login/" || page.url.Query().Get("flow") == "" {
		t.Fatalf("authorize without a session: %d at %s, want the login page with its flow", page.status, page.url)
	}
	if !strings.Contains(page.body, crmName) {
		t.Errorf("the login page does not name the app %q", crmName)
	}
	back := page.form(t).submit(t, browser, "zhangsan", password).location(t)
	q := back.Query()
	if !codeShape.MatchString(q.Get("code")) || q.Get("tenant") != acmeID || q.Get("state") != "s7ate42" {
		t.Fatalf("callback query %s: want a 32-character code, tenant %s and state s7ate42", back.RawQuery, acmeID)
	}
	if order := regexp.MustCompile(`^code=[^&]+&tenant=[^&]+&state=`); !order.MatchString(back.RawQuery) {
		t.Errorf("callback query %s: want code, then tenant, then state", back.RawQuery)
	}

	tok, err := conf.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if !accessShape.MatchString(tok.AccessToken) || !refreshShape.MatchString(tok.RefreshToken) || tok.TokenType != "Bearer" {
		t.Errorf("token %q/%q type %q: want kgsim-at-…, kgsim-rt-…, Bearer", tok.AccessToken, tok.RefreshToken, tok.TokenType)
	}
	if left := time.Until(tok.Expiry); left < 2*time.Hour-time.Minute || left > 2*time.Hour {
		t.Errorf("expires in %s, want 7200 s", left)
	}
	if got := tok.Extra("scope"); got != "get_user_info" {
		t.Errorf("scope %v, want get_user_info", got)
	}

	want := map[string]string{"id": "u-0001", "userName": "zhangsan", "name": "张三", "email": "zhangsan@example.com", "mobile": "13800000000",
		"role": "admin", "organizationName": orgName, "userId": "u-0001", "organizationCode": orgCode, "projectName": acmeName, "tenant": acmeID}
	checkUserInfo(t, w.userinfo(t, tok.AccessToken), want)

	// SSO: the same browser gets a code without the form.
	sso := get(t, browser, conf.AuthCodeURL("again")).location(t)
	if sso.Query().Get("state") != "again" || sso.Query().Get("tenant") != acmeID || !codeShape.MatchString(sso.Query().Get("code")) {
		t.Errorf("authorize with a session went to %s, want the callback with a code, the tenant and state=again", sso)
	}

	// Refresh, with the client in HTTP Basic this time: a new pair, and
	// the old refresh token is spent.
	basic := w.oauthConfig(oauth2.AuthStyleInHeader)
	fresh, err := basic.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken || !refreshShape.MatchString(fresh.RefreshToken) {
		t.Errorf("refresh gave %q/%q: want a new access and a new refresh token", fresh.AccessToken, fresh.RefreshToken)
	}
	checkUserInfo(t, w.userinfo(t, fresh.AccessToken), want)
	_, err = basic.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	checkRetrieveError(t, err, vectorBody(t, "T3"))

	// Logout ends the session and goes where the merchant asked.
	bye := w.merchant.URL + "/bye"
	out := get(t, browser, w.domain(acmeCode)+"/api/v1/logout?redirect_url="+url.QueryEscape(bye)).location(t)
	if out.String() != bye {
		t.Errorf("logout went to %s, want %s", out, bye)
	}
	again := get(t, browser, conf.AuthCodeURL("third"))
	if again.status != http.StatusOK || again.url.Path != "/unified-login/" {
		t.Errorf("authorize after logout: %d at %s, want the login form", again.status, again.url)
	}
	// Tokens outlive the session (identity.md §3.4).
	checkUserInfo(t, w.userinfo(t, fresh.AccessToken), want)
}

// userinfo calls the userinfo endpoint with a bearer token.
func (w *world) userinfo(t *testing.T, access string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, w.domain(acmeCode)+"/api/v1/oauth2/userinfo", nil)
	if err != nil {
		t.Fatal(err)
	}
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	req.Header.Set("Accept", "application/json")
	return do(t, http.DefaultClient, req)
}

// checkUserInfo checks a 200 userinfo answer: every field of identity.md
// §3.3 in its order, each a string.
func checkUserInfo(t *testing.T, r response, want map[string]string) {
	t.Helper()
	if r.status != http.StatusOK || r.header.Get("Content-Type") != ContentTypeJSON {
		t.Fatalf("userinfo: %d %s\n%s", r.status, r.header.Get("Content-Type"), r.body)
	}
	order := []string{"id", "userName", "name", "email", "mobile", "role", "organizationName", "userId", "organizationCode", "projectName", "tenant"}
	dec := json.NewDecoder(strings.NewReader(r.body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("userinfo is not an object: %s", r.body)
	}
	for i := 0; dec.More(); i++ {
		name, _ := dec.Token()
		var value any
		if err := dec.Decode(&value); err != nil {
			t.Fatal(err)
		}
		if i >= len(order) || name != order[i] {
			t.Fatalf("userinfo field %d is %v; want the fields in the order %v:\n%s", i, name, order, r.body)
		}
		if s, ok := value.(string); !ok || s != want[order[i]] {
			t.Errorf("userinfo %s = %#v, want %q", order[i], value, want[order[i]])
		}
	}
}

// vectorBody is the expected body of an identity vector (T2-T5).
func vectorBody(t *testing.T, id string) string {
	t.Helper()
	for _, kind := range []string{"oauth-token-error", "oauth-userinfo-error"} {
		for _, v := range vectors.Of(t, "identity.json", kind) {
			if v.Get("id").String() == id {
				return v.Get("expected.body").String()
			}
		}
	}
	t.Fatalf("no vector %s", id)
	return ""
}

// checkRetrieveError checks that golang.org/x/oauth2 saw the error body
// want.
func checkRetrieveError(t *testing.T, err error, want string) {
	t.Helper()
	re, ok := err.(*oauth2.RetrieveError)
	if !ok {
		t.Fatalf("error %v (%T), want an *oauth2.RetrieveError with %s", err, err, want)
	}
	if string(re.Body) != want {
		t.Errorf("error body %s, want %s", re.Body, want)
	}
}

// The unified login page by its own address: without JavaScript its
// parameters go in the query; the callback carries code and tenant and no
// state, and the code is exchanged with the registered callback as
// redirect_uri.
func TestUnifiedLoginWithoutJavaScript(t *testing.T) {
	w := newWorld(t)
	browser := w.browser()
	page := get(t, browser, w.kgsim.URL+"/unified-login/?ind=UNOP&appId="+appID+"&state=ignored")
	if page.status != http.StatusOK || page.header.Get("Content-Type") != "text/html;charset=UTF-8" {
		t.Fatalf("login page: %d %s", page.status, page.header.Get("Content-Type"))
	}
	back := page.form(t).submit(t, browser, "zhangsan", password).location(t)
	if got := back.Scheme + "://" + back.Host + back.Path; got != w.callback {
		t.Fatalf("went to %s, want the app's first callback %s", back, w.callback)
	}
	if ok := regexp.MustCompile(`^code=[A-Za-z0-9]{32}&tenant=` + acmeID + `$`).MatchString(back.RawQuery); !ok {
		t.Errorf("callback query %q, want exactly code then tenant (no state: echoState is off)", back.RawQuery)
	}
	tok, err := w.oauthConfig(oauth2.AuthStyleAutoDetect).Exchange(t.Context(), back.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if !accessShape.MatchString(tok.AccessToken) {
		t.Errorf("access token %q", tok.AccessToken)
	}
}

// With echoState, a state in the page's parameters comes back.
func TestUnifiedLoginEchoState(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.Defaults.EchoState = true })
	browser := w.browser()
	page := get(t, browser, w.kgsim.URL+"/unified-login/?ind=UNOP&appId="+appID+"&state=abc123")
	back := page.form(t).submit(t, browser, "zhangsan", password).location(t)
	if back.Query().Get("state") != "abc123" || back.Query().Get("tenant") != acmeID {
		t.Errorf("callback query %q, want tenant and state=abc123", back.RawQuery)
	}
}

// A user of another tenant logs in on the same page and comes back with
// that tenant, its code exchanged with that tenant's own pair.
func TestUnifiedLoginFindsTheUsersTenant(t *testing.T) {
	w := newWorld(t)
	browser := w.browser()
	page := get(t, browser, w.kgsim.URL+"/unified-login/?ind=UNOP&appId="+appID)
	back := page.form(t).submit(t, browser, "wangwu", password).location(t)
	if back.Query().Get("tenant") != betaID {
		t.Fatalf("callback query %q, want tenant %s", back.RawQuery, betaID)
	}
	conf := w.oauthConfig(oauth2.AuthStyleInParams)
	conf.ClientID, conf.ClientSecret = betaClientID, betaSecret
	conf.Endpoint.TokenURL = w.domain(betaCode) + "/api/v1/oauth2/token"
	if _, err := conf.Exchange(context.WithoutCancel(t.Context()), back.Query().Get("code")); err != nil {
		t.Fatal(err)
	}
}
