package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/web"
)

// The console is the seller center's pages for people: server-rendered
// HTML under /console/ on the admin API's listener, usable without
// JavaScript (a small script only refreshes what is pending). It reads the
// store as the admin API does and acts through the admin API's own
// handlers, so a form's error is the admin API's message, shown next to
// the field it names, and nothing changes.
//
// It is guarded as the admin API is: a Host that is no name of kgsim's and
// a request from a page of another origin are refused (place). With an
// admin token a login form asks for it and starts a session (a cookie,
// HttpOnly, SameSite=Strict); every form carries the session's CSRF token.
// No page shows a secret: products' access keys are masked, and any
// secret kgsim holds that a page would show is replaced by its label.

const (
	consolePath = "/console/"
	staticPath  = consolePath + "static/"
	// maxForm bounds a form post: the largest form is a few fields.
	maxForm = 64 << 10
)

// console serves the pages.
type console struct {
	a        *api
	pages    map[string]*template.Template
	sessions *sessions
	words    dictionary
	// login: an admin token is set, and a session starts with it.
	login bool
	// now is the wall clock sessions expire on: the scheduling clock may
	// be virtual, and jump.
	now func() time.Time
}

func newConsole(a *api, login bool) (*console, error) {
	c := &console{a: a, words: words(), login: login, now: time.Now}
	c.sessions = newSessions(maxSessions)
	pages, err := web.Console(c.funcs())
	if err != nil {
		return nil, err
	}
	c.pages = pages
	return c, nil
}

// register mounts the console on r.
func (c *console) register(r *mux.Router) {
	get, post := []string{http.MethodGet, http.MethodHead}, []string{http.MethodPost}
	r.Handle("/console", http.RedirectHandler(consolePath, http.StatusMovedPermanently)).Methods(get...)
	r.PathPrefix(staticPath).Handler(c.placed(http.StripPrefix(staticPath, web.Static()))).Methods(get...)
	r.Handle("/console/login", c.open(c.loginPage)).Methods(get...)
	r.Handle("/console/login", c.open(c.logIn)).Methods(post...)
	r.Handle("/console/logout", c.guarded(c.logOut)).Methods(post...)
	for _, rt := range []struct {
		path    string
		h       func(*request)
		methods []string
	}{
		{"/console/", c.overview, get},
		{"/console/messages", c.messages, get},
		{"/console/messages/{id}", c.message, get},
		{"/console/messages/{id}/restart", c.restart, post},
		{"/console/notices", c.notices, get},
		{"/console/notices/{id}", c.notice, get},
		{"/console/notices/{id}/call-record.json", c.noticeRecord, get},
		{"/console/products", c.products, get},
		{"/console/products/{id}", c.product, get},
		{"/console/products/{id}/status", c.productStatus, post},
		{"/console/products/{id}/dial-tests", c.dialTest, post},
		{"/console/debugger", c.debugger, get},
		{"/console/debugger", c.debug, post},
		{"/console/debugger/cases/delete", c.deleteCase, post},
		{"/console/orders", c.orders, get},
		{"/console/orders", c.buy, post},
		{"/console/orders/{id}", c.order, get},
		{"/console/instances", c.instances, get},
		{"/console/instances/{key}", c.instance, get},
		{"/console/instances/{key}/{action}", c.instanceAction, post},
		{"/console/tenants", c.tenants, get},
		{"/console/tenants/{tenant}", c.tenant, get},
		{"/console/clock", c.clock, get},
		{"/console/clock", c.advance, post},
		{"/console/events", c.events, get},
	} {
		r.Handle(rt.path, c.guarded(rt.h)).Methods(rt.methods...)
	}
	// Last: any other address under /console/ is a page that is not there.
	r.PathPrefix(consolePath).Handler(c.placed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.refuse(w, r, http.StatusNotFound, "no console page "+r.URL.Path+"; the console starts at "+consolePath)
	}))).Methods(get...)
}

