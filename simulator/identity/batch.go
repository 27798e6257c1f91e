package identity

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/gorilla/mux"

	"github.com/kgsim/kgsim/simulator"
)

// batch commits the token endpoint's writes in groups: the store has one
// writer, and a commit costs more than the statements of one exchange, so
// requests that arrive while a transaction runs share the next one (group
// commit). No goroutine runs it: the first request to find no transaction
// running leads one for everything pending, delivers each result, and
// hands the lead to the first request still waiting, so no request waits
// for more than the group before it and its own.
type batch struct {
	mu      sync.Mutex
	pending []*write
	leading bool
}

// A write is one request's work in the shared transaction. Its function
// returns only store failures; refusals it records for its own caller.
type write struct {
	fn   func(tx simulator.IdentityTx) error
	done chan error // the result, or errLead
}

// errLead tells a waiting request that it leads the next transaction.
var errLead = errors.New("lead the next transaction")

// update runs fn in a transaction shared with other requests' writes. The
// transaction outlives any one request's cancellation: it is everyone's.
func (s *Server) update(ctx context.Context, fn func(tx simulator.IdentityTx) error) error {
	ctx = context.WithoutCancel(ctx)
	w := &write{fn: fn, done: make(chan error, 1)}
	b := &s.batch
	b.mu.Lock()
	b.pending = append(b.pending, w)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if lead {
		s.lead(ctx)
	}
	for {
		err := <-w.done
		if err != errLead {
			return err
		}
		s.lead(ctx)
	}
}

// lead commits everything pending in one transaction, then hands the lead
// on or gives it up.
func (s *Server) lead(ctx context.Context) {
	b := &s.batch
	b.mu.Lock()
	group := b.pending
	b.pending = nil
	b.mu.Unlock()

	err := s.store.Update(ctx, func(tx simulator.Tx) error {
		for _, w := range group {
			if err := w.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(group) > 1 {
		// One write's failure must not fail the others: each alone.
		for _, w := range group {
			w.done <- s.store.Update(ctx, func(tx simulator.Tx) error { return w.fn(tx) })
		}
	} else {
		for _, w := range group {
			w.done <- err
		}
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.pending) == 0 {
		b.leading = false
		return
	}
	b.pending[0].done <- errLead
}

// inTenant runs fn in a shared transaction (update) with the tenant whose
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
