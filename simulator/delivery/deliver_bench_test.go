package delivery

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// BenchmarkDeliver measures signed callbacks per second end to end:
// persisted in SQLite, signed, sent to a fast merchant on loopback, judged
// and recorded, with one worker and with the default number.
func BenchmarkDeliver(b *testing.B) {
	for _, workers := range []int{1, DefaultWorkers} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { benchmarkDeliver(b, workers) })
	}
}

func benchmarkDeliver(b *testing.B, workers int) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"resultCode":"000000","resultMsg":"ok","instanceId":"i-1"}`))
	}))
	defer srv.Close()
	clock := schedule.NewVirtual(t0)
	d := newDeliverer(b, clock, srv.URL)
	d.Workers = workers
	ctx := context.Background()
	// Enqueued in batches, so the benchmark itself holds little.
	for i := 0; i < b.N; i += 1000 {
		var msgs []simulator.Message
		for j := i; j < min(i+1000, b.N); j++ {
			msgs = append(msgs, newInstanceMessage(fmt.Sprintf("%012d", j), fmt.Sprintf("CS%d", j), srv.URL, t0))
		}
		if err := d.Store.Enqueue(ctx, msgs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	n, err := d.RunDue(ctx)
	if err != nil || n != b.N {
		b.Fatalf("%d attempts, %v", n, err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
	// Live heap once delivery is done: it must not grow with the number
	// of callbacks delivered.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heapMiB")
}

// BenchmarkLoopbackPost is BenchmarkDeliver's baseline: the same body
// POSTed to the same kind of merchant and its answer read, with nothing
// signed, judged or stored.
func BenchmarkLoopbackPost(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"resultCode":"000000","resultMsg":"ok","instanceId":"i-1"}`))
	}))
	defer srv.Close()
	body := newInstanceMessage("0", "CS0", srv.URL, t0).Params
	client := srv.Client()
	for b.Loop() {
		resp, err := client.Post(srv.URL+"/produce", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}
