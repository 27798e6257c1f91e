package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Codes, refresh tokens and tickets are single use: the rules they share
// are tested once, through spendable.

// spendable is one kind of single-use credential, T: add stores a live
// one under key, consume spends it, read reads it back, spent tells its
// key and when it was spent (zero if not yet).
type spendable[T any] struct {
	add     func(ctx context.Context, tx simulator.Tx, key string, expires time.Time) error
	consume func(tx simulator.Tx, ctx context.Context, key string, now time.Time) (T, error)
	read    func(tx simulator.Tx, ctx context.Context, key string) (T, error)
	spent   func(T) (key string, at time.Time)
}

// singleUse checks the rules every single-use credential follows: spent
// once, at now; valid before ExpiresAt and not at it; a failed spend
// changes nothing; an addition is never a replacement; of concurrent
// spends exactly one wins; a spend rolled back with its Update did not
// happen.
func singleUse[T any](t *testing.T, s simulator.Store, c spendable[T]) {
	ctx := t.Context()
	expires := t0.Add(5 * time.Minute)
	consume := func(tx simulator.Tx, key string, now time.Time) (string, time.Time, error) {
		v, err := c.consume(tx, ctx, key, now)
		key, at := c.spent(v)
		return key, at, err
	}
	spentIn := func(tx simulator.Tx, key string) (time.Time, error) {
		v, err := c.read(tx, ctx, key)
		_, at := c.spent(v)
		return at, err
	}
	spentAt := func(key string) time.Time {
		t.Helper()
		at, err := spentIn(s, key)
		check(t, err)
		return at
	}
	for _, key := range []string{"live", "boundary", "zone", "race", "rolled-back"} {
		check(t, c.add(ctx, s, key, expires))
	}
	code(t, "adding a credential again", c.add(ctx, s, "live", expires.Add(time.Hour)), simulator.ECONFLICT)

	// The last instant before expiry spends it, and says so.
	justBefore := expires.Add(-time.Nanosecond)
	key, at, err := consume(s, "live", justBefore)
	if err != nil || key != "live" || !at.Equal(justBefore) || at.Location() != time.UTC {
		t.Errorf("spending just before expiry: %s spent at %v, %v; want live spent at %v in UTC", key, at, err, justBefore)
	}
	if got := spentAt("live"); !got.Equal(justBefore) {
		t.Errorf("stored as spent at %v, want %v", got, justBefore)
	}
	// Again, even earlier: already spent, and the record comes back.
	key, at, err = consume(s, "live", t0)
	code(t, "spending it again", err, simulator.ECONFLICT)
	if key != "live" || !at.Equal(justBefore) {
		t.Errorf("the second spend returned %s spent at %v; want the stored record, spent at %v", key, at, justBefore)
	}

	// At ExpiresAt itself it is expired, and stays unspent.
	_, _, err = consume(s, "boundary", expires)
	code(t, "spending at the expiry instant", err, simulator.EINVALID)
	_, _, err = consume(s, "boundary", expires.Add(time.Hour))
	code(t, "spending after expiry", err, simulator.EINVALID)
	if got := spentAt("boundary"); !got.IsZero() {
		t.Errorf("an expired credential was marked spent at %v", got)
	}

	// Times in another zone compare as instants.
	if _, at, err := consume(s, "zone", justBefore.In(shanghai)); err != nil || !at.Equal(justBefore) || at.Location() != time.UTC {
		t.Errorf("spending with a now in another zone: spent at %v, %v", at, err)
	}
	_, _, err = consume(s, "race", time.Time{})
	code(t, "spending without a now", err, simulator.EINVALID)

	// Two (here eight) exchanges of one credential at once: one wins.
	const racers = 8
	var wg sync.WaitGroup
	errs := make(chan error, racers)
	for range racers {
		wg.Go(func() {
			_, _, err := consume(s, "race", t0)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch simulator.ErrorCode(err) {
		case "":
			won++
		case simulator.ECONFLICT:
		default:
			t.Errorf("a concurrent spend failed with %v; want success or ECONFLICT", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent spends succeeded, want exactly 1", won, racers)
	}

	// Spent inside an Update that then fails: not spent.
	refused := errors.New("the client secret was wrong")
	err = s.Update(ctx, func(tx simulator.Tx) error {
		if _, _, err := consume(tx, "rolled-back", t0); err != nil {
			t.Errorf("spending inside Update: %v", err)
		}
		if at, err := spentIn(tx, "rolled-back"); err != nil || !at.Equal(t0) {
			t.Errorf("inside the Update it reads as spent at %v, %v; want %v", at, err, t0)
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Errorf("Update = %v, want fn's error", err)
	}
	if got := spentAt("rolled-back"); !got.IsZero() {
		t.Errorf("a spend rolled back with its Update stayed, at %v", got)
	}
	if _, _, err := consume(s, "rolled-back", t0); err != nil {
		t.Errorf("spending after the rollback: %v", err)
	}
}

func authCode(code, clientID, tenantID string, expires time.Time) simulator.AuthCode {
	return simulator.AuthCode{Code: code, ClientID: clientID, TenantID: tenantID, AppID: "A1", UserName: "zhangsan", CreatedAt: t0, ExpiresAt: expires}
}

func codesAreSingleUse(t *testing.T, s simulator.Store) {
	singleUse(t, s, spendable[simulator.AuthCode]{
		add: func(ctx context.Context, tx simulator.Tx, key string, expires time.Time) error {
			return tx.AddCode(ctx, authCode(key, "cid", "T1", expires))
		},
		consume: simulator.Tx.ConsumeCode,
		read:    simulator.Tx.Code,
		spent:   func(c simulator.AuthCode) (string, time.Time) { return c.Code, c.UsedAt },
	})
}

func codeRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	full := simulator.AuthCode{
		Code: "z2DvNqHcJ5mK8pR1sT4uW7xY0aB3cD6e", ClientID: "cid-1", TenantID: "T1", AppID: "A1", UserName: "zhangsan",
		RedirectURI: "https://isv.example.com/callback?x=1", State: "xyz123", Scope: "get_user_info",
		CreatedAt: t0.In(shanghai), ExpiresAt: t0.Add(5 * time.Minute),
	}
	bare := simulator.AuthCode{Code: "bare"}
	for _, c := range []simulator.AuthCode{full, bare} {
		check(t, s.AddCode(ctx, c))
		got, err := s.Code(ctx, c.Code)
		equal(t, "code "+c.Code, got, err, inUTC(c))
	}
	spent, err := s.ConsumeCode(ctx, full.Code, t0.Add(time.Minute))
	full.UsedAt = t0.Add(time.Minute)
	equal(t, "the spent code, as ConsumeCode returns it", spent, err, inUTC(full))
	got, err := s.Code(ctx, full.Code)
	equal(t, "the spent code, read back", got, err, inUTC(full))
	code(t, "a code without its value", s.AddCode(ctx, simulator.AuthCode{ClientID: "cid"}), simulator.EINVALID)
}

func token(access, refresh, code string) simulator.Token {
	return simulator.Token{
		Access: access, Refresh: refresh, ClientID: "cid-1", TenantID: "T1", AppID: "A1", UserName: "zhangsan", Scope: "get_user_info",
		Code: code, IssuedAt: t0, AccessExpiresAt: t0.Add(2 * time.Hour), RefreshExpiresAt: t0.Add(30 * 24 * time.Hour),
	}
}

func refreshTokensAreSingleUse(t *testing.T, s simulator.Store) {
	singleUse(t, s, spendable[simulator.Token]{
		add: func(ctx context.Context, tx simulator.Tx, key string, expires time.Time) error {
			tok := token("at-"+key, key, "")
			tok.RefreshExpiresAt = expires
			return tx.AddToken(ctx, tok)
		},
		consume: simulator.Tx.ConsumeRefresh,
		read:    simulator.Tx.TokenByRefresh,
		spent:   func(tok simulator.Token) (string, time.Time) { return tok.Refresh, tok.RefreshUsedAt },
	})
}

// A token pair is found by either token; spending the refresh token
// leaves the access token live; a revoked pair cannot be refreshed.
func tokenRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	full := token("kgsim-at-0123456789abcdefghijklmnopqrstuv", "kgsim-rt-0123456789abcdefghijklmnopqrstuv", "code-1")
	full.IssuedAt = t0.In(shanghai)
	check(t, s.AddToken(ctx, full))
	got, err := s.TokenByAccess(ctx, full.Access)
	equal(t, "token by access", got, err, inUTC(full))
	got, err = s.TokenByRefresh(ctx, full.Refresh)
	equal(t, "token by refresh", got, err, inUTC(full))
	_, err = s.TokenByAccess(ctx, full.Refresh)
	notFound(t, "the refresh token taken as an access token", err)
	_, err = s.TokenByRefresh(ctx, full.Access)
	notFound(t, "the access token taken as a refresh token", err)
	code(t, "another pair with the same access token", s.AddToken(ctx, token(full.Access, "other", "")), simulator.ECONFLICT)
	code(t, "another pair with the same refresh token", s.AddToken(ctx, token("other", full.Refresh, "")), simulator.ECONFLICT)
	_, err = s.TokenByAccess(ctx, "other")
	notFound(t, "the pairs refused", err)
	code(t, "a token without an access token", s.AddToken(ctx, token("", "r", "")), simulator.EINVALID)
	code(t, "a token without a refresh token", s.AddToken(ctx, token("a", "", "")), simulator.EINVALID)

	refreshed, err := s.ConsumeRefresh(ctx, full.Refresh, t0.Add(time.Hour))
	full.RefreshUsedAt = t0.Add(time.Hour)
	equal(t, "the refreshed pair", refreshed, err, inUTC(full))
	got, err = s.TokenByAccess(ctx, full.Access)
	if err != nil || !got.RevokedAt.IsZero() || !got.RefreshUsedAt.Equal(full.RefreshUsedAt) {
		t.Errorf("after a refresh the access token reads %+v, %v; want it live, its refresh spent", got, err)
	}

	revoked := token("at-revoked", "rt-revoked", "code-2")
	check(t, s.AddToken(ctx, revoked))
	n, err := s.RevokeTokens(ctx, simulator.TokenFilter{Code: "code-2"}, t0.Add(time.Minute).In(shanghai))
	if err != nil || n != 1 {
		t.Errorf("revoking code-2's tokens: %d, %v; want 1", n, err)
	}
	_, err = s.ConsumeRefresh(ctx, "rt-revoked", t0.Add(2*time.Minute))
	code(t, "refreshing a revoked pair", err, simulator.EINVALID)
	got, err = s.TokenByAccess(ctx, "at-revoked")
	revoked.RevokedAt = t0.Add(time.Minute)
	equal(t, "the revoked pair, unspent", got, err, revoked)
}

// RevokeTokens ends the live tokens its filter matches, counting only
// those it ended; Tokens lists in the order issued.
func tokenFiltersAndRevocation(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	other := func(access, tenantID, clientID, userName, code string) simulator.Token {
		tok := token(access, "rt-"+access, code)
		tok.TenantID, tok.ClientID, tok.UserName = tenantID, clientID, userName
		return tok
	}
	for _, tok := range []simulator.Token{
		other("a1", "T1", "cid-1", "zhangsan", "code-1"),
		other("a2", "T1", "cid-1", "zhangsan", ""), // refreshed from a1: no code
		other("a3", "T1", "cid-1", "lisi", "code-3"),
		other("a4", "T2", "cid-9", "zhangsan", "code-4"),
	} {
		check(t, s.AddToken(ctx, tok))
	}
	list := func(f simulator.TokenFilter) ([]string, error) {
		ts, err := s.Tokens(ctx, f)
		return keys(ts, func(tok simulator.Token) string { return tok.Access }), err
	}
	tests := []struct {
		name string
		f    simulator.TokenFilter
		want []string
	}{
		{"all, in the order issued", simulator.TokenFilter{}, []string{"a1", "a2", "a3", "a4"}},
		{"tenant", simulator.TokenFilter{TenantID: "T1"}, []string{"a1", "a2", "a3"}},
		{"client", simulator.TokenFilter{ClientID: "cid-9"}, []string{"a4"}},
		{"user", simulator.TokenFilter{TenantID: "T1", UserName: "zhangsan"}, []string{"a1", "a2"}},
		{"code", simulator.TokenFilter{Code: "code-3"}, []string{"a3"}},
		{"limit", simulator.TokenFilter{Limit: 2}, []string{"a1", "a2"}},
		{"nothing matches", simulator.TokenFilter{TenantID: "T2", UserName: "lisi"}, nil},
	}
	for _, tt := range tests {
		got, err := list(tt.f)
		same(t, "tokens: "+tt.name, got, err, tt.want...)
	}
	revoke := func(f simulator.TokenFilter, at time.Time, want int) {
		t.Helper()
		if n, err := s.RevokeTokens(ctx, f, at); err != nil || n != want {
			t.Errorf("RevokeTokens(%+v) = %d, %v; want %d", f, n, err, want)
		}
	}
	revoke(simulator.TokenFilter{TenantID: "T1", UserName: "zhangsan"}, t0.Add(time.Minute), 2)
	revoke(simulator.TokenFilter{TenantID: "T1", UserName: "zhangsan"}, t0.Add(2*time.Minute), 0)
	revoke(simulator.TokenFilter{Code: "nope"}, t0, 0)
	if tok, err := s.TokenByAccess(ctx, "a1"); err != nil || !tok.RevokedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("a1 revoked at %v, %v; want the first revocation's time", tok.RevokedAt, err)
	}
	if tok, err := s.TokenByAccess(ctx, "a3"); err != nil || !tok.RevokedAt.IsZero() {
		t.Errorf("a3, another user's, revoked at %v, %v; want live", tok.RevokedAt, err)
	}
	// The fault knob "expire all tokens": an empty filter.
	revoke(simulator.TokenFilter{}, t0.Add(time.Hour), 2)
	if _, err := s.RevokeTokens(ctx, simulator.TokenFilter{}, time.Time{}); simulator.ErrorCode(err) != simulator.EINVALID {
		t.Errorf("revoking without a time: %v, want EINVALID", err)
	}
}

func ticketsAreSingleUse(t *testing.T, s simulator.Store) {
	singleUse(t, s, spendable[simulator.Ticket]{
		add: func(ctx context.Context, tx simulator.Tx, key string, expires time.Time) error {
			return tx.AddTicket(ctx, simulator.Ticket{Ticket: key, Service: "https://isv.example.com/cas", TenantID: "T1", ExpiresAt: expires})
		},
		consume: simulator.Tx.ConsumeTicket,
		read:    simulator.Tx.Ticket,
		spent:   func(tk simulator.Ticket) (string, time.Time) { return tk.Ticket, tk.UsedAt },
	})
}

func ticketRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	full := simulator.Ticket{
		Ticket: "ST-1-abcdefghijklmnopqrstuvwxyz01", Service: "https://isv.example.com/cas?tenant=T1&x=%2F", TenantID: "T1", AppID: "A1",
		UserName: "zhangsan", FromNewLogin: true, AuthenticatedAt: t0.Add(-time.Second).In(shanghai), CreatedAt: t0, ExpiresAt: t0.Add(time.Minute),
	}
	bare := simulator.Ticket{Ticket: "ST-2-bare"}
	for _, tk := range []simulator.Ticket{full, bare} {
		check(t, s.AddTicket(ctx, tk))
		got, err := s.Ticket(ctx, tk.Ticket)
		equal(t, "ticket "+tk.Ticket, got, err, inUTC(tk))
	}
	spent, err := s.ConsumeTicket(ctx, full.Ticket, t0.Add(time.Second))
	full.UsedAt = t0.Add(time.Second)
	equal(t, "the validated ticket", spent, err, inUTC(full))
	code(t, "a ticket without its value", s.AddTicket(ctx, simulator.Ticket{Service: "x"}), simulator.EINVALID)
}

// purgeLogins: what expired before the cut-off goes, what did not stays.
func purgeLogins(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	cut := t0.Add(time.Hour)
	check(t, s.AddCode(ctx, authCode("old-code", "cid-1", "T1", cut.Add(-time.Nanosecond))))
	check(t, s.AddCode(ctx, authCode("live-code", "cid-1", "T1", cut)))
	check(t, s.AddTicket(ctx, simulator.Ticket{Ticket: "ST-old", ExpiresAt: cut.Add(-time.Minute)}))
	check(t, s.AddTicket(ctx, simulator.Ticket{Ticket: "ST-live", ExpiresAt: cut.Add(time.Minute)}))
	check(t, s.PutSession(ctx, simulator.Session{ID: "sso-old", TenantID: "T1", ExpiresAt: cut.Add(-time.Minute)}))
	check(t, s.PutSession(ctx, simulator.Session{ID: "sso-live", TenantID: "T1", ExpiresAt: cut.Add(time.Minute)}))
	old, live := token("at-old", "rt-old", "old-code"), token("at-live", "rt-live", "live-code")
	// An access token expired long ago does not matter while its refresh
	// token can still be used.
	old.RefreshExpiresAt, live.AccessExpiresAt, live.RefreshExpiresAt = cut.Add(-time.Second), cut.Add(-time.Hour), cut.Add(time.Second)
	check(t, s.AddToken(ctx, old))
	check(t, s.AddToken(ctx, live))

	n, err := s.PurgeLogins(ctx, cut)
	if err != nil || n != 4 {
		t.Fatalf("purged %d, %v; want the 4 records that expired before the cut-off", n, err)
	}
	gone := map[string]func() error{
		"old-code": func() error { _, err := s.Code(ctx, "old-code"); return err },
		"ST-old":   func() error { _, err := s.Ticket(ctx, "ST-old"); return err },
		"sso-old":  func() error { _, err := s.Session(ctx, "sso-old"); return err },
		"rt-old":   func() error { _, err := s.TokenByRefresh(ctx, "rt-old"); return err },
	}
	for name, read := range gone {
		notFound(t, name+" after the purge", read())
	}
	kept := map[string]func() error{
		"live-code": func() error { _, err := s.Code(ctx, "live-code"); return err },
		"ST-live":   func() error { _, err := s.Ticket(ctx, "ST-live"); return err },
		"sso-live":  func() error { _, err := s.Session(ctx, "sso-live"); return err },
		"rt-live":   func() error { _, err := s.TokenByRefresh(ctx, "rt-live"); return err },
	}
	for name, read := range kept {
		if err := read(); err != nil {
			t.Errorf("%s was purged before it expired: %v", name, err)
		}
	}
	if n, err := s.PurgeLogins(ctx, cut); err != nil || n != 0 {
		t.Errorf("a second purge removed %d, %v", n, err)
	}
	code(t, "a purge without a time", func() error { _, err := s.PurgeLogins(ctx, time.Time{}); return err }(), simulator.EINVALID)
}
