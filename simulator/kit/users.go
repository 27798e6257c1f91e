package kit

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
)

// Roles of a user in authSync (kit-sync.md §4.3).
const (
	RoleUser  = "user"
	RoleAdmin = "admin" // the enterprise administrator
)

// maxPassword bounds a password: PBKDF2 hashes all of it.
const maxPassword = 256

// AddUser adds a user to a tenant, creating the tenant (with ref as its
// code) when no tenant has ref as its ID or code. The password is stored
// hashed. Empty fields get defaults: Name the UserName, Role user, OrgCode
// the tenant's first department. apps authorises the user for those apps
// (by clientId, or appId), as the enterprise admin would in the buyer
// center: authSync flag 1 goes to each app already bound to the tenant,
// and an app not bound yet is bound as a credential test (setAuthorised).
func (c *Console) AddUser(ctx context.Context, ref string, u simulator.User, password string, apps []string) (simulator.User, []simulator.Message, error) {
	if password == "" {
		return u, nil, simulator.Errorf(simulator.EINVALID, "password", "is required: the user logs in with it")
	}
	sent, err := c.update(ctx, func(t *txn) error {
		tn, err := tenant(ctx, t.tx, ref)
		if simulator.ErrorCode(err) == simulator.ENOTFOUND {
			if !tenantCode.MatchString(ref) {
				return simulator.Errorf(simulator.EINVALID, "tenant", "%q names no tenant, and a new tenant's code must be 1 to 64 letters, digits, - or _", ref)
			}
			tn, err = t.addTenant(simulator.Tenant{Code: ref})
		}
		if err != nil {
			return err
		}
		switch _, err := t.tx.User(ctx, tn.ID, u.UserName); {
		case err == nil:
			return simulator.Errorf(simulator.ECONFLICT, "userName", "%s is a user of tenant %s already", u.UserName, tn.ID)
		case simulator.ErrorCode(err) != simulator.ENOTFOUND:
			return err
		}
		ids := make([]string, len(apps))
		for i, ref := range apps {
			app, err := t.appByClient(tn.ID, ref, fmt.Sprintf("apps[%d]", i))
			if err != nil {
				return err
			}
			ids[i] = app.ID
		}
		u.TenantID, u.CreatedAt = tn.ID, t.now
		if u.ID, err = c.randomHex(16); err != nil {
			return err
		}
		if u, err = t.putUser(u, password); err != nil {
			return err
		}
		for _, id := range ids {
			if err := t.setAuthorised(tn.ID, id, []simulator.User{u}, true); err != nil {
				return err
			}
		}
		return nil
	})
	return u, sent, err
}

// EditUser replaces a user's profile with u's fields (a non-empty
// password replaces the password) and sends authSync flag 2 to every
// bound app the user is authorised for.
func (c *Console) EditUser(ctx context.Context, ref, userName string, u simulator.User, password string) (simulator.User, []simulator.Message, error) {
	sent, err := c.update(ctx, func(t *txn) error {
		old, err := t.user(ref, userName)
		if err != nil {
			return err
		}
		u.TenantID, u.UserName, u.ID, u.PasswordHash, u.CreatedAt = old.TenantID, old.UserName, old.ID, old.PasswordHash, old.CreatedAt
		if u, err = t.putUser(u, password); err != nil {
			return err
		}
		return t.eachAuthorisedApp(u, func(app simulator.App, b simulator.Client) error {
			return t.authSync(app, b, []simulator.User{u}, flagModify, true)
		})
	})
	return u, sent, err
}

// RemoveUser removes a user from its tenant: authSync flag 0 to every
// bound app it was authorised for, and its authorisations go with it.
func (c *Console) RemoveUser(ctx context.Context, ref, userName string) ([]simulator.Message, error) {
	return c.update(ctx, func(t *txn) error {
		u, err := t.user(ref, userName)
		if err != nil {
			return err
		}
		err = t.eachAuthorisedApp(u, func(app simulator.App, b simulator.Client) error {
			return t.authSync(app, b, []simulator.User{u}, flagDelete, false)
		})
		if err != nil {
			return err
		}
		as, err := t.tx.Authorisations(ctx, simulator.AuthorisationFilter{TenantID: u.TenantID, UserName: u.UserName})
		if err != nil {
			return err
		}
		for _, a := range as {
			if err := t.tx.DeleteAuthorisation(ctx, a.TenantID, a.AppID, a.UserName); err != nil {
				return err
			}
		}
		return t.tx.DeleteUser(ctx, u.TenantID, u.UserName)
	})
}

// Grant authorises users of a tenant for an app; authSync flag 1 carries
// those not authorised already, the app bound first if it was not
// (setAuthorised). A user authorised already is left as is: granting
// twice sends nothing more.
func (c *Console) Grant(ctx context.Context, ref, appID string, userNames []string) ([]simulator.Message, error) {
	return c.authorise(ctx, ref, appID, userNames, true)
}

