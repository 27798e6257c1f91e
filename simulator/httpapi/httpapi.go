// Package httpapi is kgsim's HTTP surface: the admin API, /healthz and
// /metrics, routed with gorilla/mux.
//
// The admin API takes and answers JSON under /admin/v1. An error is
// {"error":{"code":"invalid|not_found|conflict|internal|method_not_allowed","message":...,"field":...}}
// with status 400, 404, 409, 500 or 405; a body over 1 MiB is a 413 in the
// same shape. A full disk is a 507 "storage_full" and a damaged or
// unreadable database a 503 "unavailable", each saying what to do. A POST
// sent with an Idempotency-Key is answered once and replayed after
// (idempotency.go). Access (access.go) is checked first, on the admin API and
// /metrics, in this order: a Host that is no name of kgsim's, an Origin
// other than kgsim's own or a Sec-Fetch-Site of cross-site or same-site
// is a 403 "forbidden"; without the admin token, when one is set, a 401
// "unauthorized" with WWW-Authenticate; on the admin API, a body sent
// without Content-Type: application/json is a 415
// "unsupported_media_type". Listings take limit (1..1000, default 100), are
// oldest first and refuse unknown or repeated filters. Those of messages,
// notices, orders, instances, usage records and License codes page
// (paging.go): order=newest lists newest first, and while more records
// match an answer holds "next", to send back as cursor for the following
// page. No answer ever holds an access key: products show it masked ("****"
// and its last 2 characters), and any key a merchant echoes into a stored
// record is replaced by <accessKey>. Actions run to their end even if the
// client goes away; the parts that enqueue callbacks wake delivery for
// them once committed, so no handler wakes it.
//
// The routes are listed once, in adminRoutes and identityRoutes; README.md's
// table of the admin API says what each takes and answers, and a test
// (readme_test.go) checks that it describes every one of them and no other.
// /healthz answers "ok" when the store answers and is healthy, 503 and why
// otherwise, and is not guarded; /metrics is in the Prometheus text format,
// guarded as the admin API.
//
// Joint operation (kit-sync.md): each change answers with the kit syncs it
// enqueued ("syncs"). {tenant} is a tenantId or tenantCode; a tenant is
// always shown with its identity domain (domainName). Authorising a user
// for an app the tenant has no binding of binds it as a credential test.
// Client secrets, kit keys and passwords are never shown (kit keys
// masked).
//
// The identity provider's settings and faults (identity.md §5) are
// served with the market's. Settings are "echoState" (true|false), "casFormat"
// (JSON|XML), "invalidClientStatus" (401|403) and "codeLifetime",
// "accessTokenLifetime", "refreshTokenLifetime", "ticketLifetime",
// "sessionLifetime" (whole seconds from 1s to 366d: "300s", "2h",
// "30d"). The marketplace's come from kgsim serve's flags and are
// read-only here; a tenant overrides any of them, kept across restarts.
// A tenant's settings answer {"tenantId","settings":{all, in force},
// "overridden":[names],"updatedAt"}. A fault makes an endpoint of a
// tenant's domain answer "status" instead (token: 500-599, default 503;
// userinfo: 401 invalid_token or 500-599, default 503; cas-validate:
// INTERNAL_ERROR with 200 or 500-599, default 200) and/or hold each
// request "delay" first ("5s", at most 10m; with a delay and no status it
// is slow, not failing), for the next "count" requests or, without one,
// until cleared; it spends nothing (a code sent then is exchanged once
// cleared), one per endpoint, kept in memory only. Expiring a tenant's
// logins ends every live code, ticket, SSO session and token of it now.
//
// The identity provider's routes (the unified login page, OAuth2 and CAS
// under /t/{tenantCode}/api/v1) are mounted on the same router, and the
// open APIs merchants call (under /api/mkp-openapi-public and
// /rest/marketplace). They are not guarded: merchants and browsers reach them under names of
// their own, without the admin token.
package httpapi

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/dialtest"
	"github.com/kgsim/kgsim/simulator/engine"
	"github.com/kgsim/kgsim/simulator/identity"
	"github.com/kgsim/kgsim/simulator/kit"
	"github.com/kgsim/kgsim/simulator/market"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// Config is what the HTTP surface serves. Every field but Access and
