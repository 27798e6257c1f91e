package httpapi

import (
	"bufio"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kgsim/kgsim/simulator/schedule"
)

// stream is an open /console/events, its lines read as they come.
type stream struct {
	resp  *http.Response
	lines chan string
}

func (b *browser) events(t *testing.T, since string) *stream {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.w.api.URL+"/console/events?since="+since, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("GET /console/events = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{resp: resp, lines: make(chan string, 64)}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	return s
}

// next returns the stream's next event: its name and id ("" for the
// first message, which only sets the retry and the id).
func (s *stream) next(t *testing.T, within time.Duration) (event, id string) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case line, ok := <-s.lines:
			switch {
			case !ok:
				t.Fatal("the stream ended")
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				id = strings.TrimPrefix(line, "id: ")
			case line == "":
				return event, id
			}
		case <-deadline:
			t.Fatalf("no event within %v", within)
		}
	}
}

// A live page learns of a change from /console/events: at once if the
// state moved on since the page was rendered, else as it happens.
func TestConsoleEvents(t *testing.T) {
	w := newWorld(t, schedule.NewVirtual(t0))
	w.catalogue()
	b := newBrowser(w)
	b.get(http.StatusOK, "/console/")

	quiet := b.events(t, "")
	if event, id := quiet.next(t, 5*time.Second); event != "" || id == "" {
		t.Fatalf("first message: event %q id %q, want no event and the state's id", event, id)
	}

	w.merchant.Down(true)
	w.must(http.StatusCreated, "POST", "/admin/v1/orders", `{"productId":"p1","customerId":"c1","periodNumber":1}`)
	// The order's page is live (the purchase is pending) and names the
	// state it shows.
	orders := b.get(http.StatusOK, "/console/orders")
	version := regexp.MustCompile(`data-live-version="([^"]+)"`).FindStringSubmatch(orders.body)
	if version == nil {
		t.Fatalf("a page with a pending purchase is not live:\n%s", text(orders.body))
	}
	if event, _ := quiet.next(t, 10*time.Second); event != "change" {
		t.Errorf("after a purchase the open stream said %q, want change", event)
	}

	live := b.events(t, version[1])
	if event, id := live.next(t, 5*time.Second); event != "" || id != version[1] {
		t.Fatalf("nothing changed since the page: event %q id %q, want none and %q", event, id, version[1])
	}
	w.must(http.StatusOK, "POST", "/admin/v1/clock/advance", `{"by":"1m"}`) // the first attempt fails
	event, id := live.next(t, 10*time.Second)
	if event != "change" || id == version[1] {
		t.Errorf("after an attempt: event %q id %q, want change and a new id", event, id)
	}

	late := b.events(t, version[1])
	if event, _ := late.next(t, 5*time.Second); event != "change" {
		t.Errorf("a stream opened after the change said %q at once, want change", event)
	}
}

// With an admin token the stream needs the session the login starts.
func TestConsoleEventsNeedASession(t *testing.T) {
	w := newGuardedWorld(t, schedule.NewVirtual(t0), Access{Token: "console-admin-token-5b1e0c77"})
	b := newBrowser(w)
	if p := b.get(http.StatusSeeOther, "/console/events"); !strings.HasPrefix(p.location, "/console/login") {
		t.Errorf("events without a session lead to %q, want the login form", p.location)
	}
}
