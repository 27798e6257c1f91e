package identity

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	cas "gopkg.in/cas.v2"

	"github.com/kgsim/kgsim/simulator/vectors"
)

var ticketShape = regexp.MustCompile(`^ST-[0-9]+-[A-Za-z0-9]{28}$`)

// casLoginURL is CAS login at a tenant's domain for service.
func (w *world) casLoginURL(tenant, service string, extra ...string) string {
	q := url.Values{"service": {service}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return w.domain(tenant) + "/api/v1/cas/login?" + q.Encode()
}

// ticketFrom reads the ticket of a redirect to the merchant's service.
func (w *world) ticketFrom(t *testing.T, r response) string {
	t.Helper()
	back := r.location(t)
	if got := back.Scheme + "://" + back.Host + back.Path; got != w.casService {
		t.Fatalf("went to %s, want the service %s", back, w.casService)
	}
	ticket := back.Query().Get("ticket")
	if !ticketShape.MatchString(ticket) {
		t.Fatalf("ticket %q, want ST-{n}-{28 [A-Za-z0-9]}", ticket)
	}
	return ticket
}

// casTicket logs zhangsan in through CAS login in browser (by the form, or
// the session if it has one) and returns the ticket.
func (w *world) casTicket(t *testing.T, browser *http.Client) string {
	t.Helper()
	r := get(t, browser, w.casLoginURL(acmeCode, w.casService))
	if r.status == http.StatusOK {
		r = r.form(t).submit(t, browser, "zhangsan", password)
	}
	return w.ticketFrom(t, r)
}

// validate calls a validation endpoint (cas/…) at acme's domain.
func (w *world) validate(t *testing.T, endpoint string, q url.Values) response {
	t.Helper()
	return get(t, http.DefaultClient, w.domain(acmeCode)+"/api/v1/cas/"+endpoint+"?"+q.Encode())
}

// failureDoc is vectors C2/C4's document for another ticket.
func failureDoc(t *testing.T, kind, ticket string) string {
	t.Helper()
	// C4's request is "same as C2": C2 names the ticket.
	vectorTicket := vectors.Of(t, "identity.json", "cas-xml-failure")[0].Get("inputs.query.ticket").String()
	return strings.ReplaceAll(vectors.Of(t, "identity.json", kind)[0].Get("expected").String(), vectorTicket, ticket)
}

// CAS login, validation in both formats and all three versions, single
// use, SSO, renew, gateway and logout (identity.md §4).
func TestCASFlow(t *testing.T) {
	w := newWorld(t)
	browser := w.browser()
	loginAt := w.clock.Now()
	ticket := w.casTicket(t, browser)

	// The default format is JSON (identity.md §4.2).
	r := w.validate(t, "p3/serviceValidate", url.Values{"service": {w.casService}, "ticket": {ticket}})
	if r.status != http.StatusOK || r.header.Get("Content-Type") != ContentTypeJSON {
		t.Fatalf("validate: %d %s\n%s", r.status, r.header.Get("Content-Type"), r.body)
	}
	success := gjson.Get(r.body, "serviceResponse.authenticationSuccess")
	var attrs []string
	success.Get("attributes").ForEach(func(k, v gjson.Result) bool {
		attrs = append(attrs, k.String()+"="+v.String())
		return true
	})
	want := []string{"authenticationDate=" + loginAt.UTC().Format("2006-01-02T15:04:05.000Z"), "longTermAuthenticationRequestTokenUsed=false",
		"isFromNewLogin=true", "role=admin", "organizationCode=" + orgCode, "name=张三", "userName=zhangsan", "tenant=" + acmeID}
	if success.Get("user").String() != "zhangsan" || strings.Join(attrs, "\n") != strings.Join(want, "\n") {
		t.Errorf("success %s\nwant user zhangsan and attributes %v", success.Raw, want)
	}
	// Single use: the second validation fails as vector C4 says.
	if r := w.validate(t, "p3/serviceValidate", url.Values{"service": {w.casService}, "ticket": {ticket}}); r.body != failureDoc(t, "cas-json-failure", ticket) {
		t.Errorf("second validation: %s", r.body)
	}

	// SSO: the browser gets a ticket without the form, not from a new login.
	w.clock.Advance(time.Minute)
	sso := w.ticketFrom(t, get(t, browser, w.casLoginURL(acmeCode, w.casService)))
	r = w.validate(t, "serviceValidate", url.Values{"service": {w.casService}, "ticket": {sso}, "format": {"xml"}})
	if r.header.Get("Content-Type") != ContentTypeXML || !strings.Contains(r.body, "<cas:isFromNewLogin>false</cas:isFromNewLogin>") ||
		!strings.Contains(r.body, "<cas:authenticationDate>"+loginAt.UTC().Format("2006-01-02T15:04:05.000Z")+"</cas:authenticationDate>") {
		t.Errorf("CAS 2.0 validation of an SSO ticket, XML:\n%s\nwant isFromNewLogin false and the first login's date", r.body)
	}
	// renew=true refuses a ticket from the session...
	sso = w.ticketFrom(t, get(t, browser, w.casLoginURL(acmeCode, w.casService)))
	r = w.validate(t, "p3/serviceValidate", url.Values{"service": {w.casService}, "ticket": {sso}, "renew": {"true"}})
	if gjson.Get(r.body, "serviceResponse.authenticationFailure.code").String() != "INVALID_TICKET" {
		t.Errorf("renew=true with an SSO ticket: %s, want INVALID_TICKET", r.body)
	}
	// ...and at login shows the form although there is a session.
	if r := get(t, browser, w.casLoginURL(acmeCode, w.casService, "renew", "true")); r.status != http.StatusOK || r.url.Path != "/unified-login/" {
		t.Errorf("login with renew=true: %d at %s, want the form", r.status, r.url)
	}

	// CAS 1.0.
	v1 := w.casTicket(t, browser)
	if r := w.validate(t, "validate", url.Values{"service": {w.casService}, "ticket": {v1}}); r.body != "yes\nzhangsan\n" ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("CAS 1.0: %q %s", r.body, r.header.Get("Content-Type"))
	}
	if r := w.validate(t, "validate", url.Values{"service": {w.casService}, "ticket": {v1}}); r.body != "no\n\n" {
		t.Errorf("CAS 1.0 again: %q", r.body)
	}

	// Logout goes to the service and ends the session; gateway then
	// returns to the service without a ticket.
	out := get(t, browser, w.domain(acmeCode)+"/api/v1/cas/logout?service="+url.QueryEscape(w.casService)).location(t)
	if out.String() != w.casService {
		t.Errorf("CAS logout went to %s", out)
	}
	gw := get(t, browser, w.casLoginURL(acmeCode, w.casService, "gateway", "true")).location(t)
	if gw.String() != w.casService {
		t.Errorf("gateway without a session went to %s, want the service without a ticket", gw)
	}
}

