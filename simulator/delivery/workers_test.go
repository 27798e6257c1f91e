package delivery

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/merchanttest"
	"github.com/kgsim/kgsim/simulator/schedule"
)

// holdingMerchant is a V2 merchant that holds every call until the test
// releases it.
func holdingMerchant(t *testing.T) (*merchanttest.Merchant, string) {
	m, url := newMerchant(t)
	m.Answer("", merchanttest.Reply{Hold: true})
	return m, url
}

// heldName is a held call's activity/queue.
func heldName(h *merchanttest.Held) string { return h.Call.Activity + "/" + h.Call.Params["queue"] }

// inFlight fails the test if h arrived while a call of its queue was
// held, and returns how many calls were held with it, h included.
func inFlight(t *testing.T, h *merchanttest.Held) int {
	t.Helper()
	for _, o := range h.Others {
		if o.Params["queue"] == h.Call.Params["queue"] {
			t.Errorf("%s arrived while a request of its queue is held", heldName(h))
		}
	}
	return len(h.Others) + 1
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
	merchant, url := holdingMerchant(t)
	d := newDeliverer(t, schedule.NewVirtual(t0), url)
	d.Workers = 2
	msgs := []simulator.Message{queueMessage("01", "A", "newInstance", url), queueMessage("02", "A", "releaseInstance", url), queueMessage("03", "B", "newInstance", url)}
	if err := d.Store.Enqueue(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	done := runInBackground(d)
	// Both queue heads arrive while neither is answered.
	first, second := merchant.Next(), merchant.Next()
	heads := map[string]*merchanttest.Held{heldName(first): first, heldName(second): second}
	a1, okA := heads["newInstance/A"]
	b1, okB := heads["newInstance/B"]
	if !okA || !okB {
		t.Fatalf("first two requests %s, %s; want the heads of A and B", heldName(first), heldName(second))
	}
	// The seller center's restart waits its turn like any attempt.
	if _, err := d.Restart(context.Background(), "01"); simulator.ErrorCode(err) != simulator.ECONFLICT || !strings.Contains(err.Error(), "being attempted right now") {
		t.Errorf("restart of a message in flight: %v", err)
	}
	b1.Release() // B is done; A's second message still waits for A's first
	a1.Release()
	a2 := merchant.Next()
	if heldName(a2) != "releaseInstance/A" {
		t.Fatalf("third request %s, want releaseInstance/A", heldName(a2))
	}
	a2.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if most := max(inFlight(t, first), inFlight(t, second), inFlight(t, a2)); most != 2 {
		t.Errorf("at most %d requests in flight, want 2", most)
	}
	for _, m := range msgs {
		if got := outcome(t, d, m.ID); got.Outcome != simulator.Succeeded {
			t.Errorf("%s: %s", m.ID, got.Outcome)
		}
	}
}

// With one worker, one attempt is in flight at a time: on synctest's
// clock, once every goroutine waits with the first request held, no
// second one has arrived.
func TestOneWorkerAttemptsOneAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		merchant := &merchanttest.Merchant{T: t, Key: key, Now: func() time.Time { return signedAt }}
		merchant.Answer("", merchanttest.Reply{Hold: true})
		t.Cleanup(merchant.ReleaseAll)
		const url = "http://merchant.example/produce"
		d := newDeliverer(t, schedule.NewVirtual(t0), url)
		d.Sender = &Sender{client: &http.Client{Timeout: DefaultTimeout, Transport: merchant.Transport()}}
		d.Workers = 1
		if err := d.Store.Enqueue(context.Background(), queueMessage("01", "A", "newInstance", url), queueMessage("02", "B", "newInstance", url)); err != nil {
			t.Fatal(err)
		}
		done := runInBackground(d)
		first := merchant.Next()
		synctest.Wait()
		select {
		case h := <-merchant.Arrived():
			h.Release()
			t.Fatalf("%s arrived while %s was held", heldName(h), heldName(first))
		default:
		}
		first.Release()
		second := merchant.Next()
		second.Release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if most := max(inFlight(t, first), inFlight(t, second)); most != 1 {
			t.Errorf("at most %d requests in flight, want 1", most)
		}
	})
}
