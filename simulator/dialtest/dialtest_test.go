package dialtest

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/delivery"
	sched "github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
	"github.com/tidwall/gjson"
)

const key = "dial-test-access-key"

// env is a tester on a virtual clock and a SQLite store in a file.
type env struct {
	t      testing.TB
	path   string
	store  *sqlite.DB
	clock  *sched.Virtual
	tester *Tester
	// notified counts Notify calls.
	notified int
	delivery *delivery.Deliverer // made by deliverer
}

func newEnv(t testing.TB, products ...simulator.Product) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "kgsim.db"), clock: sched.NewVirtual(cst(0, 0, 0))}
	e.open()
	for _, p := range products {
		if err := e.store.PutProduct(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// open opens the store and a tester on it, as a process starting does.
func (e *env) open() {
	e.t.Helper()
	store, err := sqlite.Open(context.Background(), e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { store.Close() })
	e.store = store
	e.tester = &Tester{Store: store, Clock: e.clock, Random: rand.NewChaCha8([32]byte{7}), Notify: func() { e.notified++ }}
}

// restart closes the store and opens it again with a new tester.
func (e *env) restart() {
	e.t.Helper()
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

// runDue moves the clock to at and starts the runs due.
func (e *env) runDue(at time.Time) int {
	e.t.Helper()
	e.clock.Set(at)
	n, err := e.tester.RunDue(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) runs(productID string) []simulator.DialRun {
	e.t.Helper()
	runs, err := e.store.DialRuns(context.Background(), productID, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return runs
}

func (e *env) product(id string) simulator.Product {
	e.t.Helper()
	p, err := e.store.Product(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// product is a V2 product with dial tests on and two saved debug cases.
func product(id, url string, change ...func(*simulator.Product)) simulator.Product {
	p := simulator.Product{
		ID: id, SKUCode: "sku-" + id, Name: "product " + id, ChargingMode: simulator.Period, PeriodType: "month",
		URL: url, Protocol: simulator.V2, AccessKey: key, DialTests: true, NoticeTo: []string{"isv@example.com"},
		DebugCases: []simulator.DebugCase{
			{Activity: "newInstance", Params: []byte(`{"orderId":"CS0001","orderLineId":"CS0001-000001"}`)},
			{Activity: "refreshInstance", Params: []byte(`{"scene":"RENEWAL","orderId":"CS0002","orderLineId":"CS0002-000001","instanceId":"i-1","expireTime":"20250201000000"}`)},
		},
	}
	for _, c := range change {
		c(&p)
	}
	return p
}

func TestRunsAtTenAndFifteenShanghaiOnly(t *testing.T) {
	e := newEnv(t, product("P1", "http://127.0.0.1:1/produce"))
	var started []time.Time
	for at := cst(0, 0, 0); at.Before(cst(2, 0, 0)); at = at.Add(5 * time.Minute) {
		if n := e.runDue(at); n > 0 {
			started = append(started, at)
			if n != 1 {
				t.Errorf("at %v: %d runs of one product", at, n)
			}
		}
	}
	want := []time.Time{cst(0, 10, 0), cst(0, 15, 0), cst(1, 10, 0), cst(1, 15, 0)}
	if !slices.EqualFunc(started, want, time.Time.Equal) {
		t.Fatalf("runs started at %v, want %v", started, want)
	}
	if got := e.runs("P1"); len(got) != 4 || !got[0].At.Equal(time.Date(2025, 1, 1, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("stored runs %+v: want 4, the first at 02:00 UTC", got)
	}
	if e.notified != 4 {
		t.Errorf("Notify called %d times, want once per RunDue that started runs (4)", e.notified)
	}
}

func TestLateRunsStartWithinTheHourMissedOnesAreSkipped(t *testing.T) {
	e := newEnv(t, product("P1", "http://127.0.0.1:1/produce"))
	if n := e.runDue(cst(0, 10, 59)); n != 1 {
		t.Errorf("59 minutes late: %d runs, want 1", n)
	}
	e = newEnv(t, product("P1", "http://127.0.0.1:1/produce"))
	if n := e.runDue(cst(0, 11, 0)); n != 0 {
		t.Errorf("an hour late: %d runs, want 0 (missed while down, not caught up)", n)
	}
	next, ok, err := e.tester.NextDue(context.Background())
	if err != nil || !ok || !next.Equal(cst(0, 15, 0)) {
		t.Errorf("NextDue after the missed run = %v, %v, %v; want 15:00", next, ok, err)
	}
}

func TestEachScheduledTimeRunsOnceAcrossRestarts(t *testing.T) {
	e := newEnv(t, product("P1", "http://127.0.0.1:1/produce"), product("P2", "http://127.0.0.1:1/produce"))
	if n := e.runDue(cst(0, 10, 0)); n != 2 {
		t.Fatalf("10:00: %d runs, want one per product (2)", n)
	}
	if n := e.runDue(cst(0, 10, 0)); n != 0 {
		t.Errorf("RunDue again at 10:00: %d more runs, want 0", n)
	}
	e.restart()
	if n := e.runDue(cst(0, 10, 30)); n != 0 {
		t.Errorf("after a restart at 10:30: %d more runs, want 0", n)
	}
	if n := e.runDue(cst(0, 15, 0)); n != 2 {
		t.Errorf("15:00 after the restart: %d runs, want 2", n)
	}
	if got := len(e.runs("P1")); got != 2 {
		t.Errorf("P1 has %d runs, want 2", got)
	}
}

func TestWhichProductsRun(t *testing.T) {
	url := "http://127.0.0.1:1/produce"
	e := newEnv(t,
		product("fixture-status", url),
		product("on-sale", url, func(p *simulator.Product) { p.Status = simulator.OnSale }),
		product("switched-off", url, func(p *simulator.Product) { p.DialTests = false }),
		product("frozen", url, func(p *simulator.Product) { p.Status = simulator.FrozenHidden }),
		product("delisted", url, func(p *simulator.Product) { p.Status = simulator.Delisted }),
		product("no-cases", url, func(p *simulator.Product) { p.DebugCases = nil }),
	)
	if n := e.runDue(cst(0, 10, 0)); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
	for id, want := range map[string]int{"fixture-status": 1, "on-sale": 1, "switched-off": 0, "frozen": 0, "delisted": 0, "no-cases": 0} {
		if got := len(e.runs(id)); got != want {
			t.Errorf("%s: %d runs, want %d", id, got, want)
		}
	}
}

func TestNextDue(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, product("P1", "http://127.0.0.1:1/produce"))
	steps := []struct {
		now, next time.Time
		run       bool
	}{
		{cst(0, 9, 0), cst(0, 10, 0), false},
		{cst(0, 10, 0), cst(0, 10, 0), false}, // due now: not run yet
		{cst(0, 10, 0), cst(0, 15, 0), true},
		{cst(0, 16, 0), cst(1, 10, 0), false},
	}
	for _, s := range steps {
		e.clock.Set(s.now)
		if s.run {
			e.runDue(s.now)
		}
		next, ok, err := e.tester.NextDue(ctx)
		if err != nil || !ok || !next.Equal(s.next) {
			t.Errorf("at %v (run: %v): NextDue = %v, %v, %v; want %v", s.now, s.run, next, ok, err, s.next)
		}
	}

	off := newEnv(t, product("P1", "http://127.0.0.1:1/produce", func(p *simulator.Product) { p.DialTests = false }),
		product("P2", "http://127.0.0.1:1/produce", func(p *simulator.Product) { p.Status = simulator.FrozenHidden }))
	if next, ok, err := off.tester.NextDue(ctx); err != nil || ok {
		t.Errorf("no product would run: NextDue = %v, %v, %v; want not ok", next, ok, err)
	}
}

func TestProbesOfARun(t *testing.T) {
	ctx := context.Background()
	p := product("P1", "http://127.0.0.1:1/produce", func(p *simulator.Product) {
		p.DebugCases = append(p.DebugCases, simulator.DebugCase{Activity: "releaseInstance", Params: []byte(`{"instanceId":"i-1","testFlag":"0"}`)})
	})
	e := newEnv(t, p)
	e.runDue(cst(0, 10, 0))
	runs := e.runs("P1")
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	run := runs[0]
	if run.Done || run.Passed || !run.At.Equal(cst(0, 10, 0)) {
		t.Errorf("new run %+v: want not done, at 10:00", run)
	}
	probes, err := e.store.Messages(ctx, simulator.MessageFilter{Queue: "dial/" + run.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(probes) != 3 {
		t.Fatalf("%d probes, want one per case (3)", len(probes))
	}
	for i, m := range probes {
		c := p.DebugCases[i]
		params := gjson.ParseBytes(m.Params)
		switch {
		case m.Activity != c.Activity || params.Get("activity").String() != c.Activity:
			t.Errorf("probe %d is %s (params %s), want case %d's %s, in case order", i, m.Activity, params.Get("activity"), i, c.Activity)
		case m.Kind != simulator.KindDialTest || m.Protocol != simulator.V2 || m.URL != p.URL || m.ProductID != "P1":
			t.Errorf("probe %d: kind %s, protocol %s, URL %s, product %s", i, m.Kind, m.Protocol, m.URL, m.ProductID)
		case m.Outcome != simulator.Pending || !m.NextAttemptAt.Equal(cst(0, 10, 0)):
			t.Errorf("probe %d: %s, next attempt %v; want pending now", i, m.Outcome, m.NextAttemptAt)
		case params.Get("testFlag").Raw != `"1"`:
			t.Errorf("probe %d: testFlag %s, want \"1\"", i, params.Get("testFlag").Raw)
		}
	}
	if id := gjson.GetBytes(probes[0].Params, "businessId").String(); id == "" {
		t.Errorf("newInstance probe without businessId: %s", probes[0].Params)
	}
	if probes[0].OrderID != "CS0001" || probes[1].InstanceID != "i-1" {
		t.Errorf("probes do not carry the IDs of their cases: order %q, instance %q", probes[0].OrderID, probes[1].InstanceID)
	}
	due, err := e.store.Due(ctx, simulator.DueFilter{Now: cst(0, 10, 0), Limit: 10})
	if err != nil || len(due) != 1 || due[0].ID != probes[0].ID {
		t.Errorf("due: %d messages (%v), want only the run's first probe: they go one at a time", len(due), err)
	}
}

func TestRunNow(t *testing.T) {
	ctx := context.Background()
	url := "http://127.0.0.1:1/produce"
	e := newEnv(t,
		product("frozen", url, func(p *simulator.Product) { p.Status = simulator.FrozenHidden; p.DialTests = false }),
		product("no-cases", url, func(p *simulator.Product) { p.DebugCases = nil }))
	e.clock.Set(cst(0, 12, 34))
	run, err := e.tester.RunNow(ctx, "frozen")
	if err != nil {
		t.Fatal(err)
	}
	if run.ProductID != "frozen" || !run.At.Equal(cst(0, 12, 34)) || run.ID == "" {
		t.Errorf("run %+v: want one for product frozen at 12:34", run)
	}
	if got := e.runs("frozen"); len(got) != 1 || got[0].ID != run.ID {
		t.Errorf("stored runs %+v, want the one returned", got)
	}
	if e.notified != 1 {
		t.Errorf("Notify called %d times, want 1", e.notified)
	}
	if _, err := e.tester.RunNow(ctx, "no-cases"); simulator.ErrorCode(err) != simulator.EINVALID {
		t.Errorf("no cases: error %v, want EINVALID", err)
	}
	if _, err := e.tester.RunNow(ctx, "unknown"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("unknown product: error %v, want ENOTFOUND", err)
	}
}

func TestBadCaseParamsNameTheCaseAndStopNoOtherRun(t *testing.T) {
	e := newEnv(t,
		product("P1", "http://127.0.0.1:1/produce", func(p *simulator.Product) { p.DebugCases[1].Params = []byte(`"not an object"`) }),
		product("P2", "http://127.0.0.1:1/produce"))
	e.clock.Set(cst(0, 10, 0))
	n, err := e.tester.RunDue(context.Background())
	if simulator.ErrorCode(err) != simulator.EINVALID || !containsAll(err.Error(), "P1", "debugCases[1].params") {
		t.Fatalf("error %v: want EINVALID naming the product and debugCases[1].params", err)
	}
	if got := e.runs("P1"); len(got) != 0 {
		t.Errorf("a run half made is stored: %+v", got)
	}
	if n != 1 || len(e.runs("P2")) != 1 {
		t.Errorf("%d runs started, P2 has %d; want P2's run started anyway", n, len(e.runs("P2")))
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