// request is one request to the console, with its session and language.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	c       *console
	session *session // nil on the login page before a session starts
	lang    lang
}

// ctx is the request's context, not cut short by a client that goes
// away: an action runs to its end, as in the admin API.
func (rq *request) ctx() context.Context { return context.WithoutCancel(rq.r.Context()) }

// pathVar is a variable of the route's path.
func (rq *request) pathVar(name string) string { return mux.Vars(rq.r)[name] }

// placed refuses what the admin API refuses by its place: a Host that is
// no name of kgsim's, a request from a page of another origin.
func (c *console) placed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := c.a.gate.place(r); e != nil {
			c.refuse(w, r, statusOf(e.Code), e.Message)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// open serves a page that needs no session: the login form.
func (c *console) open(h func(*request)) http.Handler {
	return c.placed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := &request{w: w, r: r, c: c, lang: c.language(w, r)}
		rq.session, _ = c.sessions.get(r, c.now())
		if r.Method == http.MethodPost && !c.formOK(rq) {
			return
		}
		h(rq)
	}))
}

// guarded serves a page that needs a session: without an admin token one
// starts by itself, with one the login form starts it. A form post must
// carry the session's CSRF token.
func (c *console) guarded(h func(*request)) http.Handler {
	return c.placed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := &request{w: w, r: r, c: c, lang: c.language(w, r)}
		now := c.now()
		s, ok := c.sessions.get(r, now)
		switch {
		case ok && s.authed:
		case c.login && r.Method == http.MethodPost:
			c.refuse(w, r, http.StatusUnauthorized, rq.t("login.expired"))
			return
		case c.login:
			http.Redirect(w, r, "/console/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		default:
			var err error
			if s, err = c.sessions.start(w, r, now, true); err != nil {
				c.internal(rq, err)
				return
			}
		}
		rq.session = s
		if r.Method == http.MethodPost && !c.formOK(rq) {
			return
		}
		h(rq)
	}))
}

// formOK reads a form post, bounded, and checks its CSRF token; it
// answers the refusal itself.
func (c *console) formOK(rq *request) bool {
	rq.r.Body = http.MaxBytesReader(rq.w, rq.r.Body, maxForm)
	if err := rq.r.ParseForm(); err != nil {
		c.refuse(rq.w, rq.r, http.StatusBadRequest, "the form does not read: "+err.Error())
		return false
	}
	sent := rq.r.PostForm.Get("csrf")
	if rq.session == nil || sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(rq.session.csrf)) != 1 {
		c.refuse(rq.w, rq.r, http.StatusForbidden, rq.t("csrf.refused"))
		return false
	}
	return true
}

// refuse answers a refused request with a page that says why, without
// the layout: no session's data is shown to it.
func (c *console) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	rq := &request{w: w, r: r, c: c, lang: c.language(w, r)}
	c.write(rq, status, "refused.html", view{Title: rq.t("refused.title"), Self: r.URL, Data: msg})
}

// internal answers a failure of kgsim's own; the detail goes to the log.
func (c *console) internal(rq *request, err error) {
	id := requestID(rq.r)
	c.a.log.ErrorContext(rq.r.Context(), "console request failed", "method", rq.r.Method, "route", routeOf(rq.r), "requestId", id, "err", err)
	c.refuse(rq.w, rq.r, http.StatusInternalServerError, "internal error; the kgsim log has the detail under requestId "+id)
}

// fail answers err: a missing record is a 404 page, anything else of the
// application's a page with its message, the rest an internal error.
func (c *console) fail(rq *request, err error) {
	e, ok := errors.AsType[*simulator.Error](err)
	if !ok || statusOf(e.Code) == http.StatusInternalServerError {
		c.internal(rq, err)
		return
	}
	c.refuse(rq.w, rq.r, statusOf(e.Code), e.Message)
}

