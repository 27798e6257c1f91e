package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/engine"
)

var (
	orderStates = []simulator.OrderState{simulator.OrderProcessing, simulator.OrderCompleted,
		simulator.OrderFailedUnsubscribed, simulator.OrderRefused, simulator.OrderStalled}
	instanceStates = []simulator.InstanceState{simulator.Provisioning, simulator.Active,
		simulator.Frozen, simulator.Released, simulator.NeverProvisioned}
)

func (a *api) listOrders(w http.ResponseWriter, r *http.Request) (int, any, error) {
	q := newQuery(r, "productId", "customerId", "instanceKey", "state", "settledSince", "order", "cursor", "limit")
	f := simulator.OrderFilter{
		ProductID: q.str("productId"), CustomerID: q.str("customerId"), InstanceKey: q.str("instanceKey"),
		State: oneOf(q, "state", orderStates...), SettledSince: q.time("settledSince"), Limit: q.limit(),
		Page: q.page(r.Context(), exists(a.store.Order)),
	}
	if q.err != nil {
		return 0, nil, q.err
	}
	limit := f.Limit
	f.Limit++
	os, err := a.store.Orders(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	os, next := paged(os, limit, func(o simulator.Order) string { return o.ID })
	return http.StatusOK, listing("orders", os, next), nil
}

func (a *api) getOrder(w http.ResponseWriter, r *http.Request) (int, any, error) {
	o, err := a.store.Order(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, o, nil
}

// purchase is the body of a buy.
type purchase struct {
	ProductID    string `json:"productId"`
	CustomerID   string `json:"customerId"`
	SKUCode      string `json:"skuCode"`      // the product's when empty
	Trial        bool   `json:"trial"`        // a trial, for products that offer one
	PeriodNumber int    `json:"periodNumber"` // PERIOD products; 0 means 1
	Amount       string `json:"amount"`       // CNY, at most 3 decimals, as a string
	LinearAmount int    `json:"linearAmount"`
	DiskSize     int    `json:"diskSize"`
	Bandwidth    int    `json:"bandwidth"`
}

// buy places a purchase; its callback is delivered as it falls due.
func (a *api) buy(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in purchase
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	o, inst, err := a.engine.Buy(context.WithoutCancel(r.Context()), engine.Purchase{
		ProductID: in.ProductID, CustomerID: in.CustomerID, SKUCode: in.SKUCode, Trial: in.Trial,
		PeriodNumber: in.PeriodNumber, Amount: in.Amount,
		LinearAmount: in.LinearAmount, DiskSize: in.DiskSize, Bandwidth: in.Bandwidth,
	})
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("Location", "/admin/v1/orders/"+url.PathEscape(o.ID))
	answer := actionResult{Order: &o, Instance: inst}
	if inst.ID != "" {
		// Never so for a new instance: the merchant has not named it yet.
		// Should that change, its instanceId is the merchant's choice and
		// the answer is scrubbed.
		return http.StatusCreated, answer, nil
	}
	return http.StatusCreated, secretFree{answer}, nil
}

func (a *api) listInstances(w http.ResponseWriter, r *http.Request) (int, any, error) {
	q := newQuery(r, "productId", "customerId", "instanceId", "state", "order", "cursor", "limit")
	f := simulator.InstanceFilter{
		ProductID: q.str("productId"), CustomerID: q.str("customerId"), ID: q.str("instanceId"),
		State: oneOf(q, "state", instanceStates...), Limit: q.limit(), Page: q.page(r.Context(), exists(a.store.Instance)),
	}
	if q.err != nil {
		return 0, nil, q.err
	}
	limit := f.Limit
	f.Limit++
	is, err := a.store.Instances(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	is, next := paged(is, limit, func(i simulator.Instance) string { return i.Key })
	return http.StatusOK, listing("instances", is, next), nil
}

func (a *api) getInstance(w http.ResponseWriter, r *http.Request) (int, any, error) {
	inst, err := a.store.Instance(r.Context(), mux.Vars(r)["key"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, inst, nil
}

// actionResult is the answer to an action: the order it placed or the
// callback it sent, if any, and the instance as it now stands.
type actionResult struct {
	Order    *simulator.Order   `json:"order,omitempty"`
	Message  *messageView       `json:"message,omitempty"`
	Instance simulator.Instance `json:"instance"`
}

// action runs one instance action with its decoded body.
type action func(ctx context.Context, key string, w http.ResponseWriter, r *http.Request) (actionResult, error)

// withBody makes an action of fn, whose body is a T. The body may be
// empty (T's zero value: the defaults); an action without parameters
// takes struct{}, so that anything but {} is refused.
func withBody[T any](fn func(ctx context.Context, key string, in T) (actionResult, error)) action {
	return func(ctx context.Context, key string, w http.ResponseWriter, r *http.Request) (actionResult, error) {
		var in T
		if err := decode(w, r, &in, false); err != nil {
			return actionResult{}, err
		}
		return fn(ctx, key, in)
	}
}

// The bodies of instance actions.
type (
	renewal struct {
		PeriodNumber int    `json:"periodNumber"` // 0 means 1
		Amount       string `json:"amount"`
		ProductID    string `json:"productId"` // another product: a change of period type
	}
	upgrade struct {
		SKUCode      string `json:"skuCode"`
		ProductID    string `json:"productId"`
		LinearAmount int    `json:"linearAmount"` // 0 keeps it
	}
	specChange struct {
		upgrade
		PeriodNumber int `json:"periodNumber"` // periods renewed; 0 means 1
	}
	licenseRequest struct {
		DeviceFingerprint string `json:"deviceFingerprint"`
	}
	// instanceQuery lists the buyer's other instances of the product
	// that one queryInstance names too.
	instanceQuery struct {
		With []string `json:"with"`
	}
)

func (rn renewal) engine() engine.Renewal {
	return engine.Renewal{PeriodNumber: rn.PeriodNumber, Amount: rn.Amount, ProductID: rn.ProductID}
}

func (u upgrade) engine() engine.Change {
	return engine.Change{SKUCode: u.SKUCode, ProductID: u.ProductID, LinearAmount: u.LinearAmount}
}

// instanceActions are the actions on an instance, by the last segment of
// their path.
func (a *api) instanceActions() map[string]action {
	e := a.engine
	ordered := func(o simulator.Order, err error) (actionResult, error) { return actionResult{Order: &o}, err }
	sent := func(m simulator.Message, err error) (actionResult, error) {
		v := viewMessage(m)
		return actionResult{Message: &v}, err
	}
	done := func(err error) (actionResult, error) { return actionResult{}, err }
	return map[string]action{
		"renew": withBody(func(ctx context.Context, key string, in renewal) (actionResult, error) {
			return ordered(e.Renew(ctx, key, in.engine()))
		}),
		"convert-trial": withBody(func(ctx context.Context, key string, in renewal) (actionResult, error) {
			return ordered(e.ConvertTrial(ctx, key, in.engine()))
		}),
		"unsubscribe-renewal": withBody(func(ctx context.Context, key string, _ struct{}) (actionResult, error) {
			return ordered(e.UnsubscribeRenewal(ctx, key))
		}),
		"change-spec": withBody(func(ctx context.Context, key string, in specChange) (actionResult, error) {
			c := in.engine()
			c.PeriodNumber = in.PeriodNumber
			return ordered(e.ChangeSpec(ctx, key, c))
		}),
		"upgrade": withBody(func(ctx context.Context, key string, in upgrade) (actionResult, error) {
			return ordered(e.Upgrade(ctx, key, in.engine()))
		}),
		"unsubscribe": withBody(func(ctx context.Context, key string, _ struct{}) (actionResult, error) {
			return ordered(e.Unsubscribe(ctx, key))
		}),
		"freeze": withBody(func(ctx context.Context, key string, _ struct{}) (actionResult, error) {
			return done(e.Freeze(ctx, key))
		}),
		"unfreeze": withBody(func(ctx context.Context, key string, _ struct{}) (actionResult, error) {
			return done(e.Unfreeze(ctx, key))
		}),
		"query": withBody(func(ctx context.Context, key string, in instanceQuery) (actionResult, error) {
			return sent(e.Query(ctx, key, in.With...))
		}),
		"license": withBody(func(ctx context.Context, key string, in licenseRequest) (actionResult, error) {
			return sent(e.RequestLicense(ctx, key, engine.LicenseRequest{DeviceFingerprint: in.DeviceFingerprint}))
		}),
	}
}

// instanceAction serves one action: it runs to the end even if the client
// goes away (an attempt cut short would be judged a failure of the
// merchant's) and answers with the instance as it now stands. The engine
// wakes delivery for the callbacks it enqueued.
func (a *api) instanceAction(act action) handler {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		key := mux.Vars(r)["key"]
		ctx := context.WithoutCancel(r.Context())
		res, err := act(ctx, key, w, r)
		if err != nil {
			return 0, nil, err
		}
		if res.Instance, err = a.store.Instance(ctx, key); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, res, nil
	}
}
