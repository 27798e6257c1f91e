package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

// saturated is the merchant at its bound in BenchmarkDueSaturated.
const saturated = "http://hang.example"

// BenchmarkDueSaturated times the outbox read the deliverer makes while
// one merchant is at its bound (8 attempts in flight) and holds a backlog
// of 0, 10,000 or 100,000 more due heads, each a queue of its own, due
// before 64 heads of 8 other merchants: the read leaves the merchant out
// and returns the first 8 of the others. Compare each backlog's time
// with no backlog's: a read that walks the merchant's backlog to reach
// the others' heads grows with it. open returns a new, empty store;
// loaded, when not nil, is called once the messages are in, for a back
// end that plans its reads by statistics to gather them, as its own
// maintenance would soon after such a load.
func BenchmarkDueSaturated(b *testing.B, open func(b *testing.B) simulator.Store, loaded func(b *testing.B, s simulator.Store)) {
	for _, backlog := range []int{0, 10_000, 100_000} {
		b.Run(fmt.Sprintf("backlog=%d", backlog), func(b *testing.B) {
			s := open(b)
			f := simulator.DueFilter{Now: t0.Add(time.Hour), Limit: 8, SkipOrigins: []string{saturated}}
			var batch []simulator.Message
			add := func(m simulator.Message) {
				if batch = append(batch, m); len(batch) == 1000 {
					flush(b, s, batch)
					batch = batch[:0]
				}
			}
			for i := range 8 + backlog {
				q := fmt.Sprintf("H%06d", i)
				m := Pending("h"+q, q, t0)
				m.URL = saturated + "/produce"
				if i < 8 {
					f.SkipQueues = append(f.SkipQueues, q) // in flight
				}
				add(m)
			}
			for i := range 64 {
				q := fmt.Sprintf("K%02d", i)
				m := Pending("k"+q, q, t0.Add(time.Second))
				m.URL = fmt.Sprintf("http://ok%d.example/produce", i%8)
				add(m)
			}
			flush(b, s, batch)
			if loaded != nil {
				loaded(b, s)
			}
			b.ResetTimer()
			for b.Loop() {
				due, err := s.Due(b.Context(), f)
				if err != nil {
					b.Fatal(err)
				}
				if len(due) != f.Limit || due[0].Queue != "K00" {
					b.Fatalf("read %d heads, the first %v; want 8 of the other merchants' from K00", len(due), ids(due))
				}
			}
		})
	}
}

func flush(b *testing.B, s simulator.Store, ms []simulator.Message) {
	if len(ms) == 0 {
		return
	}
	if err := s.Enqueue(b.Context(), ms...); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDueFew times the outbox read the deliverer makes most often
// under a steady load without a backlog: one merchant with 7 attempts in
// flight and 3 more heads due, read with room for 9 (the merchant's free
// place and another merchant's worth). The read finds fewer heads than
// it wants, all it can; compare it with BenchmarkDueSaturated's
// backlog=0, which finds as many as it wants.
func BenchmarkDueFew(b *testing.B, open func(b *testing.B) simulator.Store) {
	s := open(b)
	f := simulator.DueFilter{Now: t0.Add(time.Hour), Limit: 9}
	var ms []simulator.Message
	for i := range 10 {
		q := fmt.Sprintf("Q%02d", i)
		ms = append(ms, Pending("m"+q, q, t0))
		if i < 7 {
			f.SkipQueues = append(f.SkipQueues, q) // in flight
		}
	}
	flush(b, s, ms)
	b.ResetTimer()
	for b.Loop() {
		due, err := s.Due(b.Context(), f)
		if err != nil {
			b.Fatal(err)
		}
		if len(due) != 3 || due[0].Queue != "Q07" {
			b.Fatalf("read %v; want the 3 heads Q07, Q08, Q09", ids(due))
		}
	}
}

// BenchmarkPurchaseWrites times what a purchase writes of its order and
// instance: both stored new in one transaction, then, in another, read
// back and stored again settled (the order COMPLETED, the instance ACTIVE
// with the merchant's instanceId and its next event), as the engine does
// when the merchant acknowledges. open returns a new, empty store.
func BenchmarkPurchaseWrites(b *testing.B, open func(b *testing.B) simulator.Store) {
	s := open(b)
	n := 0
	for b.Loop() {
		n++
		if err := purchaseWrites(b.Context(), s, n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPurchaseWritesParallel is BenchmarkPurchaseWrites from 8
// goroutines a CPU at once, as purchases and settlements come to a busy
// kgsim serve: their transactions are committed in groups.
func BenchmarkPurchaseWritesParallel(b *testing.B, open func(b *testing.B) simulator.Store) {
	s := open(b)
	var n atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := purchaseWrites(b.Context(), s, int(n.Add(1))); err != nil {
				b.Error(err) // not Fatal: this is not the benchmark's goroutine
				return
			}
		}
	})
}

// purchaseWrites makes purchase n's writes.
func purchaseWrites(ctx context.Context, s simulator.Store, n int) error {
	o := order(fmt.Sprintf("CS%08d", n), "P1", t0.Add(time.Duration(n)))
	i := instance(o.LineID, "P1", o.CreatedAt)
	i.ID, i.State = "", simulator.Provisioning
	err := s.Update(ctx, func(tx simulator.Tx) error {
		if err := tx.PutOrder(ctx, o); err != nil {
			return err
		}
		return tx.PutInstance(ctx, i)
	})
	if err != nil {
		return err
	}
	return s.Update(ctx, func(tx simulator.Tx) error {
		o, err := tx.Order(ctx, o.ID)
		if err != nil {
			return err
		}
		o.State, o.SettledAt = simulator.OrderCompleted, t0.Add(time.Hour)
		if err := tx.PutOrder(ctx, o); err != nil {
			return err
		}
		i, err := tx.Instance(ctx, i.Key)
		if err != nil {
			return err
		}
		i.ID, i.State, i.NextEventAt, i.UpdatedAt = "i-"+o.ID, simulator.Active, t0.Add(720*time.Hour), t0.Add(time.Hour)
		return tx.PutInstance(ctx, i)
	})
}
