package engine

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
	"github.com/tidwall/gjson"
)

// t0 is 10:03:04 in Beijing, 15 January 2025.
var t0 = time.Date(2025, 1, 15, 2, 3, 4, 0, time.UTC)

// The catalogue of the tests: one product per protocol, charging mode and
// kind that the engine treats differently.
var (
	testProducts = []simulator.Product{
		{ID: "v1-month", SKUCode: "v1-month-basic", ChargingMode: simulator.Period, PeriodType: "month", Trial: true, URL: "http://merchant.test/v1", Protocol: simulator.V1, AccessKey: "v1-month-key", NoticeTo: []string{"ops@merchant.test"}},
		{ID: "v1-year", SKUCode: "v1-year-basic", ChargingMode: simulator.Period, PeriodType: "year", URL: "http://merchant.test/v1", Protocol: simulator.V1, AccessKey: "v1-month-key"},
		{ID: "v1-aes128", SKUCode: "v1-aes128-basic", ChargingMode: simulator.Period, PeriodType: "month", URL: "http://merchant.test/v1", Protocol: simulator.V1, AccessKey: "v1-aes128-key", EncryptType: "2"},
		{ID: "v1-demand", SKUCode: "v1-demand-basic", ChargingMode: simulator.OnDemand, URL: "http://merchant.test/v1", Protocol: simulator.V1, AccessKey: "v1-month-key"},
		{ID: "v1-license", SKUCode: "v1-license-basic", ChargingMode: simulator.Period, PeriodType: "month", License: true, URL: "http://merchant.test/v1", Protocol: simulator.V1, AccessKey: "v1-license-key"},
		{ID: "v2-year", SKUCode: "v2-year-basic", ChargingMode: simulator.Period, PeriodType: "year", Trial: true, TrialDays: 14, URL: "http://merchant.test/v2", Protocol: simulator.V2, AccessKey: "v2-year-key", NoticeTo: []string{"ops@merchant.test"}},
		{ID: "v2-month", SKUCode: "v2-month-basic", ChargingMode: simulator.Period, PeriodType: "month", URL: "http://merchant.test/v2", Protocol: simulator.V2, AccessKey: "v2-year-key"},
		{ID: "v2-once", SKUCode: "v2-once-basic", ChargingMode: simulator.OneTime, URL: "http://merchant.test/v2", Protocol: simulator.V2, AccessKey: "v2-year-key"},
		{ID: "v2-license", SKUCode: "v2-license-basic", ChargingMode: simulator.Period, PeriodType: "year", License: true, URL: "http://merchant.test/v2", Protocol: simulator.V2, AccessKey: "v2-license-key"},
		{ID: "v2-hidden", SKUCode: "v2-hidden-basic", ChargingMode: simulator.OneTime, URL: "http://merchant.test/v2", Protocol: simulator.V2, AccessKey: "v2-year-key", Status: simulator.FrozenHidden},
		{ID: "v2-delisted", SKUCode: "v2-delisted-basic", ChargingMode: simulator.OneTime, URL: "http://merchant.test/v2", Protocol: simulator.V2, AccessKey: "v2-year-key", Status: simulator.Delisted},
	}
	testCustomers = []simulator.Customer{
		{ID: "hwc-full", Name: "Acme Ltd", UserID: "iam-7", UserName: "ops", MobilePhone: "13800000000", Email: "ops@acme.example"},
		{ID: "hwc-plain", Name: "Plain Co"},
	}
)

type world struct {
	t      *testing.T
	ctx    context.Context
	e      *Engine
	clock  *schedule.Virtual
	store  *sqlite.DB
	wakes  int // Notify calls
	random *rand.ChaCha8
}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kgsim.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	w := &world{t: t, ctx: context.Background(), clock: schedule.NewVirtual(t0), store: store, random: rand.NewChaCha8([32]byte{7})}
	w.e = &Engine{Store: store, Clock: w.clock, Random: w.random, Notify: func() { w.wakes++ }}
	if err := w.e.Load(w.ctx, testProducts, testCustomers); err != nil {
		t.Fatal(err)
	}
	return w
}

