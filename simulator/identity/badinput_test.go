package identity

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator/vectors"
)

// code runs a login in a fresh browser and returns the callback's code.
func (w *world) code() string {
	w.t.Helper()
	return w.login(w.browser(), nil).Get("code")
}

// tokenRequest posts a token request to a tenant's domain.
type tokenRequest struct {
	tenant      string // code; acme when empty
	form        url.Values
	basic       []string // id, secret
	contentType string   // form when empty
	body        string   // instead of form
}

func (w *world) token(t *testing.T, tr tokenRequest) response {
	t.Helper()
	if tr.tenant == "" {
		tr.tenant = acmeCode
	}
	body := tr.body
	if body == "" {
		body = tr.form.Encode()
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, w.domain(tr.tenant)+"/api/v1/oauth2/token", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tr.contentType == "" {
		tr.contentType = "application/x-www-form-urlencoded"
	}
	req.Header.Set("Content-Type", tr.contentType)
	if tr.basic != nil {
		req.SetBasicAuth(url.QueryEscape(tr.basic[0]), url.QueryEscape(tr.basic[1]))
	}
	return do(t, http.DefaultClient, req)
}

// exchangeForm is a valid authorization_code request for code, with
// changes: a key set to "" is left out.
func (w *world) exchangeForm(code string, changes ...string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {clientID}, "client_secret": {clientSecret},
		"redirect_uri": {w.callback}}
	for i := 0; i+1 < len(changes); i += 2 {
		if changes[i+1] == "" {
			f.Del(changes[i])
		} else {
			f.Set(changes[i], changes[i+1])
		}
	}
	return f
}

func errorBody(code, description string) string {
	return fmt.Sprintf(`{"error":%q,"error_description":%q}`, code, description)
}

func missing(name string) string { return errorBody("invalid_request", "Missing parameter: "+name) }

