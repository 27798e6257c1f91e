package identity

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/oauth2"
	cas "gopkg.in/cas.v2"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

func ptr[T any](v T) *T { return &v }

// override sets a tenant's settings, failing the test on an error.
func (w *world) override(tenantID string, o Overrides) TenantSettings {
	w.t.Helper()
	ts, err := w.idp.SetTenantSettings(w.t.Context(), tenantID, o)
	if err != nil {
		w.t.Fatal(err)
	}
	return ts
}

// casValidator is gopkg.in/cas.v2's validator for a tenant's domain.
func (w *world) casValidator(tenant string) *cas.ServiceTicketValidator {
	casURL, _ := url.Parse(w.domain(tenant) + "/api/v1/cas/")
	return cas.NewServiceTicketValidator(&http.Client{}, casURL)
}

// A tenant's CAS format, set through the settings, is what a standard CAS
// client reads; the other tenant keeps the marketplace's JSON.
func TestTenantCASFormat(t *testing.T) {
	w := newWorld(t)
	ts := w.override(acmeID, Overrides{CASFormat: ptr("xml")})
	if ts.Settings.CASFormat != "XML" || !reflect.DeepEqual(ts.Overridden, []string{"casFormat"}) {
		t.Errorf("settings %+v, want casFormat XML, overridden", ts)
	}
	service, _ := url.Parse(w.casService)
	res, err := w.casValidator(acmeCode).ValidateTicket(service, w.casTicket(t, w.browser()))
	if err != nil || res.User != "zhangsan" {
		t.Fatalf("cas.v2 with acme's XML: %+v, %v", res, err)
	}
	// Beta's ticket, validated at beta: JSON, which cas.v2 cannot read.
	browser := w.browser()
	r := get(t, browser, w.casLoginURL(betaCode, w.casService)).form(t).submit(t, browser, "wangwu", password)
	if _, err := w.casValidator(betaCode).ValidateTicket(service, w.ticketFrom(t, r)); err == nil {
		t.Error("cas.v2 read beta's validation: want the marketplace's JSON there")
	}
	// format=JSON in the request still wins over the tenant's XML.
	ticket := w.casTicket(t, w.browser())
	if r := w.validate(t, "p3/serviceValidate", url.Values{"service": {w.casService}, "ticket": {ticket}, "format": {"json"}}); r.header.Get("Content-Type") != ContentTypeJSON {
		t.Errorf("format=json at acme: %s", r.header.Get("Content-Type"))
	}
}

// A tenant's invalid_client status is what golang.org/x/oauth2 sees.
func TestTenantInvalidClientStatus(t *testing.T) {
	w := newWorld(t)
	w.override(acmeID, Overrides{InvalidClientStatus: ptr(http.StatusUnauthorized)})
	conf := w.oauthConfig(oauth2.AuthStyleInParams)
	conf.ClientSecret = "wrong"
	_, err := conf.Exchange(t.Context(), w.code())
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.Response.StatusCode != http.StatusUnauthorized || re.ErrorCode != "invalid_client" {
		t.Errorf("acme: %v, want 401 invalid_client", err)
	}
	r := w.token(t, tokenRequest{tenant: betaCode, form: url.Values{"grant_type": {"authorization_code"}, "code": {"x"},
		"client_id": {betaClientID}, "client_secret": {"wrong"}}})
	if r.status != http.StatusForbidden {
		t.Errorf("beta: %d, want the default 403", r.status)
	}
}

// echoState per tenant: a user of the tenant that set it gets the unified
// page's state back; a user of the other does not.
func TestTenantEchoState(t *testing.T) {
	w := newWorld(t)
	w.override(acmeID, Overrides{EchoState: ptr(true)})
	for _, tc := range []struct {
		user, state string
	}{{"zhangsan", "abc123"}, {"wangwu", ""}} {
		browser := w.browser()
		page := get(t, browser, w.kgsim.URL+"/unified-login/?ind=UNOP&appId="+appID+"&state=abc123")
		back := page.form(t).submit(t, browser, tc.user, password).location(t)
		if got := back.Query().Get("state"); got != tc.state || back.Query().Get("code") == "" {
			t.Errorf("%s: callback %q, want state %q", tc.user, back.RawQuery, tc.state)
		}
	}
}

