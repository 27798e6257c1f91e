package identity

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// browserFrom is a browser whose connections come from ip, one of the
// loopback addresses (127.0.0.0/8 is all loopback on Linux).
func (w *world) browserFrom(ip string) *http.Client {
	c := w.browser()
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext}
	w.t.Cleanup(tr.CloseIdleConnections)
	c.Transport = tr
	return c
}

// guesser sends passwords through one login form, as a script would:
// each answer's form is the next one's.
type guesser struct {
	w       *world
	browser *http.Client
	form    loginForm
}

// newGuesser opens the login form of /authorize (or, with unified, the
// unified page's own) from ip.
func (w *world) newGuesser(ip string, unified bool) *guesser {
	b := w.browserFrom(ip)
	start := w.authorizeURL(nil)
	if unified {
		start = w.kgsim.URL + "/unified-login/?ind=UNOP&appId=" + appID
	}
	return &guesser{w: w, browser: b, form: get(w.t, b, start).form(w.t)}
}

// try sends one user name and password and keeps the answer's form.
func (g *guesser) try(userName, password string) response {
	t := g.w.t
	t.Helper()
	r := g.form.submit(t, g.browser, userName, password)
	if r.status != http.StatusFound {
		g.form = r.form(t)
	}
	return r
}

// checkThrottled checks that r is the throttled answer with wait left.
func checkThrottled(t *testing.T, r response, wait time.Duration) {
	t.Helper()
	minutes := int((wait + time.Minute - 1) / time.Minute)
	want := fmt.Sprintf("请 %d 分钟后再试。\nToo many failed logins: try again in %d min.", minutes, minutes)
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.pageError(), want) {
		t.Fatalf("got %d with %q, want 429 with %q", r.status, r.pageError(), want)
	}
	if got, want := r.header.Get("Retry-After"), fmt.Sprint(int(wait.Seconds())); got != want {
		t.Errorf("Retry-After %q, want %q", got, want)
	}
}

// The brute force: 100 wrong passwords for one user from one
// address. The first 4 are refused as wrong, the 5th starts a 15-minute
// lock of that user from that address, and the rest, the right password
// too, are refused without hashing a password; meanwhile the same user
// logs in from another address, and from the first once the lock ends.
func TestThrottleBruteForce(t *testing.T) {
	w := newWorld(t)
	g := w.newGuesser("127.0.0.2", false)
	for i := range 4 {
		if r := g.try("zhangsan", fmt.Sprintf("guess-%d", i)); r.status != http.StatusUnauthorized || !strings.Contains(r.pageError(), msgWrong) {
			t.Fatalf("guess %d: %d %q, want 401 and the wrong-password text", i, r.status, r.pageError())
		}
	}
	checkThrottled(t, g.try("zhangsan", "guess-4"), 15*time.Minute)
	w.clock.Advance(time.Minute)
	for i := 5; i < 100; i++ {
		r := g.try("zhangsan", fmt.Sprintf("guess-%d", i))
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("guess %d: %d, want 429", i, r.status)
		}
	}
	if got := w.passwordChecks(); got != 5 {
		t.Errorf("%v passwords hashed for 100 guesses, want 5: the throttled ones must cost none", got)
	}
	r := g.try("zhangsan", password)
	checkThrottled(t, r, 14*time.Minute)
	if !strings.Contains(r.body, `value="zhangsan"`) {
		t.Errorf("the throttled form lost the user name")
	}

	if q := w.loginFrom("127.0.0.3"); q.Get("code") == "" {
		t.Errorf("the user from another address got no code: %v", q)
	}
	w.clock.Advance(14 * time.Minute)
	if r := g.try("zhangsan", password); r.status != http.StatusFound {
		t.Errorf("after the lock, the right password from the guesser's address: %d %q, want 302", r.status, r.pageError())
	}
}

