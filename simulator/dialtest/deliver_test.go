package dialtest

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/gjson"
)

// newMerchant is a production interface on loopback that checks the
// signature of every request (V1 authToken, V2 signature) and signs its
// answers.
func newMerchant(t *testing.T) (*merchanttest.Merchant, string) {
	m := &merchanttest.Merchant{T: t, Key: key}
	return m, m.Start()
}

// fail makes the merchant answer the activities given with resultCode
// 000005 ("*": every one), and the others as a correct merchant.
func fail(m *merchanttest.Merchant, activities ...string) {
	m.Reset()
	for _, a := range activities {
		if a == "*" {
			a = "" // merchanttest's every activity
		}
		m.Answer(a, merchanttest.Reply{Code: "000005"})
	}
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
// merchant failing the activities failing(day, hour) returns.
func (e *env) days(m *merchanttest.Merchant, from, to int, failing func(day, hour int) []string) {
	e.t.Helper()
	for d := from; d < to; d++ {
		for _, h := range []int{10, 15} {
			fail(m, failing(d, h)...)
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
	fail(m, "*")
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
	fail(m, "*")
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
	fail(m, "refreshInstance")
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
	got := m.Calls()
	if len(got) != 8 {
		t.Fatalf("merchant got %d requests, want 2 products x 2 runs x 2 cases", len(got))
	}
	businessIDs := map[string]bool{}
	for _, c := range got {
		testFlag, want := gjson.GetBytes(c.Body, "testFlag").Raw, `"1"` // a string in V2's JSON
		if c.Protocol == simulator.V1 {
			testFlag, want = c.Params["testFlag"], "1"
		}
		if testFlag != want {
			t.Errorf("%s %s: testFlag %s, want %s", c.Protocol, c.Activity, testFlag, want)
		}
		if c.Activity == "newInstance" {
			if b := c.Params["businessId"]; b == "" || b == "saved" || businessIDs[b] {
				t.Errorf("%s newInstance: businessId %q, want a new one on every attempt", c.Protocol, b)
			}
			businessIDs[c.Params["businessId"]] = true
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
	fail(m, "newInstance", "refreshInstance")
	e.runAndDeliver(cst(0, 10, 0)) // both probes fail
	fail(m, "refreshInstance")
	e.runAndDeliver(cst(0, 15, 0)) // one fails
	m.Reset()
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
	fail(m, "*")
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
