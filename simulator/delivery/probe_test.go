package delivery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/schedule"
	"github.com/tidwall/gjson"
)

func debugMessage(id, url string) simulator.Message {
	m := newInstanceMessage(id, "debug/"+id, url, t0)
	m.Kind = simulator.KindDebug
	return m
}

// A debugger call goes once to the product's configured URL, is stored
// with its attempt and its final outcome, and is never attempted again.
func TestProbeSendsOnceToTheProductsURL(t *testing.T) {
	d, clock, m, url := setup(t)
	m.Down(false)
	typed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a probe reached a URL that is not the product's: %s", r.URL)
	}))
	defer typed.Close()
	msg := debugMessage("d1", typed.URL+"/elsewhere")
	a, after, err := d.Probe(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Verdict != simulator.Success || after.Outcome != simulator.Succeeded || after.Attempts != 1 || after.URL != url {
		t.Fatalf("probe = verdict %s, outcome %s, %d attempts, URL %s; want SUCCESS, SUCCEEDED, 1, %s", a.Verdict, after.Outcome, after.Attempts, after.URL, url)
	}
	stored, err := d.Store.Message(context.Background(), "d1")
	if err != nil {
		t.Fatal(err)
	}
	attempts, err := d.Store.Attempts(context.Background(), "d1")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Outcome != simulator.Succeeded || len(attempts) != 1 || attempts[0].Verdict != simulator.Success {
		t.Fatalf("stored %s with %d attempts, want SUCCEEDED with 1", stored.Outcome, len(attempts))
	}
	if got := gjson.GetBytes(m.Calls()[0].Body, "testFlag").String(); got != "1" {
		t.Errorf("testFlag = %q, want 1", got)
	}
	if n := advance(t, d, clock, t0.Add(3*60*60e9)); n != 0 || len(m.Calls()) != 1 {
		t.Errorf("after the probe the workers made %d attempts and the merchant got %d calls; want 0 and 1", n, len(m.Calls()))
	}
}

// A failing probe is judged as every attempt is, with the debugger's
// message, and is final: not retried on the lifecycle's schedule.
func TestProbeFailureIsFinal(t *testing.T) {
	d, clock, m, url := setup(t) // the merchant is down: 503
	a, after, err := d.Probe(context.Background(), debugMessage("d1", url))
	if err != nil {
		t.Fatal(err)
	}
	if a.Verdict != simulator.HTTPStatus || a.Message == "" || after.Outcome != simulator.Stopped {
		t.Fatalf("probe = %s %q, outcome %s; want HTTP_STATUS with the debugger's message, STOPPED", a.Verdict, a.Message, after.Outcome)
	}
	if n := advance(t, d, clock, t0.Add(3*60*60e9)); n != 0 || len(m.Calls()) != 1 {
		t.Errorf("a failed probe was attempted %d more times (merchant got %d calls)", n, len(m.Calls()))
	}
}

func TestProbeRefusesWhatIsNotANewDebugCall(t *testing.T) {
	d, _, m, url := setup(t)
	for name, msg := range map[string]simulator.Message{
		"lifecycle": newInstanceMessage("l1", "CS1", url, t0),
		"attempted": func() simulator.Message { x := debugMessage("d2", url); x.Attempts = 1; return x }(),
	} {
		if _, _, err := d.Probe(context.Background(), msg); err == nil {
			t.Errorf("%s: Probe accepted it", name)
		}
	}
	if _, _, err := d.Probe(context.Background(), func() simulator.Message { x := debugMessage("d3", url); x.ProductID = "nope"; return x }()); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("unknown product: err = %v, want ENOTFOUND", err)
	}
	if len(m.Calls()) != 0 {
		t.Errorf("the merchant got %d calls from refused probes", len(m.Calls()))
	}
}

// Two calls of one queue are never in flight at once: the second is
// refused while the first waits for its answer.
func TestProbeOneAtATimePerQueue(t *testing.T) {
	m, url := holdingMerchant(t)
	d := newDeliverer(t, schedule.NewVirtual(t0), url)
	first := debugMessage("d1", url)
	first.Queue = "debug/P1"
	done := make(chan error)
	go func() {
		_, _, err := d.Probe(context.Background(), first)
		done <- err
	}()
	held := m.Next()
	second := debugMessage("d2", url)
	second.Queue = "debug/P1"
	if _, _, err := d.Probe(context.Background(), second); simulator.ErrorCode(err) != simulator.ECONFLICT {
		t.Errorf("a second call while the first is in flight: err = %v, want ECONFLICT", err)
	}
	held.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := d.Store.Message(context.Background(), "d2"); simulator.ErrorCode(err) != simulator.ENOTFOUND {
		t.Errorf("the refused call was stored: %v", err)
	}
}
