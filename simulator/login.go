package simulator

import "time"

// What a login leaves behind (identity.md §2-§4): codes, tokens and tickets
// the merchant trades in, and the browser's SSO session. Each expires on
// the scheduling clock: it is valid while now is before ExpiresAt, and no
// longer at ExpiresAt itself.

// AuthCode is an OAuth authorization code: single use, bound to the client,
// tenant and (when given) redirect_uri of the request that made it.
type AuthCode struct {
	Code        string
	ClientID    string
	TenantID    string
	AppID       string
	UserName    string
	RedirectURI string // as given to /authorize; empty from the unified login page
	State       string // as given to /authorize, echoed on the callback
	Scope       string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      time.Time // zero until exchanged
}

// Token is an access token and the refresh token issued with it.
type Token struct {
	Access           string
	Refresh          string
	ClientID         string
	TenantID         string
	AppID            string
	UserName         string
	Scope            string
	Code             string // the authorization code its line began with, kept through refreshes: a replayed code revokes them all
	IssuedAt         time.Time
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
	// RefreshUsedAt is when the refresh token was traded for a new pair:
	// it is then spent, while the access token lives on to its expiry.
	RefreshUsedAt time.Time
	// RevokedAt ends both tokens (a replayed code revokes what it gave).
	RevokedAt time.Time
}

// Ticket is a CAS service ticket: single use, bound to its exact service.
type Ticket struct {
	Ticket          string // ST-...
	Service         string
	TenantID        string
	AppID           string
	UserName        string
	FromNewLogin    bool      // the user typed a password for it rather than riding a session
	AuthenticatedAt time.Time // CAS authenticationDate: when the user logged in
	CreatedAt       time.Time
	ExpiresAt       time.Time
	UsedAt          time.Time // zero until validated
}

// Session is a browser's SSO session (the KGSIM_SSO cookie): it lets
// /authorize and CAS login skip the form.
type Session struct {
	ID        string
	TenantID  string
	UserName  string
	AppID     string // the app last logged in to, for logout's default redirect
	CreatedAt time.Time
	ExpiresAt time.Time
}
