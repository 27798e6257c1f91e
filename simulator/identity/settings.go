package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// Settings are the identity provider's behaviours that the spec leaves
// open (identity.md §2.2, §3.2, §4.2, §5). The marketplace-wide ones come
// from kgsim serve's flags (Config.Defaults); a tenant may override any of
// them through the admin API (simulator.IdentitySettings).
type Settings struct {
	// EchoState appends the state found in the unified login page's
	// fragment to the callback (default off). A state given to /authorize
	// always comes back.
	EchoState bool
	// CASFormat answers ticket validation when the request names no format:
	// "JSON" (the default, as the marketplace page says) or "XML" (what
	// standard CAS clients such as mod_auth_cas and gopkg.in/cas.v2 read).
	CASFormat string
	// InvalidClientStatus is the status of invalid_client: 403 (the
	// default, after the marketplace FAQ) or 401 (RFC 6749).
	InvalidClientStatus int
	// The lifetimes of codes, access and refresh tokens, CAS tickets and
	// SSO sessions, on the scheduling clock: whole seconds.
	CodeLifetime, AccessLifetime, RefreshLifetime, TicketLifetime, SessionLifetime time.Duration
}

// DefaultSettings are the spec's.
func DefaultSettings() Settings {
	return Settings{CASFormat: "JSON", InvalidClientStatus: http.StatusForbidden, CodeLifetime: CodeLifetime, AccessLifetime: AccessLifetime,
		RefreshLifetime: RefreshLifetime, TicketLifetime: TicketLifetime, SessionLifetime: SessionLifetime}
}

// MaxLifetime bounds every lifetime: a leap year, 366d.
const MaxLifetime = 366 * 24 * time.Hour

// ParseCASFormat reads a CAS format, in any case: JSON or XML.
func ParseCASFormat(v string) (string, error) {
	switch f := strings.ToUpper(v); f {
	case "JSON", "XML":
		return f, nil
	}
	return "", fmt.Errorf("%q: want json or xml", v)
}

// CheckInvalidClientStatus accepts the two statuses invalid_client may have.
func CheckInvalidClientStatus(status int) error {
	if status != http.StatusUnauthorized && status != http.StatusForbidden {
		return fmt.Errorf("%d: want 401 or 403", status)
	}
	return nil
}

// ParseLifetime reads a lifetime as Go writes a duration (300s, 90m, 2h)
// or in whole days (30d): a whole number of seconds from 1 s to
// MaxLifetime. A token's expires_in is in seconds, so nothing finer.
func ParseLifetime(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	}
	if err != nil || checkLifetime(d) != nil {
		return 0, fmt.Errorf("%q: want whole seconds from 1s to 366d, such as 300s, 2h or 30d", v)
	}
	return d, nil
}

func checkLifetime(d time.Duration) error {
	if d%time.Second != 0 || d < time.Second || d > MaxLifetime {
		return fmt.Errorf("%s: want whole seconds from 1s to 366d", d)
	}
	return nil
}

// seconds writes a lifetime as the admin API shows it: 300s.
func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) + "s" }

// complete fills s's zero fields with the spec's defaults and checks the
// others, naming the setting as the admin API does.
func (s Settings) complete() (Settings, error) {
	def := DefaultSettings()
	if s.CASFormat == "" {
		s.CASFormat = def.CASFormat
	}
	f, err := ParseCASFormat(s.CASFormat)
	if err != nil {
		return s, simulator.Errorf(simulator.EINVALID, "casFormat", "%v", err)
	}
	s.CASFormat = f
	if s.InvalidClientStatus == 0 {
		s.InvalidClientStatus = def.InvalidClientStatus
	}
	if err := CheckInvalidClientStatus(s.InvalidClientStatus); err != nil {
		return s, simulator.Errorf(simulator.EINVALID, "invalidClientStatus", "%v", err)
	}
	for i, l := range s.lifetimes() {
		if *l.d == 0 {
			*l.d = *def.lifetimes()[i].d
		}
		if err := checkLifetime(*l.d); err != nil {
			return s, simulator.Errorf(simulator.EINVALID, l.name, "%v", err)
		}
	}
	return s, nil
}

// lifetime is one of the lifetimes with its name in the admin API.
type lifetime struct {
	name string
	d    *time.Duration
}

