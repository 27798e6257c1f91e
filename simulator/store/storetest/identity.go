package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// The identity provider's records: round trips, upserts that keep a
// record's place, the keys that must be unique, and listings.

// code fails the test unless err has the error code want.
func code(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := simulator.ErrorCode(err); got != want {
		t.Errorf("%s: err = %v (%q), want %s", what, err, got, want)
	}
}

// count returns how many records a listing returned.
func count[T any](records []T, err error) (int, error) {
	return len(records), err
}

// equal fails the test unless a read returned want.
func equal[T any](t *testing.T, what string, got T, err error, want T) {
	t.Helper()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s\n got %+v, %v\nwant %+v", what, got, err, want)
	}
}

func tenantRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	full := simulator.Tenant{
		ID: "0123456789abcdef0123456789abcdef", Code: "acme", Name: "华为测试企业", DomainName: "https://acme.tenantaccount.example",
		CreatedAt: t0.In(shanghai), UpdatedAt: t0.Add(time.Second),
	}
	bare := simulator.Tenant{ID: "T2", Code: "bare"}
	check(t, s.PutTenant(ctx, full))
	check(t, s.PutTenant(ctx, bare))
	got, err := s.Tenant(ctx, full.ID)
	equal(t, "tenant by ID", got, err, inUTC(full))
	got, err = s.TenantByCode(ctx, "bare")
	equal(t, "tenant by code", got, err, bare)
	// Renamed and moved to another code: the upsert keeps its place.
	full.Name, full.Code, full.UpdatedAt = "Renamed", "acme2", t0.Add(time.Hour)
	check(t, s.PutTenant(ctx, full))
	_, err = s.TenantByCode(ctx, "acme")
	notFound(t, "the tenant's old code", err)
	all, err := s.Tenants(ctx)
	equal(t, "tenants, in the order first stored", all, err, []simulator.Tenant{inUTC(full), bare})
	// A code is one tenant's: another tenant with it is refused, and the
	// first stays as it was.
	code(t, "a second tenant with code bare", s.PutTenant(ctx, simulator.Tenant{ID: "T3", Code: "bare"}), simulator.ECONFLICT)
	code(t, "tenant T2 taking acme2", s.PutTenant(ctx, simulator.Tenant{ID: "T2", Code: "acme2"}), simulator.ECONFLICT)
	all, err = s.Tenants(ctx)
	equal(t, "tenants after the refused writes", all, err, []simulator.Tenant{inUTC(full), bare})
	code(t, "a tenant without an ID", s.PutTenant(ctx, simulator.Tenant{Code: "x"}), simulator.EINVALID)
	code(t, "a tenant without a code", s.PutTenant(ctx, simulator.Tenant{ID: "T4"}), simulator.EINVALID)
}

func appRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	full := simulator.App{
		ID: "app-1", Name: "企业网盘", ProductID: "P1", ClientID: "fixed-client", ClientSecret: "fixed-secret",
		RedirectURIs: []string{"https://isv.example.com/callback", "https://isv.example.com/cb?x=1&y=2"},
		CASServices:  []string{"https://isv.example.com/cas"},
		PublicKeyPEM: "-----BEGIN PUBLIC KEY-----\nMIIBojAN\n-----END PUBLIC KEY-----\n",
		KitURL:       "https://isv.example.com/kit", KitKey: "kit-secret", CreatedAt: t0.In(shanghai),
	}
	// Empty lists stay empty, absent ones absent.
	empty := simulator.App{ID: "app-2", ProductID: "P1", RedirectURIs: []string{}, CASServices: []string{}}
	bare := simulator.App{ID: "app-3", ProductID: "P2"}
	for _, a := range []simulator.App{full, empty, bare} {
		check(t, s.PutApp(ctx, a))
		got, err := s.App(ctx, a.ID)
		equal(t, "app "+a.ID+" (the secret and kit key kept)", got, err, inUTC(a))
	}
	full.RedirectURIs, full.ClientSecret = []string{"https://isv.example.com/new"}, "rotated"
	check(t, s.PutApp(ctx, full))
	tests := []struct {
		name string
		f    simulator.AppFilter
		want []simulator.App
	}{
		{"all, in the order first stored", simulator.AppFilter{}, []simulator.App{inUTC(full), empty, bare}},
		{"product", simulator.AppFilter{ProductID: "P1"}, []simulator.App{inUTC(full), empty}},
		{"client", simulator.AppFilter{ClientID: "fixed-client"}, []simulator.App{inUTC(full)}},
		{"limit", simulator.AppFilter{Limit: 1}, []simulator.App{inUTC(full)}},
		{"nothing matches", simulator.AppFilter{ProductID: "P2", ClientID: "fixed-client"}, nil},
	}
	for _, tt := range tests {
		got, err := s.Apps(ctx, tt.f)
		equal(t, "apps: "+tt.name, got, err, tt.want)
	}
	code(t, "an app without an ID", s.PutApp(ctx, simulator.App{Name: "x"}), simulator.EINVALID)
}

