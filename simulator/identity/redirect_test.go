package identity

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// openRedirects are values an attacker puts in a link to kgsim hoping it
// sends the browser to evil.example, as written in the link's query (so
// already URL-encoded where the attacker encodes); {app} is the origin of
// the merchant's registered callbacks.
var openRedirects = []string{
	"https://evil.example/cb",
	"https%3A%2F%2Fevil.example%2Fcb",
	"HTTPS://evil.example/cb",
	"//evil.example/cb",
	"%2F%2Fevil.example%2Fcb",
	"%252F%252Fevil.example%252Fcb",
	"%5C%5Cevil.example%2Fcb",      // \\evil.example/cb
	"%2F%5Cevil.example%2Fcb",      // /\evil.example/cb
	"%5C%2Fevil.example%2Fcb",      // \/evil.example/cb
	"%09%2F%2Fevil.example",        // tab, then //: browsers drop the tab
	"http:%5C%5Cevil.example%2Fcb", // http:\\evil.example/cb
	"http:evil.example",
	"https:%2F%2F%2Fevil.example",
	"javascript:alert(document.domain)//",
	"javascript%3Aalert(document.domain)%2F%2F",
	"data:text/html,%3Cscript%3Ealert(1)%3C%2Fscript%3E",
	"{app}@evil.example/cb", // the registered origin as user information
	"{app}%40evil.example%2Fcb",
	"http%3A%2F%2Fevil.example%23%40{host}%2F", // http://evil.example#@host/
	"http://{host}.evil.example/cb",
	"https://evil.example/?next={app}/oauth/callback",
	"{app}%0D%0ALocation:%20https://evil.example/",
	"{app}/%0D%0ASet-Cookie:%20planted=1",
	"{app}%2F%0ASet-Cookie:%20planted=1",
	"https://{host}/oauth/callback", // the registered host under another scheme
}

// expand writes the merchant's origin into a payload.
func (w *world) expand(payload string) string {
	u, _ := url.Parse(w.merchant.URL)
	return strings.NewReplacer("{app}", w.merchant.URL, "{host}", u.Host).Replace(payload)
}

// checkStays fails unless r leads nowhere but to kgsim or the merchant's
// registered origin, and planted nothing in its other headers (a payload
// may come back as a value in the Location's query, encoded).
func (w *world) checkStays(t *testing.T, r response) {
	t.Helper()
	for name, values := range r.header {
		for _, v := range values {
			if name != "Location" && (strings.Contains(v, "evil.example") || strings.Contains(v, "planted")) {
				t.Errorf("header %s: %q", name, v)
			}
		}
	}
	if loc := r.header.Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err != nil || u.User != nil || (u.Scheme+"://"+u.Host != w.kgsim.URL && u.Scheme+"://"+u.Host != w.merchant.URL) {
			t.Errorf("redirects to %q", loc)
		}
	}
}

// No parameter that says where the browser goes after a login or logout
// sends it off the registered origins: redirect_uri (authorize), service
// (CAS login, with and without gateway), redirect_url (logout) and
// service (CAS logout) each refuse every payload with a page and no
// redirect, and accept the registered value (so the refusals are the
// payloads', not the test's).
func TestNoOpenRedirect(t *testing.T) {
	w := newWorld(t)
	domain := w.domain(acmeCode) + "/api/v1"
	authorize := domain + "/oauth2/authorize?response_type=code&client_id=" + clientID + "&redirect_uri="
	for _, tc := range []struct {
		name, prefix, good string
		goodTo             string // the good value's redirect target, without a session
	}{
		{"authorize redirect_uri", authorize, url.QueryEscape(w.callback), w.kgsim.URL + "/unified-login/"},
		{"CAS login service", domain + "/cas/login?service=", url.QueryEscape(w.casService), w.kgsim.URL + "/unified-login/"},
		{"CAS login service with gateway", domain + "/cas/login?gateway=true&service=", url.QueryEscape(w.casService), w.casService},
		{"logout redirect_url", domain + "/logout?redirect_url=", url.QueryEscape(w.merchant.URL + "/bye"), w.merchant.URL + "/bye"},
		{"CAS logout service", domain + "/cas/logout?service=", url.QueryEscape(w.merchant.URL + "/bye"), w.merchant.URL + "/bye"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			browser := noRedirects(w.browser())
			good := get(t, browser, tc.prefix+tc.good)
			if loc := good.location(t); !strings.HasPrefix(loc.String(), tc.goodTo) {
				t.Fatalf("the registered value went to %s, want %s", loc, tc.goodTo)
			}
			for _, payload := range openRedirects {
				r := get(t, browser, tc.prefix+w.expand(payload))
				if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
					t.Errorf("%s: %d to %q, want 400 without a redirect", payload, r.status, r.header.Get("Location"))
				}
				w.checkStays(t, r)
			}
		})
	}
}

// The unified login page's parameters decide nothing about where the
// browser goes: appId only names a registered app, flow is signed, and a
// state comes back, if at all, as a value on the app's registered
// callback.
func TestUnifiedPageNoOpenRedirect(t *testing.T) {
	w := newWorld(t)
	for _, payload := range openRedirects {
		payload = w.expand(payload)
		if back := w.login(w.browser(), url.Values{"state": {payload}}); back.Get("state") != payload {
			t.Errorf("state %q came back as %q", payload, back.Get("state"))
		}
		for _, query := range []string{"?ind=UNOP&appId=" + payload, "?flow=" + payload, "?ind=UNOP&appId=" + appID + "&redirect_uri=" + payload} {
			r := get(t, noRedirects(w.browser()), w.kgsim.URL+"/unified-login/"+query)
			w.checkStays(t, r)
		}

		browser := noRedirects(w.browser())
		page := get(t, browser, w.kgsim.URL+"/unified-login/?ind=UNOP&appId="+appID+"&state="+payload)
		form := page.form(t)
		for _, field := range []string{"appId", "flow", "redirect_uri", "service"} {
			f := loginForm{action: form.action, fields: url.Values{}}
			for k, v := range form.fields {
				f.fields[k] = v
			}
			decoded, err := url.QueryUnescape(payload)
			if err != nil {
				decoded = payload
			}
			f.fields.Set(field, decoded)
			r := f.submit(t, browser, "zhangsan", password)
			w.checkStays(t, r)
			if r.status == http.StatusFound {
				if back := r.location(t); back.Scheme+"://"+back.Host+back.Path != w.callback {
					t.Errorf("%s in %s: went to %s, want the registered callback", payload, field, back)
				}
			}
		}
	}
}
