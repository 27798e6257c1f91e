package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// kitKey is the test apps' kit key, distinct from the products' key.
const kitKey = "kgsim-kit-key-5d1e0c77a9f3b2e4"

// publicKeyJSON is the merchant's public key as a JSON string.
func (w *world) publicKeyJSON() string {
	w.t.Helper()
	pem, err := protocol.MarshalPublicKeyPEM(&w.kit.Private.PublicKey)
	if err != nil {
		w.t.Fatal(err)
	}
	b, _ := json.Marshal(string(pem))
	return string(b)
}

// appJSON is the app body, with the app's product, kit address
// and kit key.
func (w *world) appJSON() string {
	return `{"appId":"APP-1","productId":"p1","clientId":"acme-client","clientSecret":"acme-secret-0123456789",` +
		`"redirectUris":["https://isv.example.com/callback"],"casServices":["https://isv.example.com/cas"],` +
		`"publicKeyPem":` + w.publicKeyJSON() + `,"kitUrl":"` + w.kitURL + `","kitKey":"` + kitKey + `"}`
}

// activities lists the activities of the syncs in an answer.
func activitiesOf(a answer) []string {
	var out []string
	for _, s := range a.get("syncs").Array() {
		out = append(out, s.Get("activity").String())
	}
	return out
}

