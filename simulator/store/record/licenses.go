package record

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// PutLicense stores a License code, replacing the one with its code.
func (t Tables) PutLicense(ctx context.Context, l simulator.License) error {
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
	_, err = t.c.Exec(ctx, `INSERT INTO licenses (code, product_id, order_id, instance_key, state, doc) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET product_id = excluded.product_id, order_id = excluded.order_id,
			instance_key = excluded.instance_key, state = excluded.state, doc = excluded.doc`,
		l.Code, l.ProductID, l.OrderID, l.InstanceKey, string(l.State), string(b))
	return err
}

func scanLicense(r Row) (simulator.License, error) {
	var l simulator.License
	err := scanDoc(r, &l)
	return l, err
}

// License returns one stored code.
func (t Tables) License(ctx context.Context, code string) (simulator.License, error) {
	return One(ctx, t.c, scanLicense, simulator.Errorf(simulator.ENOTFOUND, "license", "no License code %s", code),
		`SELECT doc FROM licenses WHERE code = ?`, code)
}

// Licenses lists codes in the order they were first stored.
func (t Tables) Licenses(ctx context.Context, f simulator.LicenseFilter) ([]simulator.License, error) {
	var w Where
	w.Eq("product_id", f.ProductID)
	w.Eq("order_id", f.OrderID)
	w.Eq("instance_key", f.InstanceKey)
	w.Eq("state", string(f.State))
	clause, args, err := w.SQL(t.d, w.Page("licenses", "code", []string{"seq"}, f.Page), f.Limit)
	if err != nil {
		return nil, err
	}
	return List(ctx, t.c, scanLicense, `SELECT doc FROM licenses`+clause, args...)
}