func client(tenantID, appID, clientID string) simulator.Client {
	return simulator.Client{
		TenantID: tenantID, AppID: appID, ClientID: clientID, ClientSecret: "secret-" + clientID,
		InstanceID: "i-" + tenantID, OrderID: "CS-" + tenantID, CreatedAt: t0,
	}
}

// A client is found by (tenant, app) and by (tenant, clientId); a clientId
// is unique in its tenant, not across tenants (an app whose pair the admin
// fixed has it in every tenant).
func clientRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	c1 := client("T1", "A1", "cid-1")
	c1.Test, c1.RotatedAt, c1.CreatedAt = true, t0.Add(time.Hour).In(shanghai), t0.In(shanghai)
	credentialTest := simulator.Client{TenantID: "T1", AppID: "A2", ClientID: "cid-2", ClientSecret: "s2", Test: true}
	shared := client("T2", "A1", "cid-1")
	for _, c := range []simulator.Client{c1, credentialTest, shared} {
		check(t, s.PutClient(ctx, c))
	}
	got, err := s.Client(ctx, "T1", "A1")
	equal(t, "client of A1 in T1", got, err, inUTC(c1))
	got, err = s.ClientByID(ctx, "T1", "cid-1")
	equal(t, "client cid-1 in T1", got, err, inUTC(c1))
	got, err = s.ClientByID(ctx, "T2", "cid-1")
	equal(t, "client cid-1 in T2", got, err, shared)
	got, err = s.Client(ctx, "T1", "A2")
	equal(t, "a credential test's client", got, err, credentialTest)
	_, err = s.ClientByID(ctx, "T3", "cid-1")
	notFound(t, "cid-1 in a tenant it is not bound to", err)
	_, err = s.Client(ctx, "T2", "A2")
	notFound(t, "A2 in T2", err)

	// The secret rotated: same client, same place.
	rotated := c1
	rotated.ClientSecret, rotated.RotatedAt = "new-secret", t0.Add(2*time.Hour)
	check(t, s.PutClient(ctx, rotated))
	got, err = s.ClientByID(ctx, "T1", "cid-1")
	equal(t, "client after rotating its secret", got, err, inUTC(rotated))
	code(t, "A2 in T1 taking A1's clientId", s.PutClient(ctx, client("T1", "A2", "cid-1")), simulator.ECONFLICT)
	got, err = s.Client(ctx, "T1", "A2")
	equal(t, "A2's client after the refused write", got, err, credentialTest)

	tests := []struct {
		name string
		f    simulator.ClientFilter
		want []simulator.Client
	}{
		{"all, in the order first stored", simulator.ClientFilter{}, []simulator.Client{inUTC(rotated), credentialTest, shared}},
		{"tenant", simulator.ClientFilter{TenantID: "T1"}, []simulator.Client{inUTC(rotated), credentialTest}},
		{"app", simulator.ClientFilter{AppID: "A1"}, []simulator.Client{inUTC(rotated), shared}},
		{"tenant and app", simulator.ClientFilter{TenantID: "T2", AppID: "A1"}, []simulator.Client{shared}},
		{"limit", simulator.ClientFilter{Limit: 2}, []simulator.Client{inUTC(rotated), credentialTest}},
		{"nothing matches", simulator.ClientFilter{TenantID: "T2", AppID: "A2"}, nil},
	}
	for _, tt := range tests {
		got, err := s.Clients(ctx, tt.f)
		equal(t, "clients: "+tt.name, got, err, tt.want)
	}

	// Unbound: the pair no longer authenticates, and the clientId is free.
	check(t, s.DeleteClient(ctx, "T1", "A1"))
	_, err = s.ClientByID(ctx, "T1", "cid-1")
	notFound(t, "cid-1 in T1 after unbinding", err)
	_, err = s.Client(ctx, "T1", "A1")
	notFound(t, "A1 in T1 after unbinding", err)
	notFound(t, "unbinding again", s.DeleteClient(ctx, "T1", "A1"))
	check(t, s.PutClient(ctx, client("T1", "A3", "cid-1")))

	for _, c := range []simulator.Client{
		{AppID: "A", ClientID: "c", ClientSecret: "s"}, {TenantID: "T", ClientID: "c", ClientSecret: "s"},
		{TenantID: "T", AppID: "A", ClientSecret: "s"}, {TenantID: "T", AppID: "A", ClientID: "c"},
	} {
		code(t, "a client without one of its fields", s.PutClient(ctx, c), simulator.EINVALID)
	}
}