func TestJointOperationThroughTheAdminAPI(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	w.secrets = append(w.secrets, "acme-secret-0123456789", "pw-zhangsan-8c1f", "pw-lisi-77aa0e")

	app := w.must(http.StatusCreated, "POST", "/admin/v1/apps", w.appJSON())
	if app.get("kitKey").String() != maskKey(kitKey) || app.get("clientSecret").Exists() || app.get("clientId").String() != "acme-client" {
		t.Errorf("app answered as %s", app.body)
	}
	// An unknown tenant is created by its first user, who is authorised
	// as the app is bound for the purchase (its initially authorised users).
	u := w.must(http.StatusCreated, "POST", "/admin/v1/users", `{"tenant":"acme","userName":"zhangsan","password":"pw-zhangsan-8c1f",`+
		`"name":"张三","email":"zhangsan@example.com","mobile":"13800000000","role":"admin"}`)
	if u.get("user.tenantId").String() == "" || u.get("user.passwordHash").Exists() || len(u.get("syncs").Array()) != 0 {
		t.Errorf("user answered as %s", u.body)
	}
	if got, want := u.get("tenant.domainName").String(), "http://kgsim.test/t/acme"; got != want {
		t.Errorf("the user's tenant has the domain %q, want %q", got, want)
	}
	tenantID := w.must(http.StatusOK, "GET", "/admin/v1/tenants/acme", "").get("tenantId").String()

	bound := w.must(http.StatusCreated, "POST", "/admin/v1/tenants/acme/apps", `{"appId":"APP-1","instanceId":"inst-1","orderId":"CS1","userNames":["zhangsan"]}`)
	if got := strings.Join(activitiesOf(bound), " "); got != "tenantSync applicationSync allOrgSync authSync" {
		t.Errorf("binding enqueued %s", got)
	}
	if bound.get("binding.clientId").String() != "acme-client" || bound.get("binding.testFlag").Bool() {
		t.Errorf("binding answered as %s", bound.body)
	}
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1s"}`)
	calls := w.kit.Calls()
	if len(calls) != 4 {
		t.Fatalf("the merchant got %d kit calls, want 4", len(calls))
	}
	for _, c := range calls {
		if c.Code != merchanttest.CodeSuccess {
			t.Errorf("%s answered %s: %v", c.Activity, c.Code, c.Err)
		}
	}
	stored, err := w.store.Client(context.Background(), tenantID, "APP-1")
	if err != nil || calls[1].Secret != "acme-secret-0123456789" || stored.ClientSecret != calls[1].Secret {
		t.Errorf("the merchant decrypted %q; the store holds %q (%v)", calls[1].Secret, stored.ClientSecret, err)
	}
	// Kit syncs are the messages of protocol kit, sent by the marketplace
	// on its own; kind=KIT, their kind before, still lists them.
	for _, q := range []string{"protocol=kit", "kind=LIFECYCLE&protocol=kit", "kind=KIT", "kind=KIT&protocol=kit"} {
		ms := w.must(http.StatusOK, "GET", "/admin/v1/messages?outcome=SUCCEEDED&"+q, "").get("messages").Array()
		if len(ms) != 4 {
			t.Errorf("%s: %d kit syncs listed as succeeded, want 4", q, len(ms))
		}
		for _, m := range ms {
			if m.Get("protocol").String() != "kit" || m.Get("kind").String() != "LIFECYCLE" {
				t.Errorf("%s: listed %s", q, m.Raw)
			}
		}
	}
	w.must(http.StatusBadRequest, "GET", "/admin/v1/messages?kind=KIT&protocol=v2", "")
	if n := len(w.must(http.StatusOK, "GET", "/admin/v1/messages?protocol=v2&outcome=SUCCEEDED", "").get("messages").Array()); n == 4 {
		t.Errorf("protocol=v2 listed the 4 kit syncs")
	}
	// The pair the merchant decrypted is the pair the tenant's token
	// endpoint takes for a code of this app (identity.md §1).
	w.exchange("acme-client", calls[1].Secret, http.StatusOK)
	w.exchange("acme-client", calls[1].Secret+"x", http.StatusForbidden)

	// A user authorised once the app is bound is sent at once.
	u = w.must(http.StatusCreated, "POST", "/admin/v1/users", `{"tenant":"`+tenantID+`","userName":"lisi","password":"pw-lisi-77aa0e","apps":["APP-1"]}`)
	if got := activitiesOf(u); len(got) != 1 || got[0] != "authSync" {
		t.Errorf("second user enqueued %v", got)
	}
	d := w.must(http.StatusCreated, "PUT", "/admin/v1/tenants/acme/departments/dev", `{"orgName":"研发部","parentCode":"acme"}`)
	if got := activitiesOf(d); len(got) != 1 || got[0] != "singleOrgSync" {
		t.Errorf("new department enqueued %v", got)
	}
	w.must(http.StatusOK, "PUT", "/admin/v1/tenants/acme/users/lisi", `{"name":"李四","orgCode":"dev"}`)
	// The rotated secret works at once, the old one no longer.
	rotated := w.must(http.StatusOK, "POST", "/admin/v1/tenants/acme/apps/APP-1/rotate-secret", "")
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1s"}`)
	newSecret := w.kit.Named("applicationSync")[1].Secret
	if newSecret == "" || newSecret == "acme-secret-0123456789" || strings.Contains(string(rotated.body), newSecret) {
		t.Errorf("rotation: decrypted %q; answer %s", newSecret, rotated.body)
	}
	w.secrets = append(w.secrets, newSecret)
	w.exchange("acme-client", newSecret, http.StatusOK)
	w.exchange("acme-client", "acme-secret-0123456789", http.StatusForbidden)
	w.must(http.StatusOK, "POST", "/admin/v1/tenants/acme/apps/APP-1/revoke", `{"userNames":["zhangsan"]}`)
	w.must(http.StatusOK, "DELETE", "/admin/v1/tenants/acme/users/lisi", "")
	w.must(http.StatusOK, "DELETE", "/admin/v1/tenants/acme/departments/dev", "")
	w.must(http.StatusOK, "DELETE", "/admin/v1/tenants/acme/apps/APP-1", "")
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1s"}`)

	var got []string
	for _, c := range w.kit.Calls()[4:] {
		got = append(got, c.Activity+"/"+gjson.GetBytes(c.Body, "flag").Raw)
		if c.Code != merchanttest.CodeSuccess {
			t.Errorf("%s answered %s: %v", c.Activity, c.Code, c.Err)
		}
	}
	want := "authSync/1 singleOrgSync/1 authSync/2 applicationSync/2 authSync/3 authSync/0 singleOrgSync/0 applicationSync/0 tenantSync/0"
	if strings.Join(got, " ") != want {
		t.Errorf("kit calls after binding:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if n := len(w.must(http.StatusOK, "GET", "/admin/v1/tenants/acme/apps", "").get("bindings").Array()); n != 0 {
		t.Errorf("%d bindings after unbinding", n)
	}
	if ds := w.must(http.StatusOK, "GET", "/admin/v1/tenants/acme/departments", "").get("departments.#.orgCode").Raw; ds != `["acme"]` {
		t.Errorf("departments %s, want the top-level one alone", ds)
	}
	as := w.must(http.StatusOK, "GET", "/admin/v1/tenants/"+tenantID+"/apps/APP-1/authorisations", "").get("authorisations")
	if as.Get("#").Int() != 1 || as.Get("0.userName").String() != "zhangsan" || as.Get("0.enable").Bool() {
		t.Errorf("authorisations %s, want zhangsan's, revoked (lisi's went with lisi)", as.Raw)
	}
	// Every answer of the history shows no secret, the attempts included.
	for _, m := range w.must(http.StatusOK, "GET", "/admin/v1/messages?kind=KIT", "").get("messages").Array() {
		w.must(http.StatusOK, "GET", "/admin/v1/messages/"+m.Get("messageId").String(), "")
	}
}

func TestAnUndecryptableSecretThroughTheAdminAPI(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	w.secrets = append(w.secrets, "acme-secret-0123456789")
	w.must(http.StatusCreated, "POST", "/admin/v1/apps", w.appJSON())
	w.must(http.StatusCreated, "POST", "/admin/v1/tenants", `{"tenantCode":"acme","name":"Acme"}`)
	w.kit.OAEPHash = protocol.OAEPSHA256MGF1SHA1
	bound := w.must(http.StatusCreated, "POST", "/admin/v1/tenants/acme/apps", `{"appId":"APP-1","instanceId":"inst-1","orderId":"CS1"}`)
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1s"}`)
	app := bound.get("syncs.1.messageId").String()

	m := w.must(http.StatusOK, "GET", "/admin/v1/messages/"+app, "")
	if m.get("outcome").String() != string(simulator.Stopped) || !strings.Contains(m.get("attempts.0.verdictDetail").String(), "could not decrypt the clientSecret") {
		t.Errorf("applicationSync: %s, %s", m.get("outcome"), m.get("attempts.0.verdictDetail"))
	}
	held := w.must(http.StatusOK, "GET", "/admin/v1/messages?outcome="+string(simulator.Held), "").get("messages.#").Int()
	if held != 1 {
		t.Errorf("%d syncs held behind the failure, want allOrgSync", held)
	}
	ns := w.must(http.StatusOK, "GET", "/admin/v1/notices?messageId="+app, "").get("notices").Array()
	if len(ns) != 1 {
		t.Fatalf("%d notices", len(ns))
	}
	n := w.must(http.StatusOK, "GET", "/admin/v1/notices/"+ns[0].Get("noticeId").String(), "")
	if !strings.Contains(n.get("body").String(), "the merchant could not decrypt the clientSecret") {
		t.Errorf("the notice does not say the merchant could not decrypt the clientSecret:\n%s", n.get("body"))
	}

	w.kit.OAEPHash = ""
	re := w.must(http.StatusOK, "POST", "/admin/v1/messages/"+app+"/restart", "")
	if re.get("message.outcome").String() != string(simulator.SucceededAfterRestart) {
		t.Errorf("restart: %s", re.body)
	}
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1s"}`)
	got := []string{}
	for _, c := range w.kit.Calls() {
		got = append(got, c.Activity+"/"+c.Code)
	}
	if want := "tenantSync/000000 applicationSync/000101 applicationSync/000000 allOrgSync/000000"; strings.Join(got, " ") != want {
		t.Errorf("calls %s, want %s", strings.Join(got, " "), want)
	}
}

func TestJointOperationBadInput(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	w.must(http.StatusCreated, "POST", "/admin/v1/apps", w.appJSON())
	w.must(http.StatusCreated, "POST", "/admin/v1/users", `{"tenant":"acme","userName":"zhangsan","password":"pw-1"}`)
	small, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	smallPEM, _ := protocol.MarshalPublicKeyPEM(&small.PublicKey)
	smallKey, _ := json.Marshal(string(smallPEM))
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"app twice", "POST", "/admin/v1/apps", w.appJSON(), 409, "appId"},
		{"app without body", "POST", "/admin/v1/apps", ``, 400, ""},
		{"app unknown member", "POST", "/admin/v1/apps", `{"appId":"A2","secret":"x"}`, 400, "secret"},
		{"app redirectUris not a list", "POST", "/admin/v1/apps", `{"appId":"A2","redirectUris":"https://x"}`, 400, "redirectUris"},
		{"app relative redirect", "POST", "/admin/v1/apps", `{"appId":"A2","redirectUris":["/callback"]}`, 400, "redirectUris[0]"},
		{"app CAS service with fragment", "POST", "/admin/v1/apps", `{"appId":"A2","casServices":["https://x/#a"]}`, 400, "casServices[0]"},
		{"app clientId alone", "POST", "/admin/v1/apps", `{"appId":"A2","clientId":"c2"}`, 400, "clientSecret"},
		{"app clientSecret alone", "POST", "/admin/v1/apps", `{"appId":"A2","clientSecret":"s2-0123456789"}`, 400, "clientId"},
		{"app kitUrl alone", "POST", "/admin/v1/apps", `{"appId":"A2","kitUrl":"http://127.0.0.1:1"}`, 400, "kitKey"},
		{"app kit without key", "POST", "/admin/v1/apps", `{"appId":"A2","kitUrl":"http://127.0.0.1:1","kitKey":"k2-0123456789"}`, 400, "publicKeyPem"},
		{"app public key not PEM", "POST", "/admin/v1/apps", `{"appId":"A2","publicKeyPem":"MIIB..."}`, 400, "publicKeyPem"},
		{"app public key too short", "POST", "/admin/v1/apps", `{"appId":"A2","publicKeyPem":` + string(smallKey) + `}`, 400, "publicKeyPem"},
		{"app kit key = basic key", "POST", "/admin/v1/apps", `{"appId":"A2","productId":"p1","kitUrl":"http://127.0.0.1:1","kitKey":"` + accessKey + `","publicKeyPem":` + w.publicKeyJSON() + `}`, 400, "kitKey"},
		{"app unknown product", "POST", "/admin/v1/apps", `{"appId":"A2","productId":"nope"}`, 400, "productId"},
		{"app clientId of another app", "POST", "/admin/v1/apps", `{"appId":"A2","clientId":"acme-client","clientSecret":"s2-0123456789"}`, 409, "clientId"},
		{"tenant without code", "POST", "/admin/v1/tenants", `{"name":"x"}`, 400, "tenantCode"},
		{"tenant code with a slash", "POST", "/admin/v1/tenants", `{"tenantCode":"a/b"}`, 400, "tenantCode"},
		{"tenant twice", "POST", "/admin/v1/tenants", `{"tenantCode":"acme"}`, 409, "tenant"},
		{"tenant relative domain", "POST", "/admin/v1/tenants", `{"tenantCode":"beta","domainName":"beta.example.com"}`, 400, "domainName"},
		{"unknown tenant", "GET", "/admin/v1/tenants/nope", ``, 404, "tenant"},
		{"user without tenant", "POST", "/admin/v1/users", `{"userName":"u","password":"p"}`, 400, "tenant"},
		{"user in an impossible tenant", "POST", "/admin/v1/users", `{"tenant":"a b","userName":"u","password":"p"}`, 400, "tenant"},
		{"user without name", "POST", "/admin/v1/users", `{"tenant":"acme","password":"p"}`, 400, "userName"},
		{"user without password", "POST", "/admin/v1/users", `{"tenant":"acme","userName":"u"}`, 400, "password"},
		{"user with a space", "POST", "/admin/v1/users", `{"tenant":"acme","userName":"u 1","password":"p"}`, 400, "userName"},
		{"user role", "POST", "/admin/v1/users", `{"tenant":"acme","userName":"u","password":"p","role":"root"}`, 400, "role"},
		{"user email", "POST", "/admin/v1/users", `{"tenant":"acme","userName":"u","password":"p","email":"not an address"}`, 400, "email"},
		{"user employeeType", "POST", "/admin/v1/users", `{"tenant":"acme","userName":"u","password":"p","employeeType":7}`, 400, "employeeType"},
		{"user unknown department", "POST", "/admin/v1/users", `{"tenant":"acme","userName":"u","password":"p","orgCode":"nope"}`, 400, "orgCode"},
		{"user unknown app", "POST", "/admin/v1/users", `{"tenant":"acme","userName":"u","password":"p","apps":["nope"]}`, 400, "apps[0]"},
		{"user apps not a list", "POST", "/admin/v1/users", `{"tenant":"acme","userName":"u","password":"p","apps":"APP-1"}`, 400, "apps"},
		{"user twice", "POST", "/admin/v1/users", `{"tenant":"acme","userName":"zhangsan","password":"p"}`, 409, "userName"},
		{"user name too long", "POST", "/admin/v1/users", `{"tenant":"acme","userName":"` + strings.Repeat("u", 65) + `","password":"p"}`, 400, "userName"},
		{"bind without app", "POST", "/admin/v1/tenants/acme/apps", `{"instanceId":"i"}`, 400, "appId"},
		{"bind unknown app", "POST", "/admin/v1/tenants/acme/apps", `{"appId":"nope"}`, 404, "appId"},
		{"bind testFlag 2", "POST", "/admin/v1/tenants/acme/apps", `{"appId":"APP-1","instanceId":"i","testFlag":2}`, 400, "testFlag"},
		{"bind credential test as production", "POST", "/admin/v1/tenants/acme/apps", `{"appId":"APP-1","testFlag":0}`, 400, "testFlag"},
		{"bind instanceKey and instanceId", "POST", "/admin/v1/tenants/acme/apps", `{"appId":"APP-1","instanceKey":"k","instanceId":"i"}`, 400, "instanceKey"},
		{"bind unknown instance", "POST", "/admin/v1/tenants/acme/apps", `{"appId":"APP-1","instanceKey":"nope"}`, 400, "instanceKey"},
		{"unbind an unbound app", "DELETE", "/admin/v1/tenants/acme/apps/APP-1", ``, 404, "appId"},
		{"rotate an unbound app", "POST", "/admin/v1/tenants/acme/apps/APP-1/rotate-secret", ``, 404, "appId"},
		{"grant nobody", "POST", "/admin/v1/tenants/acme/apps/APP-1/grant", `{"userNames":[]}`, 400, "userNames"},
		{"grant twice in one", "POST", "/admin/v1/tenants/acme/apps/APP-1/grant", `{"userNames":["zhangsan","zhangsan"]}`, 400, "userNames[1]"},
		{"grant an unknown user", "POST", "/admin/v1/tenants/acme/apps/APP-1/grant", `{"userNames":["nobody"]}`, 404, "userNames[0]"},
		{"department without name", "PUT", "/admin/v1/tenants/acme/departments/dev", `{}`, 400, "orgName"},
		{"department under itself", "PUT", "/admin/v1/tenants/acme/departments/acme", `{"orgName":"Acme","parentCode":"acme"}`, 400, "parentCode"},
		{"department with users", "DELETE", "/admin/v1/tenants/acme/departments/acme", ``, 409, "orgCode"},
		{"unknown filter", "GET", "/admin/v1/tenants/acme/users?name=x", ``, 400, "name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := w.call(c.method, c.path, c.body)
			if a.status != c.status || a.get("error.field").String() != c.field || a.get("error.message").String() == "" {
				t.Errorf("%s %s = %d %s, want %d with field %q", c.method, c.path, a.status, a.body, c.status, c.field)
			}
		})
	}
	if n := len(w.kit.Calls()); n != 0 {
		t.Errorf("refused input sent %d kit calls", n)
	}
}

