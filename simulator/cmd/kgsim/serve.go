package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kgsim/kgsim/fixtures"
	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/httpapi"
	"github.com/kgsim/kgsim/simulator/identity"
	"github.com/kgsim/kgsim/simulator/market"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

func serveCommand() *command {
	return &command{
		name:    "serve",
		summary: "run the marketplace: admin API, callbacks, retries, dial tests, metrics",
		help: `Usage: kgsim serve [--addr HOST:PORT] [--db PATH|URL] [--db-wait D] [--clock real|virtual] [--start TIME]
                   [--fixtures DIR] [--smtp HOST:PORT] [--smtp-from ADDR]
                   [--timeout DURATION] [--workers N] [--log-level LEVEL]
                   [--base-url URL] [--kit-oaep-hash H] [--kit-body-layout L]
                   [--admin-token TOKEN] [--allowed-host HOST]...
                   [--cas-format json|xml] [--echo-state] [--invalid-client-status 401|403]
                   [--code-lifetime D] [--access-token-lifetime D] [--refresh-token-lifetime D]
                   [--ticket-lifetime D] [--session-lifetime D] [--cpuprofile FILE]

Runs a fake KooGallery marketplace until interrupted: the products and
customers of the fixtures, orders placed through the admin API (/admin/v1),
their signed callbacks to each product's production interface with the real
retry schedules, dial tests twice a day, failure notices (e-mailed when
--smtp is given), Prometheus metrics (/metrics) and /healthz. The seller
console (/console/ in a browser) shows the messages with every attempt and
restart, the mailbox, products, orders, instances and the clock.

  --addr       listen address (default 127.0.0.1:8080; :8080 for every interface)
  --db         SQLite database file, created if missing (default kgsim.db;
               sqlite:PATH too), or a PostgreSQL database that several kgsim
               serve share: postgres://USER[:PASSWORD]@HOST:PORT/DB[?sslmode=...]
  --db-wait    how long to keep trying a PostgreSQL server that cannot be
               reached at start (default 30s); then kgsim exits with status 2
  --clock      real (default): time passes; virtual: time stands still until
               POST /admin/v1/clock/advance moves it, running what falls due
  --start      where a virtual clock starts, RFC 3339 (default now); a
               restart goes on from where the database's clock stood,
               unless --start is later
  --fixtures   directory with products.json, customers.json and optionally
               sellers.json (default: the embedded sample catalogue)
  --smtp       SMTP server for failure notices (default: stored, not mailed)
  --smtp-from  sender of failure notices (default kgsim@localhost)
  --timeout    limit for a merchant's complete answer (default 20s, as the
               marketplace)
  --workers    callbacks in flight at once to one merchant (the origin of
               its callback URL), each to a different instance (default 8)
  --log-level  debug, info (default), warn or error
  --base-url   where merchants and browsers reach kgsim: the unified login
               page and the tenants' identity domains {URL}/t/{tenantCode}
               sent in tenantSync (default http:// and the listen address)
  --kit-oaep-hash    OAEP setting of applicationSync's clientSecret: sha256
                     (default), sha1 or sha256-mgf1sha1
  --kit-body-layout  kit sync bodies on the wire: document (default, the
                     docs' member order and spacing) or canonical (the
                     signed bytes)
  --cpuprofile FILE  write a CPU profile of the whole run to FILE when it
                     ends (read it with go tool pprof; for reporting where
                     a slow run spends its time)

The identity provider's settings, for every tenant that does not override
them (PUT /admin/v1/tenants/{tenant}/identity):

  --cas-format             CAS validation's format when the request names
                           none: json (default, as the marketplace docs) or
                           xml (what mod_auth_cas and most CAS clients read)
  --echo-state             append the state found in the unified login
                           page's address to the callback (default off)
  --invalid-client-status  status of invalid_client: 403 (default, the
                           marketplace FAQ) or 401 (RFC 6749)
  --code-lifetime          authorization codes (default 300s)
  --access-token-lifetime  access tokens, expires_in (default 2h)
  --refresh-token-lifetime refresh tokens (default 30d)
  --ticket-lifetime        CAS service tickets (default 60s)
  --session-lifetime       SSO sessions of the login page (default 8h)
                           Lifetimes are whole seconds from 1s to 366d:
                           300s, 90m, 2h, 30d.

  --admin-token   require "Authorization: Bearer TOKEN" on the admin API
                  and /metrics (16 to 256 characters, e.g. openssl rand -hex 16);
                  better set KGSIM_ADMIN_TOKEN instead: every user of the
                  machine can read a flag in ps (the flag wins over it)
  --allowed-host  a further name the admin API and /metrics answer to
                  (repeatable); they answer only to IP addresses,
                  localhost and the --base-url and --addr hosts, so that
                  a web page cannot reach them under a name of its own
                  pointed at kgsim (DNS rebinding)

The admin API and /metrics refuse requests from web pages of other origins
and bodies not sent as application/json; the login pages, OAuth2, CAS and
/healthz are open to any client. Listening beyond loopback without an admin
token prints a warning. Access keys, secrets and the admin token are never
logged or shown by the admin API.

Example:
  kgsim serve --clock virtual --db /tmp/kgsim.db --fixtures ./my-products
  kgsim serve --cas-format xml    # for mod_auth_cas and other standard CAS clients`,
		run: serve,
	}
}

