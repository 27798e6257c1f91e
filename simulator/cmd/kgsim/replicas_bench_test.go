package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPurchasesOnPostgres measures purchases as BenchmarkEndToEnd
// does (8 clients placing b.N purchases through the admin API, each
// delivered to a loopback V2 merchant, the clock stopping when the outbox
// is empty), on SQLite, on PostgreSQL with one kgsim serve and with two
// replicas sharing the database, the clients' purchases spread over them,
// all in the same run. It reports the rate and the admin API's p50 and
// p99 per purchase. The test cluster runs without fsync, as SQLite's WAL
// with synchronous=NORMAL commits without one.
func BenchmarkPurchasesOnPostgres(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "kgsim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name     string
		replicas int
		db       func(b *testing.B) string
	}{
		{"store=sqlite", 1, func(b *testing.B) string { return filepath.Join(b.TempDir(), "kgsim.db") }},
		{"store=postgres/replicas=1", 1, func(b *testing.B) string { return cluster.DB(b) }},
		{"store=postgres/replicas=2", 2, func(b *testing.B) string { return cluster.DB(b) }},
	} {
		b.Run(tc.name, func(b *testing.B) { purchases(b, bin, tc.db(b), tc.replicas) })
	}
}

// purchases places b.N purchases through replicas kgsim serve on db and
// waits for their delivery.
func purchases(b *testing.B, bin, db string, replicas int) {
	merchant := &benchMerchant{}
	srv := httptest.NewServer(merchant)
	defer srv.Close()
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "products.json"), fmt.Appendf(nil, `[{"productId":"P-BENCH","skuCode":"sku-1","name":"bench","chargingMode":"PERIOD",
		"periodType":"month","url":%q,"protocol":"v2","accessKey":%q,"dialTests":false,"noticeTo":["merchant@example.com"]}]`, srv.URL+"/produce", crashKey), 0o600)
	os.WriteFile(filepath.Join(dir, "customers.json"), []byte(`[{"customerId":"c-1","customerName":"buyer"}]`), 0o600)
	var bases []string
	for range replicas {
		cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db, "--fixtures", dir, "--log-level", "error")
		bases = append(bases, startBenchServe(b, cmd))
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	latencies := make([][]time.Duration, benchClients)
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for c := range benchClients {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				req, _ := http.NewRequest("POST", bases[int(i)%len(bases)]+"/admin/v1/orders",
					strings.NewReader(`{"productId":"P-BENCH","customerId":"c-1","periodNumber":1}`))
				req.Header.Set("Content-Type", "application/json")
				sent := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				latencies[c] = append(latencies[c], time.Since(sent))
				if resp.StatusCode != http.StatusCreated {
					b.Errorf("purchase: %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	waitDelivered(b, client, bases[0], merchant, int64(b.N))
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(latencies...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "purchases/s")
	if n := merchant.calls.Load(); n != int64(b.N) {
		b.Errorf("the merchant got %d calls for %d purchases", n, b.N)
	}
	if n := merchant.bad.Load(); n > 0 {
		b.Errorf("%d calls did not verify", n)
	}
}
