package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// The virtual clock's position reads back as put, the last one winning.
func virtualNowRoundTrip(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	if _, err := s.VirtualNow(ctx); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("VirtualNow before any: %v, want ENOTFOUND", err)
	}
	check(t, s.PutVirtualNow(ctx, t0))
	later := t0.Add(30 * 24 * time.Hour)
	check(t, s.PutVirtualNow(ctx, later))
	if got, err := s.VirtualNow(ctx); err != nil || !got.Equal(later) {
		t.Errorf("VirtualNow = %v, %v; want %v", got, err, later)
	}
}

// A key is claimed once; its answer reads back; forgetting it lets it be
// claimed again.
func idempotencyKeys(t *testing.T, s simulator.Store) {
	ctx := t.Context()
	k := simulator.IdempotentAnswer{Key: "k1", Request: []byte{1, 2, 3}, CreatedAt: t0}
	check(t, s.ClaimKey(ctx, k))
	if err := s.ClaimKey(ctx, k); simulator.ErrorCode(err) != simulator.ECONFLICT {
		t.Errorf("a second claim: %v, want ECONFLICT", err)
	}
	if got, err := s.Key(ctx, "k1"); err != nil || got.Status != 0 || !bytes.Equal(got.Request, k.Request) {
		t.Errorf("claimed key = %+v, %v; want status 0 and its request", got, err)
	}
	k.Status, k.Body = 201, []byte(`{"order":{}}`)
	check(t, s.AnswerKey(ctx, k))
	if got, err := s.Key(ctx, "k1"); err != nil || got.Status != 201 || string(got.Body) != `{"order":{}}` || !got.CreatedAt.Equal(t0) {
		t.Errorf("answered key = %+v, %v", got, err)
	}
	notFound(t, "Key of an unknown key", func() error { _, err := s.Key(ctx, "k2"); return err }())
	notFound(t, "AnswerKey of an unclaimed key", s.AnswerKey(ctx, simulator.IdempotentAnswer{Key: "k2", Status: 200}))
	k.Status = 0
	check(t, s.AnswerKey(ctx, k))
	check(t, s.ClaimKey(ctx, k))
}
