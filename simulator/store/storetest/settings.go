package storetest

import (
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// identitySettingsRoundTrip: a tenant's settings read back as written,
// echoState's three values (unset, false, true) kept apart; a second put
// replaces the first; a tenant without settings is ENOTFOUND.
func identitySettingsRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	off := false
	full := simulator.IdentitySettings{TenantID: "T1", EchoState: &off, CASFormat: "XML", InvalidClientStatus: 401,
		CodeLifetime: 30 * time.Second, AccessLifetime: time.Minute, RefreshLifetime: time.Hour, TicketLifetime: 5 * time.Second,
		SessionLifetime: 90 * time.Minute, UpdatedAt: t0.In(shanghai)}
	bare := simulator.IdentitySettings{TenantID: "T2"}
	for _, is := range []simulator.IdentitySettings{full, bare} {
		check(t, s.PutIdentitySettings(ctx, is))
		got, err := s.IdentitySettings(ctx, is.TenantID)
		equal(t, "settings of "+is.TenantID, got, err, inUTC(is))
	}
	on := true
	replaced := simulator.IdentitySettings{TenantID: "T1", EchoState: &on, UpdatedAt: t0.Add(time.Hour)}
	check(t, s.PutIdentitySettings(ctx, replaced))
	got, err := s.IdentitySettings(ctx, "T1")
	equal(t, "settings replaced", got, err, replaced)
	_, err = s.IdentitySettings(ctx, "T3")
	notFound(t, "settings of a tenant without any", err)
	code(t, "settings without a tenant", s.PutIdentitySettings(ctx, simulator.IdentitySettings{CASFormat: "XML"}), simulator.EINVALID)
}

// expireLogins: every live code, ticket, session and token of the tenant
// ends at the given time; what ended before stays as it was, and other
// tenants' logins are untouched.
func expireLogins(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	at := t0.Add(time.Minute)
	check(t, s.AddCode(ctx, authCode("code-T1", "cid-1", "T1", t0.Add(5*time.Minute))))
	check(t, s.AddCode(ctx, authCode("code-T2", "cid-2", "T2", t0.Add(5*time.Minute))))
	check(t, s.AddTicket(ctx, simulator.Ticket{Ticket: "ST-T1", TenantID: "T1", ExpiresAt: t0.Add(time.Hour)}))
	check(t, s.AddTicket(ctx, simulator.Ticket{Ticket: "ST-T1-over", TenantID: "T1", ExpiresAt: t0}))
	check(t, s.PutSession(ctx, simulator.Session{ID: "sso-T1", TenantID: "T1", ExpiresAt: t0.Add(8 * time.Hour)}))
	check(t, s.PutSession(ctx, simulator.Session{ID: "sso-T2", TenantID: "T2", ExpiresAt: t0.Add(8 * time.Hour)}))
	live := token("at-T1", "rt-T1", "code-T1")
	// The access token is over already, its refresh token is not.
	over := token("at-T1-over", "rt-T1-over", "")
	over.AccessExpiresAt = t0
	other := token("at-T2", "rt-T2", "code-T2")
	other.TenantID = "T2"
	for _, tok := range []simulator.Token{live, over, other} {
		check(t, s.AddToken(ctx, tok))
	}

	n, err := s.ExpireLogins(ctx, "T1", at)
	if err != nil || n != 5 {
		t.Fatalf("expired %d, %v; want the 5 records of T1 live at the time", n, err)
	}
	c, err := s.Code(ctx, "code-T1")
	want := authCode("code-T1", "cid-1", "T1", at)
	equal(t, "T1's code", c, err, want)
	ticket, err := s.Ticket(ctx, "ST-T1")
	equal(t, "T1's ticket", ticket, err, simulator.Ticket{Ticket: "ST-T1", TenantID: "T1", ExpiresAt: at})
	ticket, err = s.Ticket(ctx, "ST-T1-over")
	equal(t, "T1's ticket over before", ticket, err, simulator.Ticket{Ticket: "ST-T1-over", TenantID: "T1", ExpiresAt: t0})
	sess, err := s.Session(ctx, "sso-T1")
	equal(t, "T1's session", sess, err, simulator.Session{ID: "sso-T1", TenantID: "T1", ExpiresAt: at})
	live.AccessExpiresAt, live.RefreshExpiresAt = at, at
	tok, err := s.TokenByAccess(ctx, "at-T1")
	equal(t, "T1's token", tok, err, live)
	over.RefreshExpiresAt = at
	tok, err = s.TokenByAccess(ctx, "at-T1-over")
	equal(t, "T1's token whose access token was over", tok, err, over)
	if _, err := s.ConsumeRefresh(ctx, "rt-T1", at); simulator.ErrorCode(err) != simulator.EINVALID {
		t.Errorf("refreshing an expired token: %v, want EINVALID", err)
	}

	c, err = s.Code(ctx, "code-T2")
	equal(t, "T2's code", c, err, authCode("code-T2", "cid-2", "T2", t0.Add(5*time.Minute)))
	sess, err = s.Session(ctx, "sso-T2")
	equal(t, "T2's session", sess, err, simulator.Session{ID: "sso-T2", TenantID: "T2", ExpiresAt: t0.Add(8 * time.Hour)})
	tok, err = s.TokenByAccess(ctx, "at-T2")
	equal(t, "T2's token", tok, err, other)

	if n, err := s.ExpireLogins(ctx, "T1", at); err != nil || n != 0 {
		t.Errorf("expiring again changed %d, %v", n, err)
	}
	code(t, "expiring without a tenant", func() error { _, err := s.ExpireLogins(ctx, "", at); return err }(), simulator.EINVALID)
	code(t, "expiring without a time", func() error { _, err := s.ExpireLogins(ctx, "T1", time.Time{}); return err }(), simulator.EINVALID)
}
