package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kgsim/kgsim/simulator/schedule"
)

// adminToken guards the worlds of these tests; long, so it can only
// appear in an answer or a log line by leaking.
const adminToken = "kgsim-admin-token-3b9e0c7a51f4d286"

// guarded is a world with the product and customer to buy, whose admin
// API needs adminToken and answers to kgsim.test (the base URL) and kgsim
// (an allowed host).
func guarded(t *testing.T) *world {
	w := newGuardedWorld(t, schedule.NewVirtual(t0), Access{Token: adminToken, Base: "http://kgsim.test", Hosts: []string{"kgsim"}})
	w.catalogue()
	return w
}

// anOrder is an order of the world's product, as a JSON body.
const anOrder = `{"productId":"p1","customerId":"c1","periodNumber":1,"amount":"120.5"}`

// refused checks a refusal: its status, and a body that is the error and
// nothing else, with the given code and words in its message.
func refused(t *testing.T, a answer, status int, code, says string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d:\n%s", a.status, status, a.body)
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(a.body, &body); err != nil || len(body) != 1 || body["error"] == nil {
		t.Fatalf("the answer is not the error alone: %s", a.body)
	}
	if got := body["error"]["code"]; got != code {
		t.Errorf("code %v, want %s", got, code)
	}
	if msg, _ := body["error"]["message"].(string); !strings.Contains(msg, says) {
		t.Errorf("message %q does not say %q", msg, says)
	}
}

// orders counts the world's orders, read with the token.
func (w *world) orders() int {
	w.t.Helper()
	return len(w.must(http.StatusOK, "GET", "/admin/v1/orders", "").get("orders").Array())
}

// Without the right bearer token the admin API and /metrics answer 401,
// say how to authenticate and hold no data; with it, they answer.
func TestAdminToken(t *testing.T) {
	w := guarded(t)
	for _, path := range []string{"/admin/v1/orders", "/admin/v1/products/p1", "/metrics"} {
		for _, c := range []struct {
			name, auth string
			status     int
			says       string
		}{
			{"missing", "", 401, "the admin token is required"},
			{"wrong", "Bearer kgsim-admin-token-3b9e0c7a51f4d287", 401, "is not the admin token"},
			{"a prefix of it", "Bearer " + adminToken[:10], 401, "is not the admin token"},
			{"empty", "Bearer ", 401, "is not the admin token"},
			{"longer than any", "Bearer " + strings.Repeat(adminToken, 10), 401, "is not the admin token"},
			{"basic", "Basic a2dzaW06" + adminToken, 401, "only the Bearer scheme is accepted"},
			{"the token alone", adminToken, 401, "only the Bearer scheme is accepted"},
			{"right", "Bearer " + adminToken, 200, ""},
			{"right, scheme in lower case", "bearer " + adminToken, 200, ""},
		} {
			t.Run(path+"/"+c.name, func(t *testing.T) {
				req := w.request("GET", path, "")
				req.Header.Set("Authorization", c.auth)
				a := w.do(req)
				if c.status == 200 {
					if a.status != 200 {
						t.Fatalf("status %d, want 200:\n%s", a.status, a.body)
					}
					return
				}
				refused(t, a, c.status, "unauthorized", c.says)
				if got := a.header.Get("WWW-Authenticate"); got != `Bearer realm="kgsim admin"` {
					t.Errorf("WWW-Authenticate %q", got)
				}
			})
		}
	}
	// A write without the token changes nothing.
	req := w.request("POST", "/admin/v1/orders", anOrder)
	req.Header.Del("Authorization")
	refused(t, w.do(req), 401, "unauthorized", "the admin token is required")
	if n := w.orders(); n != 0 {
		t.Errorf("%d orders after a anOrder without the token, want 0", n)
	}
}

