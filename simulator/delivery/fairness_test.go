package delivery

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// merchants answers for three merchants without a network, so that
// synctest's clock runs the timeout: hang.example never answers (the
// request ends at the client's timeout), fail.example answers 500 at once,
// ok.example succeeds at once. It counts hang.example's requests in flight.
type merchants struct {
	mu        sync.Mutex
	hanging   int
	mostHung  int
	delivered map[string]time.Time // ok.example's bodies -> when it got each
	requests  int                  // ok.example's requests
}

func (f *merchants) sent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func (f *merchants) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	answer := func(status int, s string) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(s)), Request: r}
	}
	switch r.URL.Host {
	case "hang.example":
		f.mu.Lock()
		f.hanging++
		f.mostHung = max(f.mostHung, f.hanging)
		f.mu.Unlock()
		<-r.Context().Done()
		f.mu.Lock()
		f.hanging--
		f.mu.Unlock()
		return nil, r.Context().Err()
	case "fail.example":
		return answer(http.StatusInternalServerError, `{"resultCode":"000001","resultMsg":"broken"}`), nil
	}
	f.mu.Lock()
	f.delivered[string(body)] = time.Now()
	f.requests++
	f.mu.Unlock()
	return answer(http.StatusOK, `{"resultCode":"000000","resultMsg":"ok","instanceId":"i-1"}`), nil
}

// enqueueFor enqueues n purchases to host, each an instance (queue) of its
// own, due at due.
func enqueueFor(t *testing.T, s simulator.OutboxTx, host string, n int, due time.Time) []simulator.Message {
	t.Helper()
	var ms []simulator.Message
	for i := range n {
		q := fmt.Sprintf("%s-%03d", host, i)
		ms = append(ms, newInstanceMessage(q, q, "http://"+host+"/produce", due))
	}
	if err := s.Enqueue(context.Background(), ms...); err != nil {
		t.Fatal(err)
	}
	return ms
}

// The probe's case, with the defaults: 200 purchases to a merchant that
// never answers (20 s timeout) and 50 to one that fails at once, then 41
// to a healthy merchant. The scheduler's loop on the wall clock (here
// synctest's) delivers every healthy one at once, while the hanging
// merchant holds its own 8 workers and no more.
func TestHangingMerchantDelaysOnlyItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDeliverer(t, schedule.Wall{}, "http://ok.example/produce")
		f := &merchants{delivered: map[string]time.Time{}}
		d.Sender = &Sender{client: &http.Client{Timeout: DefaultTimeout, Transport: f}}
		clock := schedule.Wall{}
		d.Clock, d.Wall = clock, time.Now
		start := time.Now()
		enqueueFor(t, d.Store, "hang.example", 200, start)
		enqueueFor(t, d.Store, "fail.example", 50, start)
		healthy := enqueueFor(t, d.Store, "ok.example", 41, start)
		s := schedule.New(clock, nil, d)
		d.Notify = s.Wake
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()

		time.Sleep(time.Second) // synctest's clock: what a second brings
		synctest.Wait()
		f.mu.Lock()
		if len(f.delivered) != len(healthy) {
			t.Errorf("the healthy merchant got %d of its %d callbacks within a second", len(f.delivered), len(healthy))
		}
		for body, at := range f.delivered {
			if late := at.Sub(start); late > 100*time.Millisecond {
				t.Errorf("a healthy callback arrived %v after it fell due: %s", late, body)
			}
		}
		if f.mostHung != DefaultWorkers {
			t.Errorf("%d requests held by the hanging merchant at once, want %d (its own workers)", f.mostHung, DefaultWorkers)
		}
		f.mu.Unlock()
		for _, m := range healthy {
			if got := outcome(t, d, m.ID); got.Outcome != simulator.Succeeded {
				t.Errorf("%s: %s, want SUCCEEDED", m.ID, got.Outcome)
			}
		}
		// The failing merchant's first attempts are all made and
		// recorded meanwhile: they are due again in 5 minutes.
		if got, _ := d.Store.Messages(context.Background(), simulator.MessageFilter{Outcome: simulator.Pending}); countAttempted(got, "fail.example") != 50 {
			t.Errorf("%d of the failing merchant's 50 callbacks attempted, want all", countAttempted(got, "fail.example"))
		}
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func countAttempted(ms []simulator.Message, host string) int {
	n := 0
	for _, m := range ms {
		if strings.Contains(m.URL, host) && m.Attempts > 0 {
			n++
		}
	}
	return n
}

