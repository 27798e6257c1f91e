package identity

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"
	cas "gopkg.in/cas.v2"

	"github.com/kgsim/kgsim/simulator"
)

// fault sets a fault, failing the test on an error.
func (w *world) fault(tenantID string, r FaultRequest) Fault {
	w.t.Helper()
	f, err := w.idp.SetFault(tenantID, r)
	if err != nil {
		w.t.Fatal(err)
	}
	return f
}

// status is the HTTP status golang.org/x/oauth2 saw with an error.
func status(err error) int {
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		return re.Response.StatusCode
	}
	return 0
}

// The token endpoint failing for 2 requests: golang.org/x/oauth2 sees the
// status twice, and the same code is then exchanged, since a failed
// request spent nothing; the other tenant never saw the fault.
func TestTokenEndpointFails(t *testing.T) {
	w := newWorld(t)
	w.fault(acmeID, FaultRequest{Endpoint: EndpointToken, Status: ptr(http.StatusBadGateway), Count: 2})
	conf := w.oauthConfig(oauth2.AuthStyleInParams)
	code := w.code()
	for i := range 2 {
		_, err := conf.Exchange(t.Context(), code)
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || status(err) != http.StatusBadGateway || re.ErrorCode != "server_error" {
			t.Fatalf("exchange %d: %v, want 502 server_error", i+1, err)
		}
	}
	if _, err := conf.Exchange(t.Context(), code); err != nil {
		t.Fatalf("after the fault's 2 requests: %v", err)
	}
	if fs := w.idp.Faults(acmeID); len(fs) != 0 {
		t.Errorf("faults after their count: %+v", fs)
	}

	// Until cleared: the default 503, then cleared.
	w.fault(acmeID, FaultRequest{Endpoint: EndpointToken})
	for range 3 {
		if _, err := conf.Exchange(t.Context(), code); status(err) != http.StatusServiceUnavailable {
			t.Fatalf("a fault without count or status: %v, want 503", err)
		}
	}
	if fs := w.idp.Faults(acmeID); len(fs) != 1 || fs[0].Used != 3 || fs[0].Status != http.StatusServiceUnavailable {
		t.Errorf("faults: %+v, want the token endpoint's with 3 requests used", fs)
	}
	if n := w.idp.ClearFaults(acmeID); n != 1 {
		t.Errorf("cleared %d faults, want 1", n)
	}
	_, err := conf.Exchange(t.Context(), code)
	checkRetrieveError(t, err, vectorBody(t, "T2")) // the code was spent above: the endpoint answers again
}

// A slow token endpoint holds the request for its delay, and nothing
// else: the other tenant's exchange is not queued behind it, and a client
// that gives up ends the wait (the server can shut down at once).
func TestTokenEndpointSlow(t *testing.T) {
	w := newWorld(t)
	const delay = 300 * time.Millisecond
	w.fault(acmeID, FaultRequest{Endpoint: EndpointToken, Delay: delay.String(), Count: 1})
	conf := w.oauthConfig(oauth2.AuthStyleInParams)
	code := w.code()

	betaConf := w.oauthConfig(oauth2.AuthStyleInParams)
	betaConf.ClientID, betaConf.ClientSecret, betaConf.Endpoint.TokenURL = betaClientID, betaSecret, w.domain(betaCode)+"/api/v1/oauth2/token"
	browser := w.browser()
	betaCode := get(t, browser, w.kgsim.URL+"/unified-login/?ind=UNOP&appId="+appID).form(t).submit(t, browser, "wangwu", password).location(t).Query().Get("code")

	slow := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		_, err := conf.Exchange(context.WithoutCancel(t.Context()), code)
		if err != nil {
			t.Error(err)
		}
		slow <- time.Since(start)
	}()
	if _, err := betaConf.Exchange(t.Context(), betaCode); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= delay {
		t.Errorf("beta's exchange took %s, behind acme's slow one", took)
	}
	if took := <-slow; took < delay {
		t.Errorf("the slow exchange took %s, want at least %s", took, delay)
	}

	// A 5 s delay and a client that waits 100 ms.
	w.fault(acmeID, FaultRequest{Endpoint: EndpointToken, Delay: "5s"})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := conf.Exchange(ctx, w.code()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("exchange against a 5 s delay: %v, want the client's deadline", err)
	}
	w.kgsim.Close() // waits for every request in flight
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutting down took %s: the delayed request outlived its client", took)
	}
}

