package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/identity"
)

// The identity provider's settings and faults (identity.md §5): the
// marketplace's settings, which kgsim serve's flags set; a tenant's
// overrides, kept in the store; faults a merchant's tests set and clear;
// and expiring a tenant's logins now.

// route is an admin route.
type route struct {
	method, path string
	h            handler
}

func (a *api) identityRoutes() []route {
	return []route{
		{http.MethodGet, "/identity", a.identityDefaults},
		{http.MethodGet, "/tenants/{tenant}/identity", a.tenantIdentity},
		{http.MethodPut, "/tenants/{tenant}/identity", a.setTenantIdentity},
		{http.MethodGet, "/tenants/{tenant}/identity/faults", a.listFaults},
		{http.MethodPost, "/tenants/{tenant}/identity/faults", a.setFault},
		{http.MethodDelete, "/tenants/{tenant}/identity/faults", a.clearFaults},
		{http.MethodDelete, "/tenants/{tenant}/identity/faults/{endpoint}", a.clearFaults},
		{http.MethodPost, "/tenants/{tenant}/identity/expire-logins", a.expireLogins},
	}
}

func (a *api) identityDefaults(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := newQuery(r).err; err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"settings": a.identity.Defaults()}, nil
}

// pathTenant is the tenant the path names, by tenantId or tenantCode.
func (a *api) pathTenant(r *http.Request) (simulator.Tenant, error) {
	return a.kit.Tenant(r.Context(), mux.Vars(r)["tenant"])
}

func (a *api) tenantIdentity(w http.ResponseWriter, r *http.Request) (int, any, error) {
	tn, err := a.pathTenant(r)
	if err != nil {
		return 0, nil, err
	}
	ts, err := a.identity.TenantSettings(r.Context(), tn.ID)
	return http.StatusOK, ts, err
}

// setTenantIdentity replaces a tenant's overrides: a member left out (or
// null) takes the marketplace's setting, so {} clears them all.
func (a *api) setTenantIdentity(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in identity.Overrides
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	tn, err := a.pathTenant(r)
	if err != nil {
		return 0, nil, err
	}
	ts, err := a.identity.SetTenantSettings(context.WithoutCancel(r.Context()), tn.ID, in)
	return http.StatusOK, ts, err
}

func (a *api) listFaults(w http.ResponseWriter, r *http.Request) (int, any, error) {
	tn, err := a.pathTenant(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"faults": a.identity.Faults(tn.ID)}, nil
}

func (a *api) setFault(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in identity.FaultRequest
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	tn, err := a.pathTenant(r)
	if err != nil {
		return 0, nil, err
	}
	f, err := a.identity.SetFault(tn.ID, in)
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("Location", "/admin/v1/tenants/"+url.PathEscape(tn.ID)+"/identity/faults/"+url.PathEscape(string(f.Endpoint)))
	return http.StatusCreated, f, nil
}

// clearFaults ends the tenant's fault of the path's endpoint, or all its
// faults.
func (a *api) clearFaults(w http.ResponseWriter, r *http.Request) (int, any, error) {
	tn, err := a.pathTenant(r)
	if err != nil {
		return 0, nil, err
	}
	var endpoints []identity.Endpoint
	if e, ok := mux.Vars(r)["endpoint"]; ok {
		if !slices.Contains(identity.Endpoints(), identity.Endpoint(e)) {
			return 0, nil, simulator.Errorf(simulator.ENOTFOUND, "endpoint", "%q is no endpoint a fault can break: token, userinfo or cas-validate", e)
		}
		endpoints = append(endpoints, identity.Endpoint(e))
	}
	return http.StatusOK, map[string]int{"cleared": a.identity.ClearFaults(tn.ID, endpoints...)}, nil
}

// expireLogins ends every code, ticket, SSO session and token of the
// tenant now.
func (a *api) expireLogins(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := decode(w, r, &struct{}{}, false); err != nil {
		return 0, nil, err
	}
	tn, err := a.pathTenant(r)
	if err != nil {
		return 0, nil, err
	}
	n, err := a.identity.ExpireLogins(context.WithoutCancel(r.Context()), tn.ID)
	return http.StatusOK, map[string]int{"expired": n}, err
}
