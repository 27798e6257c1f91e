package simulator

import (
	"context"
	"time"
)

// IdentityTx reads and writes the identity provider's state: tenants, the
// merchant's apps and their per-tenant clients, users and departments,
// codes, tokens, tickets and login sessions (identity.md, kit-sync.md).
//
// Reads of a missing record return ENOTFOUND. Put methods upsert by the
// record's key, except where they say a duplicate is an ECONFLICT.
// Listings go in the order records were first stored. The Consume methods
// spend a single-use credential atomically: of two concurrent calls for
// one credential exactly one succeeds. They return ENOTFOUND for an
// unknown one, ECONFLICT for one already spent and EINVALID for one
// expired or revoked, the last two with the stored record.
type IdentityTx interface {
	// Tenants.

	PutTenant(ctx context.Context, t Tenant) error // an ID or Code another tenant has is an ECONFLICT
	Tenant(ctx context.Context, id string) (Tenant, error)
	TenantByCode(ctx context.Context, code string) (Tenant, error)
	Tenants(ctx context.Context) ([]Tenant, error)

	// Apps and their clients.

	PutApp(ctx context.Context, a App) error
	App(ctx context.Context, id string) (App, error)
	Apps(ctx context.Context, f AppFilter) ([]App, error)
	// PutClient stores an app's client in a tenant, replacing the one for
	// the same (TenantID, AppID); a ClientID another app has in the tenant
	// is an ECONFLICT.
	PutClient(ctx context.Context, c Client) error
	Client(ctx context.Context, tenantID, appID string) (Client, error)
	// ClientByID finds a tenant's client by its clientId: what the token
	// endpoint authenticates.
	ClientByID(ctx context.Context, tenantID, clientID string) (Client, error)
	Clients(ctx context.Context, f ClientFilter) ([]Client, error)
	// DeleteClient unbinds an app from a tenant; its pair stops working.
	DeleteClient(ctx context.Context, tenantID, appID string) error

	// Users, their authorisations, departments.

	PutUser(ctx context.Context, u User) error
	User(ctx context.Context, tenantID, userName string) (User, error)
	Users(ctx context.Context, f UserFilter) ([]User, error)
	// DeleteUser removes a user from its tenant; its authorisations stay
	// for the caller to revoke or delete.
	DeleteUser(ctx context.Context, tenantID, userName string) error
	PutAuthorisation(ctx context.Context, a Authorisation) error
	Authorisation(ctx context.Context, tenantID, appID, userName string) (Authorisation, error)
	Authorisations(ctx context.Context, f AuthorisationFilter) ([]Authorisation, error)
	DeleteAuthorisation(ctx context.Context, tenantID, appID, userName string) error
	PutDepartment(ctx context.Context, d Department) error
	Department(ctx context.Context, tenantID, orgCode string) (Department, error)
	Departments(ctx context.Context, tenantID string) ([]Department, error)
	DeleteDepartment(ctx context.Context, tenantID, orgCode string) error

	// Codes, tokens, tickets, sessions.

	AddCode(ctx context.Context, c AuthCode) error // a Code already stored is an ECONFLICT
	Code(ctx context.Context, code string) (AuthCode, error)
	// ConsumeCode spends a code at now, returning it with UsedAt set.
	ConsumeCode(ctx context.Context, code string, now time.Time) (AuthCode, error)
	AddToken(ctx context.Context, t Token) error // an Access or Refresh already stored is an ECONFLICT
	TokenByAccess(ctx context.Context, access string) (Token, error)
	TokenByRefresh(ctx context.Context, refresh string) (Token, error)
	// ConsumeRefresh spends a refresh token at now, returning its token
	// with RefreshUsedAt set; the access token is untouched.
	ConsumeRefresh(ctx context.Context, refresh string, now time.Time) (Token, error)
	// RevokeTokens revokes at at the live tokens f matches (Limit is
	// ignored), returning how many. An empty filter matches every token.
	RevokeTokens(ctx context.Context, f TokenFilter, at time.Time) (int, error)
	Tokens(ctx context.Context, f TokenFilter) ([]Token, error)
	AddTicket(ctx context.Context, t Ticket) error // a Ticket already stored is an ECONFLICT
	Ticket(ctx context.Context, ticket string) (Ticket, error)
	// ConsumeTicket spends a ticket at now, returning it with UsedAt set.
	ConsumeTicket(ctx context.Context, ticket string, now time.Time) (Ticket, error)
	PutSession(ctx context.Context, s Session) error
	Session(ctx context.Context, id string) (Session, error)
	DeleteSession(ctx context.Context, id string) error
	// PurgeLogins deletes the codes, tickets and sessions that expired
	// before before, and the tokens whose refresh token did, returning how
	// many records went. Nothing else expires, so nothing else is purged.
	PurgeLogins(ctx context.Context, before time.Time) (int, error)
	// ExpireLogins ends at at every code, ticket, session and token of a
	// tenant still live then, as if each had expired: a token's access and
	// refresh token both. It returns how many records changed.
	ExpireLogins(ctx context.Context, tenantID string, at time.Time) (int, error)

	// Identity settings.

	// PutIdentitySettings stores a tenant's settings, replacing its old
	// ones.
	PutIdentitySettings(ctx context.Context, s IdentitySettings) error
	IdentitySettings(ctx context.Context, tenantID string) (IdentitySettings, error)
}

// IdentitySettings are a tenant's overrides of the identity provider's
// settings (identity.md §2.2 echoState, §3.2 the invalid_client status,
// §4.2 the CAS format, and the lifetimes of §3.2 and §4.2). A zero field
// leaves the marketplace's default in force.
type IdentitySettings struct {
	TenantID            string
	EchoState           *bool  // nil: the default
	CASFormat           string // JSON or XML
	InvalidClientStatus int    // 401 or 403
	CodeLifetime        time.Duration
	AccessLifetime      time.Duration
	RefreshLifetime     time.Duration
	TicketLifetime      time.Duration
	SessionLifetime     time.Duration
	UpdatedAt           time.Time
}

// Filters of the identity listings. Zero fields match everything; Limit 0
// means no limit.
type (
	AppFilter struct {
		ProductID, ClientID string
		Limit               int
	}
	ClientFilter struct {
		TenantID, AppID string
		Limit           int
	}
	UserFilter struct {
		TenantID, UserName, OrgCode string
		Limit                       int
	}
	AuthorisationFilter struct {
		TenantID, AppID, UserName string
		EnabledOnly               bool
		Limit                     int
	}
	TokenFilter struct {
		TenantID, ClientID, UserName, Code string
		Limit                              int
	}
)
