package record

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Codes, tokens, tickets and sessions. The token endpoint and userinfo
// run their queries at thousands a second, so each is one indexed
// statement, which a back end may prepare once (Frequent).

const codeColumns = `code, client_id, tenant_id, app_id, user_name, redirect_uri, state, scope, created_at, expires_at, used_at`

const (
	addCode    = `INSERT INTO auth_codes (` + codeColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`
	selectCode = `SELECT ` + codeColumns + ` FROM auth_codes WHERE code = ?`
	// consumeCode spends a live code in one statement, so two concurrent
	// exchanges cannot both see it unused.
	consumeCode = `UPDATE auth_codes SET used_at = ? WHERE code = ? AND used_at = 0 AND expires_at > ? RETURNING ` + codeColumns
)

func noCode(code string) error {
	return simulator.Errorf(simulator.ENOTFOUND, "code", "no authorization code %s", code)
}

// AddCode stores a new authorization code.
func (tb Tables) AddCode(ctx context.Context, c simulator.AuthCode) error {
	if err := required("an authorization code", "code", c.Code); err != nil {
		return err
	}
	n, err := tb.c.Exec(ctx, addCode, c.Code, c.ClientID, c.TenantID, c.AppID, c.UserName, c.RedirectURI, c.State, c.Scope,
		Nanos(c.CreatedAt), Nanos(c.ExpiresAt), Nanos(c.UsedAt))
	return exists(n, err, simulator.Errorf(simulator.ECONFLICT, "code", "%s is already stored; a code is issued once", c.Code))
}

func scanCode(r Row) (simulator.AuthCode, error) {
	var c simulator.AuthCode
	var created, expires, used int64
	err := r.Scan(&c.Code, &c.ClientID, &c.TenantID, &c.AppID, &c.UserName, &c.RedirectURI, &c.State, &c.Scope, &created, &expires, &used)
	c.CreatedAt, c.ExpiresAt, c.UsedAt = FromNanos(created), FromNanos(expires), FromNanos(used)
	return c, err
}

// Code returns a stored authorization code, spent or not.
func (tb Tables) Code(ctx context.Context, code string) (simulator.AuthCode, error) {
	return One(ctx, tb.c, scanCode, noCode(code), selectCode, code)
}

// ConsumeCode spends a code at now: ENOTFOUND if unknown, ECONFLICT if
// already spent, EINVALID if expired (now at or after ExpiresAt).
func (tb Tables) ConsumeCode(ctx context.Context, code string, now time.Time) (simulator.AuthCode, error) {
	return consume(ctx, tb.c, scanCode, now, consumeCode, code, func() (simulator.AuthCode, error) {
		c, err := tb.Code(ctx, code)
		switch {
		case err != nil:
			return c, err
		case !c.UsedAt.IsZero():
			return c, simulator.Errorf(simulator.ECONFLICT, "code", "was already exchanged at %s; a code is single use", c.UsedAt.Format(time.RFC3339Nano))
		}
		return c, simulator.Errorf(simulator.EINVALID, "code", "expired at %s", c.ExpiresAt.Format(time.RFC3339Nano))
	})
}

// consume runs query, an UPDATE ... RETURNING that spends key at now if
// it is live. The one statement is atomic, so of two concurrent calls one
// spends it; when it spends nothing, why reads the record to say why
// (a spent or expired record stays so).
func consume[T any](ctx context.Context, c Conn, scan func(Row) (T, error), now time.Time, query, key string, why func() (T, error)) (T, error) {
	if now.IsZero() {
		var zero T
		return zero, simulator.Errorf(simulator.EINVALID, "now", "is required to spend a single-use credential")
	}
	v, err := scan(c.QueryRow(ctx, query, Nanos(now), key, Nanos(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return why()
	}
	return v, err
}

const tokenColumns = `access, refresh, client_id, tenant_id, app_id, user_name, scope, code, issued_at, access_expires_at,
	refresh_expires_at, refresh_used_at, revoked_at`

const (
	addToken             = `INSERT INTO tokens (` + tokenColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`
	selectTokenByAccess  = `SELECT ` + tokenColumns + ` FROM tokens WHERE access = ?`
	selectTokenByRefresh = `SELECT ` + tokenColumns + ` FROM tokens WHERE refresh = ?`
	consumeRefresh       = `UPDATE tokens SET refresh_used_at = ? WHERE refresh = ? AND refresh_used_at = 0 AND revoked_at = 0 AND refresh_expires_at > ? RETURNING ` + tokenColumns
	revokeTokensFromCode = `UPDATE tokens SET revoked_at = ? WHERE code = ? AND revoked_at = 0`
)

// AddToken stores a newly issued token pair.
func (tb Tables) AddToken(ctx context.Context, t simulator.Token) error {
	if err := required("a token", "access_token", t.Access, "refresh_token", t.Refresh); err != nil {
		return err
	}
	n, err := tb.c.Exec(ctx, addToken, t.Access, t.Refresh, t.ClientID, t.TenantID, t.AppID, t.UserName, t.Scope, t.Code,
		Nanos(t.IssuedAt), Nanos(t.AccessExpiresAt), Nanos(t.RefreshExpiresAt), Nanos(t.RefreshUsedAt), Nanos(t.RevokedAt))
	return exists(n, err, simulator.Errorf(simulator.ECONFLICT, "access_token", "the access or refresh token is already stored; tokens are issued once"))
}

func scanToken(r Row) (simulator.Token, error) {
	var t simulator.Token
	var issued, accessExpires, refreshExpires, refreshUsed, revoked int64
	err := r.Scan(&t.Access, &t.Refresh, &t.ClientID, &t.TenantID, &t.AppID, &t.UserName, &t.Scope, &t.Code,
		&issued, &accessExpires, &refreshExpires, &refreshUsed, &revoked)
	t.IssuedAt, t.AccessExpiresAt, t.RefreshExpiresAt = FromNanos(issued), FromNanos(accessExpires), FromNanos(refreshExpires)
	t.RefreshUsedAt, t.RevokedAt = FromNanos(refreshUsed), FromNanos(revoked)
	return t, err
}

// TokenByAccess returns the token pair with this access token. The error
// names only the token's start: the token itself is a credential.
func (tb Tables) TokenByAccess(ctx context.Context, access string) (simulator.Token, error) {
	return One(ctx, tb.c, scanToken, simulator.Errorf(simulator.ENOTFOUND, "access_token", "no access token %s...", prefix(access)),
		selectTokenByAccess, access)
}

// TokenByRefresh returns the token pair with this refresh token.
func (tb Tables) TokenByRefresh(ctx context.Context, refresh string) (simulator.Token, error) {
	return One(ctx, tb.c, scanToken, simulator.Errorf(simulator.ENOTFOUND, "refresh_token", "no refresh token %s...", prefix(refresh)),
		selectTokenByRefresh, refresh)
}

// prefix returns a credential's first 8 bytes, enough to tell which one an
// error is about (identity.md §3.3 shows as much).
func prefix(credential string) string {
	return credential[:min(len(credential), 8)]
}

// ConsumeRefresh spends a refresh token at now: ENOTFOUND if unknown,
// ECONFLICT if already spent, EINVALID if revoked or expired.
func (tb Tables) ConsumeRefresh(ctx context.Context, refresh string, now time.Time) (simulator.Token, error) {
	return consume(ctx, tb.c, scanToken, now, consumeRefresh, refresh, func() (simulator.Token, error) {
		t, err := tb.TokenByRefresh(ctx, refresh)
		switch {
		case err != nil:
			return t, err
		case !t.RefreshUsedAt.IsZero():
			return t, simulator.Errorf(simulator.ECONFLICT, "refresh_token", "was already used at %s; a refresh token is single use",
				t.RefreshUsedAt.Format(time.RFC3339Nano))
		case !t.RevokedAt.IsZero():
			return t, simulator.Errorf(simulator.EINVALID, "refresh_token", "was revoked at %s", t.RevokedAt.Format(time.RFC3339Nano))
		}
		return t, simulator.Errorf(simulator.EINVALID, "refresh_token", "expired at %s", t.RefreshExpiresAt.Format(time.RFC3339Nano))
	})
}

func tokenWhere(f simulator.TokenFilter) *Where {
	var w Where
	w.Eq("tenant_id", f.TenantID)
	w.Eq("client_id", f.ClientID)
	w.Eq("user_name", f.UserName)
	w.Eq("code", f.Code)
	return &w
}

// RevokeTokens revokes at at the live tokens f matches.
func (tb Tables) RevokeTokens(ctx context.Context, f simulator.TokenFilter, at time.Time) (int, error) {
	if at.IsZero() {
		return 0, simulator.Errorf(simulator.EINVALID, "at", "is required to revoke tokens")
	}
	w := tokenWhere(f)
	w.Add("revoked_at = 0")
	n, err := tb.c.Exec(ctx, `UPDATE tokens SET revoked_at = ? WHERE `+strings.Join(w.terms, " AND "), append([]any{Nanos(at)}, w.args...)...)
	return int(n), err
}

// Tokens lists token pairs in the order they were issued.
func (tb Tables) Tokens(ctx context.Context, f simulator.TokenFilter) ([]simulator.Token, error) {
	clause, args, err := tokenWhere(f).SQL(tb.d, "seq", f.Limit)
	if err != nil {
		return nil, err
	}
	return List(ctx, tb.c, scanToken, `SELECT `+tokenColumns+` FROM tokens`+clause, args...)
}

const ticketColumns = `ticket, service, tenant_id, app_id, user_name, from_new_login, authenticated_at, created_at, expires_at, used_at`

const (
	selectTicket  = `SELECT ` + ticketColumns + ` FROM tickets WHERE ticket = ?`
	consumeTicket = `UPDATE tickets SET used_at = ? WHERE ticket = ? AND used_at = 0 AND expires_at > ? RETURNING ` + ticketColumns
)

func noTicket(ticket string) error {
	return simulator.Errorf(simulator.ENOTFOUND, "ticket", "no ticket %s", ticket)
}

// AddTicket stores a new CAS service ticket.
func (tb Tables) AddTicket(ctx context.Context, t simulator.Ticket) error {
	if err := required("a ticket", "ticket", t.Ticket); err != nil {
		return err
	}
	n, err := tb.c.Exec(ctx, `INSERT INTO tickets (`+ticketColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`,
		t.Ticket, t.Service, t.TenantID, t.AppID, t.UserName, t.FromNewLogin, Nanos(t.AuthenticatedAt), Nanos(t.CreatedAt),
		Nanos(t.ExpiresAt), Nanos(t.UsedAt))
	return exists(n, err, simulator.Errorf(simulator.ECONFLICT, "ticket", "%s is already stored; a ticket is issued once", t.Ticket))
}

func scanTicket(r Row) (simulator.Ticket, error) {
	var t simulator.Ticket
	var authenticated, created, expires, used int64
	err := r.Scan(&t.Ticket, &t.Service, &t.TenantID, &t.AppID, &t.UserName, &t.FromNewLogin, &authenticated, &created, &expires, &used)
	t.AuthenticatedAt, t.CreatedAt, t.ExpiresAt, t.UsedAt = FromNanos(authenticated), FromNanos(created), FromNanos(expires), FromNanos(used)
	return t, err
}

// Ticket returns a stored ticket, spent or not.
func (tb Tables) Ticket(ctx context.Context, ticket string) (simulator.Ticket, error) {
	return One(ctx, tb.c, scanTicket, noTicket(ticket), selectTicket, ticket)
}

// ConsumeTicket spends a ticket at now: ENOTFOUND if unknown, ECONFLICT
// if already validated, EINVALID if expired.
func (tb Tables) ConsumeTicket(ctx context.Context, ticket string, now time.Time) (simulator.Ticket, error) {
	return consume(ctx, tb.c, scanTicket, now, consumeTicket, ticket, func() (simulator.Ticket, error) {
		t, err := tb.Ticket(ctx, ticket)
		switch {
		case err != nil:
			return t, err
		case !t.UsedAt.IsZero():
			return t, simulator.Errorf(simulator.ECONFLICT, "ticket", "was already validated at %s; a ticket is single use", t.UsedAt.Format(time.RFC3339Nano))
		}
		return t, simulator.Errorf(simulator.EINVALID, "ticket", "expired at %s", t.ExpiresAt.Format(time.RFC3339Nano))
	})
}

const sessionColumns = `id, tenant_id, user_name, app_id, created_at, expires_at`

func noSession(id string) error {
	return simulator.Errorf(simulator.ENOTFOUND, "session", "no login session %s...", prefix(id))
}

// PutSession stores a login session, replacing the one with its ID.
func (tb Tables) PutSession(ctx context.Context, ss simulator.Session) error {
	if err := required("a session", "session", ss.ID); err != nil {
		return err
	}
	_, err := tb.c.Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?,?,?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, user_name = excluded.user_name, app_id = excluded.app_id,
		created_at = excluded.created_at, expires_at = excluded.expires_at`,
		ss.ID, ss.TenantID, ss.UserName, ss.AppID, Nanos(ss.CreatedAt), Nanos(ss.ExpiresAt))
	return err
}

func scanSession(r Row) (simulator.Session, error) {
	var ss simulator.Session
	var created, expires int64
	err := r.Scan(&ss.ID, &ss.TenantID, &ss.UserName, &ss.AppID, &created, &expires)
	ss.CreatedAt, ss.ExpiresAt = FromNanos(created), FromNanos(expires)
	return ss, err
}

// Session returns a stored login session, expired or not.
func (tb Tables) Session(ctx context.Context, id string) (simulator.Session, error) {
	return One(ctx, tb.c, scanSession, noSession(id), `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id)
}

// DeleteSession ends a login session.
func (tb Tables) DeleteSession(ctx context.Context, id string) error {
	n, err := tb.c.Exec(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return exists(n, err, noSession(id))
}

// PurgeLogins deletes the login records that expired before before.
func (tb Tables) PurgeLogins(ctx context.Context, before time.Time) (int, error) {
	if before.IsZero() {
		return 0, simulator.Errorf(simulator.EINVALID, "before", "a purge needs a time")
	}
	return changeAll(ctx, tb.c, []string{
		`DELETE FROM auth_codes WHERE expires_at < ?`,
		`DELETE FROM tickets WHERE expires_at < ?`,
		`DELETE FROM sessions WHERE expires_at < ?`,
		`DELETE FROM tokens WHERE refresh_expires_at < ?`,
	}, Nanos(before))
}
