package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/activity"
	"github.com/kgsim/kgsim/simulator/notice"
	"github.com/tidwall/gjson"
)

// Tx is the part of the store delivery touches: the outbox, the products
// and kit apps whose keys sign the messages, and the failure notices it
// raises. What a Settler writes in the same transaction is the settler's.
type Tx interface {
	simulator.OutboxTx
	signers
	simulator.NoticesTx
}

// signers is where the keys that sign messages are read: products, and
// the apps of kit syncs.
type signers interface {
	simulator.CatalogueTx
	simulator.IdentityTx
}

// Store is delivery's store: its Tx, one method at a time or grouped in
// one transaction.
type Store interface {
	Tx
	simulator.Updater
}

// Deliverer attempts the messages that are due, records every attempt and
// schedules the next one from the message's policy. Its zero value is not
// usable: Store, Sender, Clock and Wall are required. It must not be
// copied once used.
type Deliverer struct {
	Store  Store
	Sender *Sender
	Clock  simulator.Clock  // schedules attempts
	Wall   func() time.Time // signs them
	// Random makes nonces, business IDs and record IDs; crypto/rand when
	// nil. It need not be safe for concurrent use.
	Random io.Reader
	// Settlers react to every recorded attempt, in this order, inside the
	// transaction that records it. They must use only the Tx they are
	// given: the store is busy until they return.
	Settlers []simulator.Settler
	// Workers bounds the attempts in flight at once to one merchant
	// (one origin of callback URLs); 0 means DefaultWorkers.
	Workers int
	// Notify is called when an attempt started by Start or Restart ends
	// (recorded, its queue free again) or a queue held back after a
	// failure may go again; nil calls nothing. The scheduler's Wake.
	Notify  func()
	Metrics *Metrics // nil records none
	// KitLayout is how kit sync bodies are laid out on the wire; empty
	// means KitDocument.
	KitLayout KitLayout
	// Replica shares the attempts with the other processes on the store;
	// nil when this process is the only one.
	Replica *Replica

	run sync.Mutex // one read of the outbox at a time
	flight
	randMu sync.Mutex
}

// attempt makes one attempt at m on its schedule and records it with m's
// next state. The caller holds m's queue; products reads m's product.
func (d *Deliverer) attempt(ctx context.Context, m simulator.Message, products *products) error {
	s, err := products.get(ctx, m)
	if err != nil {
		return err
	}
	a, after, err := d.try(ctx, m, s)
	if err != nil {
		return err
	}
	after.Outcome, after.NextAttemptAt = next(after, a.Verdict, d.Clock.Now())
	return d.record(ctx, s, m.Outcome, after, a)
}

// signer is what signs an attempt and whom it concerns: the key that signs
// the request and checks the answer's Body-Sign, and the product the
// message is about, whose settings say how strictly and whose mailboxes
// its notices go to. Its dialect says which key (callbacks.md §5.15:
// the generic interface's orderNotify; kit-sync.md §1: the app's kit key).
type signer struct {
	product simulator.Product // zero for a kit sync of an app without one
	key     string
}

// products reads the products messages are for. RunDue reads each product
// once per read of the outbox (a batch of at most 64 due queue heads),
// which saves a sixth of an attempt's cost on a backlog and still applies
// a key or setting changed in the store from the next batch on; Restart
// reads it afresh.
type products struct {
	store signers
	mu    sync.Mutex
	byID  map[string]simulator.Product
}

// get returns what signs m, by its protocol's dialect.
func (ps *products) get(ctx context.Context, m simulator.Message) (signer, error) {
	d := dialectOf(m.Protocol)
	if d == nil {
		return signer{}, fmt.Errorf("message %s: protocol %q is neither v1, v2 nor kit", m.ID, m.Protocol)
	}
	return d.signer(ctx, ps, m)
}

// product reads m's product, once per batch.
func (ps *products) product(ctx context.Context, m simulator.Message) (simulator.Product, error) {
	ps.mu.Lock()
	p, ok := ps.byID[m.ProductID]
	ps.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := ps.store.Product(ctx, m.ProductID)
	if err != nil {
		return p, fmt.Errorf("message %s: its product %q signs it: %w", m.ID, m.ProductID, err)
	}
	ps.mu.Lock()
	if ps.byID == nil {
		ps.byID = map[string]simulator.Product{}
	}
	ps.byID[m.ProductID] = p
	ps.mu.Unlock()
	return p, nil
}

