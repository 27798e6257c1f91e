package identity

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// The login form's defence against password guessing (README, "Login
// throttling"). Failed passwords are counted per user from one address,
// per address over all users, and per user over all addresses; reaching a
// count's limit within throttleWindow refuses further attempts of that
// count for throttleLock, without checking their password. The lock of a
// user is per address first, so that a guesser locks out only itself; the
// higher cap over all addresses bounds a guesser with many addresses, and
// is the only lock a guesser can impose on a user's other addresses.
const (
	throttleWindow  = 15 * time.Minute // failures counted from the first of them
	throttleLock    = 15 * time.Minute // from the failure that reached a limit
	maxUserAddress  = 5                // failures of one user from one address
	maxAddress      = 20               // failures from one address, whatever the user
	maxUser         = 100              // failures of one user, from every address
	throttleEntries = 1 << 16          // counts kept at most; old ones go first
)

// throttle keeps the counts in memory, on the scheduling clock: a restart
// forgets them, as it forgets the login forms' key.
type throttle struct {
	mu     sync.Mutex
	counts map[string]*strikes
}

// strikes are the failures of one count in its current window.
type strikes struct {
	first  time.Time // the window's first failure
	n      int
	locked time.Time // refused until then
}

// live says whether the count still matters at now.
func (c *strikes) live(now time.Time) bool {
	return now.Before(c.locked) || now.Sub(c.first) < throttleWindow
}

// throttleKeys are the counts an attempt belongs to, with their limits.
func throttleKeys(addr string, users []string) map[string]int {
	keys := map[string]int{"a\x00" + addr: maxAddress}
	for _, u := range users {
		keys["u\x00"+u] = maxUser
		keys["ua\x00"+u+"\x00"+addr] = maxUserAddress
	}
	return keys
}

// lockedUntil is when the last lock that refuses an attempt from addr for
// users ends, or the zero time when none does.
func (t *throttle) lockedUntil(now time.Time, addr string, users []string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var until time.Time
	for key := range throttleKeys(addr, users) {
		if c := t.counts[key]; c != nil && now.Before(c.locked) && c.locked.After(until) {
			until = c.locked
		}
	}
	return until
}

// fail counts a failed password from addr for users, and returns the end
// of the lock it starts, or the zero time.
func (t *throttle) fail(now time.Time, addr string, users []string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var until time.Time
	for key, limit := range throttleKeys(addr, users) {
		c := t.counts[key]
		if c == nil {
			if t.counts == nil {
				t.counts = map[string]*strikes{}
			}
			if len(t.counts) >= throttleEntries {
				t.evict(now)
			}
			c = &strikes{}
			t.counts[key] = c
		}
		if now.Sub(c.first) >= throttleWindow {
			c.first, c.n = now, 0
		}
		if c.n++; c.n >= limit {
			c.locked, c.first, c.n = now.Add(throttleLock), time.Time{}, 0
			until = c.locked
		}
	}
	return until
}

// forgive forgets user's failures from addr: the user has just logged in
// from there. The other counts stay, or a guesser who knows one password
// could clear its own.
func (t *throttle) forgive(addr, user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.counts, "ua\x00"+user+"\x00"+addr)
}

// evict makes room for new counts: the ones that no longer matter go
// first, then ones without a lock, then any, down to three quarters of
// the bound, so that the next evictions are far apart. Map order is
// random, so a guesser cannot choose which of its locks go.
func (t *throttle) evict(now time.Time) {
	room := throttleEntries * 3 / 4
	for _, drop := range []func(*strikes) bool{
		func(c *strikes) bool { return !c.live(now) },
		func(c *strikes) bool { return !now.Before(c.locked) },
		func(*strikes) bool { return true },
	} {
		for key, c := range t.counts {
			if len(t.counts) <= room {
				return
			}
			if drop(c) {
				delete(t.counts, key)
			}
		}
	}
}

// clientAddress is the address failures are counted against: the IP of
// the connection, never a header a client can write (X-Forwarded-For).
// An IPv6 client counts by its /64, the block one host commonly has.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if ip = ip.Unmap(); ip.Is6() {
		p, _ := ip.WithZone("").Prefix(64)
		return p.String()
	}
	return ip.String()
}

// userKey names a user for the counts: the tenant and the user name.
func userKey(tenantID, userName string) string {
	return tenantID + "\x00" + userName
}
