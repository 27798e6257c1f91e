package record

import (
	"context"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// PutVirtualNow records where the virtual clock stands.
func (tb Tables) PutVirtualNow(ctx context.Context, now time.Time) error {
	_, err := tb.c.Exec(ctx, `INSERT INTO virtual_clock (id, now) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET now = excluded.now`, Nanos(now))
	return err
}

// VirtualNow returns where the virtual clock stood when last recorded,
// ENOTFOUND if it never was.
func (tb Tables) VirtualNow(ctx context.Context) (time.Time, error) {
	return One(ctx, tb.c, func(r Row) (time.Time, error) {
		var n int64
		err := r.Scan(&n)
		return FromNanos(n), err
	}, simulator.Errorf(simulator.ENOTFOUND, "clock", "no virtual clock was recorded"), `SELECT now FROM virtual_clock WHERE id = 1`)
}

// ClaimKey records that a request with an Idempotency-Key has started: an
// ECONFLICT if the key is recorded already.
func (tb Tables) ClaimKey(ctx context.Context, k simulator.IdempotentAnswer) error {
	// The empty body is bound, not written: SQLite and PostgreSQL spell
	// an empty byte string differently.
	n, err := tb.c.Exec(ctx, `INSERT INTO idempotency_keys (key, request, status, body, created_at) VALUES (?,?,0,?,?) ON CONFLICT (key) DO NOTHING`,
		k.Key, k.Request, []byte{}, Nanos(k.CreatedAt))
	return exists(n, err, simulator.Errorf(simulator.ECONFLICT, "Idempotency-Key", "%q is recorded already", k.Key))
}

// AnswerKey records the answer to a claimed key's request; status 0
// forgets the key, so that the request may be made again.
func (tb Tables) AnswerKey(ctx context.Context, k simulator.IdempotentAnswer) error {
	if k.Status == 0 {
		_, err := tb.c.Exec(ctx, `DELETE FROM idempotency_keys WHERE key = ?`, k.Key)
		return err
	}
	n, err := tb.c.Exec(ctx, `UPDATE idempotency_keys SET status = ?, body = ? WHERE key = ?`, k.Status, nonNil(k.Body), k.Key)
	return exists(n, err, simulator.Errorf(simulator.ENOTFOUND, "Idempotency-Key", "%q was never claimed", k.Key))
}

// Key returns what is recorded of an Idempotency-Key.
func (tb Tables) Key(ctx context.Context, key string) (simulator.IdempotentAnswer, error) {
	return One(ctx, tb.c, func(r Row) (simulator.IdempotentAnswer, error) {
		k := simulator.IdempotentAnswer{Key: key}
		var created int64
		err := r.Scan(&k.Request, &k.Status, &k.Body, &created)
		k.CreatedAt = FromNanos(created)
		return k, err
	}, simulator.Errorf(simulator.ENOTFOUND, "Idempotency-Key", "%q is not recorded", key),
		`SELECT request, status, body, created_at FROM idempotency_keys WHERE key = ?`, key)
}

// nonNil is b, or an empty slice for nil: a body column is NOT NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
