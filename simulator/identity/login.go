package identity

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// view is what the login page shows (simulator/web/templates/login.html).
// Without Form it is an error or notice page.
type view struct {
	Static, Action string
	Form           bool
	Error, Notice  string
	AppID, AppName string
	Ind, State     string
	Flow, CSRF     string
	UserName       string
	AskTenant      bool
	TenantCode     string
}

// Texts of the page, in Chinese as on the real page and in English.
const (
	msgNoParams      = "登录地址缺少参数，请从应用重新进入。\nThe address lacks its parameters: open #/portal-login?ind=UNOP&appId={appId}."
	msgBadInd        = "登录地址的 ind 参数必须为 UNOP。\nThe address's ind must be UNOP."
	msgUnknownApp    = "应用 %q 不存在，请联系应用的提供商。\nNo application has the appId %q."
	msgExpiredFlow   = "登录链接已失效，请从应用重新登录。\nThis login link expired or was altered: start again from the application."
	msgExpiredForm   = "页面已过期或不是从本页提交的，请重新登录（需要启用 Cookie）。\nThis form expired or was not sent from this page: log in again (cookies must be enabled)."
	msgMissing       = "请输入账号和密码。\nEnter your user name and password."
	msgTooLong       = "账号或密码过长。\nThe user name or password is too long."
	msgWrong         = "账号或密码错误。\nWrong user name or password."
	msgUnauthorised  = "无权限访问该应用，请联系企业管理员授权。\nYou are not authorised for this application: ask your enterprise administrator."
	msgAmbiguous     = "多个企业有此账号，请输入企业代码。\nSeveral enterprises have this user name: enter your enterprise code."
	msgUnknownTenant = "企业代码不存在。\nNo enterprise has this code."
	msgThrottled     = "登录失败次数过多，请 %d 分钟后再试。\nToo many failed logins: try again in %d min."
	msgNoCallback    = "应用没有登记回调地址，请联系应用的提供商。\nThe application has no registered callback address."
)

// render answers with the login page in status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	v.Static, v.Action = staticPath, loginAction
	var b bytes.Buffer
	if err := s.pages.ExecuteTemplate(&b, "login.html", v); err != nil {
		http.Error(w, s.internal(r, err), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	// The page runs only its own script and style; no site may frame it
	// (clickjacking a password form), and nothing it links to learns the
	// flow from the Referer. form-action is left out on purpose: browsers
	// apply it to the redirect to the app's callback too.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

// problem answers with an error page without a form.
func (s *Server) problem(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, view{Error: msg})
}

// withForm adds a fresh form token to v and renders it.
func (s *Server) withForm(w http.ResponseWriter, r *http.Request, status int, v view) {
	token, err := s.formToken(w, r, v.AppID, v.Flow)
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
		return
	}
	v.Form, v.CSRF = true, token
	s.render(w, r, status, v)
}

// loginPage is GET /unified-login/. Opened by its real address the
// parameters are in the fragment, which the server never sees: the page's
// script moves them into the query, which is also the way in without
// JavaScript. A login that /authorize or CAS started comes with ?flow.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := view{Ind: "UNOP"}
	if sealed := q.Get("flow"); sealed != "" {
		f, err := s.open(sealed)
		if err != nil {
			s.problem(w, r, http.StatusBadRequest, msgExpiredFlow)
			return
		}
		v.Flow, v.AppID = sealed, f.AppID
	} else {
		v.Ind, v.AppID = q.Get("ind"), q.Get("appId")
		switch {
		case v.Ind == "" && v.AppID == "":
			// What the real address shows before its script has run.
			s.problem(w, r, http.StatusOK, msgNoParams)
			return
		case v.Ind != "UNOP":
			s.problem(w, r, http.StatusBadRequest, msgBadInd)
			return
		}
		// Carried through the form whatever the settings: the user's
		// tenant, whose echoState decides, is known once logged in.
		if len(q.Get("state")) <= maxParam {
			v.State = q.Get("state")
		}
	}
	app, err := s.store.App(r.Context(), v.AppID)
	if err != nil {
		s.appProblem(w, r, v.AppID, err)
		return
	}
	v.AppName = appName(app)
	s.withForm(w, r, http.StatusOK, v)
}

func (s *Server) appProblem(w http.ResponseWriter, r *http.Request, appID string, err error) {
	if notFound(err) || appID == "" {
		s.problem(w, r, http.StatusBadRequest, fmt.Sprintf(msgUnknownApp, appID, appID))
		return
	}
	s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
}

func appName(a simulator.App) string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