// The identity provider's routes share the router: a tenant's token
// endpoint answers as identity.md says, not as the admin API would.
func TestIdentityRoutesAreMounted(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.must(http.StatusCreated, "POST", "/admin/v1/tenants", `{"tenantCode":"acme"}`)
	page := w.must(http.StatusOK, "GET", "/unified-login/", "")
	if ct := page.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("login page Content-Type %q", ct)
	}
	token := w.call("POST", "/t/acme/api/v1/oauth2/token", "")
	if token.status < 400 || token.status >= 500 || token.get("error.code").Exists() || !token.get("error").Exists() {
		t.Errorf("a token request without a grant: %d %s; want the OAuth error body", token.status, token.body)
	}
	if m := w.must(http.StatusOK, "GET", "/metrics", ""); !strings.Contains(string(m.body), `route="/t/{tenantCode}/api/v1/oauth2/token"`) {
		t.Error("the token endpoint is not counted by its route template")
	}
}

// csrfField is the login form's anti-forgery field.
var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// exchange logs zhangsan in to APP-1 through the unified login page, as a
// browser without scripts would, and trades the code at the token
// endpoint with the client pair given, checking the status.
func (w *world) exchange(clientID, secret string, want int) {
	w.t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := browser.Get(w.api.URL + "/unified-login/?ind=UNOP&appId=APP-1")
	if err != nil {
		w.t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	csrf := csrfField.FindSubmatch(html)
	if csrf == nil {
		w.t.Fatalf("the login page has no form: %d\n%s", page.StatusCode, html)
	}
	resp, err := browser.PostForm(w.api.URL+"/unified-login/api/login", url.Values{"ind": {"UNOP"}, "appId": {"APP-1"},
		"csrf": {string(csrf[1])}, "username": {"zhangsan"}, "password": {"pw-zhangsan-8c1f"}})
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	callback, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || callback.Query().Get("code") == "" {
		w.t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = http.PostForm(w.api.URL+"/t/acme/api/v1/oauth2/token", url.Values{"grant_type": {"authorization_code"},
		"code": {callback.Query().Get("code")}, "client_id": {clientID}, "client_secret": {secret}})
	if err != nil {
		w.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		w.t.Errorf("token exchange with the secret %q: %d %s, want %d", secret, resp.StatusCode, body, want)
	}
}

// The admin contract as a newcomer uses it: an app with its client pair, a
// user authorised for it, and the pair logs the user in at once, the
// binding made by the authorisation shown in the answer.
func TestAUserAuthorisedForAnUnboundAppLogsInWithTheRegisteredPair(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	w.secrets = append(w.secrets, "acme-secret-0123456789", "pw-zhangsan-8c1f")
	w.must(http.StatusCreated, "POST", "/admin/v1/apps", w.appJSON())
	u := w.must(http.StatusCreated, "POST", "/admin/v1/users", `{"tenant":"acme","userName":"zhangsan","password":"pw-zhangsan-8c1f","apps":["acme-client"]}`)
	if got := strings.Join(activitiesOf(u), " "); got != "tenantSync applicationSync allOrgSync authSync" {
		t.Errorf("the authorisation enqueued %q, want the binding's chain", got)
	}
	for _, s := range u.get("syncs").Array() {
		if s.Get("params.testFlag").Int() != 1 || s.Get("params.instanceId").String() != "" {
			t.Errorf("%s: want a credential test's sync (testFlag 1, no instance): %s", s.Get("activity"), s.Get("params").Raw)
		}
	}
	if got := u.get("tenant.domainName").String(); got != "http://kgsim.test/t/acme" {
		t.Errorf("the answer's tenant domain %q", got)
	}
	if b := u.get("bindings.0"); b.Get("appId").String() != "APP-1" || b.Get("clientId").String() != "acme-client" || !b.Get("testFlag").Bool() {
		t.Errorf("the answer's bindings: %s", u.get("bindings").Raw)
	}
	w.exchange("acme-client", "acme-secret-0123456789", http.StatusOK)

	// Binding it for a purchase now names the way out.
	conflict := w.must(http.StatusConflict, "POST", "/admin/v1/tenants/acme/apps", `{"appId":"APP-1","instanceId":"inst-1","orderId":"CS1"}`)
	if msg := conflict.get("error.message").String(); !strings.Contains(msg, "credential test") || !strings.Contains(msg, "userNames") {
		t.Errorf("conflict: %s", msg)
	}

	// Every answer about a tenant carries its identity domain.
	own := w.must(http.StatusCreated, "POST", "/admin/v1/tenants", `{"tenantCode":"beta","domainName":"https://beta.example.com"}`)
	for _, a := range []answer{
		own,
		w.must(http.StatusOK, "GET", "/admin/v1/tenants/acme", ""),
		w.must(http.StatusOK, "PUT", "/admin/v1/tenants/acme", `{"name":"Acme 有限公司"}`),
	} {
		domain := a.get("domainName").String() + a.get("tenant.domainName").String()
		if domain != "http://kgsim.test/t/acme" && domain != "https://beta.example.com" {
			t.Errorf("tenant answered without its domain: %s", a.body)
		}
	}
	for _, tn := range w.must(http.StatusOK, "GET", "/admin/v1/tenants", "").get("tenants").Array() {
		if tn.Get("domainName").String() == "" {
			t.Errorf("listed without its domain: %s", tn.Raw)
		}
	}
}