// MailFrom is required.
type Config struct {
	// Market is the marketplace served: its store and parts, its
	// scheduler, its identity provider's routes with the admin routes of
	// its settings and faults, and the open APIs merchants call (like the
	// identity provider's routes not guarded: merchants sign them with
	// their AK/SK).
	Market *market.Market
	// Registry is served on /metrics; the HTTP metrics are registered on
	// it.
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Access guards the admin API and /metrics; the zero value requires
	// no token.
	Access Access
	// MailFrom is the sender notices are mailed from (kgsim serve's
	// --smtp-from), which the console shows on each notice;
	// notice.DefaultFrom when empty.
	MailFrom string
}

// api holds the handlers' dependencies.
type api struct {
	store     simulator.Store
	engine    *engine.Engine
	deliverer *delivery.Deliverer
	dial      *dialtest.Tester
	kit       *kit.Console
	scheduler *schedule.Scheduler
	log       *slog.Logger
	metrics   *httpMetrics
	gate      *gate
	router    *mux.Router
	identity  *identity.Server
	mailFrom  *mail.Address
}

// New returns the handler of kgsim's HTTP surface and registers its
// metrics on c.Registry.
func New(c Config) (http.Handler, error) {
	var missing []string
	for name, set := range map[string]bool{
		"Market": c.Market != nil, "Registry": c.Registry != nil, "Logger": c.Logger != nil,
	} {
		if !set {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, errors.New("httpapi: Config needs " + strings.Join(missing, ", "))
	}
	g, err := newGate(c.Access)
	if err != nil {
		return nil, err
	}
	from, err := mail.ParseAddress(cmp.Or(c.MailFrom, notice.DefaultFrom))
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "--smtp-from", "%q is not an e-mail address: %v", c.MailFrom, err)
	}
	mk := c.Market
	m, err := newHTTPMetrics(c.Registry, mk.Store, c.Logger)
	if err != nil {
		return nil, err
	}
	a := &api{store: mk.Store, engine: mk.Engine, deliverer: mk.Deliverer, dial: mk.Dial, kit: mk.Kit, scheduler: mk.Scheduler,
		log: c.Logger, metrics: m, gate: g, router: mux.NewRouter(), identity: mk.Identity, mailFrom: from}
	a.routes(c.Registry)
	con, err := newConsole(a, c.Access.Token != "")
	if err != nil {
		return nil, err
	}
	con.register(a.router)
	mk.Identity.Register(a.router)
	mk.OpenAPI.Register(a.router)
	return a.observe(a.router), nil
}

// handler is an admin API handler: it returns the status and value to
// answer with, or an error.
type handler func(w http.ResponseWriter, r *http.Request) (int, any, error)

func (a *api) json(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, v, err := h(w, r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.writeJSON(w, r, status, v)
	})
}

