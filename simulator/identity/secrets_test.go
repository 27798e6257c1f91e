package identity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/httpapi"
	"github.com/kgsim/kgsim/simulator/market"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// The secrets planted in the marketplace: distinctive, so that finding
// one anywhere can only be a leak.
const (
	plantedAccessKey = "kgsim-planted-access-key-7c1e5a90d3"
	plantedSecret    = "kgsim-planted-client-secret-4b7d2e"
	plantedWrong     = "kgsim-planted-wrong-secret-e60f1a"
	plantedPassword  = "kgsim-planted-password-91fa3c"
	plantedGuess     = "kgsim-planted-guessed-password-52ab"
	plantedKitKey    = "kgsim-planted-kit-key-0d8e6b44"
)

// lockedBuffer is a log destination the handlers write to at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// marketplace is kgsim wired as kgsim serve wires it (market.New and
// httpapi.New on one registry), on a virtual clock, logging at debug
// level into logs.
type marketplace struct {
	t     *testing.T
	base  string
	store *sqlite.DB
	db    string
	logs  *lockedBuffer
}

func newMarketplace(t *testing.T) *marketplace {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &marketplace{t: t, base: "http://" + ln.Addr().String(), db: filepath.Join(t.TempDir(), "kgsim.db"), logs: &lockedBuffer{}}
	if m.store, err = sqlite.Open(t.Context(), m.db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.store.Close() })
	log := slog.New(slog.NewTextHandler(m.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	mk, err := market.New(t.Context(), market.Config{Store: m.store, Clock: schedule.NewVirtual(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)),
		Timeout: 5 * time.Second, Registry: reg, Logger: log, Base: m.base})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Config{Market: mk, Registry: reg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return m
}

// admin calls the admin API and wants status.
func (m *marketplace) admin(status int, method, path string, body any) gjson.Result {
	m.t.Helper()
	var in io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		in = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(m.t.Context(), method, m.base+path, in)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		m.t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, status, out)
	}
	return gjson.ParseBytes(out)
}

