package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/web"
)

// Lifetimes on the scheduling clock (identity.md §3.2, §4.2): the
// defaults of Settings, but for the login form's.
const (
	CodeLifetime    = 300 * time.Second     // [SIM]: undocumented
	AccessLifetime  = 2 * time.Hour         // expires_in 7200
	RefreshLifetime = 30 * 24 * time.Hour   // from issuance, and from each refresh
	TicketLifetime  = 60 * time.Second      // [SIM]: Apereo recommends short
	SessionLifetime = 8 * time.Hour         // [SIM]: a working day of SSO
	formLifetime    = time.Hour             // how long a rendered login form can be sent
	scopeUserInfo   = "get_user_info"       // the only scope (identity.md §3.1)
	maxForm         = 16 << 10              // bytes of a login or token request body
	maxParam        = 2048                  // bytes of a URL or state carried through a login
	maxCredential   = 256                   // bytes of a user name, password, client id or secret
	loginPath       = "/unified-login/"     // the unified login page
	staticPath      = loginPath + "static/" // its styles and script
	loginAction     = loginPath + "api/login"
)

// Store is the identity provider's store: tenants, apps, users and the
// logins it keeps, one method at a time or grouped in one transaction.
// It touches nothing else.
type Store interface {
	simulator.IdentityTx
	simulator.Updater
}

// Config is what the identity provider needs. Store, Clock, Random, Base and
// Logger are required; the other fields take the spec's defaults when zero.
type Config struct {
	Store Store
	// Clock is the scheduling clock: when codes, tokens, tickets, sessions
	// and login forms expire.
	Clock simulator.Clock
	// Random makes codes, tokens, tickets, session ids and the key that
	// signs login forms. Read under a lock, so any reader will do.
	Random io.Reader
	// Base is simBase: the scheme, host and port (no path) of the unified
	// login page and, under /t/{tenantCode}, of the tenants' domains.
	Base   string
	Logger *slog.Logger

	// Defaults are the settings of every tenant that does not override
	// them; zero fields take the spec's (DefaultSettings).
	Defaults Settings
	// Registry receives the identity provider's metrics; nil means none.
	Registry prometheus.Registerer
	// Shared is set when other kgsim processes serve from the same store
	// (replicas): Key, which they all have, signs login forms, so that a
	// login started on one finishes on another, and tenants' settings are
	// read from the store every time, since another process may change
	// them.
	Shared bool
	Key    []byte // 32 bytes or more; with Shared only
}

// Server is the identity provider's HTTP surface: the unified login page,
// and OAuth 2.0 and CAS under each tenant's domain.
type Server struct {
	store  Store
	clock  simulator.Clock
	random io.Reader
	mu     sync.Mutex // guards random
	base   string
	log    *slog.Logger
	// key signs login forms and the logins they continue. It is made anew
	// at each start: a form rendered before a restart asks to log in again.
	key   []byte
	pages *template.Template

	defaults Settings
	cache    settingsCache // the tenants' overrides
	faults   faults        // what the admin API made fail
	tickets  atomic.Uint64 // the n of ST-{n}-...
	throttle throttle      // failed passwords (throttle.go)
	// passwordChecks counts password hashes computed for logins: under
	// guessing it stops growing once the guesses are throttled.
	passwordChecks prometheus.Counter

	purgeMu sync.Mutex
	purgeAt time.Time // the next purge of expired logins; zero before the first
}

// New checks c and returns the identity provider.
func New(c Config) (*Server, error) {
	var missing []string
	for name, set := range map[string]bool{
		"Store": c.Store != nil, "Clock": c.Clock != nil, "Random": c.Random != nil, "Base": c.Base != "", "Logger": c.Logger != nil,
	} {
		if !set {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("identity: Config needs %s", strings.Join(missing, ", "))
	}
	base, err := url.Parse(c.Base)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || strings.Trim(base.Path, "/") != "" ||
		base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("identity: Base %q must be an http or https origin such as http://127.0.0.1:8080, without a path", c.Base)
	}
	defaults, err := c.Defaults.complete()
	if err != nil {
		return nil, fmt.Errorf("identity: Config.Defaults: %w", err)
	}
	s := &Server{store: c.Store, clock: c.Clock, random: c.Random, base: base.Scheme + "://" + base.Host, log: c.Logger, defaults: defaults,
		cache: settingsCache{byTenant: map[string]simulator.IdentitySettings{}, off: c.Shared}}
	switch {
	case c.Shared && len(c.Key) < 32:
		return nil, fmt.Errorf("identity: Config.Key has %d bytes; replicas need a shared key of 32 or more", len(c.Key))
	case c.Shared:
		s.key = c.Key
	default:
		s.key = make([]byte, 32)
		if err := s.read(s.key); err != nil {
			return nil, fmt.Errorf("identity: the form key: %w", err)
		}
	}
	if s.pages, err = web.Templates(); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	s.passwordChecks = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kgsim_identity_password_checks_total",
		Help: "Passwords hashed to check a login (PBKDF2); throttled attempts are refused without one.",
	})
	if c.Registry != nil {
		if err := c.Registry.Register(s.passwordChecks); err != nil {
			return nil, fmt.Errorf("identity: registering the metrics: %w", err)
		}
	}
	return s, nil
}

