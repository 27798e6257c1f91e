package identity

import (
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Expired logins are purged once they are a refresh token's lifetime
// old, daily, and nothing younger goes.
func TestPurgeOfExpiredLogins(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	now := w.clock.Now()
	longAgo := now.Add(-RefreshLifetime - time.Minute)
	recently := now.Add(-time.Minute) // expired, but a replay must still be recognised
	for code, expires := range map[string]time.Time{"old": longAgo, "recent": recently} {
		if err := w.store.AddCode(ctx, simulator.AuthCode{Code: code, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	idp := w.idp
	if at, ok, err := idp.NextDue(ctx); err != nil || !ok || !at.Equal(now) {
		t.Fatalf("first purge due at %v (%v, %v), want at once", at, ok, err)
	}
	if n, err := idp.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v", n, err)
	}
	if _, err := w.store.Code(ctx, "old"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("a code expired a refresh lifetime ago is still stored: %v", err)
	}
	if _, err := w.store.Code(ctx, "recent"); err != nil {
		t.Errorf("a code expired a minute ago was purged: %v", err)
	}
	if n, _ := idp.RunDue(ctx); n != 0 {
		t.Error("a second purge ran at the same time")
	}
	if at, _, _ := idp.NextDue(ctx); !at.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("next purge at %v, want a day later", at)
	}
}
