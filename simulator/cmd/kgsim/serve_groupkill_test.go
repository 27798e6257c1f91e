package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// Killed with SIGKILL while 8 clients place purchases as fast as they can
// (so that the store commits them in groups), kgsim restarted on the same
// database has every purchase whose POST it answered 201 and delivers it.
// A purchase whose POST got no answer (in flight at the kill) may or may
// not be there; none other is.
func TestKilledMidGroupCommitLosesNothingAcknowledged(t *testing.T) {
	killedMidPurchases(t, filepath.Join(t.TempDir(), "kgsim.db"))
}

// purchaseClients is how many clients place purchases at once.
const purchaseClients = 8

// placed is what the clients learnt of the purchases they placed, each
// tagged with its own linearAmount.
type placed struct {
	mu       sync.Mutex
	acked    map[int]string // tag: the orderId answered
	unsure   map[int]bool   // tags whose POST got no answer
	refused  map[int]string // tags answered otherwise, with the answer
	lastTag  atomic.Int64
	answered atomic.Int64
}

// place has purchaseClients clients POST purchases until stop is closed,
// and closes enough once answered reaches target.
func (ps *placed) place(base string, stop chan struct{}, target int64, enough chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	var once sync.Once
	for range purchaseClients {
		wg.Go(func() {
			// A client of its own: a connection the kill broke is not
			// reused by another client's next request.
			client := &http.Client{Transport: &http.Transport{}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				if ps.buy(client, base) >= target {
					once.Do(func() { close(enough) })
				}
			}
		})
	}
	return &wg
}

// buy places one purchase, records what came of it and returns how many
// purchases are answered.
func (ps *placed) buy(client *http.Client, base string) int64 {
	tag := int(ps.lastTag.Add(1))
	resp, err := client.Post(base+"/admin/v1/orders", "application/json",
		strings.NewReader(fmt.Sprintf(`{"productId":"P-CRASH","customerId":"c-1","linearAmount":%d}`, tag)))
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	switch {
	case err != nil:
		ps.unsure[tag] = true
	case resp.StatusCode == http.StatusCreated:
		ps.acked[tag] = gjson.GetBytes(body, "order.orderId").Str
		return ps.answered.Add(1)
	default:
		ps.refused[tag] = fmt.Sprintf("%d %s", resp.StatusCode, body)
	}
	return ps.answered.Load()
}

