package openapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/openapi"
	"github.com/kgsim/kgsim/simulator/protocol"
)

// The open APIs on loopback over SQLite on disk, against a trivial
// handler on the same server: APIG-verified with a fixed SK, answering
// fixed JSON. Their ratio (x-trivial) is what the store and the API's
// checks cost:
//
//	go test -run NONE -bench OrderQuery -benchtime 20000x ./simulator/openapi/
//	go test -run NONE -bench UsagePush -benchtime 2000x ./simulator/openapi/

// benchWorld mounts the trivial handler beside the open APIs.
func benchWorld(b *testing.B) *world {
	w := newWorld(b)
	w.router.Handle("/trivial", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		h := r.Header.Clone()
		h.Set("Host", r.Host)
		_, err = protocol.VerifyAPIG(func(string) (string, bool) { return sk1, true },
			&protocol.APIGRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: h, Body: body}, w.wall)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusUnauthorized)
			return
		}
		rw.Header().Set("Content-Type", "application/json;charset=UTF-8")
		rw.Write([]byte(`{"resultCode":"MKT.0000","resultMsg":"Success"}` + "\n"))
	}))
	return w
}

// signed is a request signed as the SDKs sign it, with kgsim's signer
// (the cost on the client's side is the same for every handler).
func (w *world) signed(method, path, query string, header map[string]string, body []byte) *http.Request {
	r, err := http.NewRequest(method, w.srv.URL+path+query, strings.NewReader(string(body)))
	if err != nil {
		w.t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Sdk-Date", w.wall.Format("20060102T150405Z"))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	q, _ := url.ParseQuery(strings.TrimPrefix(query, "?"))
	h := r.Header.Clone()
	h.Set("Host", r.URL.Host)
	names := []string{"host"}
	for k := range r.Header {
		names = append(names, k)
	}
	r.Header.Set("Authorization", protocol.SignAPIG(ak1, sk1, &protocol.APIGRequest{Method: method, Path: path, Query: q, Header: h, Body: body}, names))
	return r
}

// alternate sends b.N requests that kgsim makes and b.N that trivial
// makes, from 8 parallel clients, in rounds of 100 to one and then to the
// other, so that both are measured under the same load on the machine;
// it fails on any answer but 200. A client reads each answer to its end,
// as the SDKs do, so that its connection is kept.
func alternate(b *testing.B, kgsim, trivial func(i int64) *http.Request) (kgsimTook, trivialTook time.Duration) {
	const round, clients = 100, 8
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var n atomic.Int64
	send := func(count int, next func(i int64) *http.Request) time.Duration {
		var left atomic.Int64
		left.Store(int64(count))
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Go(func() {
				for left.Add(-1) >= 0 {
					res, err := client.Do(next(n.Add(1)))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						b.Errorf("status %d", res.StatusCode)
						return
					}
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	b.ResetTimer()
	for done := 0; done < b.N; done += round {
		count := min(round, b.N-done)
		kgsimTook += send(count, kgsim)
		trivialTook += send(count, trivial)
	}
	return kgsimTook, trivialTook
}

// report gives the rates of kgsim's handler and the trivial one, in units
// (per items a request), and their ratio.
func report(b *testing.B, items int, unit string, kgsimTook, trivialTook time.Duration) {
	kgsim := float64(b.N*items) / kgsimTook.Seconds()
	trivial := float64(b.N*items) / trivialTook.Seconds()
	b.ReportMetric(kgsim, unit)
	b.ReportMetric(trivial, "trivial-"+unit)
	b.ReportMetric(kgsim/trivial, "x-trivial")
}

func BenchmarkOrderQuery(b *testing.B) {
	w := benchWorld(b)
	ctx := b.Context()
	w.check(w.store.PutCustomer(ctx, simulator.Customer{ID: "C1", Name: "buyer"}))
	w.check(w.store.PutOrder(ctx, simulator.Order{ID: "CS2503010800ABCDE", LineID: "CS2503010800ABCDE-000001", Kind: simulator.NewPurchase,
		InstanceKey: "K3", ProductID: "P1-PERIOD", SKUCode: "sku", CustomerID: "C1", State: simulator.OrderCompleted, PeriodType: "month",
		PeriodNumber: 1, Amount: "10", CreatedAt: start, ExpireTime: start.AddDate(0, 1, 0)}))
	query := func(path string) func(int64) *http.Request {
		return func(int64) *http.Request { return w.signed("GET", path, "?orderId=CS2503010800ABCDE", nil, nil) }
	}
	k, t := alternate(b, query(openapi.OrderQueryPath), query("/trivial"))
	report(b, 1, "queries/s", k, t)
}

func BenchmarkUsagePush(b *testing.B) {
	w := benchWorld(b)
	const perPush = 100
	push := func(i int64) []byte {
		records := make([]string, perPush)
		for j := range records {
			records[j] = fmt.Sprintf(`{"begin_time":"20250301T060000Z","end_time":"20250301T070000Z","instance_id":"i-demand-1","metering_sn":"sn-%d-%d","record_time":"20250301T071000Z","usage_value":"1.5"}`, i, j)
		}
		return []byte(`{"usage_records":[` + strings.Join(records, ",") + `]}`)
	}
	send := func(path string) func(int64) *http.Request {
		return func(i int64) *http.Request {
			body := push(i)
			sig := protocol.UsageSignature(key1, "1716363778801", "n", body)
			return w.signed("POST", path, "", map[string]string{"ts": "1716363778801", "nonce": "n", "signature": sig}, body)
		}
	}
	k, t := alternate(b, send(openapi.UsagePath), send("/trivial"))
	report(b, perPush, "records/s", k, t)
}
