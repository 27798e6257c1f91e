package record

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kgsim/kgsim/simulator"
)

// MessageColumns are a message's columns, in the order ScanMessage reads
// them.
const MessageColumns = `id, kind, protocol, activity, queue, product_id, order_id, order_line_id, instance_id,
	customer_id, url, params, outcome, attempts, first_attempt, next_attempt_at, created_at`

// The delivery's hot statements (Frequent): every attempt reads its
// message, records itself and updates the message.
const (
	selectMessage = `SELECT ` + MessageColumns + ` FROM messages WHERE id = ?`
	updateMessage = `UPDATE messages SET outcome = ?, attempts = ?, first_attempt = ?, next_attempt_at = ? WHERE id = ?`
	insertAttempt = `INSERT INTO attempts (message_id, n, started_at, finished_at, request, body, status, response, response_body, verdict)
		VALUES (?,?,?,?,?,?,?,?,?,?)`
)

// NoMessage is the error for a message that is not stored.
func NoMessage(id string) error {
	return simulator.Errorf(simulator.ENOTFOUND, "message", "no message %s", id)
}

// ScanMessage reads a message from a row of MessageColumns.
func ScanMessage(s Row) (simulator.Message, error) {
	var m simulator.Message
	var protocol, outcome string
	var first, next, created int64
	err := s.Scan(&m.ID, &m.Kind, &protocol, &m.Activity, &m.Queue, &m.ProductID, &m.OrderID, &m.OrderLineID, &m.InstanceID,
		&m.CustomerID, &m.URL, &m.Params, &outcome, &m.Attempts, &first, &next, &created)
	m.Protocol, m.Outcome = simulator.Protocol(protocol), simulator.Outcome(outcome)
	m.FirstAttempt, m.NextAttemptAt, m.CreatedAt = FromNanos(first), FromNanos(next), FromNanos(created)
	return m, err
}

// Message returns one stored message.
func (tb Tables) Message(ctx context.Context, id string) (simulator.Message, error) {
	return One(ctx, tb.c, ScanMessage, NoMessage(id), selectMessage, id)
}

// Messages lists messages in enqueue order, or its reverse.
func (tb Tables) Messages(ctx context.Context, f simulator.MessageFilter) ([]simulator.Message, error) {
	var w Where
	w.Eq("kind", f.Kind)
	w.Eq("protocol", string(f.Protocol))
	w.Eq("product_id", f.ProductID)
	w.Eq("order_id", f.OrderID)
	w.Eq("queue", f.Queue)
	// An order's or a queue's messages are few: they are found by its
	// index, their activity and status only checked (Dialect.NotByIndex).
	narrow := ""
	if f.OrderID != "" || f.Queue != "" {
		narrow = tb.d.NotByIndex
	}
	w.Eq(narrow+"activity", f.Activity)
	w.Eq("instance_id", f.InstanceID)
	w.Eq(narrow+"outcome", string(f.Outcome))
	if !f.Since.IsZero() {
		w.Add("created_at >= ?", Nanos(f.Since))
	}
	if !f.Until.IsZero() {
		w.Add("created_at < ?", Nanos(f.Until))
	}
	clause, args, err := w.SQL(tb.d, w.Page("messages", "id", []string{"seq"}, f.Page), f.Limit)
	if err != nil {
		return nil, err
	}
	return List(ctx, tb.c, ScanMessage, `SELECT `+MessageColumns+` FROM messages`+clause, args...)
}

// PutMessage updates a stored message's delivery state: Outcome,
// Attempts, FirstAttempt and NextAttemptAt. Its other fields, and its
// place in its queue, stay as enqueued.
func (tb Tables) PutMessage(ctx context.Context, m simulator.Message) error {
	n, err := tb.c.Exec(ctx, updateMessage,
		string(m.Outcome), m.Attempts, Nanos(m.FirstAttempt), Nanos(m.NextAttemptAt), m.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return NoMessage(m.ID)
	}
	return nil
}

// attemptRequest and attemptResponse are the JSON columns of an attempt:
// the parts nobody queries by.
type attemptRequest struct {
	Method, URL                                                 string
	Header                                                      http.Header
	TimeStamp, Timestamp, Nonce, BodyHMAC, Canonical, Signature string `json:",omitempty"`
}

type attemptResponse struct {
	Header                 http.Header `json:",omitempty"`
	Truncated              bool        `json:",omitempty"`
	Error, Detail, Message string      `json:",omitempty"`
	Warnings               []string    `json:",omitempty"`
}

// RecordAttempt stores an attempt and its message's new state together, so
// a crash leaves either both or neither.
func (tb Tables) RecordAttempt(ctx context.Context, a simulator.Attempt, m simulator.Message) error {
	req, err := json.Marshal(attemptRequest{a.Method, a.URL, a.Header, a.TimeStamp, a.Timestamp, a.Nonce, a.BodyHMAC, a.Canonical, a.Signature})
	if err != nil {
		return err
	}
	resp, err := json.Marshal(attemptResponse{a.ResponseHeader, a.ResponseTruncated, a.Error, a.Detail, a.Message, a.Warnings})
	if err != nil {
		return err
	}
	return tb.c.Atomic(ctx, func(c Conn) error {
		if _, err := c.Exec(ctx, insertAttempt, a.MessageID, a.N, Nanos(a.StartedAt), Nanos(a.FinishedAt), string(req), nonNil(a.Body), a.Status, string(resp),
			nonNil(a.ResponseBody), string(a.Verdict)); err != nil {
			return fmt.Errorf("record attempt %d of %s: %w", a.N, a.MessageID, err)
		}
		return NewTables(c, tb.d).PutMessage(ctx, m)
	})
}

// Attempts returns a message's attempts in order.
func (tb Tables) Attempts(ctx context.Context, messageID string) ([]simulator.Attempt, error) {
	return List(ctx, tb.c, scanAttempt, `SELECT message_id, n, started_at, finished_at, request, body, status, response, response_body, verdict
		FROM attempts WHERE message_id = ? ORDER BY n`, messageID)
}

func scanAttempt(s Row) (simulator.Attempt, error) {
	var a simulator.Attempt
	var started, finished int64
	var req, resp []byte
	var verdict string
	if err := s.Scan(&a.MessageID, &a.N, &started, &finished, &req, &a.Body, &a.Status, &resp, &a.ResponseBody, &verdict); err != nil {
		return a, err
	}
	a.StartedAt, a.FinishedAt, a.Verdict = FromNanos(started), FromNanos(finished), simulator.Verdict(verdict)
	var rq attemptRequest
	var rs attemptResponse
	if err := json.Unmarshal(req, &rq); err != nil {
		return a, err
	}
	if err := json.Unmarshal(resp, &rs); err != nil {
		return a, err
	}
	a.Method, a.URL, a.Header = rq.Method, rq.URL, rq.Header
	a.TimeStamp, a.Timestamp, a.Nonce, a.BodyHMAC, a.Canonical, a.Signature = rq.TimeStamp, rq.Timestamp, rq.Nonce, rq.BodyHMAC, rq.Canonical, rq.Signature
	a.ResponseHeader, a.ResponseTruncated, a.Error, a.Detail, a.Message, a.Warnings = rs.Header, rs.Truncated, rs.Error, rs.Detail, rs.Message, rs.Warnings
	return a, nil
}