// The same on the virtual clock, over loopback: while a merchant holds
// every request it gets, RunDue delivers a healthy merchant's callbacks
// queued behind them, and the hanging one never holds more than Workers.
func TestHangingMerchantOnTheVirtualClock(t *testing.T) {
	hung, hangURL := holdingMerchant(t)
	// The healthy merchant holds each callback too, only until the test
	// has seen it arrive.
	ok, okURL := holdingMerchant(t)
	d := newDeliverer(t, schedule.NewVirtual(t0), okURL)
	d.Workers = 3
	var msgs []simulator.Message
	for i := range 10 {
		msgs = append(msgs, queueMessage(fmt.Sprintf("h%02d", i), fmt.Sprintf("H%02d", i), "newInstance", hangURL))
	}
	for i := range 5 {
		msgs = append(msgs, newInstanceMessage(fmt.Sprintf("k%02d", i), fmt.Sprintf("K%02d", i), okURL, t0))
	}
	if err := d.Store.Enqueue(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	done := runInBackground(d)
	held := []*merchanttest.Held{hung.Next(), hung.Next(), hung.Next()}
	// The healthy merchant is served while three requests hang.
	for range 5 {
		ok.Next().Release()
	}
	if n := len(hung.Holding()); n != 3 {
		t.Errorf("%d requests held by the hanging merchant, want its 3 workers", n)
	}
	for _, h := range held {
		h.Release()
	}
	for range 7 {
		h := hung.Next()
		h.Release()
		held = append(held, h)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	most := 0
	for _, h := range held {
		most = max(most, inFlight(t, h))
	}
	if most != 3 {
		t.Errorf("at most %d requests held at once, want 3", most)
	}
}

// fullStore fails every transaction while full, as SQLite does on a full
// disk.
type fullStore struct {
	Store
	mu   sync.Mutex
	full bool
}

func (f *fullStore) Update(ctx context.Context, fn func(simulator.Tx) error) error {
	f.mu.Lock()
	full := f.full
	f.mu.Unlock()
	if full {
		return simulator.Errorf(simulator.EFULL, "", "the disk holding the database is full")
	}
	return f.Store.Update(ctx, fn)
}

// An attempt that cannot be recorded (the disk is full) is not sent again
// in a loop: its queue waits 1, 2, 4, 8, 16 s... before the next try,
// while the scheduler's loop goes on; once there is space, the next try
// is recorded and nothing is lost.
func TestUnrecordableAttemptBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := newDeliverer(t, schedule.Wall{}, "http://ok.example/produce")
		f := &merchants{delivered: map[string]time.Time{}}
		d.Sender = &Sender{client: &http.Client{Timeout: DefaultTimeout, Transport: f}}
		clock := schedule.Wall{}
		d.Clock, d.Wall = clock, time.Now
		start := time.Now()
		ms := enqueueFor(t, d.Store, "ok.example", 1, start)
		store := &fullStore{Store: d.Store, full: true}
		d.Store = store
		s := schedule.New(clock, nil, d)
		d.Notify = s.Wake
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()

		time.Sleep(60 * time.Second)
		synctest.Wait()
		// Sent at 0, 1, 3, 7, 15 and 31 s: six times in a minute.
		if n := f.sent(); n != 6 {
			t.Errorf("sent %d times in a minute on a full disk, want 6 (1 s doubling)", n)
		}
		store.mu.Lock()
		store.full = false
		store.mu.Unlock()
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := outcome(t, d, ms[0].ID); got.Outcome != simulator.Succeeded || got.Attempts != 1 {
			t.Errorf("with space again: %s after %d recorded attempts, want SUCCEEDED after 1", got.Outcome, got.Attempts)
		}
		stop()
		<-done
	})
}
