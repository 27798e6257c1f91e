package sqlite

import (
	"context"

	"github.com/kgsim/kgsim/simulator"
)

// PutSeller stores a seller as record does, forgetting every seller the
// memo holds: a write may move an AK from one seller to another.
func (s store) PutSeller(ctx context.Context, sl simulator.Seller) error {
	return s.atomic(ctx, func(s store) error {
		s.memo.forgetSellers()
		return s.Tables.PutSeller(ctx, sl)
	})
}

// SellerByAK returns the seller holding an AK, from the memo outside a
// transaction.
func (s store) SellerByAK(ctx context.Context, ak string) (simulator.Seller, error) {
	if s.tx != nil {
		return s.Tables.SellerByAK(ctx, ak)
	}
	return remembered(s.memo, s.memo.sellers, ak, func() (simulator.Seller, error) { return s.Tables.SellerByAK(ctx, ak) })
}
