package sqlite

import (
	"context"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/record"
)

// dueInstances walks instances_due, which holds only scheduled instances,
// in event order. RunDue reads 64, NextDue 1: the limit is ?+0 for the
// reason the outbox's is (outbox.go).
const dueInstances = `SELECT ` + record.InstanceColumns + ` FROM instances INDEXED BY instances_due
	WHERE next_event_at > 0 AND next_event_at <= ? ORDER BY next_event_at, seq LIMIT ?+0`

// selectInstancesByID is Instances for a product's instanceId alone,
// which the settlement of every purchase asks (an instanceId names one
// order's instance): one query, prepared once, instead of a listing built
// and parsed on every call.
const selectInstancesByID = `SELECT ` + record.InstanceColumns + ` FROM instances WHERE product_id = ? AND instance_id = ? ORDER BY created_at, seq`

// Instances lists instances as record does, a product's instanceId alone
// by selectInstancesByID.
func (s store) Instances(ctx context.Context, f simulator.InstanceFilter) ([]simulator.Instance, error) {
	if f == (simulator.InstanceFilter{ProductID: f.ProductID, ID: f.ID}) && f.ProductID != "" && f.ID != "" {
		return record.List(ctx, s.conn, record.ScanInstance, selectInstancesByID, f.ProductID, f.ID)
	}
	return s.Tables.Instances(ctx, f)
}

// DueInstances returns the scheduled instances due at now, earliest
// first; ties go in the order the instances were first stored.
func (s store) DueInstances(ctx context.Context, now time.Time, limit int) ([]simulator.Instance, error) {
	if err := record.Positive(limit); err != nil {
		return nil, err
	}
	return record.List(ctx, s.conn, record.ScanInstance, dueInstances, record.Nanos(now), limit)
}
