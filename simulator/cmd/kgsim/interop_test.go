package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"golang.org/x/oauth2"
)

// Clients that nobody here wrote, against a real kgsim serve set up only
// through the admin API, as a merchant new to kgsim would:
// golang.org/x/oauth2 here, gopkg.in/cas.v2 and Apache httpd with
// mod_auth_cas in interop_cas_test.go.

// clientTimeout bounds every request of these tests.
const clientTimeout = 30 * time.Second

// startIdentityServe starts kgsim serve, on a virtual clock, with the
// embedded sample catalogue (no order is placed: only the identity
// provider is used).
func startIdentityServe(t *testing.T, bin string, extra ...string) *process {
	t.Helper()
	return startServe(t, bin, filepath.Join(t.TempDir(), "kgsim.db"), filepath.Join("..", "..", "..", "fixtures"), extra...)
}

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// registration is what a merchant registers for its application, and the
// enterprise and user that log in to it.
type registration struct {
	tenantCode             string
	clientID, clientSecret string
	redirectURI            string // empty: CAS only
	casService             string // empty: OAuth 2.0 only
	userName, password     string
}

// register sets m up in p as the README's walkthrough does, through the
// admin API only: the app, then the user authorised for it by clientId,
// which creates the tenant and binds the app to it. It returns the
// tenant's ID.
func register(t *testing.T, p *process, m registration) string {
	t.Helper()
	var redirects, services []string
	if m.redirectURI != "" {
		redirects = []string{m.redirectURI}
	}
	if m.casService != "" {
		services = []string{m.casService}
	}
	p.call(t, "POST", "/admin/v1/apps", jsonText(t, map[string]any{"name": "interop " + m.clientID,
		"clientId": m.clientID, "clientSecret": m.clientSecret, "redirectUris": redirects, "casServices": services}))
	added := p.call(t, "POST", "/admin/v1/users", jsonText(t, map[string]any{"tenant": m.tenantCode, "userName": m.userName,
		"password": m.password, "name": "张三", "apps": []string{m.clientID}}))
	if domain := added.Get("tenant.domainName").Str; domain != p.base+"/t/"+m.tenantCode {
		t.Fatalf("the new tenant's domainName is %q, want %s/t/%s", domain, p.base, m.tenantCode)
	}
	return added.Get("tenant.tenantId").Str
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// domain is the tenant's identity domain in p, with the API prefix.
func (p *process) domain(tenantCode string) string {
	return p.base + "/t/" + tenantCode + "/api/v1"
}

// browser is an enterprise user's browser: kgsim's login page works
// without JavaScript, so a client with a cookie jar will do. It follows
// redirects, except to a URL that stop accepts (the merchant's callback,
// which these tests only read), and remembers every URL it was sent to.
type browser struct {
	client *http.Client
	sent   []*url.URL
}

func newBrowser(stop func(*url.URL) bool) *browser {
	jar, _ := cookiejar.New(nil) // no options, no error
	b := &browser{}
	b.client = &http.Client{Jar: jar, Timeout: clientTimeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		b.sent = append(b.sent, req.URL)
		switch {
		case stop != nil && stop(req.URL):
			return http.ErrUseLastResponse
		case len(via) >= 10:
			return errors.New("more than 10 redirects")
		}
		return nil
	}}
	return b
}

// browser is a browser that stops where p sends it away: at the
// merchant's site, which these tests only read the address of.
func (p *process) browser(t *testing.T) *browser {
	t.Helper()
	kgsim, err := url.Parse(p.base)
	if err != nil {
		t.Fatal(err)
	}
	return newBrowser(func(u *url.URL) bool { return u.Host != kgsim.Host })
}

// page is an answer as the browser shows it.
type page struct {
	url    *url.URL
	status int
	header http.Header
	body   string
}

func (b *browser) do(t *testing.T, method, target string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, target, err)
	}
	return page{resp.Request.URL, resp.StatusCode, resp.Header, string(data)}
}

func (b *browser) get(t *testing.T, target string) page {
	t.Helper()
	return b.do(t, http.MethodGet, target, nil)
}

// kgsim's login form, and the inputs a browser sends with it.
var (
	loginFormTag = regexp.MustCompile(`<form [^>]*action="([^"]*)"[^>]*id="login-form"`)
	hiddenField  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// logIn fills in the login form that pg shows and sends it, as a user
// would.
func (b *browser) logIn(t *testing.T, pg page, userName, password string) page {
	t.Helper()
	m := loginFormTag.FindStringSubmatch(pg.body)
	if pg.status != http.StatusOK || m == nil {
		t.Fatalf("no login form at %s (status %d):\n%.600s", pg.url, pg.status, pg.body)
	}
	action, err := pg.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	for _, in := range hiddenField.FindAllStringSubmatch(pg.body, -1) {
		form.Set(in[1], html.UnescapeString(in[2]))
	}
	form.Set("username", userName)
	form.Set("password", password)
	return b.do(t, http.MethodPost, action.String(), form)
}

// redirectedTo is where a page the browser stopped at sends it.
func (pg page) redirectedTo(t *testing.T, prefix string) *url.URL {
	t.Helper()
	loc, err := pg.url.Parse(pg.header.Get("Location"))
	if pg.status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), prefix) {
		t.Fatalf("%s answered %d to %q, want a redirect to %s\n%.600s", pg.url, pg.status, pg.header.Get("Location"), prefix, pg.body)
	}
	return loc
}

