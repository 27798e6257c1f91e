package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	sessionCookie = "kgsim_console"
	// sessionLifetime: a working day, on the wall clock.
	sessionLifetime = 12 * time.Hour
	// maxSessions bounds what clients that never log in can make kgsim
	// keep: past it the sessions nearest their end go first, those not
	// logged in before those that are.
	maxSessions = 1024
)

// session is a browser's session of the console: kept in memory, so a
// restart of kgsim ends it.
type session struct {
	csrf    string // every form posts it back
	authed  bool   // may use the console: logged in, or no login needed
	expires time.Time
}

// sessions are kept by the SHA-256 of their cookie, so that neither a
// lookup's timing nor a dump of the map gives a cookie away.
type sessions struct {
	mu  sync.Mutex
	m   map[[sha256.Size]byte]*session
	max int
}

func newSessions(max int) *sessions {
	return &sessions{m: map[[sha256.Size]byte]*session{}, max: max}
}

// get is the live session r's cookie names.
func (ss *sessions) get(r *http.Request, now time.Time) (*session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 64 {
		return nil, false
	}
	id := sha256.Sum256([]byte(ck.Value))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[id]
	if !ok || !now.Before(s.expires) {
		delete(ss.m, id)
		return nil, false
	}
	return s, true
}

// start makes a new session and sets its cookie on w; the session r's
// cookie named, if any, ends (a login never keeps the ID it was shown
// before: session fixation).
func (ss *sessions) start(w http.ResponseWriter, r *http.Request, now time.Time, authed bool) (*session, error) {
	value, err := random()
	if err != nil {
		return nil, err
	}
	csrf, err := random()
	if err != nil {
		return nil, err
	}
	s := &session{csrf: csrf, authed: authed, expires: now.Add(sessionLifetime)}
	ss.mu.Lock()
	ss.end(r)
	ss.evict(now)
	ss.m[sha256.Sum256([]byte(value))] = s
	ss.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: consolePath, Expires: s.expires,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return s, nil
}

// stop ends r's session and clears its cookie.
func (ss *sessions) stop(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	ss.end(r)
	ss.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: consolePath, MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// end forgets the session of r's cookie; ss.mu is held.
func (ss *sessions) end(r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		delete(ss.m, sha256.Sum256([]byte(ck.Value)))
	}
}

// evict makes room for one more session; ss.mu is held.
func (ss *sessions) evict(now time.Time) {
	if len(ss.m) < ss.max {
		return
	}
	for id, s := range ss.m {
		if !now.Before(s.expires) {
			delete(ss.m, id)
		}
	}
	for len(ss.m) >= ss.max {
		var victim [sha256.Size]byte
		var worst *session
		for id, s := range ss.m {
			if worst == nil || s.authed == worst.authed && s.expires.Before(worst.expires) || !s.authed && worst.authed {
				victim, worst = id, s
			}
		}
		delete(ss.m, victim)
	}
}

// random is 32 random bytes, base64url: a session ID or CSRF token.
func random() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// loginPage is GET /console/login: the form asking for the admin token.
// Without one there is nothing to log in to.
func (c *console) loginPage(rq *request) {
	if !c.login {
		http.Redirect(rq.w, rq.r, consolePath, http.StatusSeeOther)
		return
	}
	if rq.session == nil {
		s, err := c.sessions.start(rq.w, rq.r, c.now(), false)
		if err != nil {
			c.internal(rq, err)
			return
		}
		rq.session = s
	}
	c.renderLogin(rq, http.StatusOK, "")
}

func (c *console) renderLogin(rq *request, status int, msg string) {
	v := view{Title: rq.t("login.title"), Self: rq.r.URL, CSRF: rq.session.csrf,
		Data: struct{ Next, Error string }{next(rq.r), msg}}
	c.write(rq, status, "login.html", v)
}

// logIn is POST /console/login: the admin token, compared in constant
// time, starts a new session.
func (c *console) logIn(rq *request) {
	if !c.login {
		http.Redirect(rq.w, rq.r, consolePath, http.StatusSeeOther)
		return
	}
	if !c.a.gate.tokenMatches(rq.r.PostForm.Get("token")) {
		// Nothing of what was typed is logged: it may be the token, mistyped.
		c.a.log.WarnContext(rq.r.Context(), "console login refused: not the admin token", "requestId", requestID(rq.r))
		c.renderLogin(rq, http.StatusUnauthorized, rq.t("login.wrong"))
		return
	}
	if _, err := c.sessions.start(rq.w, rq.r, c.now(), true); err != nil {
		c.internal(rq, err)
		return
	}
	http.Redirect(rq.w, rq.r, next(rq.r), http.StatusSeeOther)
}

// logOut is POST /console/logout.
func (c *console) logOut(rq *request) {
	c.sessions.stop(rq.w, rq.r)
	to := consolePath
	if c.login {
		to = "/console/login"
	}
	http.Redirect(rq.w, rq.r, to, http.StatusSeeOther)
}

// next is where a login goes on to: a console page, never another site.
func next(r *http.Request) string {
	n := r.FormValue("next")
	u, err := url.Parse(n)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, consolePath) || strings.HasPrefix(n, "//") || strings.Contains(n, "\\") {
		return consolePath
	}
	return u.RequestURI()
}
