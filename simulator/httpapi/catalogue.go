package httpapi

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/notice"
)

// shown is a product as the admin API shows it: its access key and
// order-notification key masked.
func shown(p simulator.Product) simulator.Product {
	p.AccessKey = maskKey(p.AccessKey)
	if p.OrderNotifyKey != "" {
		p.OrderNotifyKey = maskKey(p.OrderNotifyKey)
	}
	return p
}

func (a *api) listProducts(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := newQuery(r).err; err != nil {
		return 0, nil, err
	}
	ps, err := a.store.Products(r.Context())
	if err != nil {
		return 0, nil, err
	}
	out := make([]simulator.Product, len(ps))
	for i, p := range ps {
		out[i] = shown(p)
	}
	return http.StatusOK, map[string]any{"products": out}, nil
}

func (a *api) getProduct(w http.ResponseWriter, r *http.Request) (int, any, error) {
	p, err := a.store.Product(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, shown(p), nil
}

// putProduct adds or replaces a product through the engine. So that a product read from the API can be
// edited and put back, an accessKey that is empty or equal to the stored
// key's mask keeps the stored key (an orderNotifyKey likewise, while the
// product stays generic), and the status may be repeated; it is
// changed only by the status action, since the marketplace sets it, not
// the merchant.
func (a *api) putProduct(w http.ResponseWriter, r *http.Request) (int, any, error) {
	id := mux.Vars(r)["id"]
	var p simulator.Product
	if err := decode(w, r, &p, true); err != nil {
		return 0, nil, err
	}
	switch {
	case p.ID == "":
		p.ID = id
	case p.ID != id:
		return 0, nil, simulator.Errorf(simulator.EINVALID, "productId", "%q differs from the path's %q; leave it out or make them equal", p.ID, id)
	}
	ctx := context.WithoutCancel(r.Context())
	stored, err := a.store.Product(ctx, id)
	exists := err == nil
	if err != nil && simulator.ErrorCode(err) != simulator.ENOTFOUND {
		return 0, nil, err
	}
	if p.AccessKey, err = unmasked("accessKey", p.AccessKey, stored.AccessKey, exists); err != nil {
		return 0, nil, err
	}
	// Kept only while the product stays generic: a basic product has none.
	if p.Generic() {
		if p.OrderNotifyKey, err = unmasked("orderNotifyKey", p.OrderNotifyKey, stored.OrderNotifyKey, exists && stored.Generic()); err != nil {
			return 0, nil, err
		}
	}
	if exists && p.Status != "" && p.Status != stored.Status {
		return 0, nil, simulator.Errorf(simulator.EINVALID, "status", "is %s; the marketplace sets it: use PUT /admin/v1/products/%s/status to change it", stored.Status, id)
	}
	// PutProduct validates the product, naming the field at fault.
	if err := a.engine.PutProduct(ctx, p); err != nil {
		return 0, nil, err
	}
	if p, err = a.store.Product(ctx, id); err != nil {
		return 0, nil, err
	}
	status := http.StatusOK
	if !exists {
		status = http.StatusCreated
	}
	return status, shown(p), nil
}

// setProductStatus is the operator's action on a product: unfreeze one
// that dial tests froze, delist one, or freeze it by hand. Freezing or
// delisting raises the product notice the marketplace would send
// (callbacks.md §12); setting the status a product has changes nothing.
func (a *api) setProductStatus(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var in struct {
		Status simulator.ProductStatus `json:"status"`
		Reason string                  `json:"reason"` // shown in the notice
	}
	if err := decode(w, r, &in, true); err != nil {
		return 0, nil, err
	}
	all := []simulator.ProductStatus{simulator.OnSale, simulator.FrozenHidden, simulator.Delisted}
	if !slices.Contains(all, in.Status) {
		return 0, nil, simulator.Errorf(simulator.EINVALID, "status", "%q is not one of ON_SALE, FROZEN_HIDDEN, DELISTED", in.Status)
	}
	if in.Reason == "" {
		in.Reason = "an operator's decision"
	}
	ctx := context.WithoutCancel(r.Context())
	var p simulator.Product
	err := a.store.Update(ctx, func(tx simulator.Tx) error {
		var err error
		if p, err = tx.Product(ctx, mux.Vars(r)["id"]); err != nil {
			return err
		}
		if p.Status == in.Status {
			return nil
		}
		p.Status = in.Status
		if err := tx.PutProduct(ctx, p); err != nil {
			return err
		}
		if in.Status == simulator.OnSale {
			return nil
		}
		now := a.scheduler.Clock().Now()
		id, err := simulator.NewID("n", now, rand.Reader)
		if err != nil {
			return err
		}
		return tx.AddNotice(ctx, notice.ForProduct(p, p.Status, in.Reason, id, now))
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, shown(p), nil
}

func (a *api) runDialTest(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := decode(w, r, &struct{}{}, false); err != nil {
		return 0, nil, err
	}
	run, err := a.dial.RunNow(context.WithoutCancel(r.Context()), mux.Vars(r)["id"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, run, nil
}

func (a *api) listDialRuns(w http.ResponseWriter, r *http.Request) (int, any, error) {
	q := newQuery(r, "since")
	since := q.time("since")
	if q.err != nil {
		return 0, nil, q.err
	}
	id := mux.Vars(r)["id"]
	if _, err := a.store.Product(r.Context(), id); err != nil {
		return 0, nil, err
	}
	runs, err := a.store.DialRuns(r.Context(), id, since)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"runs": nonNil(runs)}, nil
}

func (a *api) listCustomers(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := newQuery(r).err; err != nil {
		return 0, nil, err
	}
	cs, err := a.store.Customers(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"customers": nonNil(cs)}, nil
}

func (a *api) getCustomer(w http.ResponseWriter, r *http.Request) (int, any, error) {
	c, err := a.store.Customer(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, c, nil
}

// addCustomer adds a customer; one that exists is a conflict, since
// replacing a buyer under existing orders would rewrite their history.
func (a *api) addCustomer(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var c simulator.Customer
	if err := decode(w, r, &c, true); err != nil {
		return 0, nil, err
	}
	if err := c.Validate(); err != nil {
		return 0, nil, err
	}
	ctx := context.WithoutCancel(r.Context())
	err := a.store.Update(ctx, func(tx simulator.Tx) error {
		_, err := tx.Customer(ctx, c.ID)
		switch {
		case err == nil:
			return simulator.Errorf(simulator.ECONFLICT, "customerId", "customer %q exists already", c.ID)
		case simulator.ErrorCode(err) != simulator.ENOTFOUND:
			return err
		}
		return tx.PutCustomer(ctx, c)
	})
	if err != nil {
		return 0, nil, err
	}
	w.Header().Set("Location", "/admin/v1/customers/"+url.PathEscape(c.ID))
	return http.StatusCreated, c, nil
}

// nonNil makes an empty listing [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
