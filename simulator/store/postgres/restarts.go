package postgres

import (
	"context"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// PutVirtualNow records where the virtual clock stands.
func (s store) PutVirtualNow(ctx context.Context, now time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO virtual_clock (id, now) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET now = excluded.now`, nanos(now))
	return err
}

// VirtualNow returns where the virtual clock stood when last recorded,
// ENOTFOUND if it never was.
func (s store) VirtualNow(ctx context.Context) (time.Time, error) {
	return one(ctx, s, func(sc scanner) (time.Time, error) {
		var n int64
		err := sc.Scan(&n)
		return fromNanos(n), err
	}, simulator.Errorf(simulator.ENOTFOUND, "clock", "no virtual clock was recorded"), `SELECT now FROM virtual_clock WHERE id = 1`)
}

// ClaimKey records that a request with an Idempotency-Key has started: an
// ECONFLICT if the key is recorded already.
func (s store) ClaimKey(ctx context.Context, k simulator.IdempotentAnswer) error {
	res, err := s.exec(ctx, `INSERT INTO idempotency_keys (key, request, status, body, created_at) VALUES (?,?,0,''::bytea,?) ON CONFLICT (key) DO NOTHING`,
		k.Key, k.Request, nanos(k.CreatedAt))
	if err != nil {
		return err
	}
	return exists(res, simulator.Errorf(simulator.ECONFLICT, "Idempotency-Key", "%q is recorded already", k.Key))
}

// AnswerKey records the answer to a claimed key's request; status 0
// forgets the key, so that the request may be made again.
func (s store) AnswerKey(ctx context.Context, k simulator.IdempotentAnswer) error {
	if k.Status == 0 {
		_, err := s.exec(ctx, `DELETE FROM idempotency_keys WHERE key = ?`, k.Key)
		return err
	}
	res, err := s.exec(ctx, `UPDATE idempotency_keys SET status = ?, body = ? WHERE key = ?`, k.Status, nonNil(k.Body), k.Key)
	if err != nil {
		return err
	}
	return exists(res, simulator.Errorf(simulator.ENOTFOUND, "Idempotency-Key", "%q was never claimed", k.Key))
}

// Key returns what is recorded of an Idempotency-Key.
func (s store) Key(ctx context.Context, key string) (simulator.IdempotentAnswer, error) {
	return one(ctx, s, func(sc scanner) (simulator.IdempotentAnswer, error) {
		k := simulator.IdempotentAnswer{Key: key}
		var created int64
		err := sc.Scan(&k.Request, &k.Status, &k.Body, &created)
		k.CreatedAt = fromNanos(created)
		return k, err
	}, simulator.Errorf(simulator.ENOTFOUND, "Idempotency-Key", "%q is not recorded", key),
		`SELECT request, status, body, created_at FROM idempotency_keys WHERE key = ?`, key)
}