// Revoke cancels users' authorisation for an app ("取消授权"): authSync
// flag 3 carries those that were authorised, if the app is bound.
func (c *Console) Revoke(ctx context.Context, ref, appID string, userNames []string) ([]simulator.Message, error) {
	return c.authorise(ctx, ref, appID, userNames, false)
}

func (c *Console) authorise(ctx context.Context, ref, appID string, userNames []string, enabled bool) ([]simulator.Message, error) {
	return c.update(ctx, func(t *txn) error {
		tn, users, err := t.users(ref, userNames)
		if err != nil {
			return err
		}
		app, err := t.app(appID)
		if err != nil {
			return err
		}
		return t.setAuthorised(tn.ID, app.ID, users, enabled)
	})
}

// setAuthorised sets users' authorisation for an app and, if the app is
// bound to the tenant, sends those whose authorisation changed: authSync
// flag 1 for a grant, 3 for a revocation. A grant for an app the tenant
// has no binding of binds it first, as a credential test (the seller
// center's 申请测试账号: a test tenant whose users log in at once,
// kit-sync.md §7), so that the app's client pair logs them in right away:
// the whole chain goes out, its authSync carrying them.
func (t *txn) setAuthorised(tenantID, appID string, users []simulator.User, enabled bool) error {
	var changed []simulator.User
	for _, u := range users {
		a, err := t.tx.Authorisation(t.ctx, tenantID, appID, u.UserName)
		switch {
		case err == nil && a.Enabled == enabled:
			continue
		case simulator.ErrorCode(err) == simulator.ENOTFOUND && !enabled:
			continue // never authorised: nothing to revoke
		case err != nil && simulator.ErrorCode(err) != simulator.ENOTFOUND:
			return err
		}
		a = simulator.Authorisation{TenantID: tenantID, AppID: appID, UserName: u.UserName, Enabled: enabled, UpdatedAt: t.now}
		if err := t.tx.PutAuthorisation(t.ctx, a); err != nil {
			return err
		}
		changed = append(changed, u)
	}
	flag := flagRevoke
	if enabled {
		flag = flagAdd
	}
	bound := false
	err := t.ifBound(tenantID, appID, func(app simulator.App, b simulator.Client) error {
		bound = true
		return t.authSync(app, b, changed, flag, enabled)
	})
	if err != nil || bound || !enabled || len(changed) == 0 {
		return err
	}
	tn, err := t.tx.Tenant(t.ctx, tenantID)
	if err != nil {
		return err
	}
	app, err := t.tx.App(t.ctx, appID)
	if err != nil {
		return err
	}
	_, err = t.bind(tn, app, Binding{Test: true})
	return err
}

// ifBound calls fn with the app's binding to the tenant, if it has one.
func (t *txn) ifBound(tenantID, appID string, fn func(simulator.App, simulator.Client) error) error {
	b, err := t.tx.Client(t.ctx, tenantID, appID)
	if simulator.ErrorCode(err) == simulator.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	app, err := t.tx.App(t.ctx, appID)
	if err != nil {
		return err
	}
	return fn(app, b)
}

// eachAuthorisedApp calls fn for every bound app u is authorised for.
func (t *txn) eachAuthorisedApp(u simulator.User, fn func(simulator.App, simulator.Client) error) error {
	as, err := t.tx.Authorisations(t.ctx, simulator.AuthorisationFilter{TenantID: u.TenantID, UserName: u.UserName, EnabledOnly: true})
	if err != nil {
		return err
	}
	for _, a := range as {
		if err := t.ifBound(u.TenantID, a.AppID, fn); err != nil {
			return err
		}
	}
	return nil
}

// authorised returns the users authorised for an app in a tenant.
func (t *txn) authorised(tenantID, appID string) ([]simulator.User, error) {
	as, err := t.tx.Authorisations(t.ctx, simulator.AuthorisationFilter{TenantID: tenantID, AppID: appID, EnabledOnly: true})
	if err != nil {
		return nil, err
	}
	users := make([]simulator.User, 0, len(as))
	for _, a := range as {
		u, err := t.tx.User(t.ctx, tenantID, a.UserName)
		if err != nil {
			return nil, fmt.Errorf("authorisation of %s for app %s: %w", a.UserName, appID, err)
		}
		users = append(users, u)
	}
	return users, nil
}

// user reads a tenant's user.
func (t *txn) user(ref, userName string) (simulator.User, error) {
	tn, err := tenant(t.ctx, t.tx, ref)
	if err != nil {
		return simulator.User{}, err
	}
	return t.tx.User(t.ctx, tn.ID, userName)
}

