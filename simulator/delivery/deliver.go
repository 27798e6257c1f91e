package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/protocol"
	"github.com/tidwall/gjson"
)

// Deliverer attempts the messages that are due, records every attempt and
// schedules the next one from the activity's policy.
type Deliverer struct {
	Store  simulator.Store
	Sender *Sender
	// Key returns the access key of a product; keys are never stored in
	// messages or attempts.
	Key   func(productID string) (string, error)
	Clock simulator.Clock  // schedules attempts
	Wall  func() time.Time // signs them
	// Random makes nonces and business IDs; crypto/rand when nil.
	Random io.Reader
}

// batch is how many due messages one pass reads.
const batch = 64

// RunDue attempts every message due at the scheduling clock's now, queue
// heads first, until none is due, and returns how many attempts it made.
func (d *Deliverer) RunDue(ctx context.Context) (int, error) {
	made := 0
	for {
		due, err := d.Store.Due(ctx, d.Clock.Now(), batch)
		if err != nil {
			return made, err
		}
		if len(due) == 0 {
			return made, nil
		}
		for _, m := range due {
			if err := d.attempt(ctx, m); err != nil {
				return made, err
			}
			made++
		}
	}
}

func (d *Deliverer) random() io.Reader {
	if d.Random != nil {
		return d.Random
	}
	return rand.Reader
}

// attempt makes one attempt at m on schedule and records it with m's next
// state.
func (d *Deliverer) attempt(ctx context.Context, m simulator.Message) error {
	a, m, err := d.try(ctx, m)
	if err != nil {
		return err
	}
	m.Outcome, m.NextAttemptAt = next(m, a.Verdict, d.Clock.Now())
	return d.Store.RecordAttempt(ctx, a, m)
}

// try sends one freshly signed attempt at m and judges the answer. It
// returns the attempt and m with its attempt count and first attempt
// updated; the caller decides the outcome and records both.
func (d *Deliverer) try(ctx context.Context, m simulator.Message) (simulator.Attempt, simulator.Message, error) {
	key, err := d.Key(m.ProductID)
	if err != nil {
		return simulator.Attempt{}, m, fmt.Errorf("message %s: %w", m.ID, err)
	}
	req, err := d.request(m, key)
	if err != nil {
		return simulator.Attempt{}, m, fmt.Errorf("message %s: %w", m.ID, err)
	}
	started := d.Wall()
	answer := d.Sender.Send(ctx, req)
	j := Judge(Call{Protocol: m.Protocol, Activity: m.Activity, AccessKey: key}, answer)
	a := simulator.Attempt{
		MessageID: m.ID, N: m.Attempts + 1, StartedAt: started, FinishedAt: started.Add(answer.Elapsed),
		Method: req.Method, URL: req.URL, Header: req.Header, Body: req.Body,
		TimeStamp: req.TimeStamp, Timestamp: req.Timestamp, Nonce: req.Nonce, BodyHMAC: req.BodyHMAC, Canonical: req.Canonical, Signature: req.Signature,
		Status: answer.Status, ResponseHeader: answer.Header, ResponseBody: answer.Body,
		Verdict: j.Verdict, Detail: j.Detail, Message: j.Message, Warnings: j.Warnings,
	}
	if answer.Err != nil {
		a.Error = answer.Err.Error()
	}
	m.Attempts = a.N
	if m.FirstAttempt.IsZero() {
		m.FirstAttempt = d.Clock.Now()
	}
	return a, m, nil
}

// Restart makes one new attempt at a message now, as the seller center's
// "重新启动" button does (callbacks.md §9.3): for a message stopped after
// its retries, or for a new purchase or upgrade still inside its 3-hour
// window. A success ends it as SUCCEEDED_AFTER_RESTART; a failure leaves it
// as it was (stopped, or on its schedule).
func (d *Deliverer) Restart(ctx context.Context, id string) (simulator.Attempt, error) {
	m, err := d.Store.Message(ctx, id)
	if err != nil {
		return simulator.Attempt{}, err
	}
	windowed := PolicyFor(m.Activity).Exhausted == simulator.OrderFailed
	switch {
	case m.Outcome == simulator.Stopped:
	case m.Outcome == simulator.Pending && windowed:
	case m.Outcome == simulator.Pending:
		return simulator.Attempt{}, simulator.Errorf(simulator.ECONFLICT, "message", "%s is still being retried on schedule (next attempt %s); restart is for messages that stopped", id, m.NextAttemptAt.Format(time.RFC3339))
	case m.Outcome == simulator.OrderFailed:
		return simulator.Attempt{}, simulator.Errorf(simulator.ECONFLICT, "message", "%s: the 3-hour window is over and order %s was failed and unsubscribed; a restart is offered only during the window", id, m.OrderID)
	default:
		return simulator.Attempt{}, simulator.Errorf(simulator.ECONFLICT, "message", "%s is already delivered (%s)", id, m.Outcome)
	}
	stopped := m.Outcome == simulator.Stopped
	a, m, err := d.try(ctx, m)
	if err != nil {
		return a, err
	}
	switch {
	case a.Verdict == simulator.Refused:
		m.Outcome, m.NextAttemptAt = simulator.ChangeRefused, time.Time{}
	case !a.Verdict.Failed():
		m.Outcome, m.NextAttemptAt = simulator.SucceededAfterRestart, time.Time{}
	case !stopped:
		m.Outcome, m.NextAttemptAt = next(m, a.Verdict, d.Clock.Now())
	}
	return a, d.Store.RecordAttempt(ctx, a, m)
}

// next is a message's state after an attempt at now judged v.
func next(m simulator.Message, v simulator.Verdict, now time.Time) (simulator.Outcome, time.Time) {
	switch {
	case v == simulator.Refused:
		return simulator.ChangeRefused, time.Time{}
	case !v.Failed():
		return simulator.Succeeded, time.Time{}
	}
	p := PolicyFor(m.Activity)
	if at, ok := p.Next(m.FirstAttempt, now); ok {
		return simulator.Pending, at
	}
	return p.Exhausted, time.Time{}
}

// request builds the attempt's request, freshly signed. New purchases get a
// new businessId on every attempt: "每一次请求,businessId皆不一致"
// (callbacks.md §9.2).
func (d *Deliverer) request(m simulator.Message, key string) (*Request, error) {
	params := gjson.ParseBytes(m.Params)
	if !params.IsObject() {
		return nil, fmt.Errorf("params are not a JSON object: %s", m.Params)
	}
	if params.Get("businessId").Exists() {
		id, err := d.businessID()
		if err != nil {
			return nil, err
		}
		m.Params = replaceMember(params, "businessId", `"`+id+`"`)
	}
	if m.Protocol == simulator.V1 {
		var ps []protocol.Param
		gjson.ParseBytes(m.Params).ForEach(func(k, v gjson.Result) bool {
			ps = append(ps, protocol.Param{Name: k.Str, Value: v.String()})
			return true
		})
		return NewV1Request(m.URL, key, ps, d.Wall())
	}
	nonce, err := protocol.NewNonce(d.random())
	if err != nil {
		return nil, err
	}
	return NewV2Request(m.URL, key, m.Params, d.Wall(), nonce, false)
}

// businessID returns a random UUID, the form of the docs' businessIds.
func (d *Deliverer) businessID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(d.random(), b[:]); err != nil {
		return "", err
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
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
