package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A login that /authorize or CAS login started travels through the login
// form as a signed flow: what to issue, and for whom, once the user has
// logged in. Signing it, rather than keeping it server-side, keeps the
// form free of state in the store; the state given to /authorize comes
// back on the callback through it.
type flow struct {
	Kind        flowKind `json:"k"`
	TenantID    string   `json:"t,omitempty"` // empty: the unified page finds the tenant from the user
	AppID       string   `json:"a"`
	ClientID    string   `json:"c,omitempty"`
	RedirectURI string   `json:"r,omitempty"` // as given to /authorize
	State       string   `json:"s,omitempty"`
	Service     string   `json:"v,omitempty"`
	Renew       bool     `json:"n,omitempty"`
	Expires     int64    `json:"e"` // Unix seconds on the scheduling clock
}

type flowKind string

const (
	flowUnified flowKind = "unified" // the unified login page opened by its own URL: a code for the app's callback
	flowOAuth   flowKind = "oauth"   // from /authorize: a code for its redirect_uri
	flowCAS     flowKind = "cas"     // from CAS login: a ticket for its service
)

var errBadForm = errors.New("the form is altered or expired")

// seal signs f for the login form.
func (s *Server) seal(f flow) string {
	f.Expires = s.clock.Now().Add(formLifetime).Unix()
	payload, err := json.Marshal(f)
	if err != nil {
		panic(err) // strings and numbers only: cannot fail
	}
	p := base64.RawURLEncoding.EncodeToString(payload)
	return p + "." + s.mac("flow", p)
}

// open checks a sealed flow's signature and age.
func (s *Server) open(sealed string) (flow, error) {
	var f flow
	p, sig, ok := strings.Cut(sealed, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.mac("flow", p))) {
		return f, errBadForm
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || json.Unmarshal(payload, &f) != nil {
		return f, errBadForm
	}
	if !s.clock.Now().Before(time.Unix(f.Expires, 0)) {
		return f, errBadForm
	}
	return f, nil
}

// mac is the base64url HMAC-SHA-256 of the parts under the server's key,
// the purpose first so that a value signed for one use fails another.
func (s *Server) mac(purpose string, parts ...string) string {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(purpose))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// The form's CSRF defence: a random cookie only this site's pages can
// send (SameSite=Strict, HttpOnly), and a token in the form that is the
// MAC of that cookie, the form's app and flow, and an expiry. A page of
// another site can neither read the token nor make the browser send the
// cookie; a token copied from one form fails on another.
const formCookie = "KGSIM_LOGIN_FORM"

// formToken returns the token for a form about appID and flow, setting
// the browser's form cookie first if it has none.
func (s *Server) formToken(w http.ResponseWriter, r *http.Request, appID, sealed string) (string, error) {
	var browser string
	if c, err := r.Cookie(formCookie); err == nil && len(c.Value) == 32 {
		browser = c.Value
	} else {
		if browser, err = s.randomString(alnum, 32); err != nil {
			return "", err
		}
		http.SetCookie(w, &http.Cookie{Name: formCookie, Value: browser, Path: loginPath, HttpOnly: true,
			Secure: s.secure(), SameSite: http.SameSiteStrictMode})
	}
	exp := strconv.FormatInt(s.clock.Now().Add(formLifetime).Unix(), 10)
	return exp + "." + s.mac("form", browser, appID, sealed, exp), nil
}

// formTokenValid checks a posted token against the browser's cookie and
// the form's app and flow.
func (s *Server) formTokenValid(r *http.Request, token, appID, sealed string) bool {
	c, err := r.Cookie(formCookie)
	if err != nil {
		return false
	}
	exp, sig, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.mac("form", c.Value, appID, sealed, exp))) {
		return false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && s.clock.Now().Before(time.Unix(unix, 0))
}

// secure says whether cookies need HTTPS: when the simulator is served
// over it.
func (s *Server) secure() bool { return strings.HasPrefix(s.base, "https:") }
