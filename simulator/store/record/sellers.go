package record

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/kgsim/kgsim/simulator"
)

// Hot queries (Frequent): every open-API call reads its seller by AK,
// and every usage push inserts its records.
const (
	selectSellerByAK = `SELECT doc FROM sellers WHERE ak = ?`
	insertUsage      = `INSERT INTO usage_records (instance_key, instance_id, seller_id, dedupe, doc, accepted_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (instance_key, dedupe) DO NOTHING`
)

// PutSeller stores a seller, replacing the one with its ID. An AK that
// another seller holds is refused: the AK alone says who signed a call.
func (tb Tables) PutSeller(ctx context.Context, sl simulator.Seller) error {
	if sl.ID == "" || sl.AK == "" {
		return simulator.Errorf(simulator.EINVALID, "sellerId", "a seller needs an ID and an AK to be stored")
	}
	b, err := json.Marshal(sl)
	if err != nil {
		return err
	}
	return tb.c.Atomic(ctx, func(c Conn) error {
		var holder string
		err := c.QueryRow(ctx, `SELECT id FROM sellers WHERE ak = ? AND id <> ?`, sl.AK, sl.ID).Scan(&holder)
		if err == nil {
			return simulator.Errorf(simulator.ECONFLICT, "ak", "seller %s already holds this AK; every seller needs an AK of its own", holder)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = c.Exec(ctx, `INSERT INTO sellers (id, ak, doc) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET ak = excluded.ak, doc = excluded.doc`, sl.ID, sl.AK, string(b))
		return err
	})
}

func scanSeller(r Row) (simulator.Seller, error) {
	var sl simulator.Seller
	err := scanDoc(r, &sl)
	return sl, err
}

// Seller returns one stored seller by ID.
func (tb Tables) Seller(ctx context.Context, id string) (simulator.Seller, error) {
	return One(ctx, tb.c, scanSeller, simulator.Errorf(simulator.ENOTFOUND, "sellerId", "no seller %s", id),
		`SELECT doc FROM sellers WHERE id = ?`, id)
}

// SellerByAK returns the seller holding an AK. The error does not repeat
// the AK: callers decide what to show of it.
func (tb Tables) SellerByAK(ctx context.Context, ak string) (simulator.Seller, error) {
	return One(ctx, tb.c, scanSeller, simulator.Errorf(simulator.ENOTFOUND, "ak", "no seller holds this AK"), selectSellerByAK, ak)
}

// Sellers lists the sellers in the order they were first stored.
func (tb Tables) Sellers(ctx context.Context) ([]simulator.Seller, error) {
	return List(ctx, tb.c, scanSeller, `SELECT doc FROM sellers ORDER BY seq`)
}

// AddUsage stores, in one transaction, the records not yet accepted for
// their instance under their DedupeKey, and counts them.
func (tb Tables) AddUsage(ctx context.Context, records ...simulator.UsageRecord) (int, error) {
	for _, u := range records {
		if u.InstanceKey == "" || u.SellerID == "" {
			return 0, simulator.Errorf(simulator.EINVALID, "instanceKey", "a usage record needs its instance key and seller to be stored")
		}
	}
	added := 0
	err := tb.c.Atomic(ctx, func(c Conn) error {
		for _, u := range records {
			u.AcceptedAt = u.AcceptedAt.UTC() // read back in UTC, as every time the store keeps
			u.ID = ""                         // named by its seq when read back
			b, err := json.Marshal(u)
			if err != nil {
				return err
			}
			n, err := c.Exec(ctx, insertUsage, u.InstanceKey, u.InstanceID, u.SellerID, u.DedupeKey(), string(b), Nanos(u.AcceptedAt))
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

func scanUsage(r Row) (simulator.UsageRecord, error) {
	var u simulator.UsageRecord
	var seq int64
	var b []byte
	if err := r.Scan(&seq, &b); err != nil {
		return u, err
	}
	err := json.Unmarshal(b, &u)
	u.ID = simulator.UsageID(seq)
	return u, err
}

// Usage lists accepted records in the order they were accepted.
func (tb Tables) Usage(ctx context.Context, f simulator.UsageFilter) ([]simulator.UsageRecord, error) {
	if f.NamesNone() {
		return nil, nil
	}
	var w Where
	w.Eq("seq", f.ID)
	w.Eq("instance_id", f.InstanceID)
	w.Eq("seller_id", f.SellerID)
	clause, args, err := w.SQL(tb.d, w.Page("usage_records", "seq", []string{"seq"}, f.Page), f.Limit)
	if err != nil {
		return nil, err
	}
	return List(ctx, tb.c, scanUsage, `SELECT seq, doc FROM usage_records`+clause, args...)
}