// serveConfig is kgsim serve's command line, checked.
type serveConfig struct {
	addr, db, fixtures, smtp, smtpFrom string
	virtual                            bool
	start                              time.Time
	timeout                            time.Duration
	dbWait                             time.Duration
	workers                            int
	level                              slog.Level
	base                               string
	// baseFromAddr: no --base-url, so the base is the address listened
	// on, known once listening (--addr may name port 0).
	baseFromAddr bool
	oaepHash     protocol.OAEPHash
	kitLayout    delivery.KitLayout
	// adminToken guards the admin API and /metrics when set;
	// allowedHosts are further names they answer to.
	adminToken   string
	allowedHosts []string
	// identity are the identity provider's settings for every tenant.
	identity identity.Settings
	// cpuProfile is where the run's CPU profile goes, if anywhere.
	cpuProfile string
}

func parseServe(e *env, args []string) (serveConfig, error) {
	f := newFlags()
	addr := f.string("addr", "HOST:PORT", "listen address")
	db := f.string("db", "PATH|URL", "SQLite file or PostgreSQL connection string")
	dbWait := f.string("db-wait", "DURATION (e.g. 30s)", "how long to wait for PostgreSQL")
	clock := f.string("clock", "real|virtual", "scheduling clock")
	start := f.string("start", "TIME (RFC 3339)", "start of a virtual clock")
	dir := f.string("fixtures", "DIR", "catalogue directory")
	smtp := f.string("smtp", "HOST:PORT", "SMTP server for notices")
	from := f.string("smtp-from", "ADDRESS", "sender of notices")
	timeout := f.string("timeout", "DURATION (e.g. 20s)", "answer time limit")
	workers := f.string("workers", "N (1 or more)", "callbacks in flight")
	level := f.string("log-level", "debug|info|warn|error", "log level")
	base := f.string("base-url", "URL", "where kgsim is reached")
	oaepHash := f.string("kit-oaep-hash", "sha256|sha1|sha256-mgf1sha1", "clientSecret OAEP setting")
	kitLayout := f.string("kit-body-layout", "document|canonical", "kit body layout")
	adminToken := f.string("admin-token", "TOKEN (better: KGSIM_ADMIN_TOKEN)", "admin token")
	allowedHosts := f.list("allowed-host", "HOST", "further name of kgsim")
	cpuProfile := f.string("cpuprofile", "FILE", "CPU profile of the run")
	idFlags := newIdentityFlags(f)
	if _, err := f.parse(args, 0, ""); err != nil {
		return serveConfig{}, err
	}
	c := serveConfig{addr: or(*addr, "127.0.0.1:8080"), db: or(*db, "kgsim.db"), fixtures: *dir, smtp: *smtp,
		smtpFrom: or(*from, "kgsim@localhost"), workers: 8, start: e.now().UTC(), dbWait: 30 * time.Second, cpuProfile: *cpuProfile}
	if *dbWait != "" {
		d, err := time.ParseDuration(*dbWait)
		if err != nil || d < 0 {
			return c, simulator.Errorf(simulator.EINVALID, "--db-wait", "%q: want a duration such as 30s", *dbWait)
		}
		c.dbWait = d
	}
	switch *clock {
	case "", "real":
	case "virtual":
		c.virtual = true
	default:
		return c, simulator.Errorf(simulator.EINVALID, "--clock", "%q: want real or virtual", *clock)
	}
	if *start != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			return c, simulator.Errorf(simulator.EINVALID, "--start", "%q: want an RFC 3339 time such as 2025-01-01T00:00:00Z", *start)
		}
		if !c.virtual {
			return c, simulator.Errorf(simulator.EINVALID, "--start", "only a virtual clock has a start; add --clock virtual")
		}
		c.start = t.UTC()
	}
	var err error
	if c.timeout, err = parseTimeout(*timeout, delivery.DefaultTimeout); err != nil {
		return c, err
	}
	if *workers != "" {
		n, err := strconv.Atoi(*workers)
		if err != nil || n < 1 {
			return c, simulator.Errorf(simulator.EINVALID, "--workers", "%q: want a whole number, 1 or more", *workers)
		}
		c.workers = n
	}
	if *level != "" {
		if err := c.level.UnmarshalText([]byte(*level)); err != nil {
			return c, simulator.Errorf(simulator.EINVALID, "--log-level", "%q: want debug, info, warn or error", *level)
		}
	}
	if c.smtp != "" {
		if _, _, err := net.SplitHostPort(c.smtp); err != nil {
			return c, simulator.Errorf(simulator.EINVALID, "--smtp", "%q: want HOST:PORT", c.smtp)
		}
	}
	if err := c.parseKit(*base, *oaepHash, *kitLayout); err != nil {
		return c, err
	}
	if err := c.parseAccess(*adminToken, *allowedHosts); err != nil {
		return c, err
	}
	if c.identity, err = idFlags.settings(); err != nil {
		return c, err
	}
	return c, nil
}

