package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/kgsim/kgsim/simulator"
)

// Hot queries: every open-API call reads its seller by
// AK, and every usage push inserts its records.
const (
	selectSellerByAK = `SELECT doc FROM sellers WHERE ak = ?`
	insertUsage      = `INSERT INTO usage_records (instance_key, instance_id, seller_id, dedupe, doc, accepted_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (instance_key, dedupe) DO NOTHING`
)

// PutSeller stores a seller, replacing the one with its ID. An AK that
// another seller holds is refused: the AK alone says who signed a call.
func (s store) PutSeller(ctx context.Context, sl simulator.Seller) error {
	if sl.ID == "" || sl.AK == "" {
		return simulator.Errorf(simulator.EINVALID, "sellerId", "a seller needs an ID and an AK to be stored")
	}
	b, err := json.Marshal(sl)
	if err != nil {
		return err
	}
	return s.atomic(ctx, func(s store) error {
		var holder string
		err := s.queryRow(ctx, `SELECT id FROM sellers WHERE ak = ? AND id <> ?`, sl.AK, sl.ID).Scan(&holder)
		if err == nil {
			return simulator.Errorf(simulator.ECONFLICT, "ak", "seller %s already holds this AK; every seller needs an AK of its own", holder)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		_, err = s.exec(ctx, `INSERT INTO sellers (id, ak, doc) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET ak = excluded.ak, doc = excluded.doc`, sl.ID, sl.AK, string(b))
		return err
	})
}

func scanSeller(s scanner) (simulator.Seller, error) {
	var sl simulator.Seller
	err := scanDoc(s, &sl)
	return sl, err
}

// Seller returns one stored seller by ID.
func (s store) Seller(ctx context.Context, id string) (simulator.Seller, error) {
	return one(ctx, s, scanSeller, simulator.Errorf(simulator.ENOTFOUND, "sellerId", "no seller %s", id),
		`SELECT doc FROM sellers WHERE id = ?`, id)
}

// SellerByAK returns the seller holding an AK. The error does not repeat
// the AK: callers decide what to show of it.
func (s store) SellerByAK(ctx context.Context, ak string) (simulator.Seller, error) {
	return one(ctx, s, scanSeller, simulator.Errorf(simulator.ENOTFOUND, "ak", "no seller holds this AK"), selectSellerByAK, ak)
}

// Sellers lists the sellers in the order they were first stored.
func (s store) Sellers(ctx context.Context) ([]simulator.Seller, error) {
	return list(ctx, s, scanSeller, `SELECT doc FROM sellers ORDER BY seq`)
}

// AddUsage stores, in one transaction, the records not yet accepted for
// their instance under their DedupeKey, and counts them.
func (s store) AddUsage(ctx context.Context, records ...simulator.UsageRecord) (int, error) {
	for _, u := range records {
		if u.InstanceKey == "" || u.SellerID == "" {
			return 0, simulator.Errorf(simulator.EINVALID, "instanceKey", "a usage record needs its instance key and seller to be stored")
		}
	}
	added := 0
	err := s.atomic(ctx, func(s store) error {
		for _, u := range records {
			u.AcceptedAt = u.AcceptedAt.UTC() // read back in UTC, as every time the store keeps
			u.ID = ""                         // named by its seq when read back
			b, err := json.Marshal(u)
			if err != nil {
				return err
			}
			res, err := s.exec(ctx, insertUsage, u.InstanceKey, u.InstanceID, u.SellerID, u.DedupeKey(), string(b), nanos(u.AcceptedAt))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			added += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

func scanUsage(s scanner) (simulator.UsageRecord, error) {
	var u simulator.UsageRecord
	var seq int64
	var b []byte
	if err := s.Scan(&seq, &b); err != nil {
		return u, err
	}
	err := json.Unmarshal(b, &u)
	u.ID = simulator.UsageID(seq)
	return u, err
}

// Usage lists accepted records in the order they were accepted.
func (s store) Usage(ctx context.Context, f simulator.UsageFilter) ([]simulator.UsageRecord, error) {
	if f.NamesNone() {
		return nil, nil
	}
	var w where
	w.eq("seq", f.ID)
	w.eq("instance_id", f.InstanceID)
	w.eq("seller_id", f.SellerID)
	clause, args, err := w.sql(w.page("usage_records", "seq", []string{"seq"}, f.Page), f.Limit)
	if err != nil {
		return nil, err
	}
	return list(ctx, s, scanUsage, `SELECT seq, doc FROM usage_records`+clause, args...)
}