// The token endpoint's answers to bad input (identity.md §3.2), each with
// the spec's status and exact body; T2-T4 are the vectors' bodies.
func TestTokenBadInput(t *testing.T) {
	w := newWorld(t)
	T2, T3, T4 := vectorBody(t, "T2"), vectorBody(t, "T3"), vectorBody(t, "T4")
	for _, tc := range []struct {
		name   string
		req    func(code string) tokenRequest
		before func(code string) // runs after the code is issued
		status int
		body   string
	}{
		{"wrong client secret", func(c string) tokenRequest {
			return tokenRequest{form: w.exchangeForm(c, "client_secret", "kgsim-client-secret-0002")}
		}, nil, 403, T4},
		{"wrong client secret in HTTP Basic", func(c string) tokenRequest {
			return tokenRequest{form: w.exchangeForm(c, "client_id", "", "client_secret", ""), basic: []string{clientID, "wrong"}}
		}, nil, 403, T4},
		{"unknown client id", func(c string) tokenRequest {
			return tokenRequest{form: w.exchangeForm(c, "client_id", "kgsim-client-9999")}
		}, nil, 403, T4},
		{"another tenant's pair at this tenant's domain", func(c string) tokenRequest {
			return tokenRequest{form: w.exchangeForm(c, "client_id", betaClientID, "client_secret", betaSecret)}
		}, nil, 403, T4},
		{"this tenant's code with another tenant's pair at its domain", func(c string) tokenRequest {
			return tokenRequest{tenant: betaCode, form: w.exchangeForm(c, "client_id", betaClientID, "client_secret", betaSecret)}
		}, nil, 403, T4},
		{"reused code", func(c string) tokenRequest { return tokenRequest{form: w.exchangeForm(c)} }, func(c string) {
			if r := w.token(t, tokenRequest{form: w.exchangeForm(c)}); r.status != http.StatusOK {
				t.Fatalf("first use: %d %s", r.status, r.body)
			}
		}, 400, T2},
		{"expired code, 300 s after it was issued", func(c string) tokenRequest { return tokenRequest{form: w.exchangeForm(c)} },
			func(string) { w.clock.Advance(CodeLifetime) }, 400, T2},
		{"tampered code", func(c string) tokenRequest { return tokenRequest{form: w.exchangeForm(tamper(c))} }, nil, 400, T2},
		{"redirect_uri other than the one the code was issued for", func(c string) tokenRequest {
			return tokenRequest{form: w.exchangeForm(c, "redirect_uri", w.merchant.URL+"/other/callback")}
		}, nil, 400, T2},
		{"missing grant_type", func(c string) tokenRequest { return tokenRequest{form: w.exchangeForm(c, "grant_type", "")} }, nil, 400, missing("grant_type")},
		{"missing code", func(c string) tokenRequest { return tokenRequest{form: w.exchangeForm(c, "code", "")} }, nil, 400, missing("code")},
		{"missing client_id", func(c string) tokenRequest { return tokenRequest{form: w.exchangeForm(c, "client_id", "")} }, nil, 400, missing("client_id")},
		{"missing client_secret", func(c string) tokenRequest {
			return tokenRequest{form: w.exchangeForm(c, "client_secret", "")}
		}, nil, 400, missing("client_secret")},
		{"missing refresh_token", func(string) tokenRequest {
			return tokenRequest{form: url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "client_secret": {clientSecret}}}
		}, nil, 400, missing("refresh_token")},
		{"JSON instead of a form", func(c string) tokenRequest {
			return tokenRequest{contentType: "application/json", body: `{"grant_type":"authorization_code","code":"` + c + `"}`}
		}, nil, 400, missing("grant_type")},
		{"unsupported grant type", func(c string) tokenRequest {
			return tokenRequest{form: w.exchangeForm(c, "grant_type", "password")}
		}, nil, 400, errorBody("unsupported_grant_type", "Unsupported grant type: password")},
		{"client in Basic and in the form differ", func(c string) tokenRequest {
			return tokenRequest{form: w.exchangeForm(c), basic: []string{betaClientID, betaSecret}}
		}, nil, 400, errorBody("invalid_request", "The client credentials in the Authorization header and in the form differ")},
		{"parameter given twice", func(c string) tokenRequest {
			f := w.exchangeForm(c)
			f.Add("code", c)
			return tokenRequest{form: f}
		}, nil, 400, errorBody("invalid_request", "Parameter given more than once: code")},
		{"unknown refresh token", func(string) tokenRequest {
			return tokenRequest{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"kgsim-rt-00000000000000000000000001"},
				"client_id": {clientID}, "client_secret": {clientSecret}}}
		}, nil, 400, T3},
		{"body over 16 KiB", func(c string) tokenRequest {
			return tokenRequest{form: w.exchangeForm(c, "padding", strings.Repeat("x", 17<<10))}
		}, nil, 413, errorBody("invalid_request", "The request body is over 16384 bytes")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := w.code()
			if tc.before != nil {
				tc.before(code)
			}
			r := w.token(t, tc.req(code))
			if r.status != tc.status || r.body != tc.body {
				t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tc.status, tc.body)
			}
			if ct := r.header.Get("Content-Type"); ct != ContentTypeJSON {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// A successful exchange has vector T1's status and headers.
func TestTokenResponseHeaders(t *testing.T) {
	w := newWorld(t)
	r := w.token(t, tokenRequest{form: w.exchangeForm(w.code())})
	v := vectors.Of(t, "identity.json", "oauth-token-response")[0]
	if want := int(v.Get("expected.status").Int()); r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	for name, want := range v.Get("expected.headers").Map() {
		if got := r.header.Get(name); got != want.String() {
			t.Errorf("%s: %q, want %q", name, got, want.String())
		}
	}
	if !strings.Contains(r.body, `"token_type":"Bearer","expires_in":7200,"scope":"get_user_info","refresh_token":"kgsim-rt-`) {
		t.Errorf("body %s: fields not as vector T1", r.body)
	}
}

// A replayed code also revokes what its first use gave, refreshed tokens
// included (identity.md §3.2).
func TestReplayedCodeRevokesItsTokens(t *testing.T) {
	w := newWorld(t)
	code := w.code()
	first := w.token(t, tokenRequest{form: w.exchangeForm(code)})
	access, refresh := jsonField(t, first.body, "access_token"), jsonField(t, first.body, "refresh_token")
	refreshed := w.token(t, tokenRequest{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, basic: []string{clientID, clientSecret}})
	if refreshed.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", refreshed.status, refreshed.body)
	}
	if r := w.token(t, tokenRequest{form: w.exchangeForm(code)}); r.status != http.StatusBadRequest || r.body != vectorBody(t, "T2") {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	for _, tok := range []string{access, jsonField(t, refreshed.body, "access_token")} {
		if r := w.userinfo(t, tok); r.status != http.StatusUnauthorized || !strings.Contains(r.body, `"invalid_token"`) {
			t.Errorf("userinfo with a token of the replayed code: %d %s, want 401 invalid_token", r.status, r.body)
		}
	}
	r := w.token(t, tokenRequest{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {jsonField(t, refreshed.body, "refresh_token")},
		"client_id": {clientID}, "client_secret": {clientSecret}}})
	if r.status != http.StatusBadRequest || r.body != vectorBody(t, "T3") {
		t.Errorf("refresh after the replay: %d %s, want T3", r.status, r.body)
	}
}