// parseKit reads the flags of the identity provider and the kit syncs. The
// base URL defaults to the listen address, 127.0.0.1 standing in for an
// address on every interface.
func (c *serveConfig) parseKit(base, oaepHash, layout string) error {
	if base == "" {
		var err error
		if base, err = addrBase(c.addr); err != nil {
			return err
		}
		c.baseFromAddr = true
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return simulator.Errorf(simulator.EINVALID, "--base-url", "%q: want http(s)://HOST[:PORT] without a path", base)
	}
	c.base = strings.TrimRight(base, "/")
	if c.oaepHash, err = protocol.ParseOAEPHash(oaepHash); err != nil {
		return simulator.Errorf(simulator.EINVALID, "--kit-oaep-hash", "%q: want sha256, sha1 or sha256-mgf1sha1", oaepHash)
	}
	if c.kitLayout, err = delivery.ParseKitLayout(layout); err != nil {
		return simulator.Errorf(simulator.EINVALID, "--kit-body-layout", "%q: want document or canonical", layout)
	}
	return nil
}

// addrBase is the base URL of a listen address, 127.0.0.1 standing in
// for every interface.
func addrBase(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", simulator.Errorf(simulator.EINVALID, "--addr", "%q: want HOST:PORT", addr)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// catalogue is the embedded sample catalogue, or the merchant's own.
func catalogue(dir string) (fixtures.Catalogue, error) {
	if dir == "" {
		return fixtures.Default()
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fixtures.Catalogue{}, simulator.Errorf(simulator.EINVALID, "--fixtures", "%s is not a directory (want one with products.json and customers.json)", dir)
	}
	c, err := fixtures.Load(os.DirFS(dir))
	if err != nil {
		return c, simulator.Errorf(simulator.EINVALID, "--fixtures", "%s: %v", dir, err)
	}
	return c, nil
}

// marketplace is a running simulator: the wired market, its store and
// the HTTP surface.
type marketplace struct {
	*market.Market
	store   simulator.Store
	handler http.Handler
}

// newMarketplace opens the store, loads the catalogue and wires the parts.
// The caller closes m.store.
func newMarketplace(ctx context.Context, c serveConfig, e *env, log *slog.Logger) (*marketplace, error) {
	cat, err := catalogue(c.fixtures)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, c.db, c.dbWait, c.virtual, e.stderr)
	if err != nil {
		return nil, err
	}
	replica, key, err := replicaOf(ctx, store, c, e.random)
	if err != nil {
		store.Close()
		return nil, err
	}
	var clock simulator.Clock = schedule.Wall{}
	if c.virtual {
		start, err := virtualStart(ctx, store, c.start)
		if err != nil {
			store.Close()
			return nil, err
		}
		clock = schedule.NewVirtual(start)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mk, err := market.New(ctx, market.Config{
		Store: store, Clock: clock, Products: cat.Products, Customers: cat.Customers, Sellers: cat.Sellers,
		Timeout: c.timeout, Workers: c.workers, Wall: e.now, Random: e.random, Registry: reg, Logger: log,
		Base: c.base, KitOAEPHash: c.oaepHash, KitLayout: c.kitLayout, Identity: c.identity, Replica: replica, SharedKey: key,
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	h, err := httpapi.New(httpapi.Config{Market: mk, Registry: reg, Logger: log, Access: c.access(), MailFrom: c.smtpFrom})
	if err != nil {
		store.Close()
		return nil, err
	}
	return &marketplace{Market: mk, store: store, handler: h}, nil
}

// virtualStart is where a virtual clock starts: where it stood when the
// database last saw it, or start (--start, else now) when that is later:
// the clock never goes back, or retries and expiries scheduled for the
// time it had reached would wait for it to come round again.
func virtualStart(ctx context.Context, store simulator.ClockTx, start time.Time) (time.Time, error) {
	kept, err := store.VirtualNow(ctx)
	switch {
	case simulator.ErrorCode(err) == simulator.ENOTFOUND:
		return start, nil
	case err != nil:
		return start, err
	}
	if kept.After(start) {
		return kept, nil
	}
	return start, nil
}

// shutdownGrace bounds how long open admin requests may finish.
const shutdownGrace = 30 * time.Second

func serve(e *env, args []string) error {
	c, err := parseServe(e, args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: c.level}))
	collectLess(os.Getenv("GOGC"))
	if c.cpuProfile != "" {
		stopProfile, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	ctx, stop := context.WithCancel(e.context())
	defer stop()
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return simulator.Errorf(simulator.EINVALID, "--addr", "cannot listen on %s: %v", c.addr, err)
	}
	defer ln.Close()
	if c.baseFromAddr {
		c.base, _ = addrBase(ln.Addr().String())
	}
	m, err := newMarketplace(ctx, c, e, log)
	if err != nil {
		return err
	}
	defer m.store.Close()
	clock := "real"
	if c.virtual {
		clock = "virtual, at " + m.Scheduler.Clock().Now().Format(time.RFC3339)
	}
	fmt.Fprintf(e.stdout, "kgsim serve: listening on http://%s (clock %s, database %s)\n", ln.Addr(), clock, dbName(c.db))
	warnExposed(e.stderr, ln.Addr(), c.adminToken)
	if err := m.store.Health(ctx); err != nil {
		// It serves on, so that what is intact can be read out; /healthz
		// says the same.
		fmt.Fprintf(e.stderr, "kgsim serve: warning: %v\n", err)
	}
	log.Info("serving", "addr", ln.Addr().String(), "db", dbName(c.db), "clock", clock, "smtp", c.smtp)

	srv := httpServer(m.handler, log)
	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	})
	wg.Go(func() { m.Scheduler.Run(ctx) })
	replica := m.Deliverer.Replica
	if replica != nil {
		wg.Go(func() { pollOthers(ctx, m.Scheduler.Wake) })
	}
	if c.smtp != "" {
		mailer := &notice.Mailer{Addr: c.smtp, From: c.smtpFrom, Store: m.store, Clock: e.now, Logger: log}
		if replica != nil {
			mailer.Leases, mailer.Owner = replica.Leases, replica.Owner
		}
		wg.Go(func() { mailer.Run(ctx) })
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down: finishing open requests and in-flight attempts")
	case err = <-serveErr:
		log.Error("listener failed", "err", err)
		stop()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	srv.Shutdown(sctx)
	wg.Wait()
	return err
}

// The listener's limits: a client has 10 s to send its request's headers
// and 30 s for the whole request, and a kept-alive connection left idle
// for 2 minutes is closed, so connections that trickle a byte at a time or
// sit open cannot pile up. Answers have no limit: advancing a virtual
// clock by months takes as long as the work it causes.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// httpServer serves h with the listener's limits.
func httpServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout, IdleTimeout: idleTimeout,
		MaxHeaderBytes: maxHeaderBytes, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
}

// startCPUProfile profiles the process's CPU into a new file at path until
// the returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, simulator.Errorf(simulator.EINVALID, "--cpuprofile", "%v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, simulator.Errorf(simulator.EINVALID, "--cpuprofile", "%v", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
