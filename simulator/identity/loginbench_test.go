//go:build unix

package identity

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/kgsim/kgsim/simulator/browsertest"
	"github.com/kgsim/kgsim/simulator/envtest"
	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// benchIdPEnv, when set to a directory, makes the test binary the
// identity provider of BenchmarkBrowserLogin instead of running tests: the
// benchmark starts it as a child process so that the CPU it reports is
// kgsim's alone, not kgsim's plus its clients'.
const benchIdPEnv = "KGSIM_BENCH_IDP"

func TestMain(m *testing.M) {
	if dir := os.Getenv(benchIdPEnv); dir != "" {
		if err := serveBenchIdP(dir); err != nil {
			fmt.Fprintln(os.Stderr, "bench identity provider:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(envtest.Report(m.Run(), "simulator/identity", browsertest.Need()))
}

// serveBenchIdP serves the benchmarks' world (seedBench) over a SQLite
// file in dir on a loopback port, prints its URL, and serves until its
// standard input closes. GET /rusage answers the process's CPU time so
// far, user plus system, in microseconds.
func serveBenchIdP(dir string) error {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "kgsim.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	idp, err := New(Config{Store: db, Clock: schedule.NewVirtual(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)), Random: rand.Reader,
		Base: base, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if err := seedBench(ctx, db); err != nil {
		return err
	}
	router := mux.NewRouter()
	router.HandleFunc("/rusage", func(w http.ResponseWriter, r *http.Request) {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, ru.Utime.Nano()/1e3+ru.Stime.Nano()/1e3)
	})
	idp.Register(router)
	go http.Serve(ln, router)
	fmt.Println(base)
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// startBenchIdP runs the test binary as the identity provider and returns
// its URL; it stops when the benchmark ends.
func startBenchIdP(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchIdPEnv+"="+b.TempDir())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("the identity provider did not start: %v", err)
	}
	return strings.TrimSpace(line)
}

// cpuMicros is the identity provider's CPU time so far.
func cpuMicros(b *testing.B, c *http.Client, base string) int64 {
	b.Helper()
	res, err := c.Get(base + "/rusage")
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	n, err := strconv.ParseInt(string(body), 10, 64)
	if err != nil {
		b.Fatalf("/rusage answered %q", body)
	}
	return n
}

// loginClients is how many browsers log in at once.
const loginClients = 8

// Full browser logins, each with a fresh cookie jar as a new browser:
// /authorize, redirected to the unified login page, its form posted with
// the right password and the form's CSRF token and cookie, the redirect
// to the callback with a code, then, as the merchant's server, the code
// exchanged at the token endpoint and userinfo read. The clients share
// keep-alive connections. Reports logins per second and kgsim's CPU per
// login (server-ms/login: the child process's user plus system time over
// the run, divided by the logins; the clients' own CPU is not in it).
func BenchmarkBrowserLogin(b *testing.B) {
	base := startBenchIdP(b)
	tr := &http.Transport{MaxIdleConns: 2 * loginClients, MaxIdleConnsPerHost: 2 * loginClients}
	b.Cleanup(tr.CloseIdleConnections)
	plain := &http.Client{Transport: tr}
	domain := base + "/t/" + acmeCode + "/api/v1"
	authorize := domain + "/oauth2/authorize?" + url.Values{"response_type": {"code"}, "client_id": {clientID},
		"redirect_uri": {benchCallback}, "scope": {scopeUserInfo}, "state": {"bench"}}.Encode()
	if err := browserLogin(plain, authorize, domain); err != nil {
		b.Fatal(err)
	}

	var (
		next      atomic.Int64
		failed    atomic.Value
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		wg        sync.WaitGroup
	)
	cpu0 := cpuMicros(b, plain, base)
	b.ResetTimer()
	start := time.Now()
	for range loginClients {
		wg.Go(func() {
			var mine []time.Duration
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if err := browserLogin(plain, authorize, domain); err != nil {
					failed.CompareAndSwap(nil, err.Error())
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := cpuMicros(b, plain, base) - cpu0
	if f := failed.Load(); f != nil {
		b.Fatalf("a login failed: %v", f)
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "logins/s")
	b.ReportMetric(float64(cpu)/1000/float64(b.N), "server-ms/login")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
}

// browserLogin logs zhangsan in as a new browser would, through
// plain's connections, and checks each step.
func browserLogin(plain *http.Client, authorize, domain string) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	kgsim, err := url.Parse(domain)
	if err != nil {
		return err
	}
	browser := &http.Client{Transport: plain.Transport, Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != kgsim.Host {
			return http.ErrUseLastResponse // the app's callback: the code is in the Location
		}
		return nil
	}}
	fetch := func(res *http.Response, err error) (*http.Response, string, error) {
		if err != nil {
			return nil, "", err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return res, string(body), err
	}
	res, page, err := fetch(browser.Get(authorize))
	if err != nil {
		return err
	}
	form, err := parseForm(page, res.Request.URL)
	if res.StatusCode != http.StatusOK || err != nil {
		return fmt.Errorf("authorize ended at %s with %s, not the form", res.Request.URL, res.Status)
	}
	form.fields.Set("username", "zhangsan")
	form.fields.Set("password", password)
	res, page, err = fetch(browser.PostForm(form.action, form.fields))
	if err != nil {
		return err
	}
	back, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || back == nil || back.Query().Get("code") == "" {
		return fmt.Errorf("the form answered %s to %q: %.300s", res.Status, res.Header.Get("Location"), page)
	}
	_, body, err := fetch(plain.PostForm(domain+"/oauth2/token", url.Values{"grant_type": {"authorization_code"},
		"code": {back.Query().Get("code")}, "client_id": {clientID}, "client_secret": {clientSecret}, "redirect_uri": {benchCallback}}))
	if err != nil {
		return err
	}
	access := gjson.Get(body, "access_token").String()
	if access == "" {
		return fmt.Errorf("the token endpoint answered %s", body)
	}
	req, err := http.NewRequest(http.MethodGet, domain+"/oauth2/userinfo", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+access)
	if _, body, err = fetch(plain.Do(req)); err != nil {
		return err
	}
	if gjson.Get(body, "userName").String() != "zhangsan" {
		return fmt.Errorf("userinfo answered %s", body)
	}
	return nil
}