// A refresh token lives 30 days from its issue, on the scheduling clock.
func TestRefreshTokenLifetime(t *testing.T) {
	w := newWorld(t)
	first := w.token(t, tokenRequest{form: w.exchangeForm(w.code())})
	refresh := func(rt string) response {
		return w.token(t, tokenRequest{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
			"client_id": {clientID}, "client_secret": {clientSecret}}})
	}
	w.clock.Advance(RefreshLifetime - time.Second)
	second := refresh(jsonField(t, first.body, "refresh_token"))
	if second.status != http.StatusOK {
		t.Fatalf("refresh a second before 30 days: %d %s", second.status, second.body)
	}
	// The new one has 30 days from now, not from the first issue.
	w.clock.Advance(RefreshLifetime - time.Second)
	third := refresh(jsonField(t, second.body, "refresh_token"))
	if third.status != http.StatusOK {
		t.Fatalf("refresh of the rotated token 30 days less a second later: %d %s", third.status, third.body)
	}
	w.clock.Advance(RefreshLifetime)
	if r := refresh(jsonField(t, third.body, "refresh_token")); r.status != http.StatusBadRequest || r.body != vectorBody(t, "T3") {
		t.Errorf("refresh 30 days later: %d %s, want T3", r.status, r.body)
	}
}

// invalid_client may be configured to 401, which then challenges Basic.
func TestInvalidClientAs401(t *testing.T) {
	w := newWorld(t, func(c *Config) { c.Defaults.InvalidClientStatus = http.StatusUnauthorized })
	r := w.token(t, tokenRequest{form: w.exchangeForm(w.code(), "client_secret", "wrong")})
	if r.status != http.StatusUnauthorized || r.body != vectorBody(t, "T4") || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("got %d %s (WWW-Authenticate %q), want 401 with T4's body and a challenge", r.status, r.body, r.header.Get("WWW-Authenticate"))
	}
}

// Userinfo refuses requests without a live bearer token of its tenant
// (identity.md §3.3, vector T5).
func TestUserinfoBadInput(t *testing.T) {
	w := newWorld(t)
	tok := w.token(t, tokenRequest{form: w.exchangeForm(w.code())})
	access := jsonField(t, tok.body, "access_token")
	T5 := vectorBody(t, "T5")
	invalid := errorBody("invalid_token", "Invalid access token: "+access[:8]+"...")
	for _, tc := range []struct {
		name, tenant, authorization string
		before                      func()
		body                        string
	}{
		{"no Authorization header", acmeCode, "", nil, T5},
		{"Basic instead of Bearer", acmeCode, "Basic " + access, nil, T5},
		{"Bearer without a token", acmeCode, "Bearer ", nil, T5},
		{"unknown token", acmeCode, "Bearer kgsim-at-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", nil,
			errorBody("invalid_token", "Invalid access token: kgsim-at...")},
		{"token of another tenant's domain", betaCode, "Bearer " + access, nil, invalid},
		{"token 2 hours old", acmeCode, "Bearer " + access, func() { w.clock.Advance(AccessLifetime) }, invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, w.domain(tc.tenant)+"/api/v1/oauth2/userinfo", nil)
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			r := do(t, http.DefaultClient, req)
			if r.status != http.StatusUnauthorized || r.body != tc.body {
				t.Errorf("got %d %s\nwant 401 %s", r.status, r.body, tc.body)
			}
			wantChallenge := strings.Contains(tc.body, "invalid_token")
			if got := r.header.Get("WWW-Authenticate"); (got == `Bearer error="invalid_token"`) != wantChallenge {
				t.Errorf("WWW-Authenticate %q", got)
			}
		})
	}
}

