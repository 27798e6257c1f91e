package dialtest

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/gjson"
)

// merchant is a production interface on loopback that checks the
// signature of every request (V1 authToken, V2 signature), signs its V1
// answers, and fails the activities the test says with resultCode 000005.
type merchant struct {
	t       *testing.T
	mu      sync.Mutex
	failing map[string]bool // activity -> answer 000005; "*" all
	got     []probe
}

// probe is what the merchant received.
type probe struct {
	protocol, activity, testFlag, businessID string
}

func newMerchant(t *testing.T) (*merchant, string) {
	m := &merchant{t: t, failing: map[string]bool{}}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return m, srv.URL
}

func (m *merchant) fail(activities ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failing = map[string]bool{}
	for _, a := range activities {
		m.failing[a] = true
	}
}

func (m *merchant) received() []probe {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]probe(nil), m.got...)
}

func (m *merchant) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var p probe
	var err error
	if r.Method == http.MethodGet {
		p.protocol = "v1"
		err = protocol.VerifyV1(key, r.URL.RawQuery)
		q, _ := url.ParseQuery(r.URL.RawQuery)
		p.activity, p.testFlag, p.businessID = q.Get("activity"), q.Get("testFlag"), q.Get("businessId")
	} else {
		p.protocol = "v2"
		err = protocol.VerifyV2(key, r.URL.Query(), body, time.Now(), time.Minute)
		v := gjson.GetManyBytes(body, "activity", "testFlag", "businessId")
		p.activity, p.testFlag, p.businessID = v[0].String(), v[1].Raw, v[2].String()
	}
	m.mu.Lock()
	m.got = append(m.got, p)
	failing := m.failing["*"] || m.failing[p.activity]
	m.mu.Unlock()

	code := "000000"
	switch {
	case err != nil:
		m.t.Errorf("merchant: %s %s: %v", p.protocol, p.activity, err)
		code = "000001"
	case failing:
		code = "000005"
	}
	answer := []byte(`{"resultCode":"` + code + `","resultMsg":"dial test","instanceId":"i-1","appInfo":{"frontEndUrl":"https://isv.example.com/app"}}`)
	w.Header().Set("Content-Type", "application/json")
	if p.protocol == "v1" {
		w.Header().Set("Body-Sign", protocol.BodySignHeader(protocol.BodySign(key, answer)))
	}
	w.Write(answer)
}

// deliverer sends the probes the tester enqueues and hands every attempt
// to the tester's Settle.
func (e *env) deliverer() *delivery.Deliverer {
	if e.delivery == nil || e.delivery.Store != e.store {
		e.delivery = &delivery.Deliverer{
			Store: e.store, Sender: delivery.NewSender(delivery.DefaultTimeout), Clock: e.clock, Wall: time.Now,
			Random: rand.NewChaCha8([32]byte{9}), Settlers: []simulator.Settler{e.tester},
		}
	}
	return e.delivery
}

