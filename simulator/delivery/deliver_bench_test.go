package delivery

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kgsim/kgsim/simulator"
)

// BenchmarkDeliver measures signed callbacks per second end to end:
// persisted in SQLite, signed, sent to a fast merchant on loopback, judged
// and recorded, one attempt after another.
func BenchmarkDeliver(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"resultCode":"000000","resultMsg":"ok","instanceId":"i-1"}`))
	}))
	defer srv.Close()
	clock := &virtualClock{t0}
	d := newDeliverer(b, clock)
	ctx := context.Background()
	msgs := make([]simulator.Message, b.N)
	for i := range msgs {
		msgs[i] = newInstanceMessage(fmt.Sprintf("%012d", i), fmt.Sprintf("CS%d", i), srv.URL, t0)
	}
	if err := d.Store.Enqueue(ctx, msgs...); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	n, err := d.RunDue(ctx)
	if err != nil || n != b.N {
		b.Fatalf("%d attempts, %v", n, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
}