// golang.org/x/oauth2 against kgsim serve: the code flow through the
// login page, the exchange, userinfo, a wrong client secret, a refresh
// once the access token has expired on kgsim's clock, single use of the
// refresh token and of the code, and logout (identity.md §3).
func TestOAuth2LibraryAgainstServe(t *testing.T) {
	p := startIdentityServe(t, buildKgsim(t))
	m := registration{tenantCode: "interop-oauth", clientID: "interop-oauth-client", clientSecret: rand.Text(),
		redirectURI: "https://crm.example/oauth/callback", userName: "zhangsan", password: rand.Text()}
	tenantID := register(t, p, m)
	conf := &oauth2.Config{ClientID: m.clientID, ClientSecret: m.clientSecret, RedirectURL: m.redirectURI, Scopes: []string{"get_user_info"},
		Endpoint: oauth2.Endpoint{AuthURL: p.domain(m.tenantCode) + "/oauth2/authorize", TokenURL: p.domain(m.tenantCode) + "/oauth2/token"}}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: clientTimeout})
	b := p.browser(t)

	state := rand.Text()
	back := b.logIn(t, b.get(t, conf.AuthCodeURL(state)), m.userName, m.password).redirectedTo(t, m.redirectURI+"?")
	code := back.Query().Get("code")
	if back.Query().Get("state") != state || code == "" {
		t.Fatalf("callback %s: want the state %s and a code", back, state)
	}
	before := time.Now()
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	// expires_in is 7200: the library dates the expiry from its own clock.
	if tok.RefreshToken == "" || !strings.EqualFold(tok.Type(), "Bearer") ||
		tok.Expiry.Before(before.Add(2*time.Hour-time.Minute)) || tok.Expiry.After(time.Now().Add(2*time.Hour)) {
		t.Errorf("token: type %q, refresh token given %t, expiry %s; want Bearer, a refresh token, and 2 h from now",
			tok.Type(), tok.RefreshToken != "", tok.Expiry)
	}
	userinfo := func(ts oauth2.TokenSource) (int, gjson.Result) {
		t.Helper()
		resp, err := oauth2.NewClient(ctx, ts).Get(p.domain(m.tenantCode) + "/oauth2/userinfo")
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, gjson.ParseBytes(body)
	}
	if status, info := userinfo(oauth2.StaticTokenSource(tok)); status != http.StatusOK ||
		info.Get("userName").Str != m.userName || info.Get("name").Str != "张三" || info.Get("tenant").Str != tenantID {
		t.Errorf("userinfo: %d %s; want 200 with userName %s, name 张三, tenant %s", status, info.Raw, m.userName, tenantID)
	}
	wantRefused := func(what string, err error, code string) {
		t.Helper()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != code {
			t.Errorf("%s: %v, want the library's RetrieveError %s", what, err, code)
		}
	}
	// A wrong client secret, with a code the SSO session gives without
	// the form.
	wrong := *conf
	wrong.ClientSecret = m.clientSecret + "x"
	sso := b.get(t, conf.AuthCodeURL(state)).redirectedTo(t, m.redirectURI+"?")
	_, err = wrong.Exchange(ctx, sso.Query().Get("code"))
	wantRefused("a wrong client secret", err, "invalid_client")

	// Two hours and a second later on kgsim's clock the access token is
	// refused...
	p.call(t, "POST", "/admin/v1/clock/advance", `{"by":"2h0m1s"}`)
	if status, _ := userinfo(oauth2.StaticTokenSource(tok)); status != http.StatusUnauthorized {
		t.Errorf("userinfo with an expired access token: %d, want 401", status)
	}
	// ...and the merchant's clock has moved as much, so the library
	// refreshes it by itself.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Second)
	ts := conf.TokenSource(ctx, &expired)
	fresh, err := ts.Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken {
		t.Error("refresh: want a new access token and a new refresh token")
	}
	if status, info := userinfo(ts); status != http.StatusOK || info.Get("userName").Str != m.userName {
		t.Errorf("userinfo after the refresh: %d %s", status, info.Raw)
	}
	// Refresh tokens rotate: the first one is spent.
	_, err = conf.TokenSource(ctx, &expired).Token()
	wantRefused("the first refresh token used again", err, "invalid_grant")
	// The code is single use, and exchanging it again revokes the tokens
	// it gave, refreshed ones included (RFC 6749 §4.1.2).
	_, err = conf.Exchange(ctx, code)
	wantRefused("the code exchanged again", err, "invalid_grant")
	if status, _ := userinfo(oauth2.StaticTokenSource(fresh)); status != http.StatusUnauthorized {
		t.Errorf("userinfo once the code was replayed: %d, want 401", status)
	}

	// Logout ends the SSO session: the next login shows the form.
	bye := "https://crm.example/bye"
	b.get(t, p.domain(m.tenantCode)+"/logout?redirect_url="+url.QueryEscape(bye)).redirectedTo(t, bye)
	if again := b.get(t, conf.AuthCodeURL(state)); again.status != http.StatusOK || !loginFormTag.MatchString(again.body) {
		t.Errorf("login after logout: %d at %s, want the login form", again.status, again.url)
	}
}
