package record

import (
	"context"
	"database/sql"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// A tenant's identity settings: one row per tenant that overrides any.

const settingsColumns = `tenant_id, echo_state, cas_format, invalid_client_status, code_lifetime, access_lifetime, refresh_lifetime,
	ticket_lifetime, session_lifetime, updated_at`

// PutIdentitySettings stores a tenant's settings, replacing its old ones.
func (tb Tables) PutIdentitySettings(ctx context.Context, is simulator.IdentitySettings) error {
	if err := required("identity settings", "tenantId", is.TenantID); err != nil {
		return err
	}
	var echo sql.NullBool
	if is.EchoState != nil {
		echo = sql.NullBool{Bool: *is.EchoState, Valid: true}
	}
	_, err := tb.c.Exec(ctx, `INSERT INTO identity_settings (`+settingsColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (tenant_id) DO UPDATE SET echo_state = excluded.echo_state, cas_format = excluded.cas_format,
		invalid_client_status = excluded.invalid_client_status, code_lifetime = excluded.code_lifetime,
		access_lifetime = excluded.access_lifetime, refresh_lifetime = excluded.refresh_lifetime,
		ticket_lifetime = excluded.ticket_lifetime, session_lifetime = excluded.session_lifetime, updated_at = excluded.updated_at`,
		is.TenantID, echo, is.CASFormat, is.InvalidClientStatus, int64(is.CodeLifetime), int64(is.AccessLifetime),
		int64(is.RefreshLifetime), int64(is.TicketLifetime), int64(is.SessionLifetime), Nanos(is.UpdatedAt))
	return err
}

func scanSettings(r Row) (simulator.IdentitySettings, error) {
	var is simulator.IdentitySettings
	var echo sql.NullBool
	var code, access, refresh, ticket, session, updated int64
	err := r.Scan(&is.TenantID, &echo, &is.CASFormat, &is.InvalidClientStatus, &code, &access, &refresh, &ticket, &session, &updated)
	if echo.Valid {
		is.EchoState = &echo.Bool
	}
	is.CodeLifetime, is.AccessLifetime, is.RefreshLifetime = time.Duration(code), time.Duration(access), time.Duration(refresh)
	is.TicketLifetime, is.SessionLifetime, is.UpdatedAt = time.Duration(ticket), time.Duration(session), FromNanos(updated)
	return is, err
}

// IdentitySettings returns a tenant's settings: ENOTFOUND if it never had
// any.
func (tb Tables) IdentitySettings(ctx context.Context, tenantID string) (simulator.IdentitySettings, error) {
	return One(ctx, tb.c, scanSettings, simulator.Errorf(simulator.ENOTFOUND, "tenantId", "no identity settings for tenant %s", tenantID),
		`SELECT `+settingsColumns+` FROM identity_settings WHERE tenant_id = ?`, tenantID)
}

// ExpireLogins ends at at what of a tenant's logins is live then.
func (tb Tables) ExpireLogins(ctx context.Context, tenantID string, at time.Time) (int, error) {
	switch {
	case tenantID == "":
		return 0, simulator.Errorf(simulator.EINVALID, "tenantId", "is required to expire a tenant's logins")
	case at.IsZero():
		return 0, simulator.Errorf(simulator.EINVALID, "at", "is required to expire a tenant's logins")
	}
	return changeAll(ctx, tb.c, []string{
		`UPDATE auth_codes SET expires_at = ?1 WHERE tenant_id = ?2 AND expires_at > ?1`,
		`UPDATE tickets SET expires_at = ?1 WHERE tenant_id = ?2 AND expires_at > ?1`,
		`UPDATE sessions SET expires_at = ?1 WHERE tenant_id = ?2 AND expires_at > ?1`,
		// CASE is the smaller of the two in both dialects' words.
		`UPDATE tokens SET access_expires_at = CASE WHEN access_expires_at < ?1 THEN access_expires_at ELSE ?1 END,
			refresh_expires_at = CASE WHEN refresh_expires_at < ?1 THEN refresh_expires_at ELSE ?1 END
			WHERE tenant_id = ?2 AND (access_expires_at > ?1 OR refresh_expires_at > ?1)`,
	}, Nanos(at), tenantID)
}