// try sends one freshly signed attempt at m and judges the answer. It
// returns the attempt and m with its attempt count and first attempt
// updated; the caller decides the outcome and records both.
func (d *Deliverer) try(ctx context.Context, m simulator.Message, s signer) (simulator.Attempt, simulator.Message, error) {
	req, err := NewRequest(m, s.key, d.Wall(), d.random(), d.KitLayout)
	if err != nil {
		return simulator.Attempt{}, m, fmt.Errorf("message %s: %w", m.ID, err)
	}
	call := Call{Protocol: m.Protocol, Activity: m.Activity, AccessKey: s.key, RequireV2BodySign: s.product.RequireBodySign}
	if m.Kind == simulator.KindPoll {
		call.Polled = m.InstanceID
	}
	// Timed on the scheduling clock, like the retries it leads to: on a
	// virtual clock the record then reads as the schedule ran. The
	// signed timestamp in the request is the wall clock's.
	started := d.Clock.Now()
	answer := d.Sender.Send(ctx, req)
	j := Judge(call, answer)
	a := NewAttempt(req, started, answer, j)
	a.MessageID, a.N = m.ID, m.Attempts+1
	m.Attempts = a.N
	if m.FirstAttempt.IsZero() {
		m.FirstAttempt = d.Clock.Now()
	}
	return a, m, nil
}