// runAndDeliver starts the runs due at at and delivers their probes.
func (e *env) runAndDeliver(at time.Time) int {
	e.t.Helper()
	n := e.runDue(at)
	if _, err := e.deliverer().RunDue(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// days runs both scheduled times of each day in [from, to), with the
// merchant failing the activities fail(day) returns.
func (e *env) days(m *merchant, from, to int, fail func(day, hour int) []string) {
	e.t.Helper()
	for d := from; d < to; d++ {
		for _, h := range []int{10, 15} {
			m.fail(fail(d, h)...)
			e.runAndDeliver(cst(d, h, 0))
		}
	}
}

func (e *env) notices(productID string) map[simulator.NoticeKind]int {
	e.t.Helper()
	ns, err := e.store.Notices(context.Background(), simulator.NoticeFilter{ProductID: productID})
	if err != nil {
		e.t.Fatal(err)
	}
	count := map[simulator.NoticeKind]int{}
	for _, n := range ns {
		count[n.Kind]++
	}
	return count
}

func all(int, int) []string { return []string{"*"} }

func TestFiveFailingDaysFreezeTheProductOnTheFifth(t *testing.T) {
	m, url := newMerchant(t)
	e := newEnv(t, product("P1", url))
	e.days(m, 0, 4, all)
	if s := e.product("P1").Status; s != "" {
		t.Fatalf("after 4 failing days the product is %s, want still on sale", s)
	}
	if got := e.notices("P1"); got[simulator.NoticeDialTest] != 8 || got[simulator.NoticeProduct] != 0 {
		t.Fatalf("after 4 failing days: notices %v, want 8 DIAL_TEST (one per failed run)", got)
	}
	m.fail("*")
	if n := e.runAndDeliver(cst(4, 10, 0)); n != 1 {
		t.Fatalf("day 5, 10:00: %d runs, want 1", n)
	}
	if s := e.product("P1").Status; s != simulator.FrozenHidden {
		t.Fatalf("after the 5th failing day's first run the product is %q, want FROZEN_HIDDEN", s)
	}
	if got := e.notices("P1"); got[simulator.NoticeDialTest] != 9 || got[simulator.NoticeProduct] != 1 {
		t.Errorf("notices %v, want 9 DIAL_TEST and 1 PRODUCT_STATUS", got)
	}
	for _, at := range []time.Time{cst(4, 15, 0), cst(5, 10, 0)} {
		if n := e.runAndDeliver(at); n != 0 {
			t.Errorf("frozen, at %v: %d runs, want none", at, n)
		}
	}
	for _, r := range e.runs("P1") {
		if !r.Done || r.Passed {
			t.Errorf("run %s at %v: done %v, passed %v; want done and failed", r.ID, r.At, r.Done, r.Passed)
		}
	}
}

func TestAPassingDayResetsTheCount(t *testing.T) {
	m, url := newMerchant(t)
	e := newEnv(t, product("P1", url))
	e.days(m, 0, 9, func(day, _ int) []string {
		if day == 4 {
			return nil
		}
		return []string{"*"}
	})
	if s := e.product("P1").Status; s != "" {
		t.Fatalf("4 failing days, a passing one, 4 failing ones: product %s, want on sale", s)
	}
	m.fail("*")
	e.runAndDeliver(cst(9, 10, 0))
	if s := e.product("P1").Status; s != simulator.FrozenHidden {
		t.Fatalf("the 5th failing day after the passing one: product %q, want FROZEN_HIDDEN", s)
	}
	if got := e.notices("P1"); got[simulator.NoticeDialTest] != 17 || got[simulator.NoticeProduct] != 1 {
		t.Errorf("notices %v, want 17 DIAL_TEST and 1 PRODUCT_STATUS", got)
	}
}

func TestADayWithOneFailedRunFails(t *testing.T) {
	m, url := newMerchant(t)
	e := newEnv(t, product("P1", url))
	e.days(m, 0, 4, func(_, hour int) []string {
		if hour == 10 {
			return []string{"refreshInstance"} // one case of two fails the morning run
		}
		return nil
	})
	m.fail("refreshInstance")
	e.runAndDeliver(cst(4, 10, 0))
	if s := e.product("P1").Status; s != simulator.FrozenHidden {
		t.Fatalf("5 days each with a failed and a passed run: product %q, want FROZEN_HIDDEN", s)
	}
	passed := 0
	for _, r := range e.runs("P1") {
		if r.Passed {
			passed++
		}
	}
	if passed != 4 {
		t.Errorf("%d runs passed, want the 4 afternoon runs", passed)
	}
}

func TestProbesAreSignedAndCarryTestFlag(t *testing.T) {
	m, url := newMerchant(t)
	e := newEnv(t,
		product("V2", url),
		product("V1", url+"/v1", func(p *simulator.Product) {
			p.Protocol = simulator.V1
			p.DebugCases[0].Params = []byte(`{"customerId":"c-1","orderId":"CS0001","productId":"V1","businessId":"saved"}`)
		}))
	e.runAndDeliver(cst(0, 10, 0))
	e.runAndDeliver(cst(0, 15, 0))
	for _, id := range []string{"V1", "V2"} {
		runs := e.runs(id)
		if len(runs) != 2 {
			t.Fatalf("%s: %d runs, want 2", id, len(runs))
		}
		for _, r := range runs {
			if !r.Done || !r.Passed {
				t.Errorf("%s run at %v: done %v, passed %v; want passed against a merchant that verifies", id, r.At, r.Done, r.Passed)
			}
		}
	}
	got := m.received()
	if len(got) != 8 {
		t.Fatalf("merchant got %d requests, want 2 products x 2 runs x 2 cases", len(got))
	}
	businessIDs := map[string]bool{}
	for _, p := range got {
		want := `"1"`
		if p.protocol == "v1" {
			want = "1"
		}
		if p.testFlag != want {
			t.Errorf("%s %s: testFlag %s, want %s", p.protocol, p.activity, p.testFlag, want)
		}
		if p.activity == "newInstance" {
			if p.businessID == "" || p.businessID == "saved" || businessIDs[p.businessID] {
				t.Errorf("%s newInstance: businessId %q, want a new one on every attempt", p.protocol, p.businessID)
			}
			businessIDs[p.businessID] = true
		}
	}
	if got := e.notices("V1"); len(got) != 0 {
		t.Errorf("passing runs raised notices %v", got)
	}
}

func TestMetricsCountRunsAndFailedProbes(t *testing.T) {
	m, url := newMerchant(t)
	e := newEnv(t, product("P1", url), product("P2", url, func(p *simulator.Product) { p.DialTests = false }))
	reg := prometheus.NewRegistry()
	e.tester.Metrics = NewMetrics(reg)
	m.fail("newInstance", "refreshInstance")
	e.runAndDeliver(cst(0, 10, 0)) // both probes fail
	m.fail("refreshInstance")
	e.runAndDeliver(cst(0, 15, 0)) // one fails
	m.fail()
	e.runAndDeliver(cst(1, 10, 0)) // passes

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			name := f.GetName()
			for _, l := range metric.GetLabel() {
				name += "," + l.GetName() + "=" + l.GetValue()
			}
			got[name] = metric.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"kgsim_dial_test_runs_total,product=P1,result=failed": 2,
		"kgsim_dial_test_runs_total,product=P1,result=passed": 1,
		"kgsim_dial_test_failures_total,product=P1":           3,
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
}

func TestSettleJudgesARunOnce(t *testing.T) {
	ctx := context.Background()
	m, url := newMerchant(t)
	e := newEnv(t, product("P1", url))
	m.fail("*")
	e.runAndDeliver(cst(0, 10, 0))
	run := e.runs("P1")[0]
	probes, err := e.store.Messages(ctx, simulator.MessageFilter{Queue: "dial/" + run.ID})
	if err != nil || len(probes) != 2 {
		t.Fatalf("probes %d, %v", len(probes), err)
	}
	last := probes[1]
	attempts, err := e.store.Attempts(ctx, last.ID)
	if err != nil || len(attempts) != 1 {
		t.Fatalf("attempts of the last probe: %d, %v; want 1 (probes are tried once)", len(attempts), err)
	}
	// As if delivery settled the same attempt again after a rollback.
	err = e.store.Update(ctx, func(tx simulator.Tx) error { return e.tester.Settle(ctx, tx, last, attempts[0]) })
	if err != nil {
		t.Fatal(err)
	}
	if got := e.notices("P1"); got[simulator.NoticeDialTest] != 1 {
		t.Errorf("notices %v after settling twice, want 1 DIAL_TEST", got)
	}
	lifecycle := last
	lifecycle.Kind, lifecycle.Queue = simulator.KindLifecycle, "CS0001"
	err = e.store.Update(ctx, func(tx simulator.Tx) error { return e.tester.Settle(ctx, tx, lifecycle, attempts[0]) })
	if err != nil {
		t.Errorf("Settle of a lifecycle message: %v, want it ignored", err)
	}
}

func TestSettleWaitsForTheLastProbe(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, product("P1", "http://127.0.0.1:1/produce"))
	e.runDue(cst(0, 10, 0))
	run := e.runs("P1")[0]
	probes, _ := e.store.Messages(ctx, simulator.MessageFilter{Queue: "dial/" + run.ID})
	first := probes[0]
	first.Outcome, first.Attempts, first.NextAttemptAt = simulator.Succeeded, 1, time.Time{}
	a := simulator.Attempt{MessageID: first.ID, N: 1, Verdict: simulator.Success}
	err := e.store.Update(ctx, func(tx simulator.Tx) error {
		if err := tx.RecordAttempt(ctx, a, first); err != nil {
			return err
		}
		return e.tester.Settle(ctx, tx, first, a)
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.runs("P1")[0]; r.Done {
		t.Errorf("run done after its first probe of 2: %+v", r)
	}
}
