package identity

import (
	"net/http"
	"time"
)

// Token is a successful token response (identity.md §3.2, vector T1).
// token_type and scope are not fields: the spec allows one value of each.
type Token struct {
	AccessToken  string
	ExpiresIn    time.Duration // rendered in whole seconds
	RefreshToken string
}

// JSON renders t with the fields in the order of vector T1.
func (t Token) JSON() []byte {
	return compact(struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in"`
		Scope        string `json:"scope"`
		RefreshToken string `json:"refresh_token"`
	}{t.AccessToken, "Bearer", int64(t.ExpiresIn / time.Second), "get_user_info", t.RefreshToken})
}

// SetHeaders sets the headers of a token response. The two cache headers
// keep the tokens out of caches, as RFC 6749 §5.1 requires.
func (Token) SetHeaders(h http.Header) {
	h.Set("Content-Type", ContentTypeJSON)
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// OAuthError is an error of the token or userinfo endpoint: the HTTP status
// and the {"error","error_description"} body. The constructors below give
// each condition of identity.md §3.2 and §3.3 its spec'd status, code and
// wording.
type OAuthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

// JSON renders the error body, error before error_description.
func (e *OAuthError) JSON() []byte { return compact(e) }

// SetHeaders sets the headers of an error response. Only invalid_token
// carries a challenge: the spec gives none for the others.
func (e *OAuthError) SetHeaders(h http.Header) {
	h.Set("Content-Type", ContentTypeJSON)
	if e.Code == "invalid_token" {
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
}

// InvalidCode is the answer to an authorization code that is unknown, used,
// expired, or presented with another redirect_uri (vector T2).
func InvalidCode() *OAuthError {
	return &OAuthError{http.StatusBadRequest, "invalid_grant", "Invalid authorization code"}
}

// InvalidRefreshToken is the answer to a refresh token that is unknown,
// expired or already rotated (vector T3).
func InvalidRefreshToken() *OAuthError {
	return &OAuthError{http.StatusBadRequest, "invalid_grant", "Invalid refresh token"}
}

// InvalidClient is the answer to a wrong client id or secret, or a pair of
// another tenant (vector T4). The status is 403 after the marketplace FAQ;
// the spec lets the simulator be configured to answer 401 instead, which the
// caller does by changing Status.
func InvalidClient() *OAuthError {
	return &OAuthError{http.StatusForbidden, "invalid_client", "Bad client credentials"}
}

// UnsupportedGrantType is the answer to a grant_type other than
// authorization_code and refresh_token.
func UnsupportedGrantType(grantType string) *OAuthError {
	return &OAuthError{http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: " + grantType}
}

// MissingParameter is the answer to a token request without a required
// field; a body that is not a form lacks them all, so it names the first.
func MissingParameter(name string) *OAuthError {
	return InvalidRequest("Missing parameter: " + name)
}

// InvalidRequest is a malformed request whose wording the spec leaves open:
// an unknown client or bad redirect_uri at authorize, or client credentials
// both in the form and in Basic that differ.
func InvalidRequest(description string) *OAuthError {
	return &OAuthError{http.StatusBadRequest, "invalid_request", description}
}

// Unauthorized is the userinfo answer to a missing or malformed
// Authorization header (vector T5).
func Unauthorized() *OAuthError {
	return &OAuthError{http.StatusUnauthorized, "unauthorized", "Full authentication is required to access this resource"}
}

// InvalidAccessToken is the userinfo answer to an unknown, expired or revoked
// access token. It quotes only the first 8 characters so that the body never
// echoes a whole credential.
func InvalidAccessToken(token string) *OAuthError {
	if r := []rune(token); len(r) > 8 {
		token = string(r[:8])
	}
	return &OAuthError{http.StatusUnauthorized, "invalid_token", "Invalid access token: " + token + "..."}
}