func user(tenantID, userName, orgCode string) simulator.User {
	return simulator.User{
		TenantID: tenantID, UserName: userName, ID: "u-" + tenantID + "-" + userName, PasswordHash: "hash-" + userName,
		Name: "Name " + userName, Role: "user", OrgCode: orgCode, CreatedAt: t0, UpdatedAt: t0,
	}
}

func userRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	full := simulator.User{
		TenantID: "T1", UserName: "zhangsan", ID: "u-1", PasswordHash: "pbkdf2-sha256$1$c2FsdA$a2V5", Name: "张三",
		Email: "zs@example.com", Mobile: "13800000000", Role: "admin", OrgCode: "D1", Position: "经理", EmployeeCode: "E001",
		EmployeeType: 2, WorkPlace: "深圳", EntryDate: "2024-3-1", CreatedAt: t0.In(shanghai), UpdatedAt: t0.Add(time.Minute),
	}
	bare := simulator.User{TenantID: "T1", UserName: "bare"}
	check(t, s.PutUser(ctx, full))
	check(t, s.PutUser(ctx, bare))
	got, err := s.User(ctx, "T1", "zhangsan")
	equal(t, "user", got, err, inUTC(full))
	got, err = s.User(ctx, "T1", "bare")
	equal(t, "user with only its key", got, err, bare)
	_, err = s.User(ctx, "T2", "zhangsan")
	notFound(t, "zhangsan in another tenant", err)

	full.Email, full.OrgCode, full.PasswordHash = "", "D2", "new-hash"
	check(t, s.PutUser(ctx, full))
	got, err = s.User(ctx, "T1", "zhangsan")
	equal(t, "user after an upsert", got, err, inUTC(full))

	// The same name in another tenant is another user.
	other := user("T2", "zhangsan", "D2")
	check(t, s.PutUser(ctx, other))
	check(t, s.PutUser(ctx, user("T2", "lisi", "D1")))
	tests := []struct {
		name string
		f    simulator.UserFilter
		want []string
	}{
		{"all, in the order first stored", simulator.UserFilter{}, []string{"T1/zhangsan", "T1/bare", "T2/zhangsan", "T2/lisi"}},
		{"tenant", simulator.UserFilter{TenantID: "T2"}, []string{"T2/zhangsan", "T2/lisi"}},
		{"name across tenants", simulator.UserFilter{UserName: "zhangsan"}, []string{"T1/zhangsan", "T2/zhangsan"}},
		{"department", simulator.UserFilter{OrgCode: "D2"}, []string{"T1/zhangsan", "T2/zhangsan"}},
		{"department in a tenant", simulator.UserFilter{TenantID: "T2", OrgCode: "D2"}, []string{"T2/zhangsan"}},
		{"limit", simulator.UserFilter{Limit: 1}, []string{"T1/zhangsan"}},
		{"nothing matches", simulator.UserFilter{TenantID: "T1", OrgCode: "D1"}, nil},
	}
	for _, tt := range tests {
		us, err := s.Users(ctx, tt.f)
		same(t, "users: "+tt.name, keys(us, func(u simulator.User) string { return u.TenantID + "/" + u.UserName }), err, tt.want...)
	}

	check(t, s.DeleteUser(ctx, "T2", "zhangsan"))
	_, err = s.User(ctx, "T2", "zhangsan")
	notFound(t, "a deleted user", err)
	notFound(t, "deleting a user again", s.DeleteUser(ctx, "T2", "zhangsan"))
	got, err = s.User(ctx, "T1", "zhangsan")
	equal(t, "the namesake in the other tenant", got, err, inUTC(full))
	code(t, "a user without a tenant", s.PutUser(ctx, simulator.User{UserName: "x"}), simulator.EINVALID)
	code(t, "a user without a name", s.PutUser(ctx, simulator.User{TenantID: "T1"}), simulator.EINVALID)
}