func (s *Settings) lifetimes() []lifetime {
	return []lifetime{{"codeLifetime", &s.CodeLifetime}, {"accessTokenLifetime", &s.AccessLifetime},
		{"refreshTokenLifetime", &s.RefreshLifetime}, {"ticketLifetime", &s.TicketLifetime}, {"sessionLifetime", &s.SessionLifetime}}
}

// MarshalJSON writes the settings as the admin API shows them, lifetimes
// in seconds ("300s").
func (s Settings) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		EchoState            bool   `json:"echoState"`
		CASFormat            string `json:"casFormat"`
		InvalidClientStatus  int    `json:"invalidClientStatus"`
		CodeLifetime         string `json:"codeLifetime"`
		AccessTokenLifetime  string `json:"accessTokenLifetime"`
		RefreshTokenLifetime string `json:"refreshTokenLifetime"`
		TicketLifetime       string `json:"ticketLifetime"`
		SessionLifetime      string `json:"sessionLifetime"`
	}{s.EchoState, s.CASFormat, s.InvalidClientStatus, seconds(s.CodeLifetime), seconds(s.AccessLifetime), seconds(s.RefreshLifetime),
		seconds(s.TicketLifetime), seconds(s.SessionLifetime)})
}

// with returns s with a tenant's overrides applied.
func (s Settings) with(o simulator.IdentitySettings) Settings {
	if o.EchoState != nil {
		s.EchoState = *o.EchoState
	}
	if o.CASFormat != "" {
		s.CASFormat = o.CASFormat
	}
	if o.InvalidClientStatus != 0 {
		s.InvalidClientStatus = o.InvalidClientStatus
	}
	for i, d := range []time.Duration{o.CodeLifetime, o.AccessLifetime, o.RefreshLifetime, o.TicketLifetime, o.SessionLifetime} {
		if d != 0 {
			*s.lifetimes()[i].d = d
		}
	}
	return s
}

// Overrides is a tenant's settings as the admin API takes them: each
// member absent (or null) leaves the marketplace's default in force.
type Overrides struct {
	EchoState            *bool   `json:"echoState"`
	CASFormat            *string `json:"casFormat"`
	InvalidClientStatus  *int    `json:"invalidClientStatus"`
	CodeLifetime         *string `json:"codeLifetime"`
	AccessTokenLifetime  *string `json:"accessTokenLifetime"`
	RefreshTokenLifetime *string `json:"refreshTokenLifetime"`
	TicketLifetime       *string `json:"ticketLifetime"`
	SessionLifetime      *string `json:"sessionLifetime"`
}

// settings checks o and returns the record of tenantID's overrides.
func (o Overrides) settings(tenantID string) (simulator.IdentitySettings, error) {
	is := simulator.IdentitySettings{TenantID: tenantID, EchoState: o.EchoState}
	if o.CASFormat != nil {
		f, err := ParseCASFormat(*o.CASFormat)
		if err != nil {
			return is, simulator.Errorf(simulator.EINVALID, "casFormat", "%v", err)
		}
		is.CASFormat = f
	}
	if o.InvalidClientStatus != nil {
		if err := CheckInvalidClientStatus(*o.InvalidClientStatus); err != nil {
			return is, simulator.Errorf(simulator.EINVALID, "invalidClientStatus", "%v", err)
		}
		is.InvalidClientStatus = *o.InvalidClientStatus
	}
	for _, l := range []struct {
		name string
		in   *string
		out  *time.Duration
	}{
		{"codeLifetime", o.CodeLifetime, &is.CodeLifetime}, {"accessTokenLifetime", o.AccessTokenLifetime, &is.AccessLifetime},
		{"refreshTokenLifetime", o.RefreshTokenLifetime, &is.RefreshLifetime}, {"ticketLifetime", o.TicketLifetime, &is.TicketLifetime},
		{"sessionLifetime", o.SessionLifetime, &is.SessionLifetime},
	} {
		if l.in == nil {
			continue
		}
		d, err := ParseLifetime(*l.in)
		if err != nil {
			return is, simulator.Errorf(simulator.EINVALID, l.name, "%v", err)
		}
		*l.out = d
	}
	return is, nil
}