// login is POST /unified-login/api/login, the form: it checks the user
// and, on success, starts an SSO session and sends the browser on to the
// app with a code (or CAS ticket).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		status := http.StatusBadRequest
		if errTooLarge(err) {
			status = http.StatusRequestEntityTooLarge
		}
		s.problem(w, r, status, msgExpiredForm)
		return
	}
	form := r.PostForm
	v := view{Ind: form.Get("ind"), AppID: form.Get("appId"), Flow: form.Get("flow"), UserName: form.Get("username"),
		TenantCode: form.Get("tenant")}
	v.AskTenant = v.TenantCode != ""
	var f flow
	if v.Flow != "" {
		var err error
		if f, err = s.open(v.Flow); err != nil {
			s.problem(w, r, http.StatusBadRequest, msgExpiredFlow)
			return
		}
		v.AppID = f.AppID
	} else {
		if v.Ind != "UNOP" {
			s.problem(w, r, http.StatusBadRequest, msgBadInd)
			return
		}
		f = flow{Kind: flowUnified, AppID: v.AppID}
		if len(form.Get("state")) <= maxParam {
			f.State, v.State = form.Get("state"), form.Get("state")
		}
	}
	app, err := s.store.App(r.Context(), f.AppID)
	if err != nil {
		s.appProblem(w, r, f.AppID, err)
		return
	}
	v.AppName = appName(app)
	if !s.formTokenValid(r, form.Get("csrf"), form.Get("appId"), v.Flow) {
		s.withForm(w, r, http.StatusForbidden, with(v, msgExpiredForm))
		return
	}
	password := form.Get("password")
	switch {
	case v.UserName == "" || password == "":
		s.withForm(w, r, http.StatusBadRequest, with(v, msgMissing))
		return
	case len(v.UserName) > maxCredential || len(password) > maxCredential || len(v.TenantCode) > maxCredential:
		s.withForm(w, r, http.StatusBadRequest, with(v, msgTooLong))
		return
	}
	// Who the attempt is for, from the store, then whether it is
	// throttled: a refused guess must not cost a password hash.
	addr := clientAddress(r)
	candidates, users, err := s.candidates(r.Context(), f, v.TenantCode, v.UserName)
	if err != nil && err != errUnknownTenant {
		s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
		return
	}
	now := s.clock.Now()
	if until := s.throttle.lockedUntil(now, addr, users); !until.IsZero() {
		s.log.DebugContext(r.Context(), "identity: login throttled", "appId", app.ID, "userName", v.UserName, "address", addr)
		s.throttled(w, r, v, until.Sub(now))
		return
	}
	var user simulator.User
	if err == nil {
		user, err = s.authenticate(r.Context(), f.AppID, candidates, password)
	}
	if err != nil {
		status, msg := http.StatusUnauthorized, msgWrong
		switch err {
		case errUnauthorised:
			status, msg = http.StatusForbidden, msgUnauthorised
		case errAmbiguous:
			status, msg, v.AskTenant = http.StatusConflict, msgAmbiguous, true
		case errUnknownTenant, errWrong:
			if err == errUnknownTenant {
				msg = msgUnknownTenant
			}
			if until := s.throttle.fail(now, addr, users); !until.IsZero() {
				s.log.WarnContext(r.Context(), "identity: too many failed logins, refusing them for a while", "appId", app.ID,
					"userName", v.UserName, "address", addr, "until", until)
				s.throttled(w, r, v, until.Sub(now))
				return
			}
		default:
			s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
			return
		}
		s.log.InfoContext(r.Context(), "identity: login refused", "appId", app.ID, "userName", v.UserName, "reason", err)
		s.withForm(w, r, status, with(v, msg))
		return
	}
	s.throttle.forgive(addr, userKey(user.TenantID, user.UserName))
	authAt, err := s.startSession(w, r, user, app.ID)
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
		return
	}
	s.log.InfoContext(r.Context(), "identity: login", "appId", app.ID, "tenantId", user.TenantID, "userName", user.UserName, "via", string(f.Kind))
	s.complete(w, r, f, app, user, authAt, true)
}

func with(v view, msg string) view { v.Error = msg; return v }

// throttled answers an attempt refused for wait by the throttling: 429,
// with the form and when to try again.
func (s *Server) throttled(w http.ResponseWriter, r *http.Request, v view, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	minutes := int((wait + time.Minute - 1) / time.Minute)
	s.withForm(w, r, http.StatusTooManyRequests, with(v, fmt.Sprintf(msgThrottled, minutes, minutes)))
}

// Why a login is refused, before the page words it.
var (
	errWrong         = simulator.Errorf(simulator.EINVALID, "password", "wrong user name or password")
	errUnauthorised  = simulator.Errorf(simulator.EINVALID, "userName", "not authorised for the app")
	errAmbiguous     = simulator.Errorf(simulator.EINVALID, "userName", "the user name is in several tenants of the app")
	errUnknownTenant = simulator.Errorf(simulator.EINVALID, "tenant", "no tenant has the code")
)