// The lifetimes of a tenant, each observed with the client that would
// notice: a code, an access token and its refresh token, a ticket and an
// SSO session end when the tenant says, on the scheduling clock.
func TestTenantLifetimes(t *testing.T) {
	w := newWorld(t)
	w.override(acmeID, Overrides{CodeLifetime: ptr("30s"), AccessTokenLifetime: ptr("60s"), RefreshTokenLifetime: ptr("2m"),
		TicketLifetime: ptr("5s"), SessionLifetime: ptr("90s"), CASFormat: ptr("XML")})
	ctx := t.Context()
	conf := w.oauthConfig(oauth2.AuthStyleInParams)

	code := w.code()
	w.clock.Advance(30 * time.Second)
	_, err := conf.Exchange(ctx, code)
	checkRetrieveError(t, err, vectorBody(t, "T2"))

	tok, err := conf.Exchange(ctx, w.code())
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Extra("expires_in"); got != 60.0 {
		t.Errorf("expires_in %v, want 60", got)
	}
	w.clock.Advance(59 * time.Second)
	if r := w.userinfo(t, tok.AccessToken); r.status != http.StatusOK {
		t.Errorf("userinfo at 59 s: %d", r.status)
	}
	w.clock.Advance(time.Second)
	if r := w.userinfo(t, tok.AccessToken); r.status != http.StatusUnauthorized {
		t.Errorf("userinfo at 60 s: %d, want 401", r.status)
	}
	w.clock.Advance(time.Minute)
	tok.Expiry = time.Now().Add(-time.Second) // make oauth2 refresh
	_, err = conf.TokenSource(ctx, tok).Token()
	checkRetrieveError(t, err, vectorBody(t, "T3"))

	ticket := w.casTicket(t, w.browser())
	w.clock.Advance(5 * time.Second)
	service, _ := url.Parse(w.casService)
	_, err = w.casValidator(acmeCode).ValidateTicket(service, ticket)
	if authErr, ok := errors.AsType[*cas.AuthenticationError](err); !ok || authErr.Code != string(CASInvalidTicket) {
		t.Errorf("a ticket 5 s old: %v, want INVALID_TICKET", err)
	}

	browser := w.browser()
	w.login(browser, nil)
	w.clock.Advance(89 * time.Second)
	if r := get(t, browser, w.authorizeURL(nil)); r.status != http.StatusFound {
		t.Errorf("authorize 89 s into the session: %d, want a redirect with a code", r.status)
	}
	w.clock.Advance(time.Second)
	if r := get(t, browser, w.authorizeURL(nil)); r.status != http.StatusOK || r.url.Path != "/unified-login/" {
		t.Errorf("authorize 90 s into the session: %d at %s, want the login form", r.status, r.url)
	}
}

// The marketplace's defaults (kgsim serve's flags) apply to every tenant
// that does not override them.
func TestDefaultLifetimes(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.Defaults.AccessLifetime = 10 * time.Minute })
	tok, err := w.oauthConfig(oauth2.AuthStyleInParams).Exchange(t.Context(), w.code())
	if err != nil || tok.Extra("expires_in") != 600.0 {
		t.Fatalf("token %v, %v; want expires_in 600", tok, err)
	}
	ts, err := w.idp.TenantSettings(t.Context(), acmeID)
	want := DefaultSettings()
	want.AccessLifetime = 10 * time.Minute
	if err != nil || ts.Settings != want || len(ts.Overridden) != 0 {
		t.Errorf("acme's settings %+v, %v; want the defaults with a 10 min access token and nothing overridden", ts, err)
	}
}

