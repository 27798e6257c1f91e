package kit

import (
	"context"
	"regexp"
	"unicode/utf8"

	"github.com/kgsim/kgsim/simulator"
)

// tenantCode is what a tenant code may hold: it is a path segment of the
// tenant's identity domain, {simBase}/t/{tenantCode}.
var tenantCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// AddTenant creates a buyer's enterprise with a top-level department of
// the same code and name, the one its users belong to unless given
// another. An empty ID gets 32 random hex digits; an empty Name is the
// Code.
func (c *Console) AddTenant(ctx context.Context, tn simulator.Tenant) (simulator.Tenant, error) {
	_, err := c.update(ctx, func(t *txn) error {
		var err error
		tn, err = t.addTenant(tn)
		return err
	})
	return tn, err
}

func (t *txn) addTenant(tn simulator.Tenant) (simulator.Tenant, error) {
	switch {
	case !tenantCode.MatchString(tn.Code):
		return tn, simulator.Errorf(simulator.EINVALID, "tenantCode", "%q: want 1 to 64 letters, digits, - or _, starting with a letter or digit", tn.Code)
	case utf8.RuneCountInString(tn.ID) > maxID:
		return tn, simulator.Errorf(simulator.EINVALID, "tenantId", "is over %d characters", maxID)
	case utf8.RuneCountInString(tn.Name) > maxName:
		return tn, simulator.Errorf(simulator.EINVALID, "name", "is over %d characters", maxName)
	}
	if tn.DomainName != "" {
		if err := absoluteURL("domainName", tn.DomainName); err != nil {
			return tn, err
		}
	}
	if tn.ID == "" {
		id, err := t.c.randomHex(16)
		if err != nil {
			return tn, err
		}
		tn.ID = id
	}
	if tn.Name == "" {
		tn.Name = tn.Code
	}
	for _, ref := range []string{tn.ID, tn.Code} {
		switch other, err := tenant(t.ctx, t.tx, ref); {
		case err == nil:
			return tn, simulator.Errorf(simulator.ECONFLICT, "tenant", "%q is tenant %s (code %s) already", ref, other.ID, other.Code)
		case simulator.ErrorCode(err) != simulator.ENOTFOUND:
			return tn, err
		}
	}
	tn.CreatedAt, tn.UpdatedAt = t.now, t.now
	if err := t.tx.PutTenant(t.ctx, tn); err != nil {
		return tn, err
	}
	return tn, t.tx.PutDepartment(t.ctx, simulator.Department{TenantID: tn.ID, OrgCode: tn.Code, Name: tn.Name, CreatedAt: t.now})
}

