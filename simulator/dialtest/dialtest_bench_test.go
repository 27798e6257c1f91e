package dialtest

import (
	"context"
	"fmt"
	"testing"
)

// benchProducts is the catalogue size the benchmarks schedule.
const benchProducts = 1000

// catalogue is an env with benchProducts products of two debug cases each.
func catalogue(b *testing.B) *env {
	e := newEnv(b)
	for i := range benchProducts {
		if err := e.store.PutProduct(context.Background(), product(fmt.Sprintf("P%04d", i), "http://127.0.0.1:1/produce")); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

// BenchmarkRunDue1000Products starts the runs of 1,000 products at one
// scheduled time per iteration: 1,000 runs and 2,000 probes, each run in a
// transaction of its own.
func BenchmarkRunDue1000Products(b *testing.B) {
	e := catalogue(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		hour := 10 + 5*(i%2)
		if n := e.runDue(cst(i/2, hour, 0)); n != benchProducts {
			b.Fatalf("%d runs started, want %d", n, benchProducts)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*benchProducts), "µs/run")
}

// BenchmarkNextDue1000Products asks for the next run time of 1,000
// products that ran at the current scheduled time: one read per product.
func BenchmarkNextDue1000Products(b *testing.B) {
	e := catalogue(b)
	e.runDue(cst(0, 10, 0))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok, err := e.tester.NextDue(context.Background()); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
