package identity

import (
	"encoding/json"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/vectors"
)

func TestTokenVectors(t *testing.T) {
	for _, v := range vectors.Of(t, "identity.json", "oauth-token-response") {
		t.Run(v.Get("id").String(), func(t *testing.T) {
			tok := Token{
				AccessToken:  v.Get("inputs.issuedTokens.access_token").String(),
				ExpiresIn:    7200 * time.Second,
				RefreshToken: v.Get("inputs.issuedTokens.refresh_token").String(),
			}
			if got, want := string(tok.JSON()), v.Get("expected.body").String(); got != want {
				t.Errorf("body\n%s\nwant\n%s", got, want)
			}
			var back map[string]any
			if err := json.Unmarshal(tok.JSON(), &back); err != nil {
				t.Fatal(err)
			}
			if back["access_token"] != tok.AccessToken || back["expires_in"] != 7200.0 {
				t.Errorf("does not read back: %v", back)
			}

			h := http.Header{}
			tok.SetHeaders(h)
			want := http.Header{}
			for k, v := range v.Get("expected.headers").Map() {
				want.Set(k, v.String())
			}
			if !maps.EqualFunc(h, want, func(a, b []string) bool { return len(a) == 1 && len(b) == 1 && a[0] == b[0] }) {
				t.Errorf("headers %v, want %v", h, want)
			}
		})
	}
}

// TestOAuthErrorVectors maps each error vector to the constructor for its
// condition; a vector without one fails.
func TestOAuthErrorVectors(t *testing.T) {
	byID := map[string]*OAuthError{
		"T2": InvalidCode(),
		"T3": InvalidRefreshToken(),
		"T4": InvalidClient(),
		"T5": Unauthorized(),
	}
	for _, kind := range []string{"oauth-token-error", "oauth-userinfo-error"} {
		for _, v := range vectors.Of(t, "identity.json", kind) {
			id := v.Get("id").String()
			t.Run(id, func(t *testing.T) {
				e, ok := byID[id]
				if !ok {
					t.Fatalf("no constructor for vector %s", id)
				}
				delete(byID, id)
				checkOAuthError(t, e, int(v.Get("expected.status").Int()), v.Get("expected.body").String())
			})
		}
	}
	for id := range byID {
		t.Errorf("no vector %s", id)
	}
}

// TestOAuthErrors covers the rows of identity.md §3.2 and §3.3 that have no
// vector.
func TestOAuthErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    *OAuthError
		status int
		body   string
	}{
		{"grant_type other than the two", UnsupportedGrantType("password"), 400,
			`{"error":"unsupported_grant_type","error_description":"Unsupported grant type: password"}`},
		{"grant_type echoed without HTML escaping", UnsupportedGrantType(`<a&b>`), 400,
			`{"error":"unsupported_grant_type","error_description":"Unsupported grant type: <a&b>"}`},
		{"missing required field", MissingParameter("code"), 400,
			`{"error":"invalid_request","error_description":"Missing parameter: code"}`},
		{"form and Basic credentials differ", InvalidRequest("client_id in the form and in Basic differ"), 400,
			`{"error":"invalid_request","error_description":"client_id in the form and in Basic differ"}`},
		{"unknown access token", InvalidAccessToken("kgsim-at-00000000000000000000000001"), 401,
			`{"error":"invalid_token","error_description":"Invalid access token: kgsim-at..."}`},
		{"access token shorter than 8", InvalidAccessToken("abc"), 401,
			`{"error":"invalid_token","error_description":"Invalid access token: abc..."}`},
		{"access token cut by characters, not bytes", InvalidAccessToken("令牌令牌令牌令牌令牌"), 401,
			`{"error":"invalid_token","error_description":"Invalid access token: 令牌令牌令牌令牌..."}`},
	} {
		t.Run(tc.name, func(t *testing.T) { checkOAuthError(t, tc.err, tc.status, tc.body) })
	}
}

func checkOAuthError(t *testing.T, e *OAuthError, status int, body string) {
	t.Helper()
	if e.Status != status {
		t.Errorf("status %d, want %d", e.Status, status)
	}
	if got := string(e.JSON()); got != body {
		t.Errorf("body\n%s\nwant\n%s", got, body)
	}
	var back map[string]string
	if err := json.Unmarshal(e.JSON(), &back); err != nil {
		t.Fatal(err)
	}
	if back["error"] != e.Code || back["error_description"] != e.Description || len(back) != 2 {
		t.Errorf("does not read back: %v", back)
	}

	h := http.Header{}
	e.SetHeaders(h)
	if got := h.Get("Content-Type"); got != ContentTypeJSON {
		t.Errorf("Content-Type %q", got)
	}
	challenge := ""
	if e.Code == "invalid_token" {
		challenge = `Bearer error="invalid_token"`
	}
	if got := h.Get("WWW-Authenticate"); got != challenge {
		t.Errorf("WWW-Authenticate %q, want %q", got, challenge)
	}
}