// Validation failures, each with its CAS code (identity.md §4.2).
func TestCASBadInput(t *testing.T) {
	w := newWorld(t)
	browser := w.browser()
	for _, tc := range []struct {
		name   string
		query  func(ticket string) url.Values
		before func()
		code   CASCode
		desc   string // a part of the description
	}{
		{"tampered ticket", func(tk string) url.Values {
			return url.Values{"service": {w.casService}, "ticket": {tamper(tk)}}
		}, nil, CASInvalidTicket, "not recognized"},
		{"unknown service", func(tk string) url.Values {
			return url.Values{"service": {"https://evil.example/cas/callback"}, "ticket": {tk}}
		}, nil, CASInvalidService, "The original service was '" + w.casService + "'"},
		{"service with an extra query", func(tk string) url.Values {
			return url.Values{"service": {w.casService + "?x=1"}, "ticket": {tk}}
		}, nil, CASInvalidService, "does not match supplied service"},
		{"missing service", func(tk string) url.Values { return url.Values{"ticket": {tk}} }, nil, CASInvalidRequest, "service and ticket are required"},
		{"missing ticket", func(string) url.Values { return url.Values{"service": {w.casService}} }, nil, CASInvalidRequest, "service and ticket are required"},
		{"ticket 60 s old", func(tk string) url.Values { return url.Values{"service": {w.casService}, "ticket": {tk}} },
			func() { w.clock.Advance(TicketLifetime) }, CASInvalidTicket, "not recognized"},
		{"format neither XML nor JSON", func(tk string) url.Values {
			return url.Values{"service": {w.casService}, "ticket": {tk}, "format": {"YAML"}}
		}, nil, CASInvalidRequest, "format must be XML or JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ticket := w.casTicket(t, browser)
			if tc.before != nil {
				tc.before()
			}
			r := w.validate(t, "p3/serviceValidate", tc.query(ticket))
			failure := gjson.Get(r.body, "serviceResponse.authenticationFailure")
			if r.status != http.StatusOK || failure.Get("code").String() != string(tc.code) || !strings.Contains(failure.Get("description").String(), tc.desc) {
				t.Errorf("got %d %s\nwant 200 %s with %q", r.status, r.body, tc.code, tc.desc)
			}
			if tc.code == CASInvalidService {
				// Spent by the failed validation.
				r := w.validate(t, "p3/serviceValidate", url.Values{"service": {w.casService}, "ticket": {ticket}, "format": {"XML"}})
				if r.body != failureDoc(t, "cas-xml-failure", ticket) {
					t.Errorf("the ticket after a failed validation:\n%s\nwant vector C2's failure", r.body)
				}
			}
		})
	}
	t.Run("ticket of another tenant's domain", func(t *testing.T) {
		ticket := w.casTicket(t, browser)
		r := get(t, http.DefaultClient, w.domain(betaCode)+"/api/v1/cas/p3/serviceValidate?"+url.Values{"service": {w.casService}, "ticket": {ticket}}.Encode())
		if gjson.Get(r.body, "serviceResponse.authenticationFailure.code").String() != "INVALID_TICKET" {
			t.Errorf("got %s, want INVALID_TICKET", r.body)
		}
	})
	t.Run("login for an unregistered service", func(t *testing.T) {
		r := get(t, w.browser(), w.casLoginURL(acmeCode, "https://evil.example/cas/callback"))
		if r.status != http.StatusBadRequest || !strings.Contains(r.pageError(), "not a CAS service registered") || r.header.Get("Location") != "" {
			t.Errorf("got %d %q, want 400 and no redirect", r.status, r.pageError())
		}
	})
	t.Run("login without a service", func(t *testing.T) {
		r := get(t, w.browser(), w.domain(acmeCode)+"/api/v1/cas/login")
		if r.status != http.StatusBadRequest || !strings.Contains(r.pageError(), "needs service") {
			t.Errorf("got %d %q, want 400", r.status, r.pageError())
		}
	})
	t.Run("proxy endpoints are not offered", func(t *testing.T) {
		for _, p := range []string{"proxy", "proxyValidate", "p3/proxyValidate"} {
			if r := get(t, http.DefaultClient, w.domain(acmeCode)+"/api/v1/cas/"+p); r.status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", p, r.status)
			}
		}
	})
}

