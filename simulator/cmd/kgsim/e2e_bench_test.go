package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// benchClients is how many clients place purchases at once, and how many
// send the bare loop's calls.
const benchClients = 8

// benchMerchant is a V2 merchant on loopback that verifies each call's
// signature and provisions it at once: what both loops call.
type benchMerchant struct {
	calls atomic.Int64
	bad   atomic.Int64
}

func (m *benchMerchant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if protocol.VerifyV2(crashKey, r.URL.Query(), body, time.Now(), time.Minute) != nil {
		m.bad.Add(1)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	m.calls.Add(1)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"resultCode":"000000","resultMsg":"success.","instanceId":"i-%s"}`, gjson.GetBytes(body, "orderLineId").Str)
}

// BenchmarkEndToEnd measures purchases as a user of kgsim serve sees them:
// a real serve process (real clock, SQLite file), b.N purchases placed
// through POST /admin/v1/orders by 8 concurrent clients, each becoming a
// signed V2 newInstance to a loopback merchant, judged, settled and
// persisted; the clock stops when the outbox is empty. Beside it, in the
// same run, the bare loop: 8 clients sending b.N freshly signed
// newInstance calls straight to the same merchant. It reports both rates,
// their ratio, kgsim's CPU per purchase, its peak RSS and the database's
// bytes per purchase. KGSIM_BENCH_BIN runs another kgsim binary (an older
// build, to compare) instead of this one; KGSIM_BENCH_CPUPROFILE names a
// file for serve's CPU profile of the run.
func BenchmarkEndToEnd(b *testing.B) {
	merchant := &benchMerchant{}
	srv := httptest.NewServer(merchant)
	defer srv.Close()
	url := srv.URL + "/produce"

	b.StopTimer()
	bare := bareLoop(b, url, b.N)
	bin := os.Getenv("KGSIM_BENCH_BIN")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "kgsim")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
	}
	dir := b.TempDir()
	fixtures := filepath.Join(dir, "fixtures")
	os.Mkdir(fixtures, 0o700)
	os.WriteFile(filepath.Join(fixtures, "products.json"), fmt.Appendf(nil, `[{"productId":"P-BENCH","skuCode":"sku-1","name":"bench","chargingMode":"PERIOD",
		"periodType":"month","url":%q,"protocol":"v2","accessKey":%q,"dialTests":false,"noticeTo":["merchant@example.com"]}]`, url, crashKey), 0o600)
	os.WriteFile(filepath.Join(fixtures, "customers.json"), []byte(`[{"customerId":"c-1","customerName":"buyer"}]`), 0o600)
	db := filepath.Join(dir, "kgsim.db")
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db, "--fixtures", fixtures, "--log-level", "error")
	profile := os.Getenv("KGSIM_BENCH_CPUPROFILE")
	if profile != "" {
		cmd.Args = append(cmd.Args, "--cpuprofile", profile)
	}
	base := startBenchServe(b, cmd)
	defer func() {
		if profile != "" {
			// The profile is written as serve shuts down.
			cmd.Process.Signal(os.Interrupt)
		} else {
			cmd.Process.Kill()
		}
		cmd.Wait()
	}()
	cpu0 := cpuTime(b, cmd.Process.Pid)
	before := merchant.calls.Load()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	b.StartTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchClients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				req, _ := http.NewRequest("POST", base+"/admin/v1/orders", strings.NewReader(`{"productId":"P-BENCH","customerId":"c-1","periodNumber":1}`))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Errorf("purchase: %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	waitDelivered(b, client, base, merchant, before+int64(b.N))
	elapsed := time.Since(start)
	b.StopTimer()

	cpu := cpuTime(b, cmd.Process.Pid) - cpu0
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "purchases/s")
	b.ReportMetric(bare, "bare/s")
	b.ReportMetric(rate/bare, "ratio")
	b.ReportMetric(cpu.Seconds()*1000/float64(b.N), "cpu-ms/purchase")
	b.ReportMetric(float64(peakRSS(b, cmd.Process.Pid))/(1<<20), "peak-MiB")
	size := int64(0)
	for _, suffix := range []string{"", "-wal"} {
		if st, err := os.Stat(db + suffix); err == nil {
			size += st.Size()
		}
	}
	b.ReportMetric(float64(size)/float64(b.N), "db-bytes/purchase")
	if n := merchant.bad.Load(); n > 0 {
		b.Errorf("%d calls did not verify", n)
	}
}

// bareLoop sends n freshly signed newInstance calls to url from 8 clients
// and returns the rate.
func bareLoop(b *testing.B, url string, n int) float64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range benchClients {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				params := fmt.Appendf(nil, `{"activity":"newInstance","orderId":"CS%d","orderLineId":"CS%d-000001","businessId":"%s","testFlag":"0"}`, i, i, rand.Text())
				req, err := delivery.NewV2Request(url, crashKey, params, time.Now(), rand.Text()[:16], false)
				if err != nil {
					b.Error(err)
					return
				}
				hr, _ := http.NewRequestWithContext(context.Background(), req.Method, req.URL, bytes.NewReader(req.Body))
				hr.Header = req.Header.Clone()
				resp, err := client.Do(hr)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// startBenchServe starts kgsim serve and returns its base URL once it
// listens.
func startBenchServe(b *testing.B, cmd *exec.Cmd) string {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	_, rest, ok := strings.Cut(line, "listening on ")
	if err != nil || !ok {
		b.Fatalf("kgsim serve did not start: %q %v\n%s", line, err, stderr.String())
	}
	go io.Copy(io.Discard, stdout)
	base, _, _ := strings.Cut(rest, " ")
	return base
}

// waitDelivered waits until the merchant got want calls and kgsim's
// outbox is empty: every purchase judged and settled.
func waitDelivered(b *testing.B, client *http.Client, base string, m *benchMerchant, want int64) {
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		if m.calls.Load() >= want {
			resp, err := client.Get(base + "/admin/v1/messages?outcome=PENDING&limit=1")
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if gjson.GetBytes(body, "messages.#").Int() == 0 {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("the merchant got %d of %d calls in 10 minutes", m.calls.Load(), want)
}

// cpuTime is a process's user and system CPU time (Linux /proc).
func cpuTime(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	// Fields after the command's closing parenthesis; utime and stime are
	// the 14th and 15th of the line, in clock ticks (100 a second).
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// peakRSS is a process's peak resident set in bytes (VmHWM).
func peakRSS(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