// Bad settings are refused with the setting named; nothing changes.
func TestBadSettings(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		o     Overrides
		field string
	}{
		{Overrides{CASFormat: ptr("yaml")}, "casFormat"},
		{Overrides{InvalidClientStatus: ptr(400)}, "invalidClientStatus"},
		{Overrides{CodeLifetime: ptr("0s")}, "codeLifetime"},
		{Overrides{AccessTokenLifetime: ptr("1.5s")}, "accessTokenLifetime"},
		{Overrides{RefreshTokenLifetime: ptr("400d")}, "refreshTokenLifetime"},
		{Overrides{TicketLifetime: ptr("soon")}, "ticketLifetime"},
		{Overrides{SessionLifetime: ptr("-1h")}, "sessionLifetime"},
	} {
		_, err := w.idp.SetTenantSettings(t.Context(), acmeID, tc.o)
		if e, ok := errors.AsType[*simulator.Error](err); !ok || e.Code != simulator.EINVALID || e.Field != tc.field {
			t.Errorf("%+v: %v, want EINVALID naming %s", tc.o, err, tc.field)
		}
	}
	if ts, err := w.idp.TenantSettings(t.Context(), acmeID); err != nil || ts.Settings != DefaultSettings() {
		t.Errorf("after refused changes: %+v, %v", ts, err)
	}
	for _, tc := range []struct {
		c     Settings
		field string
	}{
		{Settings{CASFormat: "yaml"}, "casFormat"},
		{Settings{InvalidClientStatus: 500}, "invalidClientStatus"},
		{Settings{TicketLifetime: 1500 * time.Millisecond}, "ticketLifetime"},
	} {
		_, err := New(Config{Store: w.store, Clock: w.clock, Random: rand.Reader, Base: w.kgsim.URL, Logger: slog.New(slog.DiscardHandler), Defaults: tc.c})
		if e, ok := errors.AsType[*simulator.Error](err); !ok || e.Field != tc.field {
			t.Errorf("Defaults %+v: %v, want an error naming %s", tc.c, err, tc.field)
		}
	}
}

// A tenant's settings survive a restart: a new identity provider over the
// same database, reopened, answers CAS in the tenant's XML.
func TestSettingsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kgsim.db")
	open := func() (*sqlite.DB, *Server, *httptest.Server) {
		db, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		router := mux.NewRouter()
		srv := httptest.NewServer(router)
		idp, err := New(Config{Store: db, Clock: schedule.NewVirtual(time.Now()), Random: rand.Reader, Base: srv.URL, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		idp.Register(router)
		return db, idp, srv
	}
	db, idp, srv := open()
	if err := db.PutTenant(t.Context(), simulator.Tenant{ID: acmeID, Code: acmeCode}); err != nil {
		t.Fatal(err)
	}
	if _, err := idp.SetTenantSettings(t.Context(), acmeID, Overrides{CASFormat: ptr("XML"), SessionLifetime: ptr("1h")}); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	db.Close()

	db, idp, srv = open()
	defer db.Close()
	defer srv.Close()
	ts, err := idp.TenantSettings(t.Context(), acmeID)
	if err != nil || ts.Settings.CASFormat != "XML" || ts.Settings.SessionLifetime != time.Hour ||
		!reflect.DeepEqual(ts.Overridden, []string{"casFormat", "sessionLifetime"}) {
		t.Fatalf("after the restart: %+v, %v", ts, err)
	}
	r := get(t, http.DefaultClient, srv.URL+"/t/"+acmeCode+"/api/v1/cas/p3/serviceValidate?service=x&ticket=ST-1-x")
	if r.header.Get("Content-Type") != ContentTypeXML {
		t.Errorf("validation after the restart: %s, want the tenant's XML", r.header.Get("Content-Type"))
	}
}
