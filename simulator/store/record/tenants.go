package record

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

const tenantColumns = `id, code, name, domain_name, created_at, updated_at`

const (
	putTenant = `INSERT INTO tenants (` + tenantColumns + `) VALUES (?,?,?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, domain_name = excluded.domain_name,
		created_at = excluded.created_at, updated_at = excluded.updated_at`
	selectTenant       = `SELECT ` + tenantColumns + ` FROM tenants WHERE id = ?`
	selectTenantByCode = `SELECT ` + tenantColumns + ` FROM tenants WHERE code = ?`
)

// PutTenant stores a tenant, replacing the one with its ID. A Code another
// tenant has is an ECONFLICT.
func (tb Tables) PutTenant(ctx context.Context, t simulator.Tenant) error {
	if err := required("a tenant", "tenantId", t.ID, "tenantCode", t.Code); err != nil {
		return err
	}
	return tb.c.ExecUnique(ctx, simulator.Errorf(simulator.ECONFLICT, "tenantCode", "%s belongs to another tenant; a tenant code is unique", t.Code),
		putTenant, t.ID, t.Code, t.Name, t.DomainName, Nanos(t.CreatedAt), Nanos(t.UpdatedAt))
}

func scanTenant(r Row) (simulator.Tenant, error) {
	var t simulator.Tenant
	var created, updated int64
	err := r.Scan(&t.ID, &t.Code, &t.Name, &t.DomainName, &created, &updated)
	t.CreatedAt, t.UpdatedAt = FromNanos(created), FromNanos(updated)
	return t, err
}

// Tenant returns one stored tenant by its tenantId.
func (tb Tables) Tenant(ctx context.Context, id string) (simulator.Tenant, error) {
	return One(ctx, tb.c, scanTenant, simulator.Errorf(simulator.ENOTFOUND, "tenantId", "no tenant %s", id), selectTenant, id)
}

// TenantByCode returns one stored tenant by its tenantCode.
func (tb Tables) TenantByCode(ctx context.Context, code string) (simulator.Tenant, error) {
	return One(ctx, tb.c, scanTenant, simulator.Errorf(simulator.ENOTFOUND, "tenantCode", "no tenant with code %s", code),
		selectTenantByCode, code)
}

// Tenants lists the tenants in the order they were first stored.
func (tb Tables) Tenants(ctx context.Context) ([]simulator.Tenant, error) {
	return List(ctx, tb.c, scanTenant, `SELECT `+tenantColumns+` FROM tenants ORDER BY seq`)
}

// appFields are App's fields without its JSON tags, so that the secret and
// the kit key, which App never shows, are stored, and empty and absent
// lists read back as they were written. The conversions stop compiling
// when App gains a field.
type appFields struct {
	ID           string
	Name         string
	ProductID    string
	ClientID     string
	ClientSecret string
	RedirectURIs []string
	CASServices  []string
	PublicKeyPEM string
	KitURL       string
	KitKey       string
	CreatedAt    time.Time
}

// PutApp stores an app, replacing the one with its ID.
func (tb Tables) PutApp(ctx context.Context, a simulator.App) error {
	if err := required("an app", "appId", a.ID); err != nil {
		return err
	}
	doc, err := json.Marshal(appFields(a))
	if err != nil {
		return err
	}
	_, err = tb.c.Exec(ctx, `INSERT INTO apps (id, product_id, client_id, doc) VALUES (?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, client_id = excluded.client_id, doc = excluded.doc`,
		a.ID, a.ProductID, a.ClientID, string(doc))
	return err
}

func scanApp(r Row) (simulator.App, error) {
	var a appFields
	err := scanDoc(r, &a)
	a.CreatedAt = a.CreatedAt.UTC()
	return simulator.App(a), err
}

// App returns one stored app by its appId.
func (tb Tables) App(ctx context.Context, id string) (simulator.App, error) {
	return One(ctx, tb.c, scanApp, simulator.Errorf(simulator.ENOTFOUND, "appId", "no app %s", id), `SELECT doc FROM apps WHERE id = ?`, id)
}

