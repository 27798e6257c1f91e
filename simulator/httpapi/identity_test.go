package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator/schedule"
)

// compact is the JSON at path, on one line.
func (a answer) compact(path string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(a.get(path).Raw)); err != nil {
		return err.Error()
	}
	return b.String()
}

// The marketplace's identity settings, a tenant's overrides and how a
// tenant's domain answers with them.
func TestIdentitySettingsThroughTheAdminAPI(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	const defaults = `{"echoState":false,"casFormat":"JSON","invalidClientStatus":403,"codeLifetime":"300s","accessTokenLifetime":"7200s",` +
		`"refreshTokenLifetime":"2592000s","ticketLifetime":"60s","sessionLifetime":"28800s"}`
	if got := w.must(http.StatusOK, "GET", "/admin/v1/identity", "").compact("settings"); got != defaults {
		t.Errorf("the marketplace's settings %s, want the spec's %s", got, defaults)
	}
	w.must(http.StatusCreated, "POST", "/admin/v1/tenants", `{"tenantId":"T-acme","tenantCode":"acme"}`)
	s := w.must(http.StatusOK, "GET", "/admin/v1/tenants/acme/identity", "")
	if s.get("tenantId").String() != "T-acme" || s.compact("settings") != defaults || s.compact("overridden") != "[]" {
		t.Errorf("acme before overrides: %s", s.body)
	}
	validation := func() string {
		return w.call("GET", "/t/acme/api/v1/cas/p3/serviceValidate?service=x&ticket=ST-1-x", "").header.Get("Content-Type")
	}
	if ct := validation(); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("validation before: %s", ct)
	}

	s = w.must(http.StatusOK, "PUT", "/admin/v1/tenants/T-acme/identity", `{"casFormat":"xml","codeLifetime":"30s","echoState":null}`)
	if s.get("settings.casFormat").String() != "XML" || s.get("settings.codeLifetime").String() != "30s" ||
		s.compact("overridden") != `["casFormat","codeLifetime"]` || s.get("updatedAt").String() == "" {
		t.Errorf("acme overridden: %s", s.body)
	}
	if ct := validation(); !strings.HasPrefix(ct, "application/xml") {
		t.Errorf("validation with acme's XML: %s", ct)
	}
	if got := w.must(http.StatusOK, "GET", "/admin/v1/identity", "").compact("settings"); got != defaults {
		t.Errorf("a tenant's override changed the marketplace's settings: %s", got)
	}

	for _, tc := range []struct {
		body, field string
	}{
		{`{"casFormat":"yaml"}`, "casFormat"},
		{`{"invalidClientStatus":"401"}`, "invalidClientStatus"},
		{`{"invalidClientStatus":400}`, "invalidClientStatus"},
		{`{"codeLifetime":"1.5s"}`, "codeLifetime"},
		{`{"sessionLifetime":3600}`, "sessionLifetime"},
		{`{"echoState":"yes"}`, "echoState"},
		{`{"ticketLifetimeSeconds":60}`, "ticketLifetimeSeconds"},
	} {
		a := w.call("PUT", "/admin/v1/tenants/acme/identity", tc.body)
		if a.status != http.StatusBadRequest || a.get("error.field").String() != tc.field {
			t.Errorf("PUT %s: %d %s, want 400 naming %s", tc.body, a.status, a.body, tc.field)
		}
	}
	if got := w.must(http.StatusOK, "GET", "/admin/v1/tenants/acme/identity", "").compact("overridden"); got != `["casFormat","codeLifetime"]` {
		t.Errorf("after refused changes, overridden %s", got)
	}
	w.must(http.StatusNotFound, "PUT", "/admin/v1/tenants/nobody/identity", `{}`)
	if s := w.must(http.StatusOK, "PUT", "/admin/v1/tenants/acme/identity", `{}`); s.compact("overridden") != "[]" || s.compact("settings") != defaults {
		t.Errorf("PUT {}: %s, want the marketplace's settings again", s.body)
	}
}

