package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/tidwall/gjson"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
)

// clients is how many HTTP clients load the server at once, each with its
// own keep-alive connection.
const clients = 32

// benchServer is kgsim's identity provider over a SQLite file on loopback,
// with one tenant, client and user, and beside it on the same router the
// baseline: a handler that answers a small JSON document and does nothing
// else.
type benchServer struct {
	idp    *Server
	store  *sqlite.DB
	url    string
	client *http.Client
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "kgsim.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	router := mux.NewRouter()
	router.HandleFunc("/baseline", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", ContentTypeJSON)
		w.Write([]byte(`{"ok":true}`))
	})
	srv := httptest.NewServer(router)
	b.Cleanup(srv.Close)
	idp, err := New(Config{Store: db, Clock: schedule.NewVirtual(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)), Random: rand.Reader,
		Base: srv.URL, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	idp.Register(router)
	if err := seedBench(b.Context(), db); err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	b.Cleanup(tr.CloseIdleConnections)
	return &benchServer{idp: idp, store: db, url: srv.URL, client: &http.Client{Transport: tr}}
}

// benchCallback is the bench app's one callback: nothing listens there,
// the clients read the code from the redirect.
const benchCallback = "https://app.example.com/oauth/callback"

// seedBench stores the benchmarks' world: one tenant with the app bound,
// and zhangsan, authorised for it, with the tests' password.
func seedBench(ctx context.Context, db simulator.Store) error {
	hash, err := simulator.HashPassword(password, rand.Reader)
	if err != nil {
		return err
	}
	return errors.Join(
		db.PutTenant(ctx, simulator.Tenant{ID: acmeID, Code: acmeCode, Name: acmeName}),
		db.PutApp(ctx, simulator.App{ID: appID, RedirectURIs: []string{benchCallback}}),
		db.PutClient(ctx, simulator.Client{TenantID: acmeID, AppID: appID, ClientID: clientID, ClientSecret: clientSecret}),
		db.PutDepartment(ctx, simulator.Department{TenantID: acmeID, OrgCode: orgCode, Name: orgName}),
		db.PutUser(ctx, simulator.User{TenantID: acmeID, UserName: "zhangsan", ID: "u-0001", PasswordHash: hash, Name: "张三", Role: "admin",
			OrgCode: orgCode}),
		db.PutAuthorisation(ctx, simulator.Authorisation{TenantID: acmeID, AppID: appID, UserName: "zhangsan", Enabled: true}),
	)
}

// codes stores n authorization codes, as n logins would, in one
// transaction, and returns them.
func (s *benchServer) codes(b *testing.B, n int) []string {
	b.Helper()
	codes := make([]string, n)
	now := s.idp.clock.Now()
	err := s.store.Update(b.Context(), func(tx simulator.Tx) error {
		for i := range codes {
			code, err := s.idp.randomString(alnum, 32)
			if err != nil {
				return err
			}
			codes[i] = code
			err = tx.AddCode(b.Context(), simulator.AuthCode{Code: digest(code), ClientID: clientID, TenantID: acmeID, AppID: appID,
				UserName: "zhangsan", Scope: scopeUserInfo, CreatedAt: now, ExpiresAt: now.Add(CodeLifetime)})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return codes
}

// load runs b.N requests from clients parallel clients, each made by
// request(i) for the i-th request and expected to answer 200, and reports
// the rate and the median and 99th percentile latency.
func load(b *testing.B, s *benchServer, request func(i int) *http.Request) {
	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		failed    atomic.Value
	)
	b.SetParallelism((clients + 1) / 2) // × GOMAXPROCS (2 here)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			req := request(int(next.Add(1) - 1))
			t0 := time.Now()
			res, err := s.client.Do(req)
			if err != nil {
				failed.CompareAndSwap(nil, err.Error())
				continue
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			mine = append(mine, time.Since(t0))
			if res.StatusCode != http.StatusOK {
				failed.CompareAndSwap(nil, res.Status+" "+string(body))
			}
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f != nil {
		b.Fatalf("a request failed: %v", f)
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(float64(len(latencies)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// The token endpoint: authorization_code exchanges, each spending a code
// and storing a token pair in SQLite (target: 5,000 per second).
func BenchmarkTokenExchange(b *testing.B) {
	s := newBenchServer(b)
	codes := s.codes(b, b.N)
	endpoint := s.url + "/t/" + acmeCode + "/api/v1/oauth2/token"
	load(b, s, func(i int) *http.Request {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {codes[i]}, "client_id": {clientID}, "client_secret": {clientSecret}}
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	})
}

// Userinfo with one live access token.
func BenchmarkUserinfo(b *testing.B) {
	s := newBenchServer(b)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {s.codes(b, 1)[0]}, "client_id": {clientID}, "client_secret": {clientSecret}}
	res, err := s.client.PostForm(s.url+"/t/"+acmeCode+"/api/v1/oauth2/token", form)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	access := gjson.GetBytes(body, "access_token").String()
	endpoint := s.url + "/t/" + acmeCode + "/api/v1/oauth2/userinfo"
	request := func(int) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, endpoint, nil)
		req.Header.Set("Authorization", "Bearer "+access)
		return req
	}
	res, err = s.client.Do(request(0))
	if err != nil {
		b.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if gjson.GetBytes(body, "userName").String() != "zhangsan" {
		b.Fatalf("userinfo answered %s", body)
	}
	load(b, s, request)
}

// The baseline: the same server, client and load loop, a handler that
// does nothing but answer.
func BenchmarkBaselineJSON(b *testing.B) {
	s := newBenchServer(b)
	load(b, s, func(int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, s.url+"/baseline", strings.NewReader("grant_type=none"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	})
}
