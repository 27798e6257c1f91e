package record

import (
	"context"

	"github.com/kgsim/kgsim/simulator"
)

const orderColumns = `id, line_id, kind, instance_key, product_id, sku_code, customer_id, state, trial, period_type,
	period_number, amount, linear_amount, disk_size, bandwidth, expire_time, created_at, settled_at`

// InstanceColumns are an instance's columns, in the order ScanInstance
// reads them.
const InstanceColumns = `key, instance_id, product_id, sku_code, customer_id, order_id, order_line_id, state, trial, frozen_by,
	expire_at, next_event_at, created_at, updated_at`

// The engine's hot queries (Frequent): every lifecycle step reads and
// writes an order and its instance. An upsert keeps a row's seq.
const (
	putOrder = `INSERT INTO orders (` + orderColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET line_id = excluded.line_id, kind = excluded.kind, instance_key = excluded.instance_key,
		product_id = excluded.product_id, sku_code = excluded.sku_code, customer_id = excluded.customer_id, state = excluded.state,
		trial = excluded.trial, period_type = excluded.period_type, period_number = excluded.period_number, amount = excluded.amount,
		linear_amount = excluded.linear_amount, disk_size = excluded.disk_size, bandwidth = excluded.bandwidth,
		expire_time = excluded.expire_time, created_at = excluded.created_at, settled_at = excluded.settled_at`
	// PutOrder stores an order with keepOrder, which inserts a new one
	// and updates a stored one whose instance, customer and creation time
	// stay as stored, leaving out of its SET the columns that only the
	// indexes orders_instance, orders_customer and orders_created hold;
	// putOrder, which sets them all, does the rest. SQLite deletes and
	// inserts again the entry of every index whose columns an update sets,
	// equal or not, and leaves the others alone: settling a purchase
	// changes its state and nothing those indexes hold.
	keepOrder = `INSERT INTO orders (` + orderColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET line_id = excluded.line_id, kind = excluded.kind, product_id = excluded.product_id,
		sku_code = excluded.sku_code, state = excluded.state, trial = excluded.trial, period_type = excluded.period_type,
		period_number = excluded.period_number, amount = excluded.amount, linear_amount = excluded.linear_amount,
		disk_size = excluded.disk_size, bandwidth = excluded.bandwidth, expire_time = excluded.expire_time,
		settled_at = excluded.settled_at
		WHERE orders.instance_key = excluded.instance_key AND orders.customer_id = excluded.customer_id
		AND orders.created_at = excluded.created_at`
	selectOrder = `SELECT ` + orderColumns + ` FROM orders WHERE id = ?`
	putInstance = `INSERT INTO instances (` + InstanceColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (key) DO UPDATE SET instance_id = excluded.instance_id, product_id = excluded.product_id,
		sku_code = excluded.sku_code, customer_id = excluded.customer_id, order_id = excluded.order_id,
		order_line_id = excluded.order_line_id, state = excluded.state, trial = excluded.trial, frozen_by = excluded.frozen_by,
		expire_at = excluded.expire_at, next_event_at = excluded.next_event_at, created_at = excluded.created_at,
		updated_at = excluded.updated_at`
	// PutInstance goes as PutOrder does: keepInstance leaves
	// instances_customer and instances_created alone.
	keepInstance = `INSERT INTO instances (` + InstanceColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (key) DO UPDATE SET instance_id = excluded.instance_id, product_id = excluded.product_id,
		sku_code = excluded.sku_code, order_id = excluded.order_id, order_line_id = excluded.order_line_id,
		state = excluded.state, trial = excluded.trial, frozen_by = excluded.frozen_by, expire_at = excluded.expire_at,
		next_event_at = excluded.next_event_at, updated_at = excluded.updated_at
		WHERE instances.customer_id = excluded.customer_id AND instances.created_at = excluded.created_at`
	selectInstance = `SELECT ` + InstanceColumns + ` FROM instances WHERE key = ?`
)

// PutOrder stores an order, replacing the one with its ID.
func (tb Tables) PutOrder(ctx context.Context, o simulator.Order) error {
	if o.ID == "" {
		return simulator.Errorf(simulator.EINVALID, "orderId", "is required to store an order")
	}
	row := []any{o.ID, o.LineID, string(o.Kind), o.InstanceKey, o.ProductID, o.SKUCode, o.CustomerID, string(o.State), o.Trial, o.PeriodType,
		o.PeriodNumber, o.Amount, o.LinearAmount, o.DiskSize, o.Bandwidth, Nanos(o.ExpireTime), Nanos(o.CreatedAt), Nanos(o.SettledAt)}
	if n, err := tb.c.Exec(ctx, keepOrder, row...); err != nil || n == 1 {
		return err
	}
	_, err := tb.c.Exec(ctx, putOrder, row...)
	return err
}

func scanOrder(r Row) (simulator.Order, error) {
	var o simulator.Order
	var kind, state string
	var expire, created, settled int64
	err := r.Scan(&o.ID, &o.LineID, &kind, &o.InstanceKey, &o.ProductID, &o.SKUCode, &o.CustomerID, &state, &o.Trial, &o.PeriodType,
		&o.PeriodNumber, &o.Amount, &o.LinearAmount, &o.DiskSize, &o.Bandwidth, &expire, &created, &settled)
	o.Kind, o.State = simulator.OrderKind(kind), simulator.OrderState(state)
	o.ExpireTime, o.CreatedAt, o.SettledAt = FromNanos(expire), FromNanos(created), FromNanos(settled)
	return o, err
}

// Order returns one stored order.
func (tb Tables) Order(ctx context.Context, id string) (simulator.Order, error) {
	return One(ctx, tb.c, scanOrder, simulator.Errorf(simulator.ENOTFOUND, "orderId", "no order %s", id),
		selectOrder, id)
}

// Orders lists orders oldest first (by CreatedAt, then as first stored),
// or newest first.
func (tb Tables) Orders(ctx context.Context, f simulator.OrderFilter) ([]simulator.Order, error) {
	var w Where
	w.Eq("product_id", f.ProductID)
	w.Eq("customer_id", f.CustomerID)
	w.Eq("instance_key", f.InstanceKey)
	w.Eq("state", string(f.State))
	if !f.SettledSince.IsZero() {
		w.Add("settled_at >= ? AND settled_at > 0", Nanos(f.SettledSince))
	}
	clause, args, err := w.SQL(tb.d, w.Page("orders", "id", []string{"created_at", "seq"}, f.Page), f.Limit)
	if err != nil {
		return nil, err
	}
	return List(ctx, tb.c, scanOrder, `SELECT `+orderColumns+` FROM orders`+clause, args...)
}

// PutInstance stores an instance, replacing the one with its key.
func (tb Tables) PutInstance(ctx context.Context, i simulator.Instance) error {
	if i.Key == "" {
		return simulator.Errorf(simulator.EINVALID, "instanceKey", "is required to store an instance")
	}
	row := []any{i.Key, i.ID, i.ProductID, i.SKUCode, i.CustomerID, i.OrderID, i.OrderLineID, string(i.State), i.Trial, i.FrozenBy,
		Nanos(i.ExpireAt), Nanos(i.NextEventAt), Nanos(i.CreatedAt), Nanos(i.UpdatedAt)}
	if n, err := tb.c.Exec(ctx, keepInstance, row...); err != nil || n == 1 {
		return err
	}
	_, err := tb.c.Exec(ctx, putInstance, row...)
	return err
}

// ScanInstance reads an instance from a row of InstanceColumns.
func ScanInstance(r Row) (simulator.Instance, error) {
	var i simulator.Instance
	var state string
	var expire, next, created, updated int64
	err := r.Scan(&i.Key, &i.ID, &i.ProductID, &i.SKUCode, &i.CustomerID, &i.OrderID, &i.OrderLineID, &state, &i.Trial, &i.FrozenBy,
		&expire, &next, &created, &updated)
	i.State = simulator.InstanceState(state)
	i.ExpireAt, i.NextEventAt, i.CreatedAt, i.UpdatedAt = FromNanos(expire), FromNanos(next), FromNanos(created), FromNanos(updated)
	return i, err
}

// Instance returns one stored instance by its key.
func (tb Tables) Instance(ctx context.Context, key string) (simulator.Instance, error) {
	return One(ctx, tb.c, ScanInstance, simulator.Errorf(simulator.ENOTFOUND, "instanceKey", "no instance %s", key),
		selectInstance, key)
}

// Instances lists instances oldest first (by CreatedAt, then as first
// stored), or newest first.
func (tb Tables) Instances(ctx context.Context, f simulator.InstanceFilter) ([]simulator.Instance, error) {
	var w Where
	w.Eq("product_id", f.ProductID)
	w.Eq("customer_id", f.CustomerID)
	w.Eq("instance_id", f.ID)
	w.Eq("state", string(f.State))
	clause, args, err := w.SQL(tb.d, w.Page("instances", "key", []string{"created_at", "seq"}, f.Page), f.Limit)
	if err != nil {
		return nil, err
	}
	return List(ctx, tb.c, ScanInstance, `SELECT `+InstanceColumns+` FROM instances`+clause, args...)
}