// userinfo made to fail: 401 invalid_token as for a revoked token, or a
// 5xx; then it answers again.
func TestUserinfoFails(t *testing.T) {
	w := newWorld(t)
	tok, err := w.oauthConfig(oauth2.AuthStyleInParams).Exchange(t.Context(), w.code())
	if err != nil {
		t.Fatal(err)
	}
	w.fault(acmeID, FaultRequest{Endpoint: EndpointUserinfo, Status: ptr(http.StatusUnauthorized), Count: 1})
	r := w.userinfo(t, tok.AccessToken)
	if r.status != http.StatusUnauthorized || jsonField(t, r.body, "error") != "invalid_token" || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("userinfo with a 401 fault: %d %s", r.status, r.body)
	}
	w.fault(acmeID, FaultRequest{Endpoint: EndpointUserinfo, Status: ptr(http.StatusInternalServerError), Count: 1})
	if r := w.userinfo(t, tok.AccessToken); r.status != http.StatusInternalServerError || jsonField(t, r.body, "error") != "server_error" {
		t.Errorf("userinfo with a 500 fault: %d %s", r.status, r.body)
	}
	if r := w.userinfo(t, tok.AccessToken); r.status != http.StatusOK {
		t.Errorf("userinfo after the faults: %d %s", r.status, r.body)
	}
}