// users reads a tenant and some of its users, each named once.
func (t *txn) users(ref string, names []string) (simulator.Tenant, []simulator.User, error) {
	tn, err := tenant(t.ctx, t.tx, ref)
	if err != nil {
		return tn, nil, err
	}
	if len(names) == 0 {
		return tn, nil, simulator.Errorf(simulator.EINVALID, "userNames", "name at least one user")
	}
	seen := map[string]bool{}
	users := make([]simulator.User, 0, len(names))
	for i, name := range names {
		if seen[name] {
			return tn, nil, simulator.Errorf(simulator.EINVALID, fmt.Sprintf("userNames[%d]", i), "%q is named twice", name)
		}
		seen[name] = true
		u, err := t.tx.User(t.ctx, tn.ID, name)
		if simulator.ErrorCode(err) == simulator.ENOTFOUND {
			return tn, nil, simulator.Errorf(simulator.ENOTFOUND, fmt.Sprintf("userNames[%d]", i), "no user %q in tenant %s", name, tn.ID)
		}
		if err != nil {
			return tn, nil, err
		}
		users = append(users, u)
	}
	return tn, users, nil
}

// appByClient finds an app by the clientId it has in the tenant or as its
// fixed pair, or by its appId; field names ref in the error.
func (t *txn) appByClient(tenantID, ref, field string) (simulator.App, error) {
	if b, err := t.tx.ClientByID(t.ctx, tenantID, ref); err == nil {
		return t.tx.App(t.ctx, b.AppID)
	} else if simulator.ErrorCode(err) != simulator.ENOTFOUND {
		return simulator.App{}, err
	}
	apps, err := t.tx.Apps(t.ctx, simulator.AppFilter{ClientID: ref, Limit: 1})
	if err != nil || len(apps) > 0 {
		if err != nil {
			return simulator.App{}, err
		}
		return apps[0], nil
	}
	app, err := t.tx.App(t.ctx, ref)
	if simulator.ErrorCode(err) == simulator.ENOTFOUND {
		return app, simulator.Errorf(simulator.EINVALID, field, "no app has clientId or appId %q", ref)
	}
	return app, err
}

// putUser checks a user's profile, fills its defaults, hashes a new
// password and stores it.
func (t *txn) putUser(u simulator.User, password string) (simulator.User, error) {
	u.Name = or(u.Name, u.UserName)
	u.Role = or(u.Role, RoleUser)
	for _, f := range []struct {
		field, value string
		max          int
	}{
		{"userName", u.UserName, 64}, {"name", u.Name, 64}, {"orgCode", u.OrgCode, 64}, {"position", u.Position, 64},
		{"employeeCode", u.EmployeeCode, 64}, {"mobile", u.Mobile, 32}, {"email", u.Email, 128},
		{"workPlace", u.WorkPlace, maxName}, {"entryDate", u.EntryDate, 32}, {"password", password, maxPassword},
	} {
		if utf8.RuneCountInString(f.value) > f.max {
			return u, simulator.Errorf(simulator.EINVALID, f.field, "is over %d characters (kit-sync.md §4.3)", f.max)
		}
	}
	switch {
	case u.UserName == "":
		return u, simulator.Errorf(simulator.EINVALID, "userName", "is required: the account the user logs in with")
	case strings.ContainsFunc(u.UserName, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return u, simulator.Errorf(simulator.EINVALID, "userName", "%q holds spaces or control characters", u.UserName)
	case u.Role != RoleUser && u.Role != RoleAdmin:
		return u, simulator.Errorf(simulator.EINVALID, "role", "%q is neither user nor admin", u.Role)
	case u.EmployeeType < 0 || u.EmployeeType > 4:
		return u, simulator.Errorf(simulator.EINVALID, "employeeType", "%d: want 1 regular, 2 intern, 3 dispatched or 4 outsourced (0: none)", u.EmployeeType)
	}
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			return u, simulator.Errorf(simulator.EINVALID, "email", "%q is not an e-mail address such as zhangsan@example.com", u.Email)
		}
	}
	if u.OrgCode == "" {
		ds, err := t.tx.Departments(t.ctx, u.TenantID)
		if err != nil {
			return u, err
		}
		if len(ds) > 0 {
			u.OrgCode = ds[0].OrgCode
		}
	} else if _, err := t.tx.Department(t.ctx, u.TenantID, u.OrgCode); simulator.ErrorCode(err) == simulator.ENOTFOUND {
		return u, simulator.Errorf(simulator.EINVALID, "orgCode", "tenant %s has no department %q; add it first", u.TenantID, u.OrgCode)
	} else if err != nil {
		return u, err
	}
	if password != "" {
		hash, err := simulator.HashPassword(password, t.c.random())
		if err != nil {
			return u, err
		}
		u.PasswordHash = hash
	}
	u.UpdatedAt = t.now
	return u, t.tx.PutUser(t.ctx, u)
}
