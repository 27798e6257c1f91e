package identity

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
)

// update runs fn in a transaction of the store's, which commits it
// together with the other writes made at the same time (group commit), fn
// failing alone. fn returns only store failures; refusals it records for
// its own caller.
func (s *Server) update(ctx context.Context, fn func(tx simulator.IdentityTx) error) error {
	return s.store.Update(ctx, func(tx simulator.Tx) error { return fn(tx) })
}

// inTenant runs fn in a transaction (update) with the tenant whose
// domain r is addressed to. fn returns its refusal of a bad request, or a
// store failure; inTenant returns whichever there is.
func (s *Server) inTenant(ctx context.Context, r *http.Request, fn func(tx simulator.IdentityTx, t simulator.Tenant) (refused, err error)) error {
	code := mux.Vars(r)["tenantCode"]
	var refused error
	err := s.update(ctx, func(tx simulator.IdentityTx) error {
		t, err := tx.TenantByCode(ctx, code)
		if notFound(err) {
			refused = s.unknownTenant(code)
			return nil
		} else if err != nil {
			return err
		}
		refused, err = fn(tx, t)
		return err
	})
	if err != nil {
		return err
	}
	return refused
}