// buy places a purchase that must be accepted.
func (w *world) buy(pu Purchase) (simulator.Order, simulator.Instance) {
	w.t.Helper()
	if pu.CustomerID == "" {
		pu.CustomerID = "hwc-plain"
	}
	o, inst, err := w.e.Buy(w.ctx, pu)
	if err != nil {
		w.t.Fatalf("buy %+v: %v", pu, err)
	}
	return o, inst
}

// active buys an instance and has its merchant acknowledge it with
// instanceId id.
func (w *world) active(pu Purchase, id string) simulator.Instance {
	w.t.Helper()
	_, inst := w.buy(pu)
	w.answer(w.last(inst.Key), simulator.Succeeded, `{"resultCode":"000000","instanceId":"`+id+`"}`)
	return w.instance(inst.Key)
}

// messages returns a queue's messages in enqueue order.
func (w *world) messages(queue string) []simulator.Message {
	w.t.Helper()
	ms, err := w.store.Messages(w.ctx, simulator.MessageFilter{Queue: queue})
	if err != nil {
		w.t.Fatal(err)
	}
	return ms
}

// last returns the last message of a queue.
func (w *world) last(queue string) simulator.Message {
	w.t.Helper()
	ms := w.messages(queue)
	if len(ms) == 0 {
		w.t.Fatalf("queue %s has no message", queue)
	}
	return ms[len(ms)-1]
}

// answer records an attempt at m that led to outcome, with body as the
// merchant's answer, and settles it, in one transaction, as delivery does.
func (w *world) answer(m simulator.Message, outcome simulator.Outcome, body string) {
	w.t.Helper()
	if err := w.settle(m, outcome, body); err != nil {
		w.t.Fatalf("settling %s %s: %v", m.Activity, outcome, err)
	}
}

func (w *world) settle(m simulator.Message, outcome simulator.Outcome, body string) error {
	verdict := simulator.Success
	switch outcome {
	case simulator.OrderFailed, simulator.Stopped, simulator.Pending:
		verdict = simulator.HTTPStatus
	case simulator.ChangeRefused:
		verdict = simulator.Refused
	case simulator.Polling:
		verdict = simulator.AcceptedAsync
	}
	m.Attempts++
	m.Outcome, m.NextAttemptAt = outcome, time.Time{}
	if m.FirstAttempt.IsZero() {
		m.FirstAttempt = w.clock.Now()
	}
	a := simulator.Attempt{MessageID: m.ID, N: m.Attempts, StartedAt: w.clock.Now(), FinishedAt: w.clock.Now(), Method: "POST", URL: m.URL,
		Status: 200, ResponseBody: []byte(body), Verdict: verdict}
	return w.store.Update(w.ctx, func(tx simulator.Tx) error {
		if err := tx.RecordAttempt(w.ctx, a, m); err != nil {
			return err
		}
		return w.e.Settle(w.ctx, tx, m, a)
	})
}

// ok returns the order of an action that must be accepted.
func (w *world) ok(o simulator.Order, err error) simulator.Order {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
	return o
}

// must fails the test if an action that must be accepted is not.
func (w *world) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// read reads one record that must exist.
func read[T any](w *world, get func(context.Context, string) (T, error), key string) T {
	w.t.Helper()
	v, err := get(w.ctx, key)
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

func (w *world) instance(key string) simulator.Instance { return read(w, w.store.Instance, key) }
func (w *world) order(id string) simulator.Order        { return read(w, w.store.Order, id) }
func (w *world) product(id string) simulator.Product    { return read(w, w.store.Product, id) }

// runDue moves the clock to at and makes the transitions due.
func (w *world) runDue(at time.Time) int {
	w.t.Helper()
	w.clock.Set(at)
	n, err := w.e.RunDue(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// activities lists the activities of messages, with their V2 scene or
// status where they have one, e.g. "updateInstanceStatus FREEZE".
func activities(ms []simulator.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Activity
		for _, name := range []string{"scene", "status", "instanceStatus"} {
			if v := gjson.GetBytes(m.Params, name).String(); v != "" {
				out[i] += " " + v
			}
		}
	}
	return out
}