// passwordChecks is how many passwords the identity provider has hashed.
func (w *world) passwordChecks() float64 {
	var m dto.Metric
	if err := w.idp.passwordChecks.Write(&m); err != nil {
		w.t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// loginFrom logs zhangsan in from ip through /authorize and the form, and
// returns the callback's query.
func (w *world) loginFrom(ip string) url.Values {
	w.t.Helper()
	r := w.newGuesser(ip, false).try("zhangsan", password)
	if r.status != http.StatusFound {
		w.t.Fatalf("login from %s: %d %q", ip, r.status, r.pageError())
	}
	return r.location(w.t).Query()
}

// One address guessing across users: 20 failures lock the address for
// every user, other addresses are not affected.
func TestThrottlePerAddress(t *testing.T) {
	w := newWorld(t)
	g := w.newGuesser("127.0.0.2", true)
	for i := range 19 {
		if r := g.try(fmt.Sprintf("user%02d", i), "guess"); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %q, want 401", i, r.status, r.pageError())
		}
	}
	checkThrottled(t, g.try("user19", "guess"), 15*time.Minute)
	checkThrottled(t, g.try("zhangsan", password), 15*time.Minute)
	if q := w.loginFrom("127.0.0.3"); q.Get("code") == "" {
		t.Errorf("another address got no code: %v", q)
	}
}

// Guesses of one user spread over many addresses: 5 from each of 20
// addresses reach the cap of 100 over all addresses, which then locks
// the user from everywhere until it ends (the price of bounding a
// guesser with many addresses).
func TestThrottlePerUser(t *testing.T) {
	w := newWorld(t)
	for a := range 20 {
		g := w.newGuesser(fmt.Sprintf("127.0.1.%d", a+1), false)
		for i := range 5 {
			r := g.try("zhangsan", fmt.Sprintf("guess-%d-%d", a, i))
			switch {
			case a == 19 && i == 4:
				checkThrottled(t, r, 15*time.Minute)
			case i == 4:
				if r.status != http.StatusTooManyRequests {
					t.Fatalf("address %d, guess %d: %d, want 429", a, i, r.status)
				}
			case r.status != http.StatusUnauthorized:
				t.Fatalf("address %d, guess %d: %d %q, want 401", a, i, r.status, r.pageError())
			}
		}
	}
	checkThrottled(t, w.newGuesser("127.0.0.9", false).try("zhangsan", password), 15*time.Minute)
	w.clock.Advance(15 * time.Minute)
	if q := w.loginFrom("127.0.0.9"); q.Get("code") == "" {
		t.Errorf("no code once the lock ended: %v", q)
	}
}

// The counts belong to the user, however the login was reached: the
// tenant's /authorize, the unified page, the unified page with the
// tenant's code. A name that is nobody's is locked the same way, so the
// lock does not tell which names exist.
func TestThrottleCountsTheUserWhateverTheWay(t *testing.T) {
	w := newWorld(t)
	domain, unified := w.newGuesser("127.0.0.2", false), w.newGuesser("127.0.0.2", true)
	for i, g := range []*guesser{domain, unified, domain, unified} {
		if r := g.try("zhangsan", "guess"); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i, r.status)
		}
	}
	unified.form.fields.Set("tenant", acmeCode)
	checkThrottled(t, unified.try("zhangsan", "guess"), 15*time.Minute)

	nobody := w.newGuesser("127.0.0.3", false)
	for i := range 4 {
		if r := nobody.try("nosuch", "guess"); r.status != http.StatusUnauthorized {
			t.Fatalf("nosuch, guess %d: %d, want 401", i, r.status)
		}
	}
	checkThrottled(t, nobody.try("nosuch", "guess"), 15*time.Minute)
}

// A user's own login from an address forgives the user's failures there:
// a typo or two a day does not add up to a lock.
func TestThrottleForgivesALogin(t *testing.T) {
	w := newWorld(t)
	for round := range 3 {
		g := w.newGuesser("127.0.0.2", false)
		for i := range 4 {
			if r := g.try("zhangsan", "typo"); r.status != http.StatusUnauthorized {
				t.Fatalf("round %d, typo %d: %d, want 401", round, i, r.status)
			}
		}
		if r := g.try("zhangsan", password); r.status != http.StatusFound {
			t.Fatalf("round %d: the right password: %d %q", round, r.status, r.pageError())
		}
	}
}

