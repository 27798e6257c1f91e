package identity

import (
	"crypto/rand"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// The world of these tests: one tenant (Acme) with a merchant's app bound
// to it, an authorised user zhangsan, a user lisi who is not authorised,
// and a second tenant (Beta) with the same app bound under its own pair.
const (
	acmeID       = "68cbc86abc2018ab880d92f36422fa0e"
	acmeCode     = "acme"
	acmeName     = "Acme 有限公司"
	betaID       = "0123456789abcdef0123456789abcdef"
	betaCode     = "beta"
	appID        = "APP-KGSIM-0001"
	crmName      = "Acme CRM"
	clientID     = "kgsim-client-0001"
	clientSecret = "kgsim-client-secret-0001"
	betaClientID = "kgsim-client-beta"
	betaSecret   = "kgsim-client-secret-beta"
	password     = "Zs-passw0rd!"
	orgCode      = "123456789"
	orgName      = "总部"
)

type world struct {
	t        *testing.T
	store    *sqlite.DB
	clock    *schedule.Virtual
	idp      *Server
	kgsim    *httptest.Server
	merchant *httptest.Server
	// callback and casService are the merchant's registered URLs.
	callback, casService string
	// merchantHandler answers the merchant's requests; tests replace it.
	merchantHandler http.Handler
}

type option func(*Config)

// newWorld starts kgsim's identity provider on loopback over a fresh
// SQLite file, and a merchant whose app is registered with it.
func newWorld(t *testing.T, opts ...option) *world {
	t.Helper()
	w := &world{t: t, clock: schedule.NewVirtual(time.Date(2024, 1, 1, 4, 0, 0, 0, time.UTC))}
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "kgsim.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.store = db

	w.merchantHandler = http.NotFoundHandler()
	w.merchant = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { w.merchantHandler.ServeHTTP(rw, r) }))
	t.Cleanup(w.merchant.Close)
	w.callback = w.merchant.URL + "/oauth/callback"
	w.casService = w.merchant.URL + "/cas/callback"

	router := mux.NewRouter()
	w.kgsim = httptest.NewServer(router)
	t.Cleanup(w.kgsim.Close)
	c := Config{Store: db, Clock: w.clock, Random: rand.Reader, Base: w.kgsim.URL, Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&c)
	}
	if w.idp, err = New(c); err != nil {
		t.Fatal(err)
	}
	w.idp.Register(router)
	w.seed()
	return w
}

func (w *world) seed() {
	ctx, t := w.t.Context(), w.t
	now := w.clock.Now()
	hash := func(p string) string {
		h, err := simulator.HashPassword(p, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.store.PutTenant(ctx, simulator.Tenant{ID: acmeID, Code: acmeCode, Name: acmeName, CreatedAt: now, UpdatedAt: now}))
	must(w.store.PutTenant(ctx, simulator.Tenant{ID: betaID, Code: betaCode, Name: "Beta", CreatedAt: now, UpdatedAt: now}))
	must(w.store.PutApp(ctx, simulator.App{ID: appID, Name: crmName, RedirectURIs: []string{w.callback, w.merchant.URL + "/other/callback"},
		CASServices: []string{w.casService}, CreatedAt: now}))
	must(w.store.PutClient(ctx, simulator.Client{TenantID: acmeID, AppID: appID, ClientID: clientID, ClientSecret: clientSecret, CreatedAt: now}))
	must(w.store.PutClient(ctx, simulator.Client{TenantID: betaID, AppID: appID, ClientID: betaClientID, ClientSecret: betaSecret, CreatedAt: now}))
	must(w.store.PutDepartment(ctx, simulator.Department{TenantID: acmeID, OrgCode: orgCode, Name: orgName, CreatedAt: now}))
	must(w.store.PutUser(ctx, simulator.User{TenantID: acmeID, UserName: "zhangsan", ID: "u-0001", PasswordHash: hash(password), Name: "张三",
		Email: "zhangsan@example.com", Mobile: "13800000000", Role: "admin", OrgCode: orgCode, CreatedAt: now, UpdatedAt: now}))
	must(w.store.PutUser(ctx, simulator.User{TenantID: acmeID, UserName: "lisi", ID: "u-0002", PasswordHash: hash(password), Name: "李四",
		Role: "user", OrgCode: orgCode, CreatedAt: now, UpdatedAt: now}))
	must(w.store.PutUser(ctx, simulator.User{TenantID: betaID, UserName: "wangwu", ID: "u-0003", PasswordHash: hash(password), Name: "王五",
		Role: "user", CreatedAt: now, UpdatedAt: now}))
	must(w.store.PutAuthorisation(ctx, simulator.Authorisation{TenantID: acmeID, AppID: appID, UserName: "zhangsan", Enabled: true, UpdatedAt: now}))
	must(w.store.PutAuthorisation(ctx, simulator.Authorisation{TenantID: acmeID, AppID: appID, UserName: "lisi", Enabled: false, UpdatedAt: now}))
	must(w.store.PutAuthorisation(ctx, simulator.Authorisation{TenantID: betaID, AppID: appID, UserName: "wangwu", Enabled: true, UpdatedAt: now}))
}

// domain is a tenant's identity domain, as tenantSync's domainName.
func (w *world) domain(code string) string { return w.kgsim.URL + "/t/" + code }

// browser is an HTTP client with cookies that follows redirects within
// kgsim and stops at the first one that leaves it, as a browser would
// hand over to the merchant.
func (w *world) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		w.t.Fatal(err)
	}
	kgsim, _ := url.Parse(w.kgsim.URL)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != kgsim.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   string
	url    *url.URL // the last URL requested
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b), res.Request.URL}
}

