package sqlite

import (
	"context"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

const orderColumns = `id, line_id, kind, instance_key, product_id, sku_code, customer_id, state, trial, period_type,
	period_number, amount, linear_amount, disk_size, bandwidth, expire_time, created_at, settled_at`

const instanceColumns = `key, instance_id, product_id, sku_code, customer_id, order_id, order_line_id, state, trial, frozen_by,
	expire_at, next_event_at, created_at, updated_at`

// The engine's hot queries (see statements): every lifecycle step reads
// and writes an order and its instance. An upsert keeps a row's seq.
const (
	putOrder = `INSERT INTO orders (` + orderColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET line_id = excluded.line_id, kind = excluded.kind, instance_key = excluded.instance_key,
		product_id = excluded.product_id, sku_code = excluded.sku_code, customer_id = excluded.customer_id, state = excluded.state,
		trial = excluded.trial, period_type = excluded.period_type, period_number = excluded.period_number, amount = excluded.amount,
		linear_amount = excluded.linear_amount, disk_size = excluded.disk_size, bandwidth = excluded.bandwidth,
		expire_time = excluded.expire_time, created_at = excluded.created_at, settled_at = excluded.settled_at`
	selectOrder = `SELECT ` + orderColumns + ` FROM orders WHERE id = ?`
	putInstance = `INSERT INTO instances (` + instanceColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (key) DO UPDATE SET instance_id = excluded.instance_id, product_id = excluded.product_id,
		sku_code = excluded.sku_code, customer_id = excluded.customer_id, order_id = excluded.order_id,
		order_line_id = excluded.order_line_id, state = excluded.state, trial = excluded.trial, frozen_by = excluded.frozen_by,
		expire_at = excluded.expire_at, next_event_at = excluded.next_event_at, created_at = excluded.created_at,
		updated_at = excluded.updated_at`
	selectInstance = `SELECT ` + instanceColumns + ` FROM instances WHERE key = ?`
	// selectInstancesByID is Instances for a product's instanceId alone,
	// which the settlement of every purchase asks (an instanceId names
	// one order's instance).
	selectInstancesByID = `SELECT ` + instanceColumns + ` FROM instances WHERE product_id = ? AND instance_id = ? ORDER BY created_at, seq`
	// DueInstances walks instances_due, which holds only scheduled
	// instances, in event order. RunDue reads 64, NextDue 1: the limit
	// is ?+0 for the reason the outbox's is (outbox.go).
	dueInstances = `SELECT ` + instanceColumns + ` FROM instances INDEXED BY instances_due
		WHERE next_event_at > 0 AND next_event_at <= ? ORDER BY next_event_at, seq LIMIT ?+0`
)

// PutOrder stores an order, replacing the one with its ID.
func (s store) PutOrder(ctx context.Context, o simulator.Order) error {
	if o.ID == "" {
		return simulator.Errorf(simulator.EINVALID, "orderId", "is required to store an order")
	}
	_, err := s.exec(ctx, putOrder,
		o.ID, o.LineID, string(o.Kind), o.InstanceKey, o.ProductID, o.SKUCode, o.CustomerID, string(o.State), o.Trial, o.PeriodType,
		o.PeriodNumber, o.Amount, o.LinearAmount, o.DiskSize, o.Bandwidth, nanos(o.ExpireTime), nanos(o.CreatedAt), nanos(o.SettledAt))
	return err
}

func scanOrder(s scanner) (simulator.Order, error) {
	var o simulator.Order
	var kind, state string
	var expire, created, settled int64
	err := s.Scan(&o.ID, &o.LineID, &kind, &o.InstanceKey, &o.ProductID, &o.SKUCode, &o.CustomerID, &state, &o.Trial, &o.PeriodType,
		&o.PeriodNumber, &o.Amount, &o.LinearAmount, &o.DiskSize, &o.Bandwidth, &expire, &created, &settled)
	o.Kind, o.State = simulator.OrderKind(kind), simulator.OrderState(state)
	o.ExpireTime, o.CreatedAt, o.SettledAt = fromNanos(expire), fromNanos(created), fromNanos(settled)
	return o, err
}

// Order returns one stored order.
func (s store) Order(ctx context.Context, id string) (simulator.Order, error) {
	return one(ctx, s, scanOrder, simulator.Errorf(simulator.ENOTFOUND, "orderId", "no order %s", id),
		selectOrder, id)
}

// Orders lists orders oldest first (by CreatedAt, then as first stored),
// or newest first.
func (s store) Orders(ctx context.Context, f simulator.OrderFilter) ([]simulator.Order, error) {
	var w where
	w.eq("product_id", f.ProductID)
	w.eq("customer_id", f.CustomerID)
	w.eq("instance_key", f.InstanceKey)
	w.eq("state", string(f.State))
	if !f.SettledSince.IsZero() {
		w.add("settled_at >= ? AND settled_at > 0", nanos(f.SettledSince))
	}
	clause, args, err := w.sql(w.page("orders", "id", []string{"created_at", "seq"}, f.Page), f.Limit)
	if err != nil {
		return nil, err
	}
	return list(ctx, s, scanOrder, `SELECT `+orderColumns+` FROM orders`+clause, args...)
}

// PutInstance stores an instance, replacing the one with its key.
func (s store) PutInstance(ctx context.Context, i simulator.Instance) error {
	if i.Key == "" {
		return simulator.Errorf(simulator.EINVALID, "instanceKey", "is required to store an instance")
	}
	_, err := s.exec(ctx, putInstance,
		i.Key, i.ID, i.ProductID, i.SKUCode, i.CustomerID, i.OrderID, i.OrderLineID, string(i.State), i.Trial, i.FrozenBy,
		nanos(i.ExpireAt), nanos(i.NextEventAt), nanos(i.CreatedAt), nanos(i.UpdatedAt))
	return err
}

func scanInstance(s scanner) (simulator.Instance, error) {
	var i simulator.Instance
	var state string
	var expire, next, created, updated int64
	err := s.Scan(&i.Key, &i.ID, &i.ProductID, &i.SKUCode, &i.CustomerID, &i.OrderID, &i.OrderLineID, &state, &i.Trial, &i.FrozenBy,
		&expire, &next, &created, &updated)
	i.State = simulator.InstanceState(state)
	i.ExpireAt, i.NextEventAt, i.CreatedAt, i.UpdatedAt = fromNanos(expire), fromNanos(next), fromNanos(created), fromNanos(updated)
	return i, err
}

// Instance returns one stored instance by its key.
func (s store) Instance(ctx context.Context, key string) (simulator.Instance, error) {
	return one(ctx, s, scanInstance, simulator.Errorf(simulator.ENOTFOUND, "instanceKey", "no instance %s", key),
		selectInstance, key)
}

// Instances lists instances oldest first (by CreatedAt, then as first
// stored), or newest first.
func (s store) Instances(ctx context.Context, f simulator.InstanceFilter) ([]simulator.Instance, error) {
	if f == (simulator.InstanceFilter{ProductID: f.ProductID, ID: f.ID}) && f.ProductID != "" && f.ID != "" {
		return list(ctx, s, scanInstance, selectInstancesByID, f.ProductID, f.ID)
	}
	var w where
	w.eq("product_id", f.ProductID)
	w.eq("customer_id", f.CustomerID)
	w.eq("instance_id", f.ID)
	w.eq("state", string(f.State))
	clause, args, err := w.sql(w.page("instances", "key", []string{"created_at", "seq"}, f.Page), f.Limit)
	if err != nil {
		return nil, err
	}
	return list(ctx, s, scanInstance, `SELECT `+instanceColumns+` FROM instances`+clause, args...)
}

// DueInstances returns the scheduled instances due at now, earliest
// first; ties go in the order the instances were first stored.
func (s store) DueInstances(ctx context.Context, now time.Time, limit int) ([]simulator.Instance, error) {
	if err := positive(limit); err != nil {
		return nil, err
	}
	return list(ctx, s, scanInstance, dueInstances, nanos(now), limit)
}
