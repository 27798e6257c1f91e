package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// A page that shows something pending (a callback being retried, an order
// being processed) is kept fresh by its script: it listens to
// /console/events, a stream of server-sent events that says "change"
// whenever what such a page shows may have changed, and then reads the
// page again. Without EventSource the script reads the page every two
// seconds; without JavaScript the page is reloaded by hand.

const (
	// liveTick is how often a stream looks for a change: a cheap count
	// and a counter, once a second for each page open.
	liveTick = time.Second
	// liveStream is how long one stream lasts before the browser opens
	// the next (EventSource reconnects by itself, after liveRetry): a
	// stream must not hold kgsim's shutdown, which waits for open
	// requests.
	liveStream = 25 * time.Second
	liveRetry  = 2 * time.Second
)

// liveVersion names the state a live page shows: the attempts recorded,
// the callbacks not yet final and, on a virtual clock, where it stands.
// It changes whenever an attempt is made or a callback is queued or
// settled.
func (c *console) liveVersion(ctx context.Context) (string, error) {
	pending, err := c.a.store.Pending(ctx)
	if err != nil {
		return "", err
	}
	v := strconv.Itoa(c.a.deliverer.Recorded()) + "." + strconv.Itoa(pending)
	if c.a.scheduler.Virtual() {
		v += "." + strconv.FormatInt(c.a.scheduler.Clock().Now().UnixNano(), 36)
	}
	return v, nil
}

// events streams "change" events. The version a page was rendered at
// comes as ?since= (the first connection) or Last-Event-ID (the browser's
// reconnections): if the state moved on since, the change is sent at
// once, so none falls between two streams.
func (c *console) events(rq *request) {
	ctx := rq.r.Context()
	last, err := c.liveVersion(ctx)
	if err != nil {
		c.fail(rq, err)
		return
	}
	seen := rq.r.Header.Get("Last-Event-ID")
	if seen == "" {
		seen = rq.r.URL.Query().Get("since")
	}
	h := rq.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	rq.w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(rq.w)
	send := func(event string) bool {
		if _, err := fmt.Fprintf(rq.w, "%sid: %s\n\n", event, last); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	first := fmt.Sprintf("retry: %d\n", liveRetry.Milliseconds())
	if seen != "" && seen != last {
		first += "event: change\ndata: " + last + "\n"
	}
	if !send(first) {
		return
	}
	tick, end := time.NewTicker(liveTick), time.NewTimer(liveStream)
	defer tick.Stop()
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			return
		case <-tick.C:
			v, err := c.liveVersion(ctx)
			if err != nil {
				return // the browser reconnects, and the page shows the failure
			}
			if v != last {
				last = v
				if !send("event: change\ndata: " + v + "\n") {
					return
				}
			}
		}
	}
}