// overridden names the settings o sets, in the order Settings shows them.
func overridden(o simulator.IdentitySettings) []string {
	names := []string{}
	for _, set := range []struct {
		name string
		on   bool
	}{
		{"echoState", o.EchoState != nil}, {"casFormat", o.CASFormat != ""}, {"invalidClientStatus", o.InvalidClientStatus != 0},
		{"codeLifetime", o.CodeLifetime != 0}, {"accessTokenLifetime", o.AccessLifetime != 0},
		{"refreshTokenLifetime", o.RefreshLifetime != 0}, {"ticketLifetime", o.TicketLifetime != 0},
		{"sessionLifetime", o.SessionLifetime != 0},
	} {
		if set.on {
			names = append(names, set.name)
		}
	}
	return names
}

// TenantSettings is a tenant's settings as the admin API shows them: what
// is in force, and which of those the tenant overrides.
type TenantSettings struct {
	TenantID   string    `json:"tenantId"`
	Settings   Settings  `json:"settings"`
	Overridden []string  `json:"overridden"`
	UpdatedAt  time.Time `json:"updatedAt,omitzero"`
}

// Defaults are the marketplace-wide settings, kgsim serve's flags.
func (s *Server) Defaults() Settings { return s.defaults }

// TenantSettings returns a tenant's settings.
func (s *Server) TenantSettings(ctx context.Context, tenantID string) (TenantSettings, error) {
	o, err := s.overrides(ctx, s.store, tenantID)
	return TenantSettings{TenantID: tenantID, Settings: s.defaults.with(o), Overridden: overridden(o), UpdatedAt: o.UpdatedAt}, err
}

// SetTenantSettings replaces a tenant's overrides with o, which take
// effect at once. The caller checks the tenant exists.
func (s *Server) SetTenantSettings(ctx context.Context, tenantID string, o Overrides) (TenantSettings, error) {
	is, err := o.settings(tenantID)
	if err != nil {
		return TenantSettings{}, err
	}
	is.UpdatedAt = s.clock.Now()
	c := &s.cache
	// One change at a time, so that the cache ends as the store does;
	// readers never take putMu, so a change waiting for the store holds
	// up no request.
	c.putMu.Lock()
	defer c.putMu.Unlock()
	if err := s.store.PutIdentitySettings(ctx, is); err != nil {
		return TenantSettings{}, err
	}
	c.mu.Lock()
	c.byTenant[tenantID] = is
	c.generation++
	c.mu.Unlock()
	return s.TenantSettings(ctx, tenantID)
}

// settingsCache keeps each tenant's overrides once read, so that the
// token endpoint and userinfo read no more of the store than before:
// only this process writes them (SetTenantSettings), which updates it.
type settingsCache struct {
	putMu      sync.Mutex
	mu         sync.RWMutex
	byTenant   map[string]simulator.IdentitySettings // a zero record for a tenant without overrides
	generation uint64                                // counts changes: a read that raced one is not kept
	off        bool                                  // other processes write them too: read each time
}

// settingsReader is the store, or a transaction of it.
type settingsReader interface {
	IdentitySettings(ctx context.Context, tenantID string) (simulator.IdentitySettings, error)
}

// overrides returns a tenant's overrides, read through q the first time.
func (s *Server) overrides(ctx context.Context, q settingsReader, tenantID string) (simulator.IdentitySettings, error) {
	c := &s.cache
	if c.off {
		o, err := q.IdentitySettings(ctx, tenantID)
		if notFound(err) {
			return simulator.IdentitySettings{}, nil
		}
		return o, err
	}
	c.mu.RLock()
	o, ok := c.byTenant[tenantID]
	generation := c.generation
	c.mu.RUnlock()
	if ok {
		return o, nil
	}
	o, err := q.IdentitySettings(ctx, tenantID)
	if notFound(err) {
		o, err = simulator.IdentitySettings{}, nil
	}
	if err != nil {
		return o, err
	}
	c.mu.Lock()
	if _, known := c.byTenant[tenantID]; !known && c.generation == generation {
		c.byTenant[tenantID] = o
	}
	c.mu.Unlock()
	return o, nil
}

// settings are the settings in force for a tenant, its overrides read
// through q (the transaction a handler runs in, or the store).
func (s *Server) settings(ctx context.Context, q settingsReader, tenantID string) (Settings, error) {
	o, err := s.overrides(ctx, q, tenantID)
	return s.defaults.with(o), err
}
