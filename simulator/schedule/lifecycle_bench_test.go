package schedule_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/engine"
	"github.com/kgsim/kgsim/simulator/market"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
	"github.com/tidwall/gjson"
)

var start = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

// world is a marketplace on a virtual clock, wired as kgsim serve wires
// it, with a fast V2 merchant on loopback that provisions every order.
type world struct {
	store     *sqlite.DB
	engine    *engine.Engine
	scheduler *schedule.Scheduler
	product   simulator.Product
	customer  simulator.Customer
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		// The order line identifies the instance: idempotent by construction.
		fmt.Fprintf(w, `{"resultCode":"000000","resultMsg":"ok","instanceId":"i-%s"}`, gjson.GetBytes(body, "orderLineId").Str)
	}))
	tb.Cleanup(merchant.Close)
	store, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "kgsim.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	w := &world{
		store:    store,
		product:  simulator.Product{ID: "P-TRIAL", SKUCode: "sku-1", Name: "trial product", ChargingMode: simulator.Period, PeriodType: "month", Trial: true, URL: merchant.URL + "/produce", Protocol: simulator.V2, AccessKey: "bench-key"},
		customer: simulator.Customer{ID: "c-1", Name: "buyer"},
	}
	m, err := market.New(context.Background(), market.Config{
		Store: store, Clock: schedule.NewVirtual(start), Random: rand.NewChaCha8([32]byte{7}),
		Products: []simulator.Product{w.product}, Customers: []simulator.Customer{w.customer},
	})
	if err != nil {
		tb.Fatal(err)
	}
	w.engine, w.scheduler = m.Engine, m.Scheduler
	return w
}

// buyTrials places n trial orders at the clock's now.
func (w *world) buyTrials(tb testing.TB, n int) {
	tb.Helper()
	for range n {
		if _, _, err := w.engine.Buy(context.Background(), engine.Purchase{ProductID: w.product.ID, CustomerID: w.customer.ID, Trial: true}); err != nil {
			tb.Fatal(err)
		}
	}
}

// A trial runs 7 days, is frozen at expiry and released 15 days later:
// three callbacks per instance inside 30 days, each at its own time.
func TestThirtyDaysOfTrials(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.buyTrials(t, 3)
	if _, err := w.scheduler.Advance(ctx, start.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	msgs, err := w.store.Messages(ctx, simulator.MessageFilter{})
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		activity string
		at       time.Duration
	}
	want := map[string][]step{}
	got := map[string][]step{}
	for _, m := range msgs {
		if m.Outcome != simulator.Succeeded {
			t.Errorf("message %s (%s): %s", m.ID, m.Activity, m.Outcome)
		}
		attempts, err := w.store.Attempts(ctx, m.ID)
		if err != nil || len(attempts) != 1 {
			t.Fatalf("message %s: %d attempts, %v", m.ID, len(attempts), err)
		}
		activity := m.Activity + "/" + gjson.GetBytes(attempts[0].Body, "status").Str
		got[m.Queue] = append(got[m.Queue], step{activity, m.FirstAttempt.Sub(start)})
		want[m.Queue] = []step{{"newInstance/", 0}, {"updateInstanceStatus/FREEZE", 7 * 24 * time.Hour}, {"releaseInstance/", 22 * 24 * time.Hour}}
	}
	if len(got) != 3 {
		t.Fatalf("callbacks for %d instances, want 3", len(got))
	}
	for q := range want {
		if fmt.Sprint(got[q]) != fmt.Sprint(want[q]) {
			t.Errorf("instance %s: %v\nwant %v", q, got[q], want[q])
		}
	}
	instances, err := w.store.Instances(ctx, simulator.InstanceFilter{State: simulator.Released})
	if err != nil || len(instances) != 3 {
		t.Errorf("%d released instances, %v", len(instances), err)
	}
}

// BenchmarkThirtyDays advances the virtual clock through 30 days for n
// trial instances, persisted in SQLite, against a loopback merchant.
// ns/instance must stay flat as n grows: the cost is linear.
func BenchmarkThirtyDays(b *testing.B) {
	for _, n := range []int{100, 1000, 2000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			var work int
			for b.Loop() {
				b.StopTimer()
				w := newWorld(b)
				w.buyTrials(b, n)
				b.StartTimer()
				r, err := w.scheduler.Advance(context.Background(), start.Add(30*24*time.Hour))
				if err != nil {
					b.Fatal(err)
				}
				work = r.Work
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/instance")
			b.ReportMetric(float64(work), "work/run")
		})
	}
}