// RenameTenant changes an enterprise's name or identity domain (an empty
// value keeps it) and sends tenantSync flag 2 to every app bound to it
// when something changed.
func (c *Console) RenameTenant(ctx context.Context, ref, name, domainName string) (simulator.Tenant, []simulator.Message, error) {
	var tn simulator.Tenant
	sent, err := c.update(ctx, func(t *txn) error {
		var err error
		if tn, err = tenant(ctx, t.tx, ref); err != nil {
			return err
		}
		if utf8.RuneCountInString(name) > maxName {
			return simulator.Errorf(simulator.EINVALID, "name", "is over %d characters", maxName)
		}
		if domainName != "" {
			if err := absoluteURL("domainName", domainName); err != nil {
				return err
			}
		}
		before := tn
		tn.Name, tn.DomainName = or(name, tn.Name), or(domainName, tn.DomainName)
		if tn == before {
			return nil
		}
		tn.UpdatedAt = t.now
		if err := t.tx.PutTenant(ctx, tn); err != nil {
			return err
		}
		return t.eachBinding(tn.ID, func(app simulator.App, b simulator.Client) error {
			return t.tenantSync(app, b, tn, flagModify)
		})
	})
	return tn, sent, err
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// eachBinding calls fn for every app bound to the tenant, in the order
// they were bound.
func (t *txn) eachBinding(tenantID string, fn func(simulator.App, simulator.Client) error) error {
	bs, err := t.tx.Clients(t.ctx, simulator.ClientFilter{TenantID: tenantID})
	if err != nil {
		return err
	}
	for _, b := range bs {
		app, err := t.tx.App(t.ctx, b.AppID)
		if err != nil {
			return err
		}
		if err := fn(app, b); err != nil {
			return err
		}
	}
	return nil
}

// Binding is a buyer binding an app to its enterprise after buying it
// (联营服务 > 企业管理), or a seller's credential test.
type Binding struct {
	Tenant string // tenantId or tenantCode
	AppID  string
	// InstanceID and OrderID are the purchase; both empty for a credential
	// test, which always carries testFlag 1.
	InstanceID, OrderID string
	Test                bool // testFlag 1: debug data
	// UserNames are users of the tenant the buyer authorises in the same
	// step: the binding's authSync carries them with those authorised
	// before (kit-sync.md §7, "initially authorised users").
	UserNames []string
}

// Bind binds an app to a tenant: the binding's client pair is the app's
// fixed one or a new one, and tenantSync (flag 1), applicationSync (flag
// 1), allOrgSync and, if users are authorised already, authSync (flag 1)
// go to the merchant in this order (kit-sync.md §7). An app already bound
// to the tenant is a conflict.
func (c *Console) Bind(ctx context.Context, in Binding) (simulator.Client, []simulator.Message, error) {
	var b simulator.Client
	sent, err := c.update(ctx, func(t *txn) error {
		tn, err := tenant(ctx, t.tx, in.Tenant)
		if err != nil {
			return err
		}
		app, err := t.app(in.AppID)
		if err != nil {
			return err
		}
		switch old, err := t.tx.Client(ctx, tn.ID, app.ID); {
		case err == nil && old.InstanceID == "" && in.InstanceID != "":
			return simulator.Errorf(simulator.ECONFLICT, "appId", "app %s is bound to tenant %s already as a credential test "+
				"(testFlag 1, no instance): authorising a user for an app the tenant has no binding of binds it so; "+
				"unbind it (DELETE /admin/v1/tenants/%s/apps/%s) and bind it for the purchase, naming the users to authorise in userNames",
				app.ID, tn.ID, tn.ID, app.ID)
		case err == nil:
			return simulator.Errorf(simulator.ECONFLICT, "appId", "app %s is bound to tenant %s already (instance %q); unbind it first", app.ID, tn.ID, old.InstanceID)
		case simulator.ErrorCode(err) != simulator.ENOTFOUND:
			return err
		}
		if utf8.RuneCountInString(in.InstanceID) > maxID {
			return simulator.Errorf(simulator.EINVALID, "instanceId", "is over %d characters", maxID)
		}
		if utf8.RuneCountInString(in.OrderID) > maxID {
			return simulator.Errorf(simulator.EINVALID, "orderId", "is over %d characters", maxID)
		}
		if len(in.UserNames) > 0 {
			_, users, err := t.users(tn.ID, in.UserNames)
			if err != nil {
				return err
			}
			for _, u := range users {
				a := simulator.Authorisation{TenantID: tn.ID, AppID: app.ID, UserName: u.UserName, Enabled: true, UpdatedAt: t.now}
				if err := t.tx.PutAuthorisation(ctx, a); err != nil {
					return err
				}
			}
		}
		b, err = t.bind(tn, app, in)
		return err
	})
	return b, sent, err
}

// bind stores the binding of app to tn and queues its chain: tenantSync,
// applicationSync, allOrgSync, and authSync for the users authorised
// already.
func (t *txn) bind(tn simulator.Tenant, app simulator.App, in Binding) (simulator.Client, error) {
	b := simulator.Client{
		TenantID: tn.ID, AppID: app.ID, ClientID: app.ClientID, ClientSecret: app.ClientSecret,
		InstanceID: in.InstanceID, OrderID: in.OrderID, Test: in.Test || in.InstanceID == "", CreatedAt: t.now,
	}
	var err error
	if b.ClientID == "" {
		if b.ClientID, err = t.c.randomHex(16); err != nil {
			return b, err
		}
		if b.ClientSecret, err = t.c.randomSecret(); err != nil {
			return b, err
		}
	}
	if err := t.tx.PutClient(t.ctx, b); err != nil {
		return b, err
	}
	if err := t.tenantSync(app, b, tn, flagAdd); err != nil {
		return b, err
	}
	if err := t.applicationSync(app, b, flagAdd); err != nil {
		return b, err
	}
	ds, err := t.tx.Departments(t.ctx, tn.ID)
	if err != nil {
		return b, err
	}
	if err := t.allOrgSync(app, b, ds); err != nil {
		return b, err
	}
	users, err := t.authorised(tn.ID, app.ID)
	if err != nil {
		return b, err
	}
	return b, t.authSync(app, b, users, flagAdd, true)
}

// Unbind releases an app from a tenant: applicationSync flag 0, then
// tenantSync flag 0 [SIM order], and the binding's client pair stops
// working. The users' authorisations stay, for a later binding.
func (c *Console) Unbind(ctx context.Context, ref, appID string) ([]simulator.Message, error) {
	return c.update(ctx, func(t *txn) error {
		tn, app, b, err := t.binding(ref, appID)
		if err != nil {
			return err
		}
		if err := t.applicationSync(app, b, flagDelete); err != nil {
			return err
		}
		if err := t.tenantSync(app, b, tn, flagDelete); err != nil {
			return err
		}
		return t.tx.DeleteClient(ctx, b.TenantID, b.AppID)
	})
}

// RotateSecret gives a binding a new client secret, sent in
// applicationSync flag 2; the old one stops working at once.
func (c *Console) RotateSecret(ctx context.Context, ref, appID string) (simulator.Client, []simulator.Message, error) {
	var b simulator.Client
	sent, err := c.update(ctx, func(t *txn) error {
		var app simulator.App
		var err error
		if _, app, b, err = t.binding(ref, appID); err != nil {
			return err
		}
		if b.ClientSecret, err = c.randomSecret(); err != nil {
			return err
		}
		b.RotatedAt = t.now
		if err := t.tx.PutClient(ctx, b); err != nil {
			return err
		}
		return t.applicationSync(app, b, flagModify)
	})
	return b, sent, err
}

func (t *txn) app(id string) (simulator.App, error) {
	if id == "" {
		return simulator.App{}, simulator.Errorf(simulator.EINVALID, "appId", "is required")
	}
	return t.tx.App(t.ctx, id)
}

// binding reads a tenant, an app and the binding between them.
func (t *txn) binding(ref, appID string) (simulator.Tenant, simulator.App, simulator.Client, error) {
	tn, err := tenant(t.ctx, t.tx, ref)
	if err != nil {
		return tn, simulator.App{}, simulator.Client{}, err
	}
	app, err := t.app(appID)
	if err != nil {
		return tn, app, simulator.Client{}, err
	}
	b, err := t.tx.Client(t.ctx, tn.ID, app.ID)
	if simulator.ErrorCode(err) == simulator.ENOTFOUND {
		err = simulator.Errorf(simulator.ENOTFOUND, "appId", "app %s is not bound to tenant %s", app.ID, tn.ID)
	}
	return tn, app, b, err
}
