package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// PutLicense stores a License code, replacing the one with its code.
func (s store) PutLicense(ctx context.Context, l simulator.License) error {
	if l.Code == "" {
		return simulator.Errorf(simulator.EINVALID, "license", "a License code needs its code to be stored")
	}
	// Read back in UTC, as every time the store keeps.
	for _, t := range []*time.Time{&l.CreatedAt, &l.ClaimedAt, &l.ActivatedAt, &l.LastHeartbeatAt, &l.UpdatedAt} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO licenses (code, product_id, order_id, instance_key, state, doc) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET product_id = excluded.product_id, order_id = excluded.order_id,
			instance_key = excluded.instance_key, state = excluded.state, doc = excluded.doc`,
		l.Code, l.ProductID, l.OrderID, l.InstanceKey, string(l.State), string(b))
	return err
}

func scanLicense(s scanner) (simulator.License, error) {
	var l simulator.License
	err := scanDoc(s, &l)
	return l, err
}

// License returns one stored code.
func (s store) License(ctx context.Context, code string) (simulator.License, error) {
	return one(ctx, s, scanLicense, simulator.Errorf(simulator.ENOTFOUND, "license", "no License code %s", code),
		`SELECT doc FROM licenses WHERE code = ?`, code)
}

// Licenses lists codes in the order they were first stored.
func (s store) Licenses(ctx context.Context, f simulator.LicenseFilter) ([]simulator.License, error) {
	var w where
	w.eq("product_id", f.ProductID)
	w.eq("order_id", f.OrderID)
	w.eq("instance_key", f.InstanceKey)
	w.eq("state", string(f.State))
	clause, args, err := w.sql(w.page("licenses", "code", []string{"seq"}, f.Page), f.Limit)
	if err != nil {
		return nil, err
	}
	return list(ctx, s, scanLicense, `SELECT doc FROM licenses`+clause, args...)
}
