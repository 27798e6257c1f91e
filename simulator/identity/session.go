package identity

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// ssoCookie holds the browser's SSO session id (identity.md §2.2). It is
// SameSite=Lax, not Strict: an app's link to /authorize is a navigation
// from another site, and must carry it for the form to be skipped.
const ssoCookie = "KGSIM_SSO"

// startSession records a new SSO session for u, replacing the browser's
// old one (a fresh id at every login: no session fixation), and returns
// the time of the login.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u simulator.User, appID string) (time.Time, error) {
	ctx := detached(r)
	if old, err := r.Cookie(ssoCookie); err == nil {
		if err := s.store.DeleteSession(ctx, digest(old.Value)); err != nil && !notFound(err) {
			return time.Time{}, err
		}
	}
	id, err := s.randomString(alnum, 43)
	if err != nil {
		return time.Time{}, err
	}
	set, err := s.settings(ctx, s.store, u.TenantID)
	if err != nil {
		return time.Time{}, err
	}
	now := s.clock.Now()
	err = s.store.PutSession(ctx, simulator.Session{ID: digest(id), TenantID: u.TenantID, UserName: u.UserName, AppID: appID,
		CreatedAt: now, ExpiresAt: now.Add(set.SessionLifetime)})
	if err != nil {
		return time.Time{}, err
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
	return now, nil
}

// session is the browser's live SSO session, if it has one.
func (s *Server) session(r *http.Request) (simulator.Session, bool) {
	c, err := r.Cookie(ssoCookie)
	if err != nil || c.Value == "" {
		return simulator.Session{}, false
	}
	sess, err := s.store.Session(r.Context(), digest(c.Value))
	if err != nil {
		if !notFound(err) {
			s.internal(r, err)
		}
		return sess, false
	}
	return sess, s.clock.Now().Before(sess.ExpiresAt)
}

// resume continues a flow from a tenant's domain: with a live session of
// the flow's tenant whose user may use the app, it completes at once
// (SSO); otherwise the browser goes to the login form.
func (s *Server) resume(w http.ResponseWriter, r *http.Request, f flow, app simulator.App) {
	if sess, ok := s.session(r); ok && !f.Renew && sess.TenantID == f.TenantID {
		u, err := s.store.User(r.Context(), sess.TenantID, sess.UserName)
		if err == nil {
			err = s.authorised(r.Context(), u, app.ID)
		}
		switch {
		case err == nil:
			sess.AppID = app.ID
			if err := s.store.PutSession(detached(r), sess); err != nil {
				s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
				return
			}
			s.complete(w, r, f, app, u, sess.CreatedAt, false)
			return
		case err != errUnauthorised && !notFound(err):
			s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
			return
		}
		// Another user must log in for this app: the form.
	}
	http.Redirect(w, r, s.loginURL(f), http.StatusFound)
}

// logout is GET /api/v1/logout?redirect_url= (identity.md §3.4).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.endSession(w, r, "redirect_url")
}

// casLogout is GET /api/v1/cas/logout?service= (identity.md §4.3).
func (s *Server) casLogout(w http.ResponseWriter, r *http.Request) {
	s.endSession(w, r, "service")
}

// endSession ends the browser's SSO session and sends it to the URL in the
// query parameter param, or to the login page of the app it last used.
// Issued tokens stay valid (identity.md §3.4 [SIM]).
//
// The spec lets the URL be anything; kgsim goes only to one on the origin
// (scheme, host and port) of a callback or CAS service registered by an
// app bound to the tenant, so that its logout cannot send users to any
// site (an open redirect). Another URL still ends the session, and the
// page says why it goes nowhere.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, param string) {
	tenant, err := s.tenant(r)
	if err != nil {
		s.tenantProblem(w, r, err)
		return
	}
	sess, live := s.session(r)
	if c, err := r.Cookie(ssoCookie); err == nil {
		if err := s.store.DeleteSession(detached(r), digest(c.Value)); err != nil && !notFound(err) {
			s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
			return
		}
		http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
	}
	target := s.base + loginPath
	if live && sess.AppID != "" {
		target += "#/portal-login?ind=UNOP&appId=" + url.QueryEscape(sess.AppID)
	}
	if asked := r.URL.Query().Get(param); asked != "" {
		back, err := s.returnTo(r.Context(), tenant, asked)
		if err != nil {
			s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
			return
		}
		if back == "" {
			s.problem(w, r, http.StatusBadRequest, fmt.Sprintf(msgLogoutTarget, param, param))
			return
		}
		target = back
	}
	http.Redirect(w, r, target, http.StatusFound)
}

const msgLogoutTarget = "已退出登录。%s 不是本企业应用登记的地址，无法跳转。\n" +
	"You are logged out, but %s is not on the origin of a callback or CAS service that an application of this enterprise registered."

// returnTo is target as kgsim redirects to it, if it is an http(s) URL on
// the origin of a callback or CAS service of an app bound to the tenant,
// or "". The URL is the parsed one written again, so that the browser
// reads the origin that was checked; a URL Go's parser refuses (control
// characters: CR, LF, tab), or one with user information, is refused.
func (s *Server) returnTo(ctx context.Context, t simulator.Tenant, target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(target) > maxParam {
		return "", nil
	}
	clients, err := s.store.Clients(ctx, simulator.ClientFilter{TenantID: t.ID})
	if err != nil {
		return "", err
	}
	for _, c := range clients {
		app, err := s.store.App(ctx, c.AppID)
		if notFound(err) {
			continue
		} else if err != nil {
			return "", err
		}
		for _, registered := range append(app.RedirectURIs[:len(app.RedirectURIs):len(app.RedirectURIs)], app.CASServices...) {
			if r, err := url.Parse(registered); err == nil && r.Scheme == u.Scheme && strings.EqualFold(r.Host, u.Host) {
				return u.String(), nil
			}
		}
	}
	return "", nil
}

// tenantProblem answers a page request for a tenant that does not exist.
func (s *Server) tenantProblem(w http.ResponseWriter, r *http.Request, err error) {
	if notFound(err) {
		s.problem(w, r, http.StatusNotFound, "企业域名不存在。\n"+err.Error())
		return
	}
	s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
}