// Faults through the admin API: set, seen at the tenant's token endpoint,
// listed, used up or cleared; bad ones refused with the member named.
func TestIdentityFaultsThroughTheAdminAPI(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.must(http.StatusCreated, "POST", "/admin/v1/tenants", `{"tenantId":"T-acme","tenantCode":"acme"}`)
	token := func() answer { return w.call("POST", "/t/acme/api/v1/oauth2/token", "") }

	f := w.must(http.StatusCreated, "POST", "/admin/v1/tenants/acme/identity/faults", `{"endpoint":"token","status":502,"count":2}`)
	if f.header.Get("Location") != "/admin/v1/tenants/T-acme/identity/faults/token" || f.get("status").Int() != 502 || f.get("count").Int() != 2 {
		t.Errorf("fault answered %s (Location %q)", f.body, f.header.Get("Location"))
	}
	if a := token(); a.status != http.StatusBadGateway || a.get("error").String() != "server_error" {
		t.Errorf("token with the fault: %d %s", a.status, a.body)
	}
	if fs := w.must(http.StatusOK, "GET", "/admin/v1/tenants/acme/identity/faults", "").get("faults"); len(fs.Array()) != 1 || fs.Get("0.used").Int() != 1 {
		t.Errorf("faults listed: %s", fs.Raw)
	}
	token()
	if a := token(); a.status != http.StatusBadRequest || a.get("error").String() != "invalid_request" {
		t.Errorf("token after the fault's 2 requests: %d %s", a.status, a.body)
	}
	if fs := w.must(http.StatusOK, "GET", "/admin/v1/tenants/acme/identity/faults", "").compact("faults"); fs != "[]" {
		t.Errorf("faults once used up: %s", fs)
	}

	w.must(http.StatusCreated, "POST", "/admin/v1/tenants/acme/identity/faults", `{"endpoint":"userinfo","status":401}`)
	w.must(http.StatusCreated, "POST", "/admin/v1/tenants/acme/identity/faults", `{"endpoint":"cas-validate","delay":"10ms"}`)
	if a := w.must(http.StatusOK, "DELETE", "/admin/v1/tenants/acme/identity/faults/userinfo", ""); a.get("cleared").Int() != 1 {
		t.Errorf("clearing userinfo's: %s", a.body)
	}
	if a := w.must(http.StatusOK, "DELETE", "/admin/v1/tenants/acme/identity/faults", ""); a.get("cleared").Int() != 1 {
		t.Errorf("clearing all: %s", a.body)
	}
	if a := w.call("DELETE", "/admin/v1/tenants/acme/identity/faults/authorize", ""); a.status != http.StatusNotFound || a.get("error.field").String() != "endpoint" {
		t.Errorf("clearing an unknown endpoint's: %d %s", a.status, a.body)
	}
	for _, tc := range []struct {
		body, field string
	}{
		{`{"endpoint":"authorize"}`, "endpoint"},
		{`{"endpoint":"token","status":404}`, "status"},
		{`{"endpoint":"token","delay":"forever"}`, "delay"},
		{`{"endpoint":"token","count":-2}`, "count"},
		{`{"endpoint":"token","count":"2"}`, "count"},
		{`{"endpoint":"token","times":2}`, "times"},
	} {
		a := w.call("POST", "/admin/v1/tenants/acme/identity/faults", tc.body)
		if a.status != http.StatusBadRequest || a.get("error.field").String() != tc.field {
			t.Errorf("POST %s: %d %s, want 400 naming %s", tc.body, a.status, a.body, tc.field)
		}
	}
	w.must(http.StatusNotFound, "POST", "/admin/v1/tenants/nobody/identity/faults", `{"endpoint":"token"}`)
	if a := w.must(http.StatusOK, "POST", "/admin/v1/tenants/acme/identity/expire-logins", ""); a.get("expired").Int() != 0 {
		t.Errorf("expiring a tenant without logins: %s", a.body)
	}
}
