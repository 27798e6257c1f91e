package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
)

// shownSeller is a seller as the admin API shows it: its SK masked.
func shownSeller(s simulator.Seller) simulator.Seller {
	s.SK = maskKey(s.SK)
	return s
}

func (a *api) listSellers(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := newQuery(r).err; err != nil {
		return 0, nil, err
	}
	ss, err := a.store.Sellers(r.Context())
	if err != nil {
		return 0, nil, err
	}
	out := make([]simulator.Seller, len(ss))
	for i, s := range ss {
		out[i] = shownSeller(s)
	}
	return http.StatusOK, map[string]any{"sellers": out}, nil
}

func (a *api) getSeller(w http.ResponseWriter, r *http.Request) (int, any, error) {
	s, err := a.store.Seller(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, shownSeller(s), nil
}

// putSeller adds or replaces a seller. As with a product's access key, an
// sk that is empty or equal to the stored SK's mask keeps the stored SK,
// so that a seller read from the API can be edited and put back.
func (a *api) putSeller(w http.ResponseWriter, r *http.Request) (int, any, error) {
	id := mux.Vars(r)["id"]
	var s simulator.Seller
	if err := decode(w, r, &s, true); err != nil {
		return 0, nil, err
	}
	switch {
	case s.ID == "":
		s.ID = id
	case s.ID != id:
		return 0, nil, simulator.Errorf(simulator.EINVALID, "sellerId", "%q differs from the path's %q; leave it out or make them equal", s.ID, id)
	}
	ctx := context.WithoutCancel(r.Context())
	stored, err := a.store.Seller(ctx, id)
	exists := err == nil
	if err != nil && simulator.ErrorCode(err) != simulator.ENOTFOUND {
		return 0, nil, err
	}
	if s.SK, err = unmasked("sk", s.SK, stored.SK, exists); err != nil {
		return 0, nil, err
	}
	if err := s.Validate(); err != nil {
		return 0, nil, err
	}
	if err := a.store.PutSeller(ctx, s); err != nil {
		return 0, nil, err
	}
	status := http.StatusOK
	if !exists {
		status = http.StatusCreated
	}
	return status, shownSeller(s), nil
}

// unmasked is the secret a PUT gives: the stored one when it gives none
// or the stored one's mask (a record read from the API and put back), and
// an error for any other mask.
func unmasked(field, given, stored string, exists bool) (string, error) {
	if exists && (given == "" || given == maskKey(stored)) {
		return stored, nil
	}
	if strings.HasPrefix(given, maskPrefix) {
		return "", simulator.Errorf(simulator.EINVALID, field, "is masked as the admin API shows secrets, and is not this record's; give the real value")
	}
	return given, nil
}

// listUsage lists the usage records merchants pushed and kgsim accepted,
// in the order accepted.
func (a *api) listUsage(w http.ResponseWriter, r *http.Request) (int, any, error) {
	q := newQuery(r, "instanceId", "sellerId", "order", "cursor", "limit")
	f := simulator.UsageFilter{InstanceID: q.str("instanceId"), SellerID: q.str("sellerId"), Limit: q.limit(),
		Page: q.page(r.Context(), a.usageRecord)}
	if q.err != nil {
		return 0, nil, q.err
	}
	limit := f.Limit
	f.Limit++
	records, err := a.store.Usage(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	records, next := paged(records, limit, func(u simulator.UsageRecord) string { return u.ID })
	return http.StatusOK, listing("records", records, next), nil
}

// usageRecord finds the usage record with an ID: ENOTFOUND when none has
// it.
func (a *api) usageRecord(ctx context.Context, id string) error {
	records, err := a.store.Usage(ctx, simulator.UsageFilter{ID: id, Limit: 1})
	if err == nil && len(records) == 0 {
		err = simulator.Errorf(simulator.ENOTFOUND, "cursor", "no usage record %s", id)
	}
	return err
}