func authorisations(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	grant := func(tenantID, appID, userName string, enabled bool) simulator.Authorisation {
		return simulator.Authorisation{TenantID: tenantID, AppID: appID, UserName: userName, Enabled: enabled, UpdatedAt: t0}
	}
	for _, a := range []simulator.Authorisation{
		grant("T1", "A1", "zhangsan", true), grant("T1", "A1", "lisi", true), grant("T1", "A2", "zhangsan", true), grant("T2", "A1", "zhangsan", true),
	} {
		check(t, s.PutAuthorisation(ctx, a))
	}
	// Revoked (authSync flag 3): kept, disabled, in its place.
	revoked := grant("T1", "A1", "lisi", false)
	revoked.UpdatedAt = t0.Add(time.Hour).In(shanghai)
	check(t, s.PutAuthorisation(ctx, revoked))
	got, err := s.Authorisation(ctx, "T1", "A1", "lisi")
	equal(t, "a revoked authorisation", got, err, inUTC(revoked))
	_, err = s.Authorisation(ctx, "T1", "A2", "lisi")
	notFound(t, "lisi for A2", err)

	tests := []struct {
		name string
		f    simulator.AuthorisationFilter
		want []string
	}{
		{"all", simulator.AuthorisationFilter{}, []string{"T1/A1/zhangsan", "T1/A1/lisi", "T1/A2/zhangsan", "T2/A1/zhangsan"}},
		{"tenant and app", simulator.AuthorisationFilter{TenantID: "T1", AppID: "A1"}, []string{"T1/A1/zhangsan", "T1/A1/lisi"}},
		{"enabled only", simulator.AuthorisationFilter{TenantID: "T1", AppID: "A1", EnabledOnly: true}, []string{"T1/A1/zhangsan"}},
		{"a user's apps", simulator.AuthorisationFilter{TenantID: "T1", UserName: "zhangsan"}, []string{"T1/A1/zhangsan", "T1/A2/zhangsan"}},
		{"app across tenants", simulator.AuthorisationFilter{AppID: "A1", UserName: "zhangsan"}, []string{"T1/A1/zhangsan", "T2/A1/zhangsan"}},
		{"limit", simulator.AuthorisationFilter{Limit: 3, EnabledOnly: true}, []string{"T1/A1/zhangsan", "T1/A2/zhangsan", "T2/A1/zhangsan"}},
		{"nothing matches", simulator.AuthorisationFilter{UserName: "lisi", EnabledOnly: true}, nil},
	}
	for _, tt := range tests {
		as, err := s.Authorisations(ctx, tt.f)
		same(t, "authorisations: "+tt.name, keys(as, func(a simulator.Authorisation) string { return a.TenantID + "/" + a.AppID + "/" + a.UserName }),
			err, tt.want...)
	}
	check(t, s.DeleteAuthorisation(ctx, "T1", "A1", "zhangsan"))
	_, err = s.Authorisation(ctx, "T1", "A1", "zhangsan")
	notFound(t, "a deleted authorisation", err)
	notFound(t, "deleting it again", s.DeleteAuthorisation(ctx, "T1", "A1", "zhangsan"))
	if a, err := s.Authorisation(ctx, "T1", "A2", "zhangsan"); err != nil || !a.Enabled {
		t.Errorf("zhangsan's other authorisation = %+v, %v; want it untouched", a, err)
	}
	code(t, "an authorisation without an app", s.PutAuthorisation(ctx, simulator.Authorisation{TenantID: "T1", UserName: "x"}), simulator.EINVALID)
}

func departments(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	root := simulator.Department{TenantID: "T1", OrgCode: "D0", Name: "总部", CreatedAt: t0.In(shanghai)}
	child := simulator.Department{TenantID: "T1", OrgCode: "D1", Name: "研发部", ParentCode: "D0", CreatedAt: t0}
	elsewhere := simulator.Department{TenantID: "T2", OrgCode: "D0", Name: "Other HQ"}
	for _, d := range []simulator.Department{root, child, elsewhere} {
		check(t, s.PutDepartment(ctx, d))
	}
	got, err := s.Department(ctx, "T1", "D1")
	equal(t, "department", got, err, child)
	child.Name, child.ParentCode = "研发中心", ""
	check(t, s.PutDepartment(ctx, child))
	all, err := s.Departments(ctx, "T1")
	equal(t, "T1's departments, in the order first stored", all, err, []simulator.Department{inUTC(root), child})
	all, err = s.Departments(ctx, "T3")
	equal(t, "a tenant without departments", all, err, nil)
	check(t, s.DeleteDepartment(ctx, "T1", "D0"))
	_, err = s.Department(ctx, "T1", "D0")
	notFound(t, "a deleted department", err)
	notFound(t, "deleting it again", s.DeleteDepartment(ctx, "T1", "D0"))
	got, err = s.Department(ctx, "T2", "D0")
	equal(t, "the other tenant's department with the same code", got, err, elsewhere)
	code(t, "a department without a code", s.PutDepartment(ctx, simulator.Department{TenantID: "T1"}), simulator.EINVALID)
}

