package delivery

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/kgsim/kgsim/simulator/store/sqlite"
	"github.com/tidwall/gjson"
)

// virtualClock is a scheduling clock the test moves by hand.
type virtualClock struct{ now time.Time }

func (c *virtualClock) Now() time.Time { return c.now }

// flakyMerchant is a V2 merchant on loopback that answers 503 while down
// and otherwise verifies each request and succeeds. It records what it got.
type flakyMerchant struct {
	mu       sync.Mutex
	down     bool
	received []http.Header // one per request: query as header-like pairs
	bodies   [][]byte
}

func (f *flakyMerchant) serve(t *testing.T, clock func() time.Time) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.received = append(f.received, http.Header(r.URL.Query()))
		f.bodies = append(f.bodies, body)
		if f.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if err := protocol.VerifyV2(key, r.URL.Query(), body, clock(), protocol.FreshnessWindow); err != nil {
			t.Errorf("merchant: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"resultCode":"000000","resultMsg":"ok","instanceId":"i-1"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (f *flakyMerchant) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

// newDeliverer returns a deliverer on a fresh SQLite store holding
// product P1, a V2 product at url signed with key.
func newDeliverer(t testing.TB, clock *virtualClock, url string) *Deliverer {
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
// and a merchant that is down until the test says otherwise.
func setup(t *testing.T) (*Deliverer, *virtualClock, *flakyMerchant, string) {
	t.Helper()
	clock := &virtualClock{t0}
	m := &flakyMerchant{down: true}
	srv := m.serve(t, func() time.Time { return signedAt })
	return newDeliverer(t, clock, srv.URL), clock, m, srv.URL
}

func newInstanceMessage(id, queue, url string, due time.Time) simulator.Message {
	return simulator.Message{
		ID: id, Kind: "LIFECYCLE", Protocol: simulator.V2, Activity: "newInstance", Queue: queue, ProductID: "P1",
		OrderID: queue, OrderLineID: queue + "-000001", URL: url, Outcome: simulator.Pending, NextAttemptAt: due, CreatedAt: due,
		Params: []byte(`{"activity":"newInstance","orderId":"` + queue + `","orderLineId":"` + queue + `-000001","businessId":"first","testFlag":"1"}`),
	}
}

// advance moves the clock to at and delivers what is due.
func advance(t *testing.T, d *Deliverer, clock *virtualClock, at time.Time) int {
	t.Helper()
	clock.now = at
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
		m.setDown(!s.up)
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
	if len(m.bodies) != 3 {
		t.Errorf("the merchant got %d requests, want 3", len(m.bodies))
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
	m.setDown(false)
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
			m.setDown(false)
			advance(t, d, clock, t0.Add(time.Hour))
			var all, cs1 []string
			for _, b := range m.bodies {
				call := gjson.GetBytes(b, "activity").Str + "/" + gjson.GetBytes(b, "orderId").Str
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
