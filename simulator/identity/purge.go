package identity

import (
	"context"
	"time"
)

// purgeEvery is how often expired logins are deleted, on the scheduling
// clock.
const purgeEvery = 24 * time.Hour

// RunDue deletes, once a day, the codes, tickets, sessions and tokens that
// expired more than a refresh token's lifetime ago (the default's, or the
// marketplace's setting if longer): without it a
// long-running marketplace keeps every login for ever. Records stay that
// long after expiry so that a code replayed while its tokens may live is
// still recognised, and revokes them. RunDue and NextDue make the server a
// schedule.Worker.
func (s *Server) RunDue(ctx context.Context) (int, error) {
	now := s.clock.Now()
	s.purgeMu.Lock()
	defer s.purgeMu.Unlock()
	if !s.purgeAt.IsZero() && now.Before(s.purgeAt) {
		return 0, nil
	}
	n, err := s.store.PurgeLogins(ctx, now.Add(-max(RefreshLifetime, s.defaults.RefreshLifetime)))
	if err != nil {
		return 0, err
	}
	s.purgeAt = now.Add(purgeEvery)
	if n > 0 {
		s.log.Info("expired logins purged", "records", n)
	}
	return 1, nil
}

// NextDue is when RunDue next purges: at once after a start, then daily.
func (s *Server) NextDue(context.Context) (time.Time, bool, error) {
	s.purgeMu.Lock()
	defer s.purgeMu.Unlock()
	if s.purgeAt.IsZero() {
		return s.clock.Now(), true, nil
	}
	return s.purgeAt, true, nil
}