func sessions(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	ss := simulator.Session{ID: "sso-1", TenantID: "T1", UserName: "zhangsan", AppID: "A1", CreatedAt: t0.In(shanghai), ExpiresAt: t0.Add(8 * time.Hour)}
	check(t, s.PutSession(ctx, ss))
	got, err := s.Session(ctx, "sso-1")
	equal(t, "session", got, err, inUTC(ss))
	ss.AppID = "A2"
	check(t, s.PutSession(ctx, ss))
	got, err = s.Session(ctx, "sso-1")
	equal(t, "session after logging in to another app", got, err, inUTC(ss))
	check(t, s.DeleteSession(ctx, "sso-1"))
	_, err = s.Session(ctx, "sso-1")
	notFound(t, "an ended session", err)
	notFound(t, "ending it again", s.DeleteSession(ctx, "sso-1"))
	code(t, "a session without an ID", s.PutSession(ctx, simulator.Session{TenantID: "T1"}), simulator.EINVALID)
}

// unknownIdentityRecords: every read of a missing record is ENOTFOUND.
func unknownIdentityRecords(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	reads := map[string]func() error{
		"Tenant":         func() error { _, err := s.Tenant(ctx, "x"); return err },
		"TenantByCode":   func() error { _, err := s.TenantByCode(ctx, "x"); return err },
		"App":            func() error { _, err := s.App(ctx, "x"); return err },
		"Client":         func() error { _, err := s.Client(ctx, "x", "y"); return err },
		"ClientByID":     func() error { _, err := s.ClientByID(ctx, "x", "y"); return err },
		"User":           func() error { _, err := s.User(ctx, "x", "y"); return err },
		"Authorisation":  func() error { _, err := s.Authorisation(ctx, "x", "y", "z"); return err },
		"Department":     func() error { _, err := s.Department(ctx, "x", "y"); return err },
		"Code":           func() error { _, err := s.Code(ctx, "x"); return err },
		"TokenByAccess":  func() error { _, err := s.TokenByAccess(ctx, "x"); return err },
		"TokenByRefresh": func() error { _, err := s.TokenByRefresh(ctx, "x"); return err },
		"Ticket":         func() error { _, err := s.Ticket(ctx, "x"); return err },
		"Session":        func() error { _, err := s.Session(ctx, "x"); return err },
		"ConsumeCode":    func() error { _, err := s.ConsumeCode(ctx, "x", t0); return err },
		"ConsumeRefresh": func() error { _, err := s.ConsumeRefresh(ctx, "x", t0); return err },
		"ConsumeTicket":  func() error { _, err := s.ConsumeTicket(ctx, "x", t0); return err },
	}
	for name, read := range reads {
		notFound(t, name, read())
	}
	for name, list := range map[string]func() (int, error){
		"Tenants":        func() (int, error) { return count(s.Tenants(ctx)) },
		"Apps":           func() (int, error) { return count(s.Apps(ctx, simulator.AppFilter{})) },
		"Clients":        func() (int, error) { return count(s.Clients(ctx, simulator.ClientFilter{})) },
		"Users":          func() (int, error) { return count(s.Users(ctx, simulator.UserFilter{})) },
		"Authorisations": func() (int, error) { return count(s.Authorisations(ctx, simulator.AuthorisationFilter{})) },
		"Tokens":         func() (int, error) { return count(s.Tokens(ctx, simulator.TokenFilter{})) },
	} {
		if n, err := list(); err != nil || n != 0 {
			t.Errorf("%s of an empty store: %d records, %v", name, n, err)
		}
	}
	for name, list := range map[string]func() error{
		"Apps":           func() error { _, err := s.Apps(ctx, simulator.AppFilter{Limit: -1}); return err },
		"Clients":        func() error { _, err := s.Clients(ctx, simulator.ClientFilter{Limit: -1}); return err },
		"Users":          func() error { _, err := s.Users(ctx, simulator.UserFilter{Limit: -1}); return err },
		"Authorisations": func() error { _, err := s.Authorisations(ctx, simulator.AuthorisationFilter{Limit: -1}); return err },
		"Tokens":         func() error { _, err := s.Tokens(ctx, simulator.TokenFilter{Limit: -1}); return err },
	} {
		code(t, name+" with a negative limit", list(), simulator.EINVALID)
	}
}
