package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/kit"
)

// The joint-operation routes: merchants' apps, buyers' tenants, the
// bindings between them, users, authorisations and departments. Every
// change answers with the kit syncs it enqueued ("syncs"), which delivery
// sends in order per binding. No answer holds a client secret, a kit key
// or a password.

// appView is an app as the admin API shows it: its kit key masked, its
// client secret never.
type appView struct {
	simulator.App
	KitKey string `json:"kitKey,omitempty"`
}

func viewApp(a simulator.App) appView {
	v := appView{App: a}
	if a.KitKey != "" {
		v.KitKey = maskKey(a.KitKey)
	}
	return v
}

// addApp registers a merchant's app, with the secrets simulator.App never
// shows.
func (a *api) addApp(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in struct {
		ID           string   `json:"appId"`
		Name         string   `json:"name"`
		ProductID    string   `json:"productId"`
		ClientID     string   `json:"clientId"`
		ClientSecret string   `json:"clientSecret"`
		RedirectURIs []string `json:"redirectUris"`
		CASServices  []string `json:"casServices"`
		PublicKeyPEM string   `json:"publicKeyPem"`
		KitURL       string   `json:"kitUrl"`
		KitKey       string   `json:"kitKey"`
	}
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	app, err := a.kit.AddApp(context.WithoutCancel(r.Context()), simulator.App{
		ID: in.ID, Name: in.Name, ProductID: in.ProductID, ClientID: in.ClientID, ClientSecret: in.ClientSecret,
		RedirectURIs: in.RedirectURIs, CASServices: in.CASServices, PublicKeyPEM: in.PublicKeyPEM, KitURL: in.KitURL, KitKey: in.KitKey,
	})
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("Location", "/admin/v1/apps/"+url.PathEscape(app.ID))
	return http.StatusCreated, viewApp(app), nil
}