// The failures are forgotten a window after the first of them.
func TestThrottleWindow(t *testing.T) {
	w := newWorld(t)
	g := w.newGuesser("127.0.0.2", false)
	for i := range 4 {
		g.try("zhangsan", "guess")
		if i == 0 {
			w.clock.Advance(10 * time.Minute)
		}
	}
	w.clock.Advance(5 * time.Minute) // 15 minutes after the first
	if r := g.try("zhangsan", "guess"); r.status != http.StatusUnauthorized {
		t.Errorf("the 5th failure, 15 minutes after the first: %d, want 401 (a new window)", r.status)
	}
}

// The address is the connection's, never a header the client writes; an
// IPv6 client counts by its /64.
func TestClientAddress(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"127.0.0.1:4321", "127.0.0.1"},
		{"[::ffff:10.1.2.3]:80", "10.1.2.3"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:443", "fe80::/64"},
		{"not an address", "not an address"},
	} {
		r := httptest.NewRequest(http.MethodPost, "/unified-login/api/login", nil)
		r.RemoteAddr = tc.remote
		r.Header.Set("X-Forwarded-For", "192.0.2.7")
		r.Header.Set("X-Real-Ip", "192.0.2.8")
		if got := clientAddress(r); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.remote, got, tc.want)
		}
	}
}

// The counts stay bounded: when full, the ones that no longer matter go
// first, then unlocked ones, so that a flood of new guessers does not
// free a locked one.
func TestThrottleBound(t *testing.T) {
	var th throttle
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	user := []string{userKey(acmeID, "zhangsan")}
	for range maxUserAddress {
		th.fail(now, "192.0.2.1", user)
	}
	if th.lockedUntil(now, "192.0.2.1", user).IsZero() {
		t.Fatal("no lock after the limit")
	}
	for i := range 2 * throttleEntries {
		th.fail(now.Add(time.Minute), fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255), nil)
		if len(th.counts) > throttleEntries {
			t.Fatalf("%d counts kept, bound %d", len(th.counts), throttleEntries)
		}
	}
	if th.lockedUntil(now.Add(time.Minute), "192.0.2.1", user).IsZero() {
		t.Error("a flood of single failures evicted the lock")
	}
	if got := th.lockedUntil(now.Add(throttleLock), "192.0.2.1", user); !got.IsZero() {
		t.Errorf("locked until %v, after the lock's end", got)
	}
}

// An unknown user name costs a password hash as a wrong password does,
// so that the time of the answer does not tell which names exist.
func TestUnknownUserCostsAHash(t *testing.T) {
	w := newWorld(t)
	g := w.newGuesser("127.0.0.2", false)
	for i, user := range []string{"zhangsan", "nosuch"} {
		if r := g.try(user, "guess"); r.status != http.StatusUnauthorized {
			t.Fatalf("%s: %d, want 401", user, r.status)
		}
		if got := w.passwordChecks(); got != float64(i+1) {
			t.Errorf("after %s: %v passwords hashed, want %d", user, got, i+1)
		}
	}
}

// What throttling adds to a login that is not throttled: the address read
// and the lookup of its counts among many (BenchmarkBrowserLogin measures
// a whole login).
func BenchmarkThrottleCheck(b *testing.B) {
	var th throttle
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range throttleEntries / 4 {
		th.fail(now, fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255), []string{userKey(acmeID, fmt.Sprint("user", i))})
	}
	r := httptest.NewRequest(http.MethodPost, loginAction, nil)
	user := []string{userKey(acmeID, "zhangsan")}
	b.ResetTimer()
	for b.Loop() {
		if !th.lockedUntil(now, clientAddress(r), user).IsZero() {
			b.Fatal("locked")
		}
	}
}
