package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kgsim/kgsim/simulator"
)

// Codes, tokens, tickets and sessions. The token endpoint and userinfo
// run their queries at thousands a second, so each is one indexed
// statement, which pgx prepares once per connection.

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
func (s store) AddCode(ctx context.Context, c simulator.AuthCode) error {
	if err := required("an authorization code", "code", c.Code); err != nil {
		return err
	}
	res, err := s.exec(ctx, addCode, c.Code, c.ClientID, c.TenantID, c.AppID, c.UserName, c.RedirectURI, c.State, c.Scope,
		nanos(c.CreatedAt), nanos(c.ExpiresAt), nanos(c.UsedAt))
	if err != nil {
		return err
	}
	return exists(res, simulator.Errorf(simulator.ECONFLICT, "code", "%s is already stored; a code is issued once", c.Code))
}

func scanCode(s scanner) (simulator.AuthCode, error) {
	var c simulator.AuthCode
	var created, expires, used int64
	err := s.Scan(&c.Code, &c.ClientID, &c.TenantID, &c.AppID, &c.UserName, &c.RedirectURI, &c.State, &c.Scope, &created, &expires, &used)
	c.CreatedAt, c.ExpiresAt, c.UsedAt = fromNanos(created), fromNanos(expires), fromNanos(used)
	return c, err
}

// Code returns a stored authorization code, spent or not.
func (s store) Code(ctx context.Context, code string) (simulator.AuthCode, error) {
	return one(ctx, s, scanCode, noCode(code), selectCode, code)
}

