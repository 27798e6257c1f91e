package httpapi

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/engine"
)

// The admin routes of test License codes (open-api.md §5): created for a
// License product, tied to a purchase order or to none, and moved by hand
// (claim, expire, release); the merchant activates and checks them through
// the open APIs.

var licenseStates = []simulator.LicenseState{simulator.LicenseUnclaimed, simulator.LicenseClaimed,
	simulator.LicenseActivated, simulator.LicenseExpired, simulator.LicenseReleased}

// licenseRoutes are the routes of License codes.
func (a *api) licenseRoutes() []route {
	routes := []route{
		{http.MethodPost, "/licenses", a.createLicense},
		{http.MethodGet, "/licenses", a.listLicenses},
		{http.MethodGet, "/licenses/{code}", a.getLicense},
	}
	for _, act := range []engine.LicenseAction{engine.ClaimLicense, engine.ExpireLicense, engine.ReleaseLicense} {
		routes = append(routes, route{http.MethodPost, "/licenses/{code}/" + string(act), a.moveLicense(act)})
	}
	return routes
}

func (a *api) createLicense(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in struct {
		ProductID string `json:"productId"`
		OrderID   string `json:"orderId"`
	}
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	l, err := a.engine.CreateLicense(context.WithoutCancel(r.Context()), in.ProductID, in.OrderID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, l, nil
}

func (a *api) listLicenses(w http.ResponseWriter, r *http.Request) (int, any, error) {
	q := newQuery(r, "productId", "orderId", "instanceKey", "state", "order", "cursor", "limit")
	f := simulator.LicenseFilter{ProductID: q.str("productId"), OrderID: q.str("orderId"), InstanceKey: q.str("instanceKey"),
		State: oneOf(q, "state", licenseStates...), Limit: q.limit(), Page: q.page(r.Context(), exists(a.store.License))}
	if q.err != nil {
		return 0, nil, q.err
	}
	limit := f.Limit
	f.Limit++
	ls, err := a.store.Licenses(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	ls, next := paged(ls, limit, func(l simulator.License) string { return l.Code })
	return http.StatusOK, listing("licenses", ls, next), nil
}

func (a *api) getLicense(w http.ResponseWriter, r *http.Request) (int, any, error) {
	l, err := a.store.License(r.Context(), mux.Vars(r)["code"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, l, nil
}

// moveLicense moves a code by hand; the action takes no body.
func (a *api) moveLicense(act engine.LicenseAction) handler {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		if err := decode(w, r, &struct{}{}, false); err != nil {
			return 0, nil, err
		}
		l, err := a.engine.MoveLicense(context.WithoutCancel(r.Context()), mux.Vars(r)["code"], act)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, l, nil
	}
}