// fetch sends req with c and returns the answer's status, headers and body.
func fetch(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func getURL(t *testing.T, c *http.Client, u string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return fetch(t, c, req)
}

func postURL(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return fetch(t, c, req)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"`)

// Secrets go into the marketplace through the admin API, the kit syncs,
// a product's callbacks, logins (a wrong password, then the right one),
// the token endpoint (a wrong client secret too), userinfo, refresh, a
// replayed code, CAS and logout; then none of them, nor any code, token,
// ticket, session or form token issued, is in the debug log, /metrics,
// the stored notices, messages and attempts, or the admin API's answers
// about them; and no password, code, token, ticket or session id is in
// the database files at all (they hold digests).
func TestNoSecretInLogsMetricsOrNotices(t *testing.T) {
	m := newMarketplace(t)
	issued := []string{plantedAccessKey, plantedSecret, plantedWrong, plantedPassword, plantedGuess, plantedKitKey}
	stored := []string{plantedPassword, plantedGuess, plantedWrong} // in no file of the database either

	// A product whose interface fails, echoing its key: failed attempts
	// and notices.
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance; our key is "+plantedAccessKey, http.StatusServiceUnavailable)
	}))
	t.Cleanup(merchant.Close)
	m.admin(http.StatusCreated, "PUT", "/admin/v1/products/p1", map[string]any{"skuCode": "p1-basic", "name": "Test p1",
		"chargingMode": "PERIOD", "periodType": "year", "url": merchant.URL + "/produce", "protocol": "v2", "accessKey": plantedAccessKey,
		"dialTests": false, "noticeTo": []string{"ops@merchant.test"}})
	m.admin(http.StatusCreated, "POST", "/admin/v1/customers", map[string]any{"customerId": "c1", "customerName": "Acme Ltd", "email": "ops@acme.example"})
	m.admin(http.StatusCreated, "POST", "/admin/v1/orders", map[string]any{"productId": "p1", "customerId": "c1", "periodNumber": 1, "amount": "120.5"})

	// The app, with its kit; authSync fails, for a kit notice.
	kit := &merchanttest.Merchant{T: t, KitKey: plantedKitKey, Private: merchanttest.Key(t)}
	kit.Answer("authSync", merchanttest.Reply{Status: http.StatusInternalServerError})
	kitURL := kit.Start()
	pem, err := protocol.MarshalPublicKeyPEM(&kit.Private.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	callback, service := merchant.URL+"/callback", merchant.URL+"/cas"
	m.admin(http.StatusCreated, "POST", "/admin/v1/apps", map[string]any{"appId": "APP-1", "productId": "p1", "clientId": "acme-client",
		"clientSecret": plantedSecret, "redirectUris": []string{callback}, "casServices": []string{service}, "publicKeyPem": string(pem),
		"kitUrl": kitURL, "kitKey": plantedKitKey})
	m.admin(http.StatusCreated, "POST", "/admin/v1/users", map[string]any{"tenant": "acme", "userName": "zhangsan", "password": plantedPassword,
		"apps": []string{"acme-client"}})
	m.admin(http.StatusOK, "POST", "/admin/v1/clock/advance", map[string]any{"by": "1m"})
	if calls := kit.Named("applicationSync"); len(calls) != 1 || calls[0].Secret != plantedSecret {
		t.Fatalf("the kit merchant decrypted %v, want the planted client secret", calls)
	}

	// A browser logs in, with a wrong password first.
	jar, _ := cookiejar.New(nil)
	kg, _ := url.Parse(m.base)
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != kg.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	domain := m.base + "/t/acme/api/v1"
	res, page := getURL(t, browser, domain+"/oauth2/authorize?"+url.Values{"response_type": {"code"}, "client_id": {"acme-client"},
		"redirect_uri": {callback}, "state": {"s1"}}.Encode())
	submit := func(password string) *http.Response {
		form := url.Values{"username": {"zhangsan"}, "password": {password}}
		for _, kv := range hiddenInput.FindAllStringSubmatch(page, -1) {
			form.Set(kv[1], html.UnescapeString(kv[2]))
			if kv[1] == "csrf" {
				issued = append(issued, html.UnescapeString(kv[2]))
			}
		}
		res, page = postURL(t, browser, m.base+"/unified-login/api/login", form)
		return res
	}
	if res.StatusCode != http.StatusOK || submit(plantedGuess).StatusCode != http.StatusUnauthorized {
		t.Fatalf("the wrong password: %d\n%s", res.StatusCode, page)
	}
	back, err := url.Parse(submit(plantedPassword).Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("no code from the login: %v %s", back, page)
	}
	code := back.Query().Get("code")
	for _, c := range jar.Cookies(kg) {
		issued, stored = append(issued, c.Value), append(stored, c.Value) // the SSO session and the form's cookie
	}

	// The app's server: tokens, a wrong secret, userinfo, refresh, the code
	// again (revoking the tokens), userinfo refused.
	token := func(form url.Values) gjson.Result {
		form.Set("client_id", "acme-client")
		_, body := postURL(t, http.DefaultClient, domain+"/oauth2/token", form)
		return gjson.Parse(body)
	}
	first := token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "client_secret": {plantedSecret}})
	refreshed := token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.Get("refresh_token").String()}, "client_secret": {plantedSecret}})
	token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshed.Get("refresh_token").String()}, "client_secret": {plantedWrong}})
	if _, body := getURL(t, http.DefaultClient, domain+"/oauth2/userinfo", "Authorization", "Bearer "+refreshed.Get("access_token").String()); gjson.Get(body, "userName").String() != "zhangsan" {
		t.Fatalf("userinfo: %s", body)
	}
	token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_secret": {plantedSecret}})
	getURL(t, http.DefaultClient, domain+"/oauth2/userinfo", "Authorization", "Bearer "+first.Get("access_token").String())
	for _, tok := range []gjson.Result{first, refreshed} {
		for _, name := range []string{"access_token", "refresh_token"} {
			if tok.Get(name).String() == "" {
				t.Fatalf("no %s in %s", name, tok.Raw)
			}
			issued, stored = append(issued, tok.Get(name).String()), append(stored, tok.Get(name).String())
		}
	}
	issued, stored = append(issued, code), append(stored, code)

	// CAS, from the session: a ticket validated, then replayed.
	res, _ = getURL(t, browser, domain+"/cas/login?service="+url.QueryEscape(service))
	back, _ = url.Parse(res.Header.Get("Location"))
	ticket := back.Query().Get("ticket")
	if ticket == "" {
		t.Fatalf("no ticket: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	issued, stored = append(issued, ticket), append(stored, ticket)
	validate := domain + "/cas/p3/serviceValidate?" + url.Values{"service": {service}, "ticket": {ticket}}.Encode()
	if _, body := getURL(t, http.DefaultClient, validate); !strings.Contains(body, "zhangsan") {
		t.Fatalf("validation: %s", body)
	}
	getURL(t, http.DefaultClient, validate)
	getURL(t, browser, domain+"/logout?redirect_url="+url.QueryEscape(merchant.URL+"/bye"))
	m.admin(http.StatusOK, "POST", "/admin/v1/clock/advance", map[string]any{"by": "1h"})

	// Where secrets must not be.
	places := map[string]string{"the log": m.logs.String()}
	_, places["/metrics"] = getURL(t, http.DefaultClient, m.base+"/metrics")
	if !strings.Contains(places["/metrics"], "kgsim_identity_password_checks_total 2") {
		t.Errorf("/metrics lacks the password checks (2: the wrong password and the right one)")
	}
	ctx := context.Background()
	notices, err := m.store.Notices(ctx, simulator.NoticeFilter{Limit: 1000})
	if err != nil || len(notices) < 2 {
		t.Fatalf("%d notices (%v), want the product's and the kit's", len(notices), err)
	}
	for _, n := range notices {
		b, _ := json.Marshal(n)
		places["notice "+n.ID] = string(b) + string(n.Record)
		places["admin notice "+n.ID] = m.admin(http.StatusOK, "GET", "/admin/v1/notices/"+n.ID, nil).Raw
	}
	messages, err := m.store.Messages(ctx, simulator.MessageFilter{Limit: 1000})
	if err != nil || len(messages) < 5 {
		t.Fatalf("%d messages (%v), want the product's and the kit's", len(messages), err)
	}
	for _, msg := range messages {
		attempts, err := m.store.Attempts(ctx, msg.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(struct {
			Message  simulator.Message
			Attempts []simulator.Attempt
		}{msg, attempts})
		places["message "+msg.ID] = string(b)
		places["admin message "+msg.ID] = m.admin(http.StatusOK, "GET", "/admin/v1/messages/"+msg.ID, nil).Raw
	}
	for place, text := range places {
		for _, secret := range issued {
			if strings.Contains(text, secret) {
				t.Errorf("%s holds the secret %q", place, secret)
			}
		}
	}
	m.store.Close() // its files complete
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(m.db + suffix)
		if err != nil {
			continue
		}
		for _, secret := range stored {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("the database file kgsim.db%s holds %q", suffix, secret)
			}
		}
	}
}