// Apps lists apps in the order they were first stored.
func (tb Tables) Apps(ctx context.Context, f simulator.AppFilter) ([]simulator.App, error) {
	var w Where
	w.Eq("product_id", f.ProductID)
	w.Eq("client_id", f.ClientID)
	clause, args, err := w.SQL(tb.d, "seq", f.Limit)
	if err != nil {
		return nil, err
	}
	return List(ctx, tb.c, scanApp, `SELECT doc FROM apps`+clause, args...)
}

const clientColumns = `tenant_id, app_id, client_id, client_secret, instance_id, order_id, test, created_at, rotated_at`

const (
	selectClient     = `SELECT ` + clientColumns + ` FROM clients WHERE tenant_id = ? AND app_id = ?`
	selectClientByID = `SELECT ` + clientColumns + ` FROM clients WHERE tenant_id = ? AND client_id = ?`
)

// PutClient stores an app's client in a tenant, replacing the one for the
// same tenant and app. A clientId another app has in the tenant is an
// ECONFLICT.
func (tb Tables) PutClient(ctx context.Context, c simulator.Client) error {
	if err := required("a client", "tenantId", c.TenantID, "appId", c.AppID, "clientId", c.ClientID, "clientSecret", c.ClientSecret); err != nil {
		return err
	}
	return tb.c.ExecUnique(ctx, simulator.Errorf(simulator.ECONFLICT, "clientId", "%s is another app's client in tenant %s; a clientId is unique in its tenant",
		c.ClientID, c.TenantID),
		`INSERT INTO clients (`+clientColumns+`) VALUES (?,?,?,?,?,?,?,?,?)
		ON CONFLICT (tenant_id, app_id) DO UPDATE SET client_id = excluded.client_id, client_secret = excluded.client_secret,
		instance_id = excluded.instance_id, order_id = excluded.order_id, test = excluded.test,
		created_at = excluded.created_at, rotated_at = excluded.rotated_at`,
		c.TenantID, c.AppID, c.ClientID, c.ClientSecret, c.InstanceID, c.OrderID, c.Test, Nanos(c.CreatedAt), Nanos(c.RotatedAt))
}

func scanClient(r Row) (simulator.Client, error) {
	var c simulator.Client
	var created, rotated int64
	err := r.Scan(&c.TenantID, &c.AppID, &c.ClientID, &c.ClientSecret, &c.InstanceID, &c.OrderID, &c.Test, &created, &rotated)
	c.CreatedAt, c.RotatedAt = FromNanos(created), FromNanos(rotated)
	return c, err
}

// Client returns an app's client in a tenant.
func (tb Tables) Client(ctx context.Context, tenantID, appID string) (simulator.Client, error) {
	return One(ctx, tb.c, scanClient, simulator.Errorf(simulator.ENOTFOUND, "appId", "app %s is not bound to tenant %s", appID, tenantID),
		selectClient, tenantID, appID)
}

// ClientByID returns a tenant's client by its clientId.
func (tb Tables) ClientByID(ctx context.Context, tenantID, clientID string) (simulator.Client, error) {
	return One(ctx, tb.c, scanClient, simulator.Errorf(simulator.ENOTFOUND, "clientId", "no client %s in tenant %s", clientID, tenantID),
		selectClientByID, tenantID, clientID)
}

// Clients lists clients in the order they were first stored.
func (tb Tables) Clients(ctx context.Context, f simulator.ClientFilter) ([]simulator.Client, error) {
	var w Where
	w.Eq("tenant_id", f.TenantID)
	w.Eq("app_id", f.AppID)
	clause, args, err := w.SQL(tb.d, "seq", f.Limit)
	if err != nil {
		return nil, err
	}
	return List(ctx, tb.c, scanClient, `SELECT `+clientColumns+` FROM clients`+clause, args...)
}

// DeleteClient removes an app's client from a tenant.
func (tb Tables) DeleteClient(ctx context.Context, tenantID, appID string) error {
	n, err := tb.c.Exec(ctx, `DELETE FROM clients WHERE tenant_id = ? AND app_id = ?`, tenantID, appID)
	return exists(n, err, simulator.Errorf(simulator.ENOTFOUND, "appId", "app %s is not bound to tenant %s", appID, tenantID))
}
