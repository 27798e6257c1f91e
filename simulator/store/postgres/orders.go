package postgres

import (
	"context"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/record"
)

// dueInstances walks the scheduled instances in event order.
const dueInstances = `SELECT ` + record.InstanceColumns + ` FROM instances
	WHERE next_event_at > 0 AND next_event_at <= ? ORDER BY next_event_at, seq LIMIT ?`

// DueInstances returns the scheduled instances due at now, earliest
// first; ties go in the order the instances were first stored.
func (s store) DueInstances(ctx context.Context, now time.Time, limit int) ([]simulator.Instance, error) {
	if err := record.Positive(limit); err != nil {
		return nil, err
	}
	return record.List(ctx, s.conn, record.ScanInstance, dueInstances, record.Nanos(now), limit)
}