// CAS validation made to fail: gopkg.in/cas.v2 reads INTERNAL_ERROR in
// the tenant's XML; the ticket is not spent, so it validates once the
// fault is cleared. A 5xx status is an error to it too.
func TestCASValidationFails(t *testing.T) {
	w := newWorld(t)
	w.override(acmeID, Overrides{CASFormat: ptr("XML")})
	w.fault(acmeID, FaultRequest{Endpoint: EndpointCASValidate})
	service, _ := url.Parse(w.casService)
	ticket := w.casTicket(t, w.browser())
	_, err := w.casValidator(acmeCode).ValidateTicket(service, ticket)
	if authErr, ok := errors.AsType[*cas.AuthenticationError](err); !ok || authErr.Code != string(CASInternalError) {
		t.Fatalf("validation with the fault: %v, want INTERNAL_ERROR", err)
	}
	if r := w.validate(t, "validate", url.Values{"service": {w.casService}, "ticket": {ticket}}); r.status != http.StatusOK || r.body != "no\n\n" {
		t.Errorf("CAS 1.0 with the fault: %d %q", r.status, r.body)
	}
	w.idp.ClearFaults(acmeID, EndpointCASValidate)
	if res, err := w.casValidator(acmeCode).ValidateTicket(service, ticket); err != nil || res.User != "zhangsan" {
		t.Errorf("validation once cleared: %+v, %v", res, err)
	}
	w.fault(acmeID, FaultRequest{Endpoint: EndpointCASValidate, Status: ptr(http.StatusServiceUnavailable)})
	r := w.validate(t, "p3/serviceValidate", url.Values{"service": {w.casService}, "ticket": {w.casTicket(t, w.browser())}, "format": {"JSON"}})
	if r.status != http.StatusServiceUnavailable || r.header.Get("Content-Type") != ContentTypeJSON ||
		r.body != `{"serviceResponse":{"authenticationFailure":{"code":"INTERNAL_ERROR","description":"The CAS server failed (a fault set through kgsim's admin API)"}}}` {
		t.Errorf("a 503 fault, format=JSON: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
}

// Expiring a tenant's logins: the merchant's code, access token, refresh
// token and the browser's SSO session all stop working at once; the other
// tenant's do not.
func TestExpireLogins(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	conf := w.oauthConfig(oauth2.AuthStyleInParams)
	browser := w.browser()
	tok, err := conf.Exchange(ctx, w.login(browser, nil).Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	code := w.code()
	betaAt := w.store.PutSession(ctx, simulator.Session{ID: digest("beta-session"), TenantID: betaID, UserName: "wangwu",
		ExpiresAt: w.clock.Now().Add(time.Hour)})
	if betaAt != nil {
		t.Fatal(betaAt)
	}
	n, err := w.idp.ExpireLogins(ctx, acmeID)
	if err != nil || n < 4 {
		t.Fatalf("expired %d records, %v; want the code, the tokens and the sessions", n, err)
	}
	_, err = conf.Exchange(ctx, code)
	checkRetrieveError(t, err, vectorBody(t, "T2"))
	if r := w.userinfo(t, tok.AccessToken); r.status != http.StatusUnauthorized {
		t.Errorf("userinfo: %d, want 401", r.status)
	}
	tok.Expiry = time.Now().Add(-time.Second)
	_, err = conf.TokenSource(ctx, tok).Token()
	checkRetrieveError(t, err, vectorBody(t, "T3"))
	if r := get(t, browser, w.authorizeURL(nil)); r.status != http.StatusOK || r.url.Path != "/unified-login/" {
		t.Errorf("authorize with the expired session: %d at %s, want the form", r.status, r.url)
	}
	if s, err := w.store.Session(ctx, digest("beta-session")); err != nil || !w.clock.Now().Before(s.ExpiresAt) {
		t.Errorf("beta's session: %+v, %v; want it live", s, err)
	}
}

// A user removed mid-session, disabled (the authorisation revoked), or
// removed and added again: the tokens issued before stop working at
// userinfo (401 invalid_token) and refresh (invalid_grant).
func TestUserGoneMidSession(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(w *world) error
	}{
		{"removed", func(w *world) error { return w.store.DeleteUser(w.t.Context(), acmeID, "zhangsan") }},
		{"disabled", func(w *world) error {
			return w.store.PutAuthorisation(w.t.Context(), simulator.Authorisation{TenantID: acmeID, AppID: appID, UserName: "zhangsan", UpdatedAt: w.clock.Now()})
		}},
		{"added again", func(w *world) error {
			ctx := w.t.Context()
			u, err := w.store.User(ctx, acmeID, "zhangsan")
			if err != nil {
				return err
			}
			if err := w.store.DeleteUser(ctx, acmeID, "zhangsan"); err != nil {
				return err
			}
			w.clock.Advance(time.Second)
			u.CreatedAt = w.clock.Now()
			return w.store.PutUser(ctx, u)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			conf := w.oauthConfig(oauth2.AuthStyleInParams)
			tok, err := conf.Exchange(t.Context(), w.code())
			if err != nil {
				t.Fatal(err)
			}
			if r := w.userinfo(t, tok.AccessToken); r.status != http.StatusOK {
				t.Fatalf("userinfo before: %d", r.status)
			}
			if err := tc.change(w); err != nil {
				t.Fatal(err)
			}
			if r := w.userinfo(t, tok.AccessToken); r.status != http.StatusUnauthorized || jsonField(t, r.body, "error") != "invalid_token" {
				t.Errorf("userinfo after: %d %s, want 401 invalid_token", r.status, r.body)
			}
			tok.Expiry = time.Now().Add(-time.Second)
			_, err = conf.TokenSource(t.Context(), tok).Token()
			checkRetrieveError(t, err, vectorBody(t, "T3"))
		})
	}
}

// A rotated client secret: the old one is refused at once with
// invalid_client, the new one works.
func TestRotatedSecret(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	c, err := w.store.Client(ctx, acmeID, appID)
	if err != nil {
		t.Fatal(err)
	}
	c.ClientSecret, c.RotatedAt = "kgsim-client-secret-rotated", w.clock.Now()
	if err := w.store.PutClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	conf := w.oauthConfig(oauth2.AuthStyleInParams)
	_, err = conf.Exchange(ctx, w.code())
	if status(err) != http.StatusForbidden {
		t.Errorf("the old secret: %v, want 403 invalid_client", err)
	}
	checkRetrieveError(t, err, vectorBody(t, "T4"))
	conf.ClientSecret = c.ClientSecret
	if _, err := conf.Exchange(ctx, w.code()); err != nil {
		t.Errorf("the new secret: %v", err)
	}
}

// Bad faults are refused with the member named.
func TestBadFaults(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		r     FaultRequest
		field string
	}{
		{FaultRequest{Endpoint: "authorize"}, "endpoint"},
		{FaultRequest{}, "endpoint"},
		{FaultRequest{Endpoint: EndpointToken, Status: ptr(http.StatusUnauthorized)}, "status"},
		{FaultRequest{Endpoint: EndpointToken, Status: ptr(600)}, "status"},
		{FaultRequest{Endpoint: EndpointUserinfo, Status: ptr(http.StatusForbidden)}, "status"},
		{FaultRequest{Endpoint: EndpointCASValidate, Status: ptr(http.StatusUnauthorized)}, "status"},
		{FaultRequest{Endpoint: EndpointToken, Delay: "soon"}, "delay"},
		{FaultRequest{Endpoint: EndpointToken, Delay: "11m"}, "delay"},
		{FaultRequest{Endpoint: EndpointToken, Delay: "-1s"}, "delay"},
		{FaultRequest{Endpoint: EndpointToken, Count: -1}, "count"},
	} {
		_, err := w.idp.SetFault(acmeID, tc.r)
		if e, ok := errors.AsType[*simulator.Error](err); !ok || e.Code != simulator.EINVALID || e.Field != tc.field {
			t.Errorf("%+v: %v, want EINVALID naming %s", tc.r, err, tc.field)
		}
	}
	if fs := w.idp.Faults(acmeID); len(fs) != 0 {
		t.Errorf("faults after refusals: %+v", fs)
	}
}