// record stores an attempt, m's state after it (was is m's outcome before
// it), the poll a 000004 answer starts, the failure notices the attempt
// raises and whatever the settlers make of it, in one transaction.
//
// A settler's error rolls all of it back and is returned: the message
// stays due and its next run sends it again. That repeats a call the
// merchant may have acted on, which the protocol allows (merchants must be
// idempotent, callbacks.md §10); committing the attempt without its
// settlement would instead leave the order or dial-test run it settles
// waiting for an answer that is never asked for again.
func (d *Deliverer) record(ctx context.Context, s signer, was simulator.Outcome, m simulator.Message, a simulator.Attempt) error {
	now := d.Clock.Now()
	var raised []simulator.NoticeKind
	err := d.Store.Update(ctx, func(tx simulator.Tx) error {
		if err := tx.RecordAttempt(ctx, a, m); err != nil {
			return fmt.Errorf("message %s: recording attempt %d: %w", m.ID, a.N, err)
		}
		if m.Outcome == simulator.Polling {
			poll, err := d.poll(m, a, now)
			if err != nil {
				return err
			}
			if err := tx.Enqueue(ctx, poll); err != nil {
				return fmt.Errorf("message %s: enqueueing its poll: %w", m.ID, err)
			}
		}
		raised = noticesFor(was, m, a)
		if err := d.notify(ctx, tx, s, m, a, raised, now); err != nil {
			return err
		}
		for _, settler := range d.Settlers {
			if err := settler.Settle(ctx, tx, m, a); err != nil {
				return fmt.Errorf("message %s: settling attempt %d: %w", m.ID, a.N, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.Metrics.recorded(m, a, raised)
	return nil
}

// noticesFor returns the failure notices an attempt raises (callbacks.md
// §12): one for a failed attempt and one when retries run out. A kit sync
// is tried once and raises one notice per failed attempt, which says that
// it stopped (kit-sync.md §8). Debug calls
// and dial-test probes raise none here: the dial tester sends one per
// failed run. A poll answered without the instance's access data
// (NOT_READY) is no failure notice: the merchant answered as asynchronous
// provisioning allows, and mailing it every few minutes for three hours
// would drown the notices that matter; if polling runs out, the final
// notice says so.
func noticesFor(was simulator.Outcome, m simulator.Message, a simulator.Attempt) []simulator.NoticeKind {
	if m.Protocol == simulator.Kit && a.Verdict.Failed() {
		return []simulator.NoticeKind{simulator.NoticeAttemptFailed}
	}
	if m.Kind != simulator.KindLifecycle && m.Kind != simulator.KindPoll {
		return nil
	}
	var kinds []simulator.NoticeKind
	if a.Verdict.Failed() && a.Verdict != simulator.NotReady {
		kinds = append(kinds, simulator.NoticeAttemptFailed)
	}
	if m.Outcome != was && (m.Outcome == simulator.OrderFailed || m.Outcome == simulator.Stopped) {
		kinds = append(kinds, simulator.NoticeFinal)
	}
	return kinds
}

// notify stores the notices of the given kinds about m after attempt a. A
// failed attempt's notice is about a alone (it references the earlier
// attempts, stored with m, rather than copying them); only the final
// notice, raised once, reads every attempt back to list them.
func (d *Deliverer) notify(ctx context.Context, tx Tx, s signer, m simulator.Message, a simulator.Attempt, kinds []simulator.NoticeKind, now time.Time) error {
	if len(kinds) == 0 {
		return nil
	}
	attempts := []simulator.Attempt{a}
	if slices.Contains(kinds, simulator.NoticeFinal) {
		var err error
		if attempts, err = tx.Attempts(ctx, m.ID); err != nil {
			return fmt.Errorf("message %s: reading its attempts for a notice: %w", m.ID, err)
		}
	}
	for _, kind := range kinds {
		id, err := simulator.NewID("n", now, d.random())
		if err != nil {
			return err
		}
		n := notice.ForAttempt(kind, s.product, notice.Call{Message: m, Attempts: attempts, Key: s.key}, id, now)
		if err := tx.AddNotice(ctx, n); err != nil {
			return fmt.Errorf("message %s: storing its %s notice: %w", m.ID, kind, err)
		}
	}
	return nil
}

// Restart makes one new attempt at a message now, as the seller center's
// "重新启动" button does (callbacks.md §9.3): for a message stopped after
// its retries, or for a new purchase or upgrade (or its poll) still inside
// its 3-hour window. A success ends it as SUCCEEDED_AFTER_RESTART; a
// failure leaves it as it was (stopped, or on its schedule). Debug calls
// and dial-test probes are never restarted.
func (d *Deliverer) Restart(ctx context.Context, id string) (simulator.Attempt, error) {
	m, err := d.Store.Message(ctx, id)
	if err != nil {
		return simulator.Attempt{}, err
	}
	origin := simulator.Origin(m.URL)
	if !d.claim(m.Queue, origin, false) {
		return simulator.Attempt{}, simulator.Errorf(simulator.ECONFLICT, "message",
			"%s: a callback of its queue %s is being attempted right now; restart it once that attempt is recorded", id, m.Queue)
	}
	recorded := false
	defer func() {
		d.release(m.Queue, origin, recorded)
		// Once the queue is free again: a delivered callback lets the
		// ones queued behind it go, and its settlement or poll may make
		// work due sooner.
		if recorded && d.Notify != nil {
			d.Notify()
		}
	}()
	// Again, now that nothing else attempts the queue: an attempt that
	// just ended may have delivered the message.
	if m, err = d.Store.Message(ctx, id); err != nil {
		return simulator.Attempt{}, err
	}
	if err := Restartable(m); err != nil {
		return simulator.Attempt{}, err
	}
	s, err := (&products{store: d.Store}).get(ctx, m)
	if err != nil {
		return simulator.Attempt{}, err
	}
	if r := d.Replica; r != nil {
		held, until, release, err := r.take(ctx, leaseName(m.Queue))
		if err != nil {
			return simulator.Attempt{}, err
		}
		if !held {
			return simulator.Attempt{}, simulator.Errorf(simulator.ECONFLICT, "message",
				"%s: another kgsim serve on this database is attempting its queue %s (its lease ends %s); restart it once that attempt is recorded",
				id, m.Queue, until.UTC().Format(time.RFC3339))
		}
		defer release()
		if m, err = d.Store.Message(ctx, id); err != nil {
			return simulator.Attempt{}, err
		}
		if err := Restartable(m); err != nil {
			return simulator.Attempt{}, err
		}
	}
	a, after, err := d.try(ctx, m, s)
	if err != nil {
		return a, err
	}
	after.Outcome, after.NextAttemptAt = next(after, a.Verdict, d.Clock.Now())
	switch {
	case after.Outcome == simulator.Succeeded:
		after.Outcome = simulator.SucceededAfterRestart
	case m.Outcome == simulator.Stopped && a.Verdict.Failed():
		after.Outcome, after.NextAttemptAt = simulator.Stopped, time.Time{}
	}
	err = d.record(ctx, s, m.Outcome, after, a)
	recorded = err == nil
	return a, err
}

// Restartable says why m cannot be restarted, if it cannot: the console
// shows it in place of the restart button.
func Restartable(m simulator.Message) error {
	switch {
	case m.Kind == simulator.KindDebug || m.Kind == simulator.KindDialTest:
		return simulator.Errorf(simulator.ECONFLICT, "message", "%s is a %s probe: a probe is tried once and never restarted; run the saved debug case again instead", m.ID, m.Kind)
	case m.Outcome == simulator.Held:
		return simulator.Errorf(simulator.ECONFLICT, "message", "%s waits behind a kit sync of its queue %s that failed; restart that one (outcome %s) and this one follows", m.ID, m.Queue, simulator.Stopped)
	case m.Outcome == simulator.Stopped:
	case m.Outcome == simulator.Pending && PolicyFor(m).Exhausted == simulator.OrderFailed:
	case m.Outcome == simulator.Pending:
		return simulator.Errorf(simulator.ECONFLICT, "message", "%s is still being retried on schedule (next attempt %s); restart is for messages that stopped", m.ID, m.NextAttemptAt.Format(time.RFC3339))
	case m.Outcome == simulator.OrderFailed:
		return simulator.Errorf(simulator.ECONFLICT, "message", "%s: the 3-hour window is over and order %s was failed and unsubscribed; a restart is offered only during the window", m.ID, m.OrderID)
	case m.Outcome == simulator.Polling:
		return simulator.Errorf(simulator.ECONFLICT, "message", "%s was accepted asynchronously (000004) and queryInstance is being polled; restart the POLL message of order %s, not the purchase", m.ID, m.OrderID)
	default:
		return simulator.Errorf(simulator.ECONFLICT, "message", "%s is already delivered (%s)", m.ID, m.Outcome)
	}
	return nil
}

// next is a message's state after an attempt at now judged v. A V2
// purchase answered 000004 waits for its poll; getLicenseAsync answered
// 000004 is done, because the merchant uploads the License later
// through the open API (callbacks.md §5.17); a probe answered 000004 is
// done too, since the debugger only checks the answer.
func next(m simulator.Message, v simulator.Verdict, now time.Time) (simulator.Outcome, time.Time) {
	switch {
	case v == simulator.Refused:
		return simulator.ChangeRefused, time.Time{}
	case v == simulator.AcceptedAsync && m.Kind == simulator.KindLifecycle && activity.Of(m).Async == activity.AsyncPolled:
		return simulator.Polling, time.Time{}
	case !v.Failed():
		return simulator.Succeeded, time.Time{}
	}
	p := PolicyFor(m)
	if at, ok := p.Next(m.FirstAttempt, now); ok {
		return simulator.Pending, at
	}
	return p.Exhausted, time.Time{}
}

// random returns the source of nonces and IDs, safe for the workers to
// share.
func (d *Deliverer) random() io.Reader {
	if d.Random == nil {
		return rand.Reader
	}
	return lockedReader{&d.randMu, d.Random}
}

type lockedReader struct {
	mu *sync.Mutex
	r  io.Reader
}

func (l lockedReader) Read(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(b)
}

// BusinessID returns a random UUID, the form of the docs' businessIds:
// every attempt at a purchase carries a new one.
func BusinessID(random io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", err
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// withBusinessID returns a purchase's params with its businessId
// replaced: a top-level member, or in the rich V2 newInstance the first
// orderInfo entry's (callbacks.md §5.8).
func withBusinessID(params gjson.Result, raw string) []byte {
	if params.Get("businessId").Exists() {
		return replaceMember(params, "businessId", raw)
	}
	entries := []byte{'['}
	for i, e := range params.Get("orderInfo").Array() {
		if i > 0 {
			entries = append(entries, ',')
			entries = append(entries, e.Raw...)
			continue
		}
		entries = append(entries, replaceMember(e, "businessId", raw)...)
	}
	return replaceMember(params, "orderInfo", string(append(entries, ']')))
}

// replaceMember returns obj with the value of one top-level member
// replaced by raw JSON, keeping the member order.
func replaceMember(obj gjson.Result, name, raw string) []byte {
	out := []byte{'{'}
	first := true
	obj.ForEach(func(k, v gjson.Result) bool {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, k.Raw...)
		out = append(out, ':')
		if k.Str == name {
			out = append(out, raw...)
		} else {
			out = append(out, v.Raw...)
		}
		return true
	})
	return append(out, '}')
}

// maxKept is how much of an answer's body an attempt keeps, as much as a
// call record shows (callbacks.md §12): the judge reads up to maxAnswer,
// but 200 failed attempts must not fill the disk.
const maxKept = 64 << 10

// NewAttempt records one attempt: the request as sent with its signing
// inputs, the answer and the judgement on it, the answer's body cut at
// maxKept and marked so. The caller numbers it.
func NewAttempt(req *Request, started time.Time, answer Answer, j Judgement) simulator.Attempt {
	a := simulator.Attempt{
		StartedAt: started, FinishedAt: started.Add(answer.Elapsed),
		Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body,
		TimeStamp: req.TimeStamp, Timestamp: req.Timestamp, Nonce: req.Nonce, BodyHMAC: req.BodyHMAC, Canonical: req.Canonical, Signature: req.Signature,
		Status: answer.Status, ResponseHeader: answer.Header, ResponseBody: answer.Body,
		Verdict: j.Verdict, Detail: j.Detail, Message: j.Message, Warnings: j.Warnings,
	}
	if len(a.ResponseBody) > maxKept {
		a.ResponseBody, a.ResponseTruncated = a.ResponseBody[:maxKept:maxKept], true
	}
	if answer.Err != nil {
		a.Error = answer.Err.Error()
	}
	return a
}