// view is what every page's template gets.
type view struct {
	L      *locale
	Title  string
	Nav    string // the menu entry of the page
	CSRF   string
	Self   *url.URL // the page's address, for the language switch
	Clock  clockView
	Logout bool   // a session that a login started: a logout button
	Flash  string // what the last action did
	Live   bool   // something on the page is pending: the script refreshes it
	// LiveVersion is the state a live page shows, for the script to ask
	// /console/events for what changed since.
	LiveVersion string
	Form        *formState
	Data        any
}

type clockView struct {
	Now     time.Time
	Virtual bool
}

// LangURL is the page's address in another language.
func (v view) LangURL(to string) string {
	u := *v.Self
	q := u.Query()
	q.Del("ok") // what the last action did was said already
	q.Set("lang", to)
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// Err is the error to show beside field of form, if any: the admin API's
// message for the field it named, or for the form as a whole (field "").
func (v view) Err(form, field string) string {
	if v.Form == nil || v.Form.Name != form || v.Form.Field != field {
		return ""
	}
	return v.Form.Message
}

// Val is what field of form held when the form was refused, else def.
func (v view) Val(form, field, def string) string {
	if v.Form == nil || v.Form.Name != form {
		return def
	}
	return v.Form.Values.Get(field)
}

// Checked is whether a checkbox of form was ticked when it was refused.
func (v view) Checked(form, field string) bool {
	return v.Form != nil && v.Form.Name == form && v.Form.Values.Get(field) != ""
}

// render answers with page in the layout.
func (c *console) render(rq *request, name, title, nav string, data any) {
	c.renderForm(rq, name, title, nav, data, nil)
}

// renderForm answers with page in the layout and form refused in it, in
// the refusal's status.
func (c *console) renderForm(rq *request, name, title, nav string, data any, form *formState) {
	status := http.StatusOK
	if form != nil {
		status = form.Status
	}
	v := view{Title: title, Nav: nav, Self: rq.r.URL, Data: data, Form: form,
		Clock: clockView{Now: c.a.scheduler.Clock().Now(), Virtual: c.a.scheduler.Virtual()}}
	if rq.session != nil {
		v.CSRF, v.Logout = rq.session.csrf, c.login
	}
	if ok := rq.r.URL.Query().Get("ok"); ok != "" {
		if text, known := c.words["done."+ok]; known {
			v.Flash = text[rq.lang]
		}
	}
	if l, ok := data.(interface{ live() bool }); ok {
		v.Live = l.live()
	}
	if v.Live {
		var err error
		if v.LiveVersion, err = c.liveVersion(rq.ctx()); err != nil {
			c.fail(rq, err)
			return
		}
	}
	c.write(rq, status, name, v)
}

// write executes page with v and answers with it, every secret kgsim
// holds replaced by its label.
func (c *console) write(rq *request, status int, page string, v view) {
	v.L = &locale{lang: rq.lang, words: c.words}
	t, ok := c.pages[page]
	var b bytes.Buffer
	if !ok {
		c.a.log.ErrorContext(rq.r.Context(), "console page missing", "page", page)
		http.Error(rq.w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		c.a.log.ErrorContext(rq.r.Context(), "console page failed", "page", page, "requestId", requestID(rq.r), "err", err)
		http.Error(rq.w, "internal error; the kgsim log has the detail under requestId "+requestID(rq.r), http.StatusInternalServerError)
		return
	}
	out, err := c.hide(rq.ctx(), b.Bytes())
	if err != nil {
		c.a.log.ErrorContext(rq.r.Context(), "console page failed", "page", page, "requestId", requestID(rq.r), "err", err)
		http.Error(rq.w, "internal error; the kgsim log has the detail under requestId "+requestID(rq.r), http.StatusInternalServerError)
		return
	}
	h := rq.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Only its own script and style run; no site may frame it; forms post
	// only to kgsim; nothing it links to learns its addresses.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Language", rq.lang.tag())
	rq.w.WriteHeader(status)
	if rq.r.Method != http.MethodHead {
		rq.w.Write(out)
	}
}

// hide replaces every secret kgsim holds in a rendered page by its label,
// as the page shows it: as written, HTML-escaped or URL-escaped.
func (c *console) hide(ctx context.Context, page []byte) ([]byte, error) {
	keys, err := c.a.secrets(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(keys, func(a, b secret) int { return len(b.value) - len(a.value) })
	for _, k := range keys {
		label := []byte(template.HTMLEscapeString(k.label))
		for _, form := range []string{k.value, template.HTMLEscapeString(k.value), url.QueryEscape(k.value), url.PathEscape(k.value)} {
			page = bytes.ReplaceAll(page, []byte(form), label)
		}
	}
	return page, nil
}

// redirect answers a successful form post: the page to see, with what
// was done (a key of the dictionary's "done." entries).
func (rq *request) redirect(to, done string) {
	if done != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "ok=" + url.QueryEscape(done)
	}
	http.Redirect(rq.w, rq.r, to, http.StatusSeeOther)
}

func (rq *request) t(key string) string {
	return (&locale{lang: rq.lang, words: rq.c.words}).T(key)
}

// formState is a refused form: its values, to show again, and the admin
// API's error, beside the field it names or (Field "") above the form.
type formState struct {
	Name    string
	Values  url.Values
	Field   string
	Message string
	Status  int
}

// fieldKind is how a form field goes into the admin API's JSON.
type fieldKind int

const (
	textField   fieldKind = iota // a string; left out when empty
	numberField                  // an integer; a value that is none goes as a string, for the admin API to name
	flagField                    // a checkbox: true when ticked
)

type field struct {
	name string
	kind fieldKind
}

// body is the admin API's JSON of a form: each field under its name.
func body(form url.Values, fields []field) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		v := strings.TrimSpace(form.Get(f.name))
		switch {
		case f.kind == flagField:
			if v != "" {
				out[f.name] = true
			}
		case v == "":
		case f.kind == numberField:
			if n, err := strconv.Atoi(v); err == nil {
				out[f.name] = n
			} else {
				out[f.name] = v
			}
		default:
			out[f.name] = v
		}
	}
	return out
}