func (a *api) routes(reg *prometheus.Registry) {
	r := a.router
	r.Use(nameRoute)
	r.NotFoundHandler = http.HandlerFunc(a.notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(a.methodNotAllowed)

	r.Handle("/healthz", http.HandlerFunc(a.healthz)).Methods(http.MethodGet)
	r.Handle("/metrics", admit(a.gate.place, a.gate.bearer)(promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(a.log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
		// Each scrape counts the outbox: a few at once is plenty.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))).Methods(http.MethodGet)

	const v1 = "/admin/v1"
	// Every admin route is registered through this, so none escapes the
	// checks. (Not a subrouter's middleware: mux answers 404 instead of
	// 405 for a subrouter's route asked with another method.)
	guard := admit(a.gate.place, a.gate.bearer, jsonBody)
	for _, rt := range append(a.adminRoutes(), a.identityRoutes()...) {
		r.Handle(v1+rt.path, guard(a.idempotent(a.json(rt.h)))).Methods(rt.method)
	}
}

// adminRoutes are the admin API's routes under /admin/v1, but for the
// identity provider's (identityRoutes): the one list of them, which
// README.md's table of the admin API is checked against (readme_test.go).
func (a *api) adminRoutes() []route {
	routes := []route{
		{http.MethodGet, "/products", a.listProducts},
		{http.MethodGet, "/products/{id}", a.getProduct},
		{http.MethodPut, "/products/{id}", a.putProduct},
		{http.MethodPut, "/products/{id}/status", a.setProductStatus},
		{http.MethodPost, "/products/{id}/dial-tests", a.runDialTest},
		{http.MethodGet, "/products/{id}/dial-tests", a.listDialRuns},
		{http.MethodGet, "/products/{id}/debugger", a.getDebugger},
		{http.MethodGet, "/products/{id}/debugger/{activity}", a.getDebugForm},
		{http.MethodPost, "/products/{id}/debugger", a.sendDebugCall},
		{http.MethodDelete, "/products/{id}/debug-cases/{index}", a.deleteDebugCase},
		{http.MethodGet, "/customers", a.listCustomers},
		{http.MethodPost, "/customers", a.addCustomer},
		{http.MethodGet, "/customers/{id}", a.getCustomer},
		{http.MethodGet, "/orders", a.listOrders},
		{http.MethodPost, "/orders", a.buy},
		{http.MethodGet, "/orders/{id}", a.getOrder},
		{http.MethodGet, "/instances", a.listInstances},
		{http.MethodGet, "/instances/{key}", a.getInstance},
		{http.MethodGet, "/messages", a.listMessages},
		{http.MethodGet, "/messages/{id}", a.getMessage},
		{http.MethodPost, "/messages/{id}/restart", a.restart},
		{http.MethodGet, "/notices", a.listNotices},
		{http.MethodGet, "/notices/{id}", a.getNotice},
		{http.MethodGet, "/clock", a.getClock},
		{http.MethodPost, "/clock/advance", a.advance},
		{http.MethodGet, "/sellers", a.listSellers},
		{http.MethodGet, "/sellers/{id}", a.getSeller},
		{http.MethodPut, "/sellers/{id}", a.putSeller},
		{http.MethodGet, "/usage", a.listUsage},

		{http.MethodPost, "/apps", a.addApp},
		{http.MethodGet, "/apps", a.listApps},
		{http.MethodGet, "/apps/{appId}", a.getApp},
		{http.MethodPost, "/tenants", a.addTenant},
		{http.MethodGet, "/tenants", a.listTenants},
		{http.MethodGet, "/tenants/{tenant}", a.getTenant},
		{http.MethodPut, "/tenants/{tenant}", a.renameTenant},
		{http.MethodGet, "/tenants/{tenant}/apps", tenantListing(a, "bindings", a.listBindings)},
		{http.MethodPost, "/tenants/{tenant}/apps", a.bind},
		{http.MethodDelete, "/tenants/{tenant}/apps/{appId}", a.unbind},
		{http.MethodPost, "/tenants/{tenant}/apps/{appId}/rotate-secret", a.rotateSecret},
		{http.MethodPost, "/tenants/{tenant}/apps/{appId}/grant", a.authorise(a.kit.Grant)},
		{http.MethodPost, "/tenants/{tenant}/apps/{appId}/revoke", a.authorise(a.kit.Revoke)},
		{http.MethodGet, "/tenants/{tenant}/apps/{appId}/authorisations", tenantListing(a, "authorisations", a.listAuthorisations)},
		{http.MethodPost, "/users", a.addUser},
		{http.MethodGet, "/tenants/{tenant}/users", a.listUsers},
		{http.MethodGet, "/tenants/{tenant}/users/{userName}", a.getUser},
		{http.MethodPut, "/tenants/{tenant}/users/{userName}", a.editUser},
		{http.MethodDelete, "/tenants/{tenant}/users/{userName}", a.removeUser},
		{http.MethodGet, "/tenants/{tenant}/departments", tenantListing(a, "departments", a.listDepartments)},
		{http.MethodPut, "/tenants/{tenant}/departments/{orgCode}", a.putDepartment},
		{http.MethodDelete, "/tenants/{tenant}/departments/{orgCode}", a.deleteDepartment},
	}
	for name, act := range a.instanceActions() {
		routes = append(routes, route{http.MethodPost, "/instances/{key}/" + name, a.instanceAction(act)})
	}
	return append(routes, a.licenseRoutes()...)
}

// healthz answers "ok" when the store answers and is healthy: not
// damaged, its last write not failed for want of space.
func (a *api) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.store.Health(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("store unhealthy: " + err.Error() + "\n"))
		return
	}
	if _, err := a.store.Pending(ctx); err != nil {
		a.log.ErrorContext(r.Context(), "health check: the store does not answer", "requestId", requestID(r), "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("store unavailable\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

func (a *api) notFound(w http.ResponseWriter, r *http.Request) {
	a.writeError(w, r, simulator.Errorf(simulator.ENOTFOUND, "", "no route %s %s; the admin API is under /admin/v1", r.Method, r.URL.Path))
}

// methodNotAllowed answers 405 with the methods the path does take.
func (a *api) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		var match mux.RouteMatch
		if a.router.Match(probe, &match) && match.MatchErr == nil {
			allowed = append(allowed, m)
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	a.writeJSON(w, r, http.StatusMethodNotAllowed, errorBody{errorDetail{
		Code:    "method_not_allowed",
		Message: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + strings.Join(allowed, ", "),
	}})
}