// ConsumeCode spends a code at now: ENOTFOUND if unknown, ECONFLICT if
// already spent, EINVALID if expired (now at or after ExpiresAt).
func (s store) ConsumeCode(ctx context.Context, code string, now time.Time) (simulator.AuthCode, error) {
	return consume(ctx, s, scanCode, now, consumeCode, code, func() (simulator.AuthCode, error) {
		c, err := s.Code(ctx, code)
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
func consume[T any](ctx context.Context, s store, scan func(scanner) (T, error), now time.Time, query, key string, why func() (T, error)) (T, error) {
	if now.IsZero() {
		var zero T
		return zero, simulator.Errorf(simulator.EINVALID, "now", "is required to spend a single-use credential")
	}
	v, err := scan(s.queryRow(ctx, query, nanos(now), key, nanos(now)))
	if errors.Is(err, pgx.ErrNoRows) {
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
func (s store) AddToken(ctx context.Context, t simulator.Token) error {
	if err := required("a token", "access_token", t.Access, "refresh_token", t.Refresh); err != nil {
		return err
	}
	res, err := s.exec(ctx, addToken, t.Access, t.Refresh, t.ClientID, t.TenantID, t.AppID, t.UserName, t.Scope, t.Code,
		nanos(t.IssuedAt), nanos(t.AccessExpiresAt), nanos(t.RefreshExpiresAt), nanos(t.RefreshUsedAt), nanos(t.RevokedAt))
	if err != nil {
		return err
	}
	return exists(res, simulator.Errorf(simulator.ECONFLICT, "access_token", "the access or refresh token is already stored; tokens are issued once"))
}

func scanToken(s scanner) (simulator.Token, error) {
	var t simulator.Token
	var issued, accessExpires, refreshExpires, refreshUsed, revoked int64
	err := s.Scan(&t.Access, &t.Refresh, &t.ClientID, &t.TenantID, &t.AppID, &t.UserName, &t.Scope, &t.Code,
		&issued, &accessExpires, &refreshExpires, &refreshUsed, &revoked)
	t.IssuedAt, t.AccessExpiresAt, t.RefreshExpiresAt = fromNanos(issued), fromNanos(accessExpires), fromNanos(refreshExpires)
	t.RefreshUsedAt, t.RevokedAt = fromNanos(refreshUsed), fromNanos(revoked)
	return t, err
}

// TokenByAccess returns the token pair with this access token. The error
// names only the token's start: the token itself is a credential.
func (s store) TokenByAccess(ctx context.Context, access string) (simulator.Token, error) {
	return one(ctx, s, scanToken, simulator.Errorf(simulator.ENOTFOUND, "access_token", "no access token %s...", prefix(access)),
		selectTokenByAccess, access)
}

// TokenByRefresh returns the token pair with this refresh token.
func (s store) TokenByRefresh(ctx context.Context, refresh string) (simulator.Token, error) {
	return one(ctx, s, scanToken, simulator.Errorf(simulator.ENOTFOUND, "refresh_token", "no refresh token %s...", prefix(refresh)),
		selectTokenByRefresh, refresh)
}

// prefix returns a credential's first 8 bytes, enough to tell which one an
// error is about (identity.md §3.3 shows as much).
func prefix(credential string) string {
	return credential[:min(len(credential), 8)]
}

// ConsumeRefresh spends a refresh token at now: ENOTFOUND if unknown,
// ECONFLICT if already spent, EINVALID if revoked or expired.
func (s store) ConsumeRefresh(ctx context.Context, refresh string, now time.Time) (simulator.Token, error) {
	return consume(ctx, s, scanToken, now, consumeRefresh, refresh, func() (simulator.Token, error) {
		t, err := s.TokenByRefresh(ctx, refresh)
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

func tokenWhere(f simulator.TokenFilter) *where {
	var w where
	w.eq("tenant_id", f.TenantID)
	w.eq("client_id", f.ClientID)
	w.eq("user_name", f.UserName)
	w.eq("code", f.Code)
	return &w
}

// RevokeTokens revokes at at the live tokens f matches.
func (s store) RevokeTokens(ctx context.Context, f simulator.TokenFilter, at time.Time) (int, error) {
	if at.IsZero() {
		return 0, simulator.Errorf(simulator.EINVALID, "at", "is required to revoke tokens")
	}
	w := tokenWhere(f)
	w.add("revoked_at = 0")
	res, err := s.exec(ctx, `UPDATE tokens SET revoked_at = ? WHERE `+strings.Join(w.terms, " AND "), append([]any{nanos(at)}, w.args...)...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Tokens lists token pairs in the order they were issued.
func (s store) Tokens(ctx context.Context, f simulator.TokenFilter) ([]simulator.Token, error) {
	clause, args, err := tokenWhere(f).sql("seq", f.Limit)
	if err != nil {
		return nil, err
	}
	return list(ctx, s, scanToken, `SELECT `+tokenColumns+` FROM tokens`+clause, args...)
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
func (s store) AddTicket(ctx context.Context, t simulator.Ticket) error {
	if err := required("a ticket", "ticket", t.Ticket); err != nil {
		return err
	}
	res, err := s.exec(ctx, `INSERT INTO tickets (`+ticketColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`,
		t.Ticket, t.Service, t.TenantID, t.AppID, t.UserName, t.FromNewLogin, nanos(t.AuthenticatedAt), nanos(t.CreatedAt),
		nanos(t.ExpiresAt), nanos(t.UsedAt))
	if err != nil {
		return err
	}
	return exists(res, simulator.Errorf(simulator.ECONFLICT, "ticket", "%s is already stored; a ticket is issued once", t.Ticket))
}

func scanTicket(s scanner) (simulator.Ticket, error) {
	var t simulator.Ticket
	var authenticated, created, expires, used int64
	err := s.Scan(&t.Ticket, &t.Service, &t.TenantID, &t.AppID, &t.UserName, &t.FromNewLogin, &authenticated, &created, &expires, &used)
	t.AuthenticatedAt, t.CreatedAt, t.ExpiresAt, t.UsedAt = fromNanos(authenticated), fromNanos(created), fromNanos(expires), fromNanos(used)
	return t, err
}

// Ticket returns a stored ticket, spent or not.
func (s store) Ticket(ctx context.Context, ticket string) (simulator.Ticket, error) {
	return one(ctx, s, scanTicket, noTicket(ticket), selectTicket, ticket)
}

// ConsumeTicket spends a ticket at now: ENOTFOUND if unknown, ECONFLICT
// if already validated, EINVALID if expired.
func (s store) ConsumeTicket(ctx context.Context, ticket string, now time.Time) (simulator.Ticket, error) {
	return consume(ctx, s, scanTicket, now, consumeTicket, ticket, func() (simulator.Ticket, error) {
		t, err := s.Ticket(ctx, ticket)
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
func (s store) PutSession(ctx context.Context, ss simulator.Session) error {
	if err := required("a session", "session", ss.ID); err != nil {
		return err
	}
	_, err := s.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?,?,?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, user_name = excluded.user_name, app_id = excluded.app_id,
		created_at = excluded.created_at, expires_at = excluded.expires_at`,
		ss.ID, ss.TenantID, ss.UserName, ss.AppID, nanos(ss.CreatedAt), nanos(ss.ExpiresAt))
	return err
}

func scanSession(s scanner) (simulator.Session, error) {
	var ss simulator.Session
	var created, expires int64
	err := s.Scan(&ss.ID, &ss.TenantID, &ss.UserName, &ss.AppID, &created, &expires)
	ss.CreatedAt, ss.ExpiresAt = fromNanos(created), fromNanos(expires)
	return ss, err
}

// Session returns a stored login session, expired or not.
func (s store) Session(ctx context.Context, id string) (simulator.Session, error) {
	return one(ctx, s, scanSession, noSession(id), `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id)
}

// DeleteSession ends a login session.
func (s store) DeleteSession(ctx context.Context, id string) error {
	res, err := s.exec(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	if err != nil {
		return err
	}
	return exists(res, noSession(id))
}

// PurgeLogins deletes the login records that expired before before.
func (s store) PurgeLogins(ctx context.Context, before time.Time) (int, error) {
	if before.IsZero() {
		return 0, simulator.Errorf(simulator.EINVALID, "before", "a purge needs a time")
	}
	return s.changeAll(ctx, []string{
		`DELETE FROM auth_codes WHERE expires_at < ?`,
		`DELETE FROM tickets WHERE expires_at < ?`,
		`DELETE FROM sessions WHERE expires_at < ?`,
		`DELETE FROM tokens WHERE refresh_expires_at < ?`,
	}, nanos(before))
}

// changeAll runs each of queries with args in one transaction and returns
// how many rows they changed in all.
func (s store) changeAll(ctx context.Context, queries []string, args ...any) (int, error) {
	changed := 0
	err := s.atomic(ctx, func(s store) error {
		for _, query := range queries {
			res, err := s.exec(ctx, query, args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			changed += int(n)
		}
		return nil
	})
	return changed, err
}