// A body must be sent as JSON: a text/plain or form body, which a page of
// any site can post without a preflight, is refused before it is read.
func TestJSONBodyRequired(t *testing.T) {
	w := guarded(t)
	for _, c := range []struct {
		contentType string
		status      int
	}{
		{"text/plain", 415},
		{"text/plain;charset=UTF-8", 415},
		{"application/x-www-form-urlencoded", 415},
		{"multipart/form-data; boundary=x", 415},
		{"application/jsonp", 415},
		{"text/json", 415},
		{"", 415},
		{"application/json", 201},
		{"Application/JSON; charset=utf-8", 201},
		{" application/json ;charset=utf-8", 201},
	} {
		t.Run(c.contentType, func(t *testing.T) {
			before := w.orders()
			req := w.request("POST", "/admin/v1/orders", anOrder)
			req.Header.Set("Content-Type", c.contentType)
			a := w.do(req)
			if c.status == 201 {
				if a.status != 201 || w.orders() != before+1 {
					t.Fatalf("status %d, %d orders after %d, want 201 and one more:\n%s", a.status, w.orders(), before, a.body)
				}
				return
			}
			refused(t, a, 415, "unsupported_media_type", "application/json")
			if n := w.orders(); n != before {
				t.Errorf("%d orders after a refused anOrder, want %d", n, before)
			}
		})
	}
	t.Run("chunked text/plain", func(t *testing.T) {
		req := w.request("POST", "/admin/v1/orders", "")
		req.Body = io.NopCloser(strings.NewReader(anOrder)) // no length: sent chunked
		req.Header.Set("Content-Type", "text/plain")
		refused(t, w.do(req), 415, "unsupported_media_type", `"text/plain" refused`)
	})
}

// An action without a body needs no Content-Type.
func TestBodylessAction(t *testing.T) {
	w := guarded(t)
	key := w.active().Get("instanceKey").String()
	req := w.request("POST", "/admin/v1/instances/"+key+"/freeze", "")
	if req.Header.Get("Content-Type") != "" {
		t.Fatal("the request has a Content-Type")
	}
	if a := w.do(req); a.status != 200 {
		t.Fatalf("freeze without a body: status %d:\n%s", a.status, a.body)
	}
}

// A request from a page of another origin is refused, whatever it sends;
// kgsim's own origin, by its Host or its base URL, is not.
func TestCrossOriginRefused(t *testing.T) {
	w := guarded(t)
	self := w.api.URL // http://127.0.0.1:port
	for _, c := range []struct {
		name, origin, site string
		refusedBy          string // the header the message names; "" lets it through
	}{
		{"another site", "http://evil.example", "", "Origin"},
		{"another port", "http://127.0.0.1:1", "", "Origin"},
		{"another scheme", strings.Replace(self, "http:", "https:", 1), "", "Origin"},
		{"a sandboxed page", "null", "", "Origin"},
		{"a host that ends like it", "http://x" + strings.TrimPrefix(self, "http://"), "", "Origin"},
		{"cross-site", "", "cross-site", "Sec-Fetch-Site"},
		{"same-site", "", "same-site", "Sec-Fetch-Site"},
		{"own origin, cross-site said", self, "cross-site", "Sec-Fetch-Site"},
		{"own origin", self, "same-origin", ""},
		{"the base URL's origin", "http://kgsim.test", "", ""},
		{"typed in the address bar", "", "none", ""},
		{"no browser", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := w.orders()
			req := w.request("POST", "/admin/v1/orders", anOrder)
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			if c.site != "" {
				req.Header.Set("Sec-Fetch-Site", c.site)
			}
			a := w.do(req)
			if c.refusedBy == "" {
				if a.status != 201 {
					t.Fatalf("status %d, want 201:\n%s", a.status, a.body)
				}
				return
			}
			refused(t, a, 403, "forbidden", "refused")
			if field := a.get("error.field").String(); field != c.refusedBy {
				t.Errorf("field %q, want %q", field, c.refusedBy)
			}
			if n := w.orders(); n != before {
				t.Errorf("%d orders after a refused anOrder, want %d", n, before)
			}
		})
	}
	t.Run("metrics", func(t *testing.T) {
		req := w.request("GET", "/metrics", "")
		req.Header.Set("Origin", "http://evil.example")
		refused(t, w.do(req), 403, "forbidden", `"http://evil.example" is not kgsim's own origin`)
	})
}

