package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// kgsim serve's identity flags are the marketplace's settings; a tenant's
// overrides set through the admin API survive a restart on the same
// database, whatever the flags of the new process say.
func TestServeIdentitySettings(t *testing.T) {
	bin, db := buildKgsim(t), filepath.Join(t.TempDir(), "kgsim.db")
	fixtures := filepath.Join("..", "..", "..", "fixtures")
	p := startServe(t, bin, db, fixtures, "--cas-format", "xml", "--echo-state", "--invalid-client-status", "401",
		"--code-lifetime", "30s", "--access-token-lifetime", "10m", "--refresh-token-lifetime", "7d", "--ticket-lifetime", "20s",
		"--session-lifetime", "1h")
	const flagged = `{"echoState":true,"casFormat":"XML","invalidClientStatus":401,"codeLifetime":"30s","accessTokenLifetime":"600s",` +
		`"refreshTokenLifetime":"604800s","ticketLifetime":"20s","sessionLifetime":"3600s"}`
	if got := compactJSON(t, p.call(t, "GET", "/admin/v1/identity", "").Get("settings").Raw); got != flagged {
		t.Errorf("the marketplace's settings %s, want the flags' %s", got, flagged)
	}
	p.call(t, "POST", "/admin/v1/tenants", `{"tenantCode":"acme"}`)
	p.call(t, "POST", "/admin/v1/tenants", `{"tenantCode":"beta"}`)
	p.call(t, "PUT", "/admin/v1/tenants/acme/identity", `{"casFormat":"json","sessionLifetime":"2h"}`)
	validation := func(p *process, tenant string) string {
		return p.send(t, "GET", "/t/"+tenant+"/api/v1/cas/p3/serviceValidate?service=x&ticket=ST-1-x", "", "").header.Get("Content-Type")
	}
	if a, b := validation(p, "acme"), validation(p, "beta"); !strings.HasPrefix(a, "application/json") || !strings.HasPrefix(b, "application/xml") {
		t.Errorf("validations: acme %s, beta %s; want acme's JSON and the flag's XML", a, b)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()

	p = startServe(t, bin, db, fixtures, "--cas-format", "xml")
	acme := p.call(t, "GET", "/admin/v1/tenants/acme/identity", "")
	if acme.Get("settings.casFormat").String() != "JSON" || acme.Get("settings.sessionLifetime").String() != "7200s" ||
		acme.Get("settings.codeLifetime").String() != "300s" || compactJSON(t, acme.Get("overridden").Raw) != `["casFormat","sessionLifetime"]` {
		t.Errorf("acme after the restart: %s", acme.Raw)
	}
	if a, b := validation(p, "acme"), validation(p, "beta"); !strings.HasPrefix(a, "application/json") || !strings.HasPrefix(b, "application/xml") {
		t.Errorf("validations after the restart: acme %s, beta %s", a, b)
	}
	if r := p.send(t, "POST", "/t/beta/api/v1/oauth2/token", "", "grant_type=authorization_code&code=x&client_id=x&client_secret=y",
		"Content-Type", "application/x-www-form-urlencoded"); r.status != http.StatusForbidden {
		t.Errorf("invalid_client after the restart without --invalid-client-status: %d %s", r.status, r.body)
	}
}

// compactJSON is raw JSON on one line.
func compactJSON(t *testing.T, raw string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(raw)); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return b.String()
}