// dummyHash makes an unknown user name cost as much as a wrong password,
// so that timing does not tell which names exist: a well-formed hash
// (16-byte salt, 32-byte key) that no password matches in practice.
const dummyHash = "pbkdf2-sha256$20000$" + "AAAAAAAAAAAAAAAAAAAAAA" + "$" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// candidates are the users that userName may name for f, and the keys
// their failures are counted under. A flow from a tenant's domain fixes
// the tenant; the unified page looks in every tenant, or the one whose
// code the user typed. A name that is nobody's is counted as if it were
// someone's, so that the throttling does not tell which names exist.
func (s *Server) candidates(ctx context.Context, f flow, tenantCode, userName string) (_ []simulator.User, keys []string, _ error) {
	var candidates []simulator.User
	scope := f.TenantID
	switch {
	case f.TenantID != "" || tenantCode != "":
		if scope == "" {
			t, err := s.store.TenantByCode(ctx, tenantCode)
			if notFound(err) {
				return nil, nil, errUnknownTenant
			} else if err != nil {
				return nil, nil, err
			}
			scope = t.ID
		}
		u, err := s.store.User(ctx, scope, userName)
		if err != nil && !notFound(err) {
			return nil, nil, err
		}
		if err == nil {
			candidates = append(candidates, u)
		}
	default:
		us, err := s.store.Users(ctx, simulator.UserFilter{UserName: userName})
		if err != nil {
			return nil, nil, err
		}
		candidates = us
	}
	for _, u := range candidates {
		keys = append(keys, userKey(u.TenantID, u.UserName))
	}
	if len(keys) == 0 {
		keys = append(keys, userKey(scope, userName))
	}
	return candidates, keys, nil
}

// authenticate takes, of the candidates, the one user whose password
// matches and who may log in to the app, asking for the tenant when
// several may.
func (s *Server) authenticate(ctx context.Context, appID string, candidates []simulator.User, password string) (simulator.User, error) {
	if len(candidates) == 0 {
		s.passwordChecks.Inc()
		simulator.User{PasswordHash: dummyHash}.PasswordMatches(password)
		return simulator.User{}, errWrong
	}
	var matched, authorised []simulator.User
	for _, u := range candidates {
		s.passwordChecks.Inc()
		if u.PasswordMatches(password) {
			matched = append(matched, u)
		}
	}
	for _, u := range matched {
		switch err := s.authorised(ctx, u, appID); {
		case err == nil:
			authorised = append(authorised, u)
		case err != errUnauthorised:
			return u, err
		}
	}
	switch {
	case len(matched) == 0:
		return simulator.User{}, errWrong
	case len(authorised) == 0:
		return simulator.User{}, errUnauthorised
	case len(authorised) > 1:
		return simulator.User{}, errAmbiguous
	}
	return authorised[0], nil
}

// authorised says whether u may log in to the app: the app is bound to
// u's tenant and the tenant's admin has granted it to u (identity.md §2.2).
func (s *Server) authorised(ctx context.Context, u simulator.User, appID string) error {
	if _, err := s.store.Client(ctx, u.TenantID, appID); notFound(err) {
		return errUnauthorised
	} else if err != nil {
		return err
	}
	a, err := s.store.Authorisation(ctx, u.TenantID, appID, u.UserName)
	if notFound(err) || (err == nil && !a.Enabled) {
		return errUnauthorised
	}
	return err
}

// complete ends a login: it issues what the flow asked for and redirects
// the browser to the app. authAt is when the user typed the password;
// fresh says it was for this request (CAS isFromNewLogin).
func (s *Server) complete(w http.ResponseWriter, r *http.Request, f flow, app simulator.App, u simulator.User, authAt time.Time, fresh bool) {
	ctx := detached(r)
	if f.Kind == flowCAS {
		ticket, err := s.issueTicket(ctx, f, u, authAt, fresh)
		if err != nil {
			s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
			return
		}
		http.Redirect(w, r, withQuery(f.Service, "ticket", ticket), http.StatusFound)
		return
	}
	client, err := s.store.Client(ctx, u.TenantID, app.ID)
	if notFound(err) {
		s.problem(w, r, http.StatusForbidden, msgUnauthorised)
		return
	} else if err != nil {
		s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
		return
	}
	callback := f.RedirectURI
	if callback == "" {
		if len(app.RedirectURIs) == 0 {
			s.problem(w, r, http.StatusConflict, msgNoCallback)
			return
		}
		callback = app.RedirectURIs[0]
	}
	if f.Kind == flowUnified && f.State != "" {
		set, err := s.settings(ctx, s.store, u.TenantID)
		if err != nil {
			s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
			return
		}
		if !set.EchoState {
			f.State = "" // the unified page passes no state (identity.md §2.2)
		}
	}
	code, err := s.issueCode(ctx, client, u, f)
	if err != nil {
		s.problem(w, r, http.StatusInternalServerError, s.internal(r, err))
		return
	}
	pairs := []string{"code", code, "tenant", u.TenantID}
	if f.State != "" {
		pairs = append(pairs, "state", f.State)
	}
	http.Redirect(w, r, withQuery(callback, pairs...), http.StatusFound)
}

// loginURL is where a flow's form is: the unified login page with the
// flow in the query and the real page's fragment after it.
func (s *Server) loginURL(f flow) string {
	return s.base + loginPath + "?flow=" + url.QueryEscape(s.seal(f)) + "#/portal-login?ind=UNOP&appId=" + url.QueryEscape(f.AppID)
}

// registered reports whether target is one of list exactly.
func registered(list []string, target string) bool {
	return target != "" && slices.Contains(list, target)
}