// gopkg.in/cas.v2, a CAS client no one here wrote, validates a ticket:
// it reads XML only, so it works against kgsim configured for XML, and
// fails to read the marketplace's default JSON, as it would on the real
// platform (identity.md §6 question 6).
func TestCASClientLibrary(t *testing.T) {
	for _, tc := range []struct {
		format string
		ok     bool
	}{{"XML", true}, {"", false}} {
		t.Run("default format "+tc.format, func(t *testing.T) {
			w := newWorld(t, func(c *Config) { c.Defaults.CASFormat = tc.format })
			service, _ := url.Parse(w.casService)
			casURL, _ := url.Parse(w.domain(acmeCode) + "/api/v1/cas/")
			validator := cas.NewServiceTicketValidator(&http.Client{}, casURL)
			ticket := w.casTicket(t, w.browser())
			res, err := validator.ValidateTicket(service, ticket)
			if !tc.ok {
				if err == nil {
					t.Fatalf("cas.v2 read the JSON default: %+v", res)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.User != "zhangsan" || !res.IsNewLogin || res.Attributes.Get("tenant") != acmeID || res.Attributes.Get("role") != "admin" ||
				res.Attributes.Get("organizationCode") != orgCode || res.Attributes.Get("name") != "张三" || !res.AuthenticationDate.Equal(w.clock.Now()) {
				t.Errorf("cas.v2 read %+v", res)
			}
			// Its second attempt with the same ticket fails with the code.
			_, err = validator.ValidateTicket(service, ticket)
			var authErr *cas.AuthenticationError
			if !errors.As(err, &authErr) || authErr.Code != string(CASInvalidTicket) {
				t.Errorf("second validation: %v, want INVALID_TICKET", err)
			}
		})
	}
}