// killedMidPurchases is TestKilledMidGroupCommitLosesNothingAcknowledged
// on the database db, SQLite's or PostgreSQL's: kills kgsim serve several
// times while purchases are being placed and delivered, then checks what
// the last start has.
func killedMidPurchases(t *testing.T, db string) {
	bin := buildKgsim(t)
	merchant, merchantURL := newStallingMerchant(t)
	fixtures := writeFixtures(t, merchantURL)
	ps := &placed{acked: map[int]string{}, unsure: map[int]bool{}, refused: map[int]string{}}

	// seenAt[k] is how many requests of each order the merchant had
	// received when kill k ended its process.
	var seenAt []map[string]int
	const kills = 3
	for k := range kills {
		p := startServe(t, bin, db, fixtures)
		stop := make(chan struct{})
		// Kill once this start has answered a few hundred purchases:
		// POSTs are then in flight, and callbacks being sent.
		enough := make(chan struct{})
		wg := ps.place(p.base, stop, ps.answered.Load()+300, enough)
		select {
		case <-enough:
		case <-time.After(60 * time.Second):
			t.Fatalf("start %d answered %d purchases in 60 s\n%s", k, ps.answered.Load(), p.logText())
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		close(stop) // the POSTs in flight go on: the kill answers them
		p.cmd.Wait()
		wg.Wait()
		seenAt = append(seenAt, sentByOrder(merchant))
		if ps.answered.Load() == 0 {
			t.Fatalf("start %d answered no purchase\n%s", k, p.logText())
		}
	}
	for tag, answer := range ps.refused {
		t.Errorf("purchase %d was refused: %s", tag, answer)
	}

	p := startServe(t, bin, db, fixtures)
	p.call(t, "POST", "/admin/v1/clock/advance", `{"by":"0s"}`) // answers once delivery is quiet
	orders := map[int]gjson.Result{}                            // by tag
	for o := range pages(t, p, "/admin/v1/orders?limit=1000", "orders") {
		tag := int(o.Get("linearAmount").Int())
		if prev, ok := orders[tag]; ok {
			t.Errorf("purchase %d made two orders: %s and %s", tag, prev.Get("orderId"), o.Get("orderId"))
		}
		orders[tag] = o
	}
	for tag, id := range ps.acked {
		o, ok := orders[tag]
		switch {
		case !ok:
			t.Errorf("purchase %d was answered 201 with order %s, which is not there after the restart", tag, id)
		case o.Get("orderId").Str != id:
			t.Errorf("purchase %d was answered with order %s but stored as %s", tag, id, o.Get("orderId"))
		}
	}
	unsureStored := 0
	for tag, o := range orders {
		switch {
		case ps.unsure[tag]:
			unsureStored++
		case ps.acked[tag] == "":
			t.Errorf("order %s (purchase %d) is stored, but its purchase was never placed or was answered otherwise", o.Get("orderId"), tag)
		}
		if o.Get("state").Str != "COMPLETED" {
			t.Errorf("order %s (purchase %d) is %s after the restart, want COMPLETED", o.Get("orderId"), tag, o.Get("state"))
		}
	}

	// Every order reached the merchant; one more than once only when the
	// process that sent it was killed before it recorded the answer: the
	// order then has one attempt recorded, and the merchant received at
	// most one request of it in each process's life.
	sent, byOrder := 0, sentByOrder(merchant)
	for _, o := range orders {
		id := o.Get("orderId").Str
		n := byOrder[id]
		sent += n
		if n == 0 {
			t.Errorf("order %s never reached the merchant", id)
			continue
		}
		if n == 1 {
			continue
		}
		before := 0
		for k, seen := range seenAt {
			if seen[id]-before > 1 {
				t.Errorf("order %s was sent %d times by the process killed %d", id, seen[id]-before, k)
			}
			before = seen[id]
		}
		if n-before > 1 {
			t.Errorf("order %s was sent %d times after the last restart", id, n-before)
		}
		msgs := p.call(t, "GET", "/admin/v1/messages?orderId="+url.QueryEscape(id), "").Get("messages").Array()
		if len(msgs) != 1 {
			t.Errorf("order %s has %d messages, want 1", id, len(msgs))
			continue
		}
		attempts := p.call(t, "GET", "/admin/v1/messages/"+url.PathEscape(msgs[0].Get("messageId").Str), "").Get("attempts").Array()
		if len(attempts) != 1 {
			t.Errorf("order %s reached the merchant %d times with %d attempts recorded: one sent again was recorded", id, n, len(attempts))
		}
	}
	t.Logf("%d purchases answered 201, %d without an answer (%d of them stored), %d orders, %d requests to the merchant (%d more than once)",
		len(ps.acked), len(ps.unsure), unsureStored, len(orders), sent, sent-len(orders))
	if len(ps.acked) < kills*300 {
		t.Errorf("only %d purchases answered", len(ps.acked))
	}
}

// pages yields every item named name of the listing at path (with its
// query), following its next cursors.
func pages(t *testing.T, p *process, path, name string) func(func(gjson.Result) bool) {
	return func(yield func(gjson.Result) bool) {
		cursor := ""
		for {
			page := p.call(t, "GET", path+cursor, "")
			for _, item := range page.Get(name).Array() {
				if !yield(item) {
					return
				}
			}
			next := page.Get("next").Str
			if next == "" {
				return
			}
			cursor = "&cursor=" + url.QueryEscape(next)
		}
	}
}