// Register mounts the unified login page and every tenant's endpoints on r:
//
//	GET  /unified-login/                               the login page (?flow, or ?ind&appId without JavaScript)
//	POST /unified-login/api/login                      its form: appId or flow, username, password, csrf
//	GET  /unified-login/static/{file}                  its styles and script
//	GET  /t/{tenantCode}/api/v1/oauth2/authorize       identity.md §3.1
//	POST /t/{tenantCode}/api/v1/oauth2/token           §3.2
//	GET  /t/{tenantCode}/api/v1/oauth2/userinfo        §3.3
//	GET  /t/{tenantCode}/api/v1/logout                 §3.4
//	GET  /t/{tenantCode}/api/v1/cas/login              §4.1
//	GET  /t/{tenantCode}/api/v1/cas/validate           §4.2, CAS 1.0
//	GET  /t/{tenantCode}/api/v1/cas/serviceValidate    §4.2, CAS 2.0
//	GET  /t/{tenantCode}/api/v1/cas/p3/serviceValidate §4.2, CAS 3.0
//	GET  /t/{tenantCode}/api/v1/cas/logout             §4.3
func (s *Server) Register(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle(strings.TrimSuffix(loginPath, "/"), http.RedirectHandler(loginPath, http.StatusMovedPermanently)).Methods(get...)
	r.Handle(loginPath, http.HandlerFunc(s.loginPage)).Methods(get...)
	r.Handle(loginAction, http.HandlerFunc(s.login)).Methods(http.MethodPost)
	r.PathPrefix(staticPath).Handler(http.StripPrefix(staticPath, web.Static())).Methods(get...)

	t := r.PathPrefix("/t/{tenantCode}/api/v1").Subrouter()
	t.Handle("/oauth2/authorize", http.HandlerFunc(s.authorize)).Methods(get...)
	t.Handle("/oauth2/token", http.HandlerFunc(s.token)).Methods(http.MethodPost)
	t.Handle("/oauth2/userinfo", http.HandlerFunc(s.userinfo)).Methods(get...)
	t.Handle("/logout", http.HandlerFunc(s.logout)).Methods(get...)
	t.Handle("/cas/login", http.HandlerFunc(s.casLogin)).Methods(get...)
	t.Handle("/cas/validate", http.HandlerFunc(s.casValidate1)).Methods(get...)
	t.Handle("/cas/serviceValidate", http.HandlerFunc(s.casServiceValidate)).Methods(get...)
	t.Handle("/cas/p3/serviceValidate", http.HandlerFunc(s.casServiceValidate)).Methods(get...)
	t.Handle("/cas/logout", http.HandlerFunc(s.casLogout)).Methods(get...)
}

// tenant is the tenant whose domain r is addressed to.
func (s *Server) tenant(r *http.Request) (simulator.Tenant, error) {
	code := mux.Vars(r)["tenantCode"]
	t, err := s.store.TenantByCode(r.Context(), code)
	if notFound(err) {
		return t, s.unknownTenant(code)
	}
	return t, err
}

func (s *Server) unknownTenant(code string) error {
	return simulator.Errorf(simulator.ENOTFOUND, "tenantCode",
		"no tenant has the code %q: a tenant's domain is %s/t/{tenantCode}, as tenantSync's domainName says", code, s.base)
}

// Random values. Codes and ticket ids are [A-Za-z0-9] and tokens [a-z0-9]
// (identity.md §2.2, §3.2, §4.1); session ids and form cookies use the
// wider alphabet for the same length.
const (
	alnum      = protocol.Alphanumerics
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
)

func (s *Server) read(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := io.ReadFull(s.random, p)
	return err
}

// randomString returns n characters of alphabet, uniformly.
func (s *Server) randomString(alphabet string, n int) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	text, err := protocol.RandomText(s.random, alphabet, n)
	if err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return text, nil
}

// digest is how a code, token, ticket or session id is stored: whoever
// reads the database cannot use what they find there.
func digest(credential string) string {
	sum := sha256.Sum256([]byte(credential))
	return hex.EncodeToString(sum[:])
}

// sameSecret compares in constant time, whatever the lengths.
func sameSecret(a, b string) bool {
	x, y := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return hmac.Equal(x[:], y[:])
}

// withQuery appends name=value pairs to u's query, in the given order, as
// the callback's "code then tenant" needs (identity.md §2.2): with ? when
// u has no query yet, & otherwise, before any fragment.
func withQuery(u string, pairs ...string) string {
	u, fragment, hasFragment := strings.Cut(u, "#")
	var b strings.Builder
	b.WriteString(u)
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
		if strings.HasSuffix(u, "?") || strings.HasSuffix(u, "&") {
			sep = ""
		}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		b.WriteString(sep)
		b.WriteString(url.QueryEscape(pairs[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(pairs[i+1]))
		sep = "&"
	}
	if hasFragment {
		b.WriteByte('#')
		b.WriteString(fragment)
	}
	return b.String()
}

// notFound reports whether err is the store's ENOTFOUND.
func notFound(err error) bool { return simulator.ErrorCode(err) == simulator.ENOTFOUND }

// internal logs an unexpected failure with what identifies the request,
// never its credentials, and returns the text to show instead.
func (s *Server) internal(r *http.Request, err error) string {
	s.log.ErrorContext(r.Context(), "identity: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return "internal error; the kgsim log has the detail"
}

// errTooLarge tells a body over its bound from other form errors.
func errTooLarge(err error) bool {
	_, ok := errors.AsType[*http.MaxBytesError](err)
	return ok
}

// detached keeps a write going when the client goes away mid-request: a
// code consumed must have its tokens recorded.
func detached(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }
