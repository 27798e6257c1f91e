package identity

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Every cookie kgsim sets, the login form's and the SSO session's, set
// and cleared, is HttpOnly with its SameSite, and Secure exactly when
// kgsim is served over https.
func TestCookieAttributes(t *testing.T) {
	for _, base := range []string{"http://kgsim.example", "https://kgsim.example:8443"} {
		t.Run(base, func(t *testing.T) {
			w := newWorld(t, func(c *Config) { c.Base = base })
			secure := strings.HasPrefix(base, "https:")
			jar := map[string]string{}
			var seen []*http.Cookie
			serve := func(method, target string, form url.Values) *httptest.ResponseRecorder {
				t.Helper()
				var req *http.Request
				if form != nil {
					req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				} else {
					req = httptest.NewRequest(method, target, nil)
				}
				for name, value := range jar {
					req.AddCookie(&http.Cookie{Name: name, Value: value})
				}
				rec := httptest.NewRecorder()
				w.kgsim.Config.Handler.ServeHTTP(rec, req)
				for _, c := range rec.Result().Cookies() {
					seen = append(seen, c)
					jar[c.Name] = c.Value
				}
				return rec
			}

			login := serve(http.MethodGet, w.authorizeURL(nil), nil).Header().Get("Location")
			if !strings.HasPrefix(login, base+"/unified-login/") {
				t.Fatalf("authorize sent the browser to %q, want the login page under %s", login, base)
			}
			at, _ := url.Parse(login)
			at.Fragment = "" // the browser keeps it
			page := serve(http.MethodGet, at.String(), nil)
			form, err := parseForm(page.Body.String(), at)
			if err != nil {
				t.Fatalf("%v: %d %s", err, page.Code, page.Body)
			}
			form.fields.Set("username", "zhangsan")
			form.fields.Set("password", password)
			if r := serve(http.MethodPost, form.action, form.fields); r.Code != http.StatusFound {
				t.Fatalf("login: %d %s", r.Code, r.Body)
			}
			serve(http.MethodGet, w.domain(acmeCode)+"/api/v1/logout", nil)

			want := map[string]http.SameSite{formCookie: http.SameSiteStrictMode, ssoCookie: http.SameSiteLaxMode}
			count := map[string]int{}
			for _, c := range seen {
				count[c.Name]++
				if c.SameSite != want[c.Name] || !c.HttpOnly || c.Secure != secure {
					t.Errorf("%s: SameSite %v, HttpOnly %v, Secure %v; want SameSite %v, HttpOnly, Secure %v",
						c.Raw, c.SameSite, c.HttpOnly, c.Secure, want[c.Name], secure)
				}
			}
			// The form's cookie once, the session's at login and at logout.
			if count[formCookie] != 1 || count[ssoCookie] != 2 || len(count) != 2 {
				t.Errorf("cookies set: %v, want %s once and %s twice", count, formCookie, ssoCookie)
			}
		})
	}
}
