package engine

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// BenchmarkStoreCeiling measures what a purchase costs kgsim serve's one
// SQLite writer with nothing else in the way: no HTTP in or out, no
// signing, no scheduler. 16 goroutines (serve's 8 admin clients and 8
// delivery workers of BenchmarkEndToEnd) each place a purchase of a V2
// periodic product, then record the merchant's acknowledgement of its
// newInstance (an attempt of the size serve records) and settle it in
// one transaction, as delivery does; every transaction is committed in
// groups. Its rate is the most purchases a second serve's store could
// take on this machine, whatever the rest cost: scripts/bench.sh prints
// it beside the end-to-end rate and the bare loop's.
func BenchmarkStoreCeiling(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "kgsim.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	p := simulator.Product{ID: "P-BENCH", SKUCode: "sku-1", Name: "bench", ChargingMode: simulator.Period, PeriodType: "month",
		URL: "http://127.0.0.1:8081/produce", Protocol: simulator.V2, AccessKey: "bench-key"}
	e := &Engine{Store: store, Clock: schedule.Wall{}}
	if err := e.Load(ctx, []simulator.Product{p}, []simulator.Customer{{ID: "c-1", Name: "buyer"}}); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	b.ResetTimer()
	for range 16 {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := buyAndSettle(ctx, e, store); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "purchases/s")
}

// buyAndSettle places one purchase and settles its newInstance as
// acknowledged. It reads the purchase's message back outside any
// transaction, on one of the store's readers, where serve's delivery
// finds it by reading the outbox: the writer does no more than in serve.
func buyAndSettle(ctx context.Context, e *Engine, store *sqlite.DB) error {
	o, inst, err := e.Buy(ctx, Purchase{ProductID: "P-BENCH", CustomerID: "c-1", PeriodNumber: 1})
	if err != nil {
		return err
	}
	ms, err := store.Messages(ctx, simulator.MessageFilter{Queue: inst.Key})
	if err != nil || len(ms) != 1 {
		return fmt.Errorf("the purchase's messages: %d, %v", len(ms), err)
	}
	m := ms[0]
	now := time.Now()
	m.Attempts, m.Outcome, m.FirstAttempt, m.NextAttemptAt = 1, simulator.Succeeded, now, time.Time{}
	// An attempt as serve records a V2 one: the signed URL, headers and
	// signing inputs, the body sent, the answer's headers and body.
	sig := strings.Repeat("D", 64)
	nonce := strings.Repeat("1", 64)
	a := simulator.Attempt{
		MessageID: m.ID, N: 1, StartedAt: now, FinishedAt: now, Method: "POST",
		URL:    m.URL + "?signature=" + sig + "&timestamp=1796450350928&nonce=" + nonce,
		Header: http.Header{"Accept": {"application/json"}, "Content-Type": {"application/json;charset=UTF-8"}},
		Body:   m.Params, Timestamp: "1796450350928", Nonce: nonce, BodyHMAC: strings.Repeat("8", 64),
		Canonical: "<accessKey>" + nonce + "1796450350928" + strings.Repeat("8", 64), Signature: sig,
		Status:         200,
		ResponseHeader: http.Header{"Content-Length": {"88"}, "Content-Type": {"application/json"}, "Date": {now.Format(http.TimeFormat)}},
		ResponseBody:   fmt.Appendf(nil, `{"resultCode":"000000","resultMsg":"success.","instanceId":"i-%s"}`, o.LineID),
		Verdict:        simulator.Success,
		Warnings:       []string{"BODY_SIGN_ABSENT: V2 answer without Body-Sign; one V2 page requires it, so send it"},
	}
	return store.Update(ctx, func(tx simulator.Tx) error {
		if err := tx.RecordAttempt(ctx, a, m); err != nil {
			return err
		}
		return e.Settle(ctx, tx, m, a)
	})
}
