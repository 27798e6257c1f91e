package delivery

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
	"github.com/tidwall/gjson"
)

// newDeliverer returns a deliverer on a fresh SQLite store holding
// product P1, a V2 product at url signed with key.
func newDeliverer(t testing.TB, clock simulator.Clock, url string) *Deliverer {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kgsim.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	p := simulator.Product{
		ID: "P1", SKUCode: "S1", Name: "P1", ChargingMode: simulator.Period, PeriodType: "month",
		URL: url, Protocol: simulator.V2, AccessKey: key, NoticeTo: []string{"ops@merchant.example"},
	}
	if err := store.PutProduct(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return &Deliverer{
		Store:  store,
		Sender: NewSender(DefaultTimeout),
		Clock:  clock,
		Wall:   func() time.Time { return signedAt },
		Random: rand.NewChaCha8([32]byte{42}),
	}
}

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// setup returns a deliverer on a virtual clock at t0, with a SQLite store,
// and a V2 merchant that answers 503 until the test says otherwise.
func setup(t *testing.T) (*Deliverer, *schedule.Virtual, *merchanttest.Merchant, string) {
	t.Helper()
	clock := schedule.NewVirtual(t0)
	m, url := newMerchant(t)
	m.Down(true)
	return newDeliverer(t, clock, url), clock, m, url
}

// newMerchant is a V2 merchant that checks signatures made at signedAt.
func newMerchant(t *testing.T) (*merchanttest.Merchant, string) {
	m := &merchanttest.Merchant{T: t, Key: key, Now: func() time.Time { return signedAt }}
	return m, m.Start()
}

func newInstanceMessage(id, queue, url string, due time.Time) simulator.Message {
	return simulator.Message{
		ID: id, Kind: "LIFECYCLE", Protocol: simulator.V2, Activity: "newInstance", Queue: queue, ProductID: "P1",
		OrderID: queue, OrderLineID: queue + "-000001", URL: url, Outcome: simulator.Pending, NextAttemptAt: due, CreatedAt: due,
		Params: []byte(`{"activity":"newInstance","orderId":"` + queue + `","orderLineId":"` + queue + `-000001","businessId":"first","testFlag":"1"}`),
	}
}

// advance moves the clock to at and delivers what is due.
func advance(t *testing.T, d *Deliverer, clock *schedule.Virtual, at time.Time) int {
	t.Helper()
	clock.Set(at)
	n, err := d.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMerchantDownTwoHoursGetsItsOrderThrough(t *testing.T) {
	d, clock, m, url := setup(t)
	if err := d.Store.Enqueue(context.Background(), newInstanceMessage("01", "CS1", url, t0)); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		at       time.Duration
		up       bool
		attempts int
	}{
		{0, false, 1},
		{59 * time.Minute, false, 0}, // nothing due before the hourly retry
		{time.Hour, false, 1},
		{2 * time.Hour, true, 1}, // back up: the +2h retry succeeds
		{3 * time.Hour, true, 0}, // and nothing more is sent
	}
	for _, s := range steps {
		m.Down(!s.up)
		if n := advance(t, d, clock, t0.Add(s.at)); n != s.attempts {
			t.Fatalf("at +%v: %d attempts, want %d", s.at, n, s.attempts)
		}
	}
	msg, _ := d.Store.Message(context.Background(), "01")
	if msg.Outcome != simulator.Succeeded || msg.Attempts != 3 {
		t.Fatalf("outcome %s after %d attempts, want SUCCEEDED after 3", msg.Outcome, msg.Attempts)
	}
	attempts, _ := d.Store.Attempts(context.Background(), "01")
	wantVerdicts := []simulator.Verdict{simulator.HTTPStatus, simulator.HTTPStatus, simulator.Success}
	seenBusiness, seenNonce := map[string]bool{}, map[string]bool{}
	for i, a := range attempts {
		if a.Verdict != wantVerdicts[i] {
			t.Errorf("attempt %d: %s, want %s", a.N, a.Verdict, wantVerdicts[i])
		}
		// Every attempt is a fresh request: new nonce, new businessId.
		b := gjson.GetBytes(a.Body, "businessId").Str
		if seenBusiness[b] || b == "first" || seenNonce[a.Nonce] {
			t.Errorf("attempt %d reuses businessId %q or nonce %q", a.N, b, a.Nonce)
		}
		seenBusiness[b], seenNonce[a.Nonce] = true, true
	}
	if n := len(m.Calls()); n != 3 {
		t.Errorf("the merchant got %d requests, want 3", n)
	}
}

func TestMerchantDownThreeHoursFailsTheOrder(t *testing.T) {
	d, clock, m, url := setup(t)
	if err := d.Store.Enqueue(context.Background(), newInstanceMessage("01", "CS1", url, t0)); err != nil {
		t.Fatal(err)
	}
	for h := range 4 {
		if n := advance(t, d, clock, t0.Add(time.Duration(h)*time.Hour)); n != 1 {
			t.Fatalf("at +%dh: %d attempts, want 1", h, n)
		}
	}
	m.Down(false)
	if n := advance(t, d, clock, t0.Add(4*time.Hour)); n != 0 {
		t.Fatalf("an attempt after the 3-hour window")
	}
	msg, _ := d.Store.Message(context.Background(), "01")
	if msg.Outcome != simulator.OrderFailed || msg.Attempts != 4 {
		t.Fatalf("outcome %s after %d attempts, want ORDER_FAILED_UNSUBSCRIBED after 4", msg.Outcome, msg.Attempts)
	}
}

// A later callback of the same instance waits for the earlier one, with one
// worker (the order is then exact) and with several.
func TestDeliveryKeepsQueueOrder(t *testing.T) {
	for _, workers := range []int{1, 0} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			d, clock, m, url := setup(t)
			d.Workers = workers
			first := newInstanceMessage("01", "CS1", url, t0)
			second := first
			second.ID, second.Activity, second.Params = "02", "releaseInstance", []byte(`{"activity":"releaseInstance","instanceId":"i-1"}`)
			other := newInstanceMessage("03", "CS2", url, t0)
			if err := d.Store.Enqueue(context.Background(), first, second, other); err != nil {
				t.Fatal(err)
			}
			advance(t, d, clock, t0) // 01 and 03 fail; 02 waits behind 01
			m.Down(false)
			advance(t, d, clock, t0.Add(time.Hour))
			var all, cs1 []string
			for _, c := range m.Calls() {
				call := c.Activity + "/" + c.Params["orderId"]
				all = append(all, call)
				if !strings.HasSuffix(call, "CS2") {
					cs1 = append(cs1, call)
				}
			}
			// At +1h both newInstance retries are due; the release, due
			// since t0, becomes its queue's head only once CS1's
			// newInstance succeeded, and then goes before CS2's retry:
			// the one worker takes the earliest due head when it frees.
			want, got := []string{"newInstance/CS1", "newInstance/CS2", "newInstance/CS1", "releaseInstance/", "newInstance/CS2"}, all
			if workers != 1 {
				// Queues go in parallel: only each queue's order is fixed.
				want, got = []string{"newInstance/CS1", "newInstance/CS1", "releaseInstance/"}, cs1
				if len(all) != 5 {
					t.Fatalf("merchant got %v, want 5 calls", all)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("merchant got %v, want %v", got, want)
			}
		})
	}
}
