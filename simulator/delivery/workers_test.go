package delivery

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/tidwall/gjson"
)

// slowMerchant holds every request until the test releases it, and keeps
// count of the requests it holds at once, in all and per queue.
type slowMerchant struct {
	t       *testing.T
	arrived chan held

	mu       sync.Mutex
	inFlight int
	most     int
	busy     map[string]bool // queue -> a request of it is held
}

type held struct {
	name    string // activity/queue
	release chan struct{}
}

func (f *slowMerchant) serve(t *testing.T) string {
	f.t, f.arrived, f.busy = t, make(chan held, 16), map[string]bool{}
	var all []chan struct{}
	var allMu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		queue := gjson.GetBytes(body, "queue").Str
		h := held{gjson.GetBytes(body, "activity").Str + "/" + queue, make(chan struct{})}
		allMu.Lock()
		all = append(all, h.release)
		allMu.Unlock()
		f.mu.Lock()
		if f.busy[queue] {
			t.Errorf("%s arrived while a request of its queue is held", h.name)
		}
		f.busy[queue] = true
		f.inFlight++
		f.most = max(f.most, f.inFlight)
		f.mu.Unlock()
		f.arrived <- h
		<-h.release
		f.mu.Lock()
		f.busy[queue] = false
		f.inFlight--
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"resultCode":"000000","resultMsg":"ok","instanceId":"i-1"}`))
	}))
	t.Cleanup(func() {
		// Let whatever a failed test left held go, then stop.
		allMu.Lock()
		for _, c := range all {
			select {
			case <-c:
			default:
				close(c)
			}
		}
		allMu.Unlock()
		srv.Close()
	})
	return srv.URL
}

// next returns the next request to arrive; a test that waits in vain fails
// instead of hanging.
func (f *slowMerchant) next() held {
	f.t.Helper()
	select {
	case h := <-f.arrived:
		return h
	case <-time.After(10 * time.Second):
		f.t.Fatal("no request arrived")
		return held{}
	}
}

// queueMessage is a message of queue q; the queue travels in the body so
// the merchant can tell.
func queueMessage(id, q, activity, url string) simulator.Message {
	m := newInstanceMessage(id, q, url, t0)
	m.Activity, m.Params = activity, []byte(`{"activity":"`+activity+`","queue":"`+q+`"}`)
	return m
}

func runInBackground(d *Deliverer) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := d.RunDue(context.Background())
		done <- err
	}()
	return done
}

// Two queues are attempted at once, while a queue's second message waits
// for its first to be answered and recorded.
func TestWorkersAttemptQueuesInParallel(t *testing.T) {
	merchant := &slowMerchant{}
	url := merchant.serve(t)
	d := newDeliverer(t, &virtualClock{t0}, url)
	d.Workers = 2
	msgs := []simulator.Message{queueMessage("01", "A", "newInstance", url), queueMessage("02", "A", "releaseInstance", url), queueMessage("03", "B", "newInstance", url)}
	if err := d.Store.Enqueue(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	done := runInBackground(d)
	// Both queue heads arrive while neither is answered.
	first, second := merchant.next(), merchant.next()
	heads := map[string]held{first.name: first, second.name: second}
	a1, okA := heads["newInstance/A"]
	b1, okB := heads["newInstance/B"]
	if !okA || !okB {
		t.Fatalf("first two requests %s, %s; want the heads of A and B", first.name, second.name)
	}
	// The seller center's restart waits its turn like any attempt.
	if _, err := d.Restart(context.Background(), "01"); simulator.ErrorCode(err) != simulator.ECONFLICT || !strings.Contains(err.Error(), "being attempted right now") {
		t.Errorf("restart of a message in flight: %v", err)
	}
	close(b1.release) // B is done; A's second message still waits for A's first
	close(a1.release)
	a2 := merchant.next()
	if a2.name != "releaseInstance/A" {
		t.Fatalf("third request %s, want releaseInstance/A", a2.name)
	}
	close(a2.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if merchant.most != 2 {
		t.Errorf("at most %d requests in flight, want 2", merchant.most)
	}
	for _, m := range msgs {
		if got := outcome(t, d, m.ID); got.Outcome != simulator.Succeeded {
			t.Errorf("%s: %s", m.ID, got.Outcome)
		}
	}
}

// With one worker, one attempt is in flight at a time.
func TestOneWorkerAttemptsOneAtATime(t *testing.T) {
	merchant := &slowMerchant{}
	url := merchant.serve(t)
	d := newDeliverer(t, &virtualClock{t0}, url)
	d.Workers = 1
	if err := d.Store.Enqueue(context.Background(), queueMessage("01", "A", "newInstance", url), queueMessage("02", "B", "newInstance", url)); err != nil {
		t.Fatal(err)
	}
	done := runInBackground(d)
	first := merchant.next()
	// A bounded look for a second request while the first is held: one
	// sent in parallel would arrive within milliseconds.
	select {
	case h := <-merchant.arrived:
		close(h.release)
		t.Fatalf("%s arrived while %s was held", h.name, first.name)
	case <-time.After(200 * time.Millisecond):
	}
	close(first.release)
	close(merchant.next().release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if merchant.most != 1 {
		t.Errorf("at most %d requests in flight, want 1", merchant.most)
	}
}