// act runs an admin API handler with the fields of the posted form as its
// JSON body and vars as its path's variables. A refusal comes back as the
// form's state, the message beside the field it names when the form has
// it; a failure of kgsim's own as an error.
func (rq *request) act(form string, h handler, vars map[string]string, fields []field) (any, *formState, error) {
	return rq.actWith(form, h, vars, fields, body(rq.r.PostForm, fields))
}

func (rq *request) actWith(form string, h handler, vars map[string]string, fields []field, in any) (any, *formState, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(rq.ctx(), http.MethodPost, rq.r.URL.Path, bytes.NewReader(b))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req = mux.SetURLVars(req, vars)
	_, v, err := h(headerSink{}, req)
	if err == nil {
		if free, ok := v.(secretFree); ok {
			v = free.v // the console's pages are scrubbed whole
		}
		return v, nil, nil
	}
	e, ok := errors.AsType[*simulator.Error](err)
	if !ok || statusOf(e.Code) == http.StatusInternalServerError {
		return nil, nil, err
	}
	fs := &formState{Name: form, Values: rq.r.PostForm, Field: e.Field, Message: e.Message, Status: statusOf(e.Code)}
	if !slices.ContainsFunc(fields, func(f field) bool { return f.name == e.Field }) {
		fs.Field = ""
	}
	return nil, fs, nil
}

// headerSink is the ResponseWriter of a handler the console calls: the
// console answers, not the handler, which only sets headers (Location).
type headerSink struct{}

func (headerSink) Header() http.Header         { return http.Header{} }
func (headerSink) Write(b []byte) (int, error) { return len(b), nil }
func (headerSink) WriteHeader(int)             {}