func (a *api) listApps(w http.ResponseWriter, r *http.Request) (int, any, error) {
	q := newQuery(r, "productId", "clientId", "limit")
	f := simulator.AppFilter{ProductID: q.str("productId"), ClientID: q.str("clientId"), Limit: q.limit()}
	if q.err != nil {
		return 0, nil, q.err
	}
	apps, err := a.store.Apps(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	out := make([]appView, len(apps))
	for i, app := range apps {
		out[i] = viewApp(app)
	}
	return http.StatusOK, map[string]any{"apps": out}, nil
}

func (a *api) getApp(w http.ResponseWriter, r *http.Request) (int, any, error) {
	app, err := a.store.App(r.Context(), mux.Vars(r)["appId"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, viewApp(app), nil
}

// tenantListing serves a listing of the records list returns for the
// tenant named in the path, under name. It takes no query parameters.
func tenantListing[T any](a *api, name string, list func(r *http.Request, tenantID string) ([]T, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		if err := newQuery(r).err; err != nil {
			return 0, nil, err
		}
		tn, err := a.kit.Tenant(r.Context(), mux.Vars(r)["tenant"])
		if err != nil {
			return 0, nil, err
		}
		records, err := list(r, tn.ID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{name: nonNil(records)}, nil
	}
}

// The listings of a tenant's records: bindings without their secrets.
func (a *api) listBindings(r *http.Request, tenantID string) ([]simulator.Client, error) {
	return a.store.Clients(r.Context(), simulator.ClientFilter{TenantID: tenantID})
}

func (a *api) listAuthorisations(r *http.Request, tenantID string) ([]simulator.Authorisation, error) {
	return a.store.Authorisations(r.Context(), simulator.AuthorisationFilter{TenantID: tenantID, AppID: mux.Vars(r)["appId"]})
}

func (a *api) listDepartments(r *http.Request, tenantID string) ([]simulator.Department, error) {
	return a.store.Departments(r.Context(), tenantID)
}

// changed is the answer to a change: what it made, and the syncs it
// enqueued.
type changed struct {
	Tenant  *simulator.Tenant `json:"tenant,omitempty"`
	Binding *simulator.Client `json:"binding,omitempty"`
	// Bindings are the tenant's, after an authorisation: an app it had
	// none of is bound by it.
	Bindings   []simulator.Client    `json:"bindings,omitempty"`
	User       *simulator.User       `json:"user,omitempty"`
	Department *simulator.Department `json:"department,omitempty"`
	Syncs      []messageView         `json:"syncs"`
}

// synced makes the answer to a change that enqueued ms (the console woke
// delivery for them).
func (a *api) synced(c changed, ms []simulator.Message) changed {
	c.Syncs = make([]messageView, len(ms))
	for i, m := range ms {
		c.Syncs[i] = viewMessage(m)
	}
	return c
}

func (a *api) addTenant(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in struct {
		ID         string `json:"tenantId"`
		Code       string `json:"tenantCode"`
		Name       string `json:"name"`
		DomainName string `json:"domainName"`
	}
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	tn, err := a.kit.AddTenant(context.WithoutCancel(r.Context()), simulator.Tenant{ID: in.ID, Code: in.Code, Name: in.Name, DomainName: in.DomainName})
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("Location", "/admin/v1/tenants/"+url.PathEscape(tn.ID))
	return http.StatusCreated, a.viewTenant(tn), nil
}

func (a *api) listTenants(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := newQuery(r).err; err != nil {
		return 0, nil, err
	}
	ts, err := a.store.Tenants(r.Context())
	if err != nil {
		return 0, nil, err
	}
	for i := range ts {
		ts[i] = a.viewTenant(ts[i])
	}
	return http.StatusOK, map[string]any{"tenants": nonNil(ts)}, nil
}

func (a *api) getTenant(w http.ResponseWriter, r *http.Request) (int, any, error) {
	tn, err := a.kit.Tenant(r.Context(), mux.Vars(r)["tenant"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.viewTenant(tn), nil
}

// viewTenant is a tenant as the admin API shows it: always with its
// identity domain, the one the merchant's token and CAS calls go to,
// whether its own or the default {base}/t/{tenantCode}.
func (a *api) viewTenant(tn simulator.Tenant) simulator.Tenant {
	tn.DomainName = a.kit.DomainName(tn)
	return tn
}

// tenantOf reads a tenant by ID for an answer.
func (a *api) tenantOf(ctx context.Context, id string) (simulator.Tenant, error) {
	tn, err := a.store.Tenant(ctx, id)
	return a.viewTenant(tn), err
}

// authorised is the answer to an authorisation: the tenant and its
// bindings, which show an app the authorisation bound.
func (a *api) authorised(ctx context.Context, tenantID string) (changed, error) {
	tn, err := a.tenantOf(ctx, tenantID)
	if err != nil {
		return changed{}, err
	}
	bs, err := a.store.Clients(ctx, simulator.ClientFilter{TenantID: tenantID})
	return changed{Tenant: &tn, Bindings: nonNil(bs)}, err
}

// renameTenant changes a tenant's name or domain: tenantSync flag 2.
func (a *api) renameTenant(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in struct {
		Name       string `json:"name"`
		DomainName string `json:"domainName"`
	}
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	tn, sent, err := a.kit.RenameTenant(context.WithoutCancel(r.Context()), mux.Vars(r)["tenant"], in.Name, in.DomainName)
	if err != nil {
		return 0, nil, err
	}
	tn = a.viewTenant(tn)
	return http.StatusOK, a.synced(changed{Tenant: &tn}, sent), nil
}

// bind binds an app to a tenant: tenantSync, applicationSync, allOrgSync
// and authSync for users authorised already. The purchase is named by
// instanceKey (an instance kgsim sold, provisioned) or by instanceId and
// orderId as given; with neither it is a credential test. testFlag
// defaults to 1 for a credential test and 0 otherwise.
func (a *api) bind(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in struct {
		AppID       string   `json:"appId"`
		InstanceKey string   `json:"instanceKey"`
		InstanceID  string   `json:"instanceId"`
		OrderID     string   `json:"orderId"`
		TestFlag    *int     `json:"testFlag"`
		UserNames   []string `json:"userNames"`
	}
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	ctx := context.WithoutCancel(r.Context())
	b := kit.Binding{Tenant: mux.Vars(r)["tenant"], AppID: in.AppID, InstanceID: in.InstanceID, OrderID: in.OrderID, UserNames: in.UserNames}
	switch {
	case in.InstanceKey != "" && (in.InstanceID != "" || in.OrderID != ""):
		return 0, nil, simulator.Errorf(simulator.EINVALID, "instanceKey", "names the purchase already; leave instanceId and orderId out")
	case in.InstanceKey != "":
		inst, err := a.store.Instance(ctx, in.InstanceKey)
		if simulator.ErrorCode(err) == simulator.ENOTFOUND {
			return 0, nil, simulator.Errorf(simulator.EINVALID, "instanceKey", "no instance %q", in.InstanceKey)
		}
		if err != nil {
			return 0, nil, err
		}
		if inst.ID == "" {
			return 0, nil, simulator.Errorf(simulator.ECONFLICT, "instanceKey", "instance %s is %s: the merchant has not acknowledged the purchase, so it has no instanceId to bind yet", inst.Key, inst.State)
		}
		b.InstanceID, b.OrderID = inst.ID, inst.OrderID
	}
	if in.TestFlag != nil {
		if *in.TestFlag != 0 && *in.TestFlag != 1 {
			return 0, nil, simulator.Errorf(simulator.EINVALID, "testFlag", "%d: want 0 (production data) or 1 (test data)", *in.TestFlag)
		}
		if *in.TestFlag == 0 && b.InstanceID == "" {
			return 0, nil, simulator.Errorf(simulator.EINVALID, "testFlag", "a credential test (no instance) always carries testFlag 1")
		}
		b.Test = *in.TestFlag == 1
	}
	client, sent, err := a.kit.Bind(ctx, b)
	if err != nil {
		return 0, nil, err
	}
	tn, err := a.tenantOf(ctx, client.TenantID)
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("Location", "/admin/v1/tenants/"+url.PathEscape(client.TenantID)+"/apps/"+url.PathEscape(client.AppID))
	return http.StatusCreated, a.synced(changed{Tenant: &tn, Binding: &client}, sent), nil
}

func (a *api) unbind(w http.ResponseWriter, r *http.Request) (int, any, error) {
	v := mux.Vars(r)
	sent, err := a.kit.Unbind(context.WithoutCancel(r.Context()), v["tenant"], v["appId"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.synced(changed{}, sent), nil
}

func (a *api) rotateSecret(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := decode(w, r, &struct{}{}, false); err != nil {
		return 0, nil, err
	}
	v := mux.Vars(r)
	client, sent, err := a.kit.RotateSecret(context.WithoutCancel(r.Context()), v["tenant"], v["appId"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.synced(changed{Binding: &client}, sent), nil
}

// authorise grants or revokes users' authorisation for an app.
func (a *api) authorise(act func(ctx context.Context, tenant, appID string, userNames []string) ([]simulator.Message, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		var in struct {
			UserNames []string `json:"userNames"`
		}
		if err := decode(w, r, &in, true); err != nil {
			return 0, nil, err
		}
		v := mux.Vars(r)
		ctx := context.WithoutCancel(r.Context())
		sent, err := act(ctx, v["tenant"], v["appId"], in.UserNames)
		if err != nil {
			return 0, nil, err
		}
		tn, err := a.kit.Tenant(ctx, v["tenant"])
		if err != nil {
			return 0, nil, err
		}
		c, err := a.authorised(ctx, tn.ID)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, a.synced(c, sent), nil
	}
}

// profile is a user's profile in a request: simulator.User's fields that
// a client sets, and the password, which a User never shows.
type profile struct {
	Password     string `json:"password"`
	Name         string `json:"name"`
	Email        string `json:"email"`
	Mobile       string `json:"mobile"`
	Role         string `json:"role"`
	OrgCode      string `json:"orgCode"`
	Position     string `json:"position"`
	EmployeeCode string `json:"employeeCode"`
	EmployeeType int    `json:"employeeType"`
	WorkPlace    string `json:"workPlace"`
	EntryDate    string `json:"entryDate"`
}

func (p profile) user(userName string) simulator.User {
	return simulator.User{
		UserName: userName, Name: p.Name, Email: p.Email, Mobile: p.Mobile, Role: p.Role, OrgCode: p.OrgCode,
		Position: p.Position, EmployeeCode: p.EmployeeCode, EmployeeType: p.EmployeeType, WorkPlace: p.WorkPlace, EntryDate: p.EntryDate,
	}
}

// addUser adds a user to a tenant, created if unknown; apps (clientIds or
// appIds) authorises the user for them.
func (a *api) addUser(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in struct {
		Tenant   string   `json:"tenant"`
		UserName string   `json:"userName"`
		Apps     []string `json:"apps"`
		profile
	}
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	ctx := context.WithoutCancel(r.Context())
	u, sent, err := a.kit.AddUser(ctx, in.Tenant, in.user(in.UserName), in.Password, in.Apps)
	if err != nil {
		return 0, nil, err
	}
	c, err := a.authorised(ctx, u.TenantID)
	if err != nil {
		return 0, nil, err
	}
	c.User = &u
	w.Header().Set("Location", "/admin/v1/tenants/"+url.PathEscape(u.TenantID)+"/users/"+url.PathEscape(u.UserName))
	return http.StatusCreated, a.synced(c, sent), nil
}

func (a *api) listUsers(w http.ResponseWriter, r *http.Request) (int, any, error) {
	q := newQuery(r, "orgCode", "limit")
	f := simulator.UserFilter{OrgCode: q.str("orgCode"), Limit: q.limit()}
	if q.err != nil {
		return 0, nil, q.err
	}
	tn, err := a.kit.Tenant(r.Context(), mux.Vars(r)["tenant"])
	if err != nil {
		return 0, nil, err
	}
	f.TenantID = tn.ID
	us, err := a.store.Users(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"users": nonNil(us)}, nil
}

func (a *api) getUser(w http.ResponseWriter, r *http.Request) (int, any, error) {
	tn, err := a.kit.Tenant(r.Context(), mux.Vars(r)["tenant"])
	if err != nil {
		return 0, nil, err
	}
	u, err := a.store.User(r.Context(), tn.ID, mux.Vars(r)["userName"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, u, nil
}

// editUser replaces a user's profile (an empty password keeps the
// password): authSync flag 2 to the apps it is authorised for.
func (a *api) editUser(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in profile
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	v := mux.Vars(r)
	u, sent, err := a.kit.EditUser(context.WithoutCancel(r.Context()), v["tenant"], v["userName"], in.user(v["userName"]), in.Password)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.synced(changed{User: &u}, sent), nil
}

func (a *api) removeUser(w http.ResponseWriter, r *http.Request) (int, any, error) {
	v := mux.Vars(r)
	sent, err := a.kit.RemoveUser(context.WithoutCancel(r.Context()), v["tenant"], v["userName"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.synced(changed{}, sent), nil
}

// putDepartment creates (201, singleOrgSync flag 1) or changes (flag 2) a
// department.
func (a *api) putDepartment(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in struct {
		Name       string `json:"orgName"`
		ParentCode string `json:"parentCode"`
	}
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	v := mux.Vars(r)
	d, created, sent, err := a.kit.PutDepartment(context.WithoutCancel(r.Context()), v["tenant"],
		simulator.Department{OrgCode: v["orgCode"], Name: in.Name, ParentCode: in.ParentCode})
	if err != nil {
		return 0, nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return status, a.synced(changed{Department: &d}, sent), nil
}

func (a *api) deleteDepartment(w http.ResponseWriter, r *http.Request) (int, any, error) {
	v := mux.Vars(r)
	sent, err := a.kit.DeleteDepartment(context.WithoutCancel(r.Context()), v["tenant"], v["orgCode"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.synced(changed{}, sent), nil
}