func get(t *testing.T, c *http.Client, u string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, c, req)
}

// location is a redirect's target, parsed.
func (r response) location(t *testing.T) *url.URL {
	t.Helper()
	if r.status != http.StatusFound {
		t.Fatalf("status %d, want 302; body:\n%s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// loginForm is the login page's form as a person's browser would send it.
type loginForm struct {
	action string
	fields url.Values
}

var (
	formTag  = regexp.MustCompile(`<form[^>]*\baction="([^"]*)"`)
	inputTag = regexp.MustCompile(`<input[^>]*>`)
	attr     = regexp.MustCompile(`\b(type|name|value)="([^"]*)"`)
)

// form reads the page's form: its action and hidden inputs.
func (r response) form(t *testing.T) loginForm {
	t.Helper()
	f, err := parseForm(r.body, r.url)
	if err != nil {
		t.Fatalf("%v (status %d):\n%s", err, r.status, r.body)
	}
	return f
}

// parseForm reads the form of page, which was fetched from at.
func parseForm(page string, at *url.URL) (loginForm, error) {
	m := formTag.FindStringSubmatch(page)
	if m == nil {
		return loginForm{}, errors.New("no form on the page")
	}
	action, err := at.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return loginForm{}, err
	}
	f := loginForm{action: action.String(), fields: url.Values{}}
	for _, input := range inputTag.FindAllString(page, -1) {
		a := map[string]string{}
		for _, kv := range attr.FindAllStringSubmatch(input, -1) {
			a[kv[1]] = html.UnescapeString(kv[2])
		}
		if a["type"] == "hidden" {
			f.fields.Set(a["name"], a["value"])
		}
	}
	return f, nil
}

// submit sends the form with a user name and password.
func (f loginForm) submit(t *testing.T, c *http.Client, userName, password string) response {
	t.Helper()
	fields := url.Values{}
	for k, v := range f.fields {
		fields[k] = v
	}
	fields.Set("username", userName)
	fields.Set("password", password)
	return postForm(t, c, f.action, fields)
}

// pageError is the error text the page shows, or "".
func (r response) pageError() string {
	m := regexp.MustCompile(`(?s)<div class="alert" role="alert" id="login-error">(.*?)</div>`).FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// authorizeURL is /authorize for the Acme client with the given extra
// parameters.
func (w *world) authorizeURL(extra url.Values) string {
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {w.callback}, "scope": {"get_user_info"}}
	for k, v := range extra {
		q[k] = v
	}
	return w.domain(acmeCode) + "/api/v1/oauth2/authorize?" + q.Encode()
}

// login runs the code flow in c as zhangsan through /authorize and the
// form (or the SSO session, when c has one), returning the callback's
// query.
func (w *world) login(c *http.Client, extra url.Values) url.Values {
	t := w.t
	t.Helper()
	page := get(t, c, w.authorizeURL(extra))
	if page.status == http.StatusOK {
		page = page.form(t).submit(t, c, "zhangsan", password)
	}
	back := page.location(t)
	if got := back.Scheme + "://" + back.Host + back.Path; got != w.callback {
		t.Fatalf("login went to %s, want the callback %s", back, w.callback)
	}
	return back.Query()
}

// noRedirects is c, with its cookies, stopping at every redirect.
func noRedirects(c *http.Client) *http.Client {
	stay := *c
	stay.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &stay
}