// /authorize answers a bad client or redirect_uri itself, never
// redirecting to an unregistered address, and sends other problems back
// to the app (identity.md §3.1).
func TestAuthorizeBadInput(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name   string
		change url.Values
		status int
		body   string // for 400s
		error  string // the error parameter of a 302 to the callback
	}{
		{"unknown client", url.Values{"client_id": {"kgsim-client-9999"}}, 400,
			errorBody("invalid_request", `Unknown client_id "kgsim-client-9999": no application has it in tenant acme`), ""},
		{"missing client_id", url.Values{"client_id": {""}}, 400, missing("client_id"), ""},
		{"redirect_uri on another host", url.Values{"redirect_uri": {"https://evil.example/oauth/callback"}}, 400,
			errorBody("invalid_request", "redirect_uri is not registered for this client: it must equal one of the application's callbacks exactly"), ""},
		{"redirect_uri on the registered host, another path", url.Values{"redirect_uri": {w.merchant.URL + "/oauth/callback2"}}, 400,
			errorBody("invalid_request", "redirect_uri is not registered for this client: it must equal one of the application's callbacks exactly"), ""},
		{"missing response_type", url.Values{"response_type": {""}}, 302, "", "invalid_request"},
		{"implicit grant", url.Values{"response_type": {"token"}}, 302, "", "unsupported_response_type"},
		{"unknown scope", url.Values{"scope": {"openid"}}, 302, "", "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"state": {"st1"}}
			for k, v := range tc.change {
				q[k] = v
			}
			u, _ := url.Parse(w.authorizeURL(q))
			params := u.Query()
			for k, v := range params {
				if v[0] == "" {
					params.Del(k)
				}
			}
			u.RawQuery = params.Encode()
			r := get(t, w.browser(), u.String())
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == 400 {
				if r.body != tc.body || r.header.Get("Location") != "" {
					t.Errorf("body %s (Location %q)\nwant %s and no redirect", r.body, r.header.Get("Location"), tc.body)
				}
				return
			}
			back := r.location(t)
			if got := back.Scheme + "://" + back.Host + back.Path; got != w.callback || back.Query().Get("error") != tc.error ||
				back.Query().Get("state") != "st1" || back.Query().Get("code") != "" {
				t.Errorf("went to %s, want the callback with error=%s, state=st1 and no code", back, tc.error)
			}
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		r := get(t, w.browser(), w.domain("nosuch")+"/api/v1/oauth2/authorize?response_type=code&client_id="+clientID)
		if r.status != http.StatusNotFound || !strings.Contains(r.body, `"invalid_request"`) {
			t.Errorf("got %d %s, want 404 invalid_request", r.status, r.body)
		}
	})
}

// jsonField is a string member of a JSON object.
func jsonField(t *testing.T, body, name string) string {
	t.Helper()
	v := gjson.Get(body, name).String()
	if v == "" {
		t.Fatalf("no %s in %s", name, body)
	}
	return v
}

// tamper changes the last character of a code, ticket or token (to
// another one: replacing it by a fixed letter would leave one in 62
// codes unchanged).
func tamper(s string) string {
	last := byte('x')
	if s[len(s)-1] == last {
		last = 'y'
	}
	return s[:len(s)-1] + string(last)
}