// The Host must name kgsim (DNS rebinding: a page of evil.example whose
// name now resolves to 127.0.0.1 sends Host: evil.example). The identity
// provider's routes and /healthz answer under any name, without a token.
func TestHostChecked(t *testing.T) {
	w := guarded(t)
	for _, c := range []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"10.1.2.3", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{"LocalHost", true},
		{"localhost.:8080", true},
		{"kgsim.test", true}, // the base URL's
		{"KGSIM.TEST:80", true},
		{"kgsim:8080", true}, // allowed
		{"evil.example:8080", false},
		{"kgsim.test.evil.example", false},
		{"evil.localhost:8080", false},
		{"127.0.0.1.evil.example", false},
	} {
		t.Run(c.host, func(t *testing.T) {
			for _, path := range []string{"/admin/v1/orders", "/metrics"} {
				req := w.request("GET", path, "")
				req.Host = c.host
				a := w.do(req)
				if c.ok {
					if a.status != 200 {
						t.Errorf("%s: status %d, want 200:\n%s", path, a.status, a.body)
					}
					continue
				}
				refused(t, a, 403, "forbidden", `"`+c.host+`" is not a name kgsim answers to`)
				if !strings.Contains(a.get("error.message").String(), "--allowed-host") {
					t.Errorf("%s: the message does not say how to allow the name: %s", path, a.body)
				}
			}
		})
	}
	t.Run("a foreign Host cannot buy", func(t *testing.T) {
		req := w.request("POST", "/admin/v1/orders", anOrder)
		req.Host = "evil.example:8080"
		refused(t, w.do(req), 403, "forbidden", "evil.example")
		if n := w.orders(); n != 0 {
			t.Errorf("%d orders, want 0", n)
		}
	})
	t.Run("identity and health under any name, without the token", func(t *testing.T) {
		for _, path := range []string{"/unified-login/", "/healthz"} {
			req, _ := http.NewRequest("GET", w.api.URL+path, nil)
			req.Host = "login.merchant-laptop.example"
			req.Header.Set("Origin", "http://evil.example")
			if a := w.do(req); a.status != 200 {
				t.Errorf("%s: status %d, want 200:\n%s", path, a.status, a.body)
			}
		}
		// The token endpoint answers for itself (an unknown tenant), not
		// with the admin API's refusal.
		req, _ := http.NewRequest("POST", w.api.URL+"/t/nobody/api/v1/oauth2/token", strings.NewReader("grant_type=authorization_code&code=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Host = "login.merchant-laptop.example"
		a := w.do(req)
		if code := a.get("error.code").String(); code == "forbidden" || code == "unauthorized" || a.header.Get("WWW-Authenticate") == `Bearer realm="kgsim admin"` {
			t.Errorf("the token endpoint was guarded as the admin API: %d %s", a.status, a.body)
		}
	})
}

// Without a token set, the admin API needs none; Host and Origin are
// still checked.
func TestNoTokenStillChecksPlace(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.must(200, "GET", "/admin/v1/orders", "")
	req, _ := http.NewRequest("GET", w.api.URL+"/admin/v1/orders", nil)
	req.Host = "evil.example"
	refused(t, w.do(req), 403, "forbidden", "evil.example")
	req, _ = http.NewRequest("GET", w.api.URL+"/admin/v1/orders", nil)
	req.Header.Set("Origin", "http://evil.example")
	refused(t, w.do(req), 403, "forbidden", "evil.example")
}

func TestAccessRefusesBadSettings(t *testing.T) {
	for _, a := range []Access{
		{Base: "ftp://kgsim.test"},
		{Base: "kgsim.test"},
		{Base: "http://"},
		{Hosts: []string{""}},
		{Hosts: []string{"kgsim:8080"}},
		{Hosts: []string{"http://kgsim"}},
		{Hosts: []string{"[::1]"}},
		{Token: strings.Repeat("x", MaxToken+1)},
	} {
		if _, err := newGate(a); err == nil {
			t.Errorf("%+v accepted", a)
		}
	}
}

// The checks of a request that passes them allocate nothing: they run
// before every admin request.
func TestGateAllocatesNothing(t *testing.T) {
	g, err := newGate(Access{Token: adminToken, Base: "https://kgsim.example", Hosts: []string{"kgsim", "kgsim.internal"}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "http://kgsim.internal:8080/admin/v1/orders", strings.NewReader(anOrder))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Origin", "https://kgsim.example")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	checks := []check{g.place, g.bearer, jsonBody}
	allocs := testing.AllocsPerRun(100, func() {
		for _, c := range checks {
			if e := c(req); e != nil {
				t.Fatal(e)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per request, want 0", allocs)
	}
}

func BenchmarkGate(b *testing.B) {
	g, _ := newGate(Access{Token: adminToken, Base: "http://kgsim.test"})
	req := httptest.NewRequest("POST", "http://127.0.0.1:8080/admin/v1/orders", strings.NewReader(anOrder))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Origin", "http://127.0.0.1:8080")
	for b.Loop() {
		if g.place(req) != nil || g.bearer(req) != nil || jsonBody(req) != nil {
			b.Fatal("refused")
		}
	}
}
