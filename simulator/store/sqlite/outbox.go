package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

const messageColumns = `id, kind, protocol, activity, queue, product_id, order_id, order_line_id, instance_id,
	customer_id, url, params, outcome, attempts, first_attempt, next_attempt_at, created_at`

// nanos stores a time as Unix nanoseconds, the zero time as 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Enqueue stores new pending messages in one transaction.
func (d *DB) Enqueue(ctx context.Context, msgs ...simulator.Message) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO messages (`+messageColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, m := range msgs {
		if m.ID == "" || m.Queue == "" {
			return simulator.Errorf(simulator.EINVALID, "message", "a message needs an ID and a queue")
		}
		if m.Params == nil {
			m.Params = []byte("{}")
		}
		_, err := stmt.ExecContext(ctx, m.ID, m.Kind, string(m.Protocol), m.Activity, m.Queue, m.ProductID, m.OrderID, m.OrderLineID,
			m.InstanceID, m.CustomerID, m.URL, m.Params, string(m.Outcome), m.Attempts, nanos(m.FirstAttempt), nanos(m.NextAttemptAt), nanos(m.CreatedAt))
		if err != nil {
			return fmt.Errorf("enqueue %s: %w", m.ID, err)
		}
	}
	return tx.Commit()
}

// Due returns the due heads of the pending queues, oldest first.
func (d *DB) Due(ctx context.Context, now time.Time, limit int) ([]simulator.Message, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+messageColumns+` FROM messages m
		WHERE m.outcome = 'PENDING' AND m.next_attempt_at <= ?
		AND m.id = (SELECT min(id) FROM messages WHERE queue = m.queue AND outcome = 'PENDING')
		ORDER BY m.next_attempt_at, m.id LIMIT ?`, now.UnixNano(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []simulator.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func scanMessage(s interface{ Scan(...any) error }) (simulator.Message, error) {
	var m simulator.Message
	var protocol, outcome string
	var first, next, created int64
	err := s.Scan(&m.ID, &m.Kind, &protocol, &m.Activity, &m.Queue, &m.ProductID, &m.OrderID, &m.OrderLineID, &m.InstanceID,
		&m.CustomerID, &m.URL, &m.Params, &outcome, &m.Attempts, &first, &next, &created)
	m.Protocol, m.Outcome = simulator.Protocol(protocol), simulator.Outcome(outcome)
	m.FirstAttempt, m.NextAttemptAt, m.CreatedAt = fromNanos(first), fromNanos(next), fromNanos(created)
	return m, err
}

// Message returns one stored message.
func (d *DB) Message(ctx context.Context, id string) (simulator.Message, error) {
	m, err := scanMessage(d.db.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, simulator.Errorf(simulator.ENOTFOUND, "message", "no message %s", id)
	}
	return m, err
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
	Error, Detail, Message string      `json:",omitempty"`
	Warnings               []string    `json:",omitempty"`
}

// RecordAttempt stores an attempt and its message's new state together, so
// a crash leaves either both or neither.
func (d *DB) RecordAttempt(ctx context.Context, a simulator.Attempt, m simulator.Message) error {
	req, err := json.Marshal(attemptRequest{a.Method, a.URL, a.Header, a.TimeStamp, a.Timestamp, a.Nonce, a.BodyHMAC, a.Canonical, a.Signature})
	if err != nil {
		return err
	}
	resp, err := json.Marshal(attemptResponse{a.ResponseHeader, a.Error, a.Detail, a.Message, a.Warnings})
	if err != nil {
		return err
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO attempts (message_id, n, started_at, finished_at, request, body, status, response, response_body, verdict)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, a.MessageID, a.N, nanos(a.StartedAt), nanos(a.FinishedAt), string(req), nonNil(a.Body), a.Status, string(resp),
		nonNil(a.ResponseBody), string(a.Verdict)); err != nil {
		return fmt.Errorf("record attempt %d of %s: %w", a.N, a.MessageID, err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE messages SET outcome = ?, attempts = ?, first_attempt = ?, next_attempt_at = ? WHERE id = ?`,
		string(m.Outcome), m.Attempts, nanos(m.FirstAttempt), nanos(m.NextAttemptAt), m.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return simulator.Errorf(simulator.ENOTFOUND, "message", "no message %s", m.ID)
	}
	return tx.Commit()
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Attempts returns a message's attempts in order.
func (d *DB) Attempts(ctx context.Context, messageID string) ([]simulator.Attempt, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT message_id, n, started_at, finished_at, request, body, status, response, response_body, verdict
		FROM attempts WHERE message_id = ? ORDER BY n`, messageID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []simulator.Attempt
	for rows.Next() {
		var a simulator.Attempt
		var started, finished int64
		var req, resp []byte
		var verdict string
		if err := rows.Scan(&a.MessageID, &a.N, &started, &finished, &req, &a.Body, &a.Status, &resp, &a.ResponseBody, &verdict); err != nil {
			return nil, err
		}
		a.StartedAt, a.FinishedAt, a.Verdict = fromNanos(started), fromNanos(finished), simulator.Verdict(verdict)
		var rq attemptRequest
		var rs attemptResponse
		if err := json.Unmarshal(req, &rq); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(resp, &rs); err != nil {
			return nil, err
		}
		a.Method, a.URL, a.Header = rq.Method, rq.URL, rq.Header
		a.TimeStamp, a.Timestamp, a.Nonce, a.BodyHMAC, a.Canonical, a.Signature = rq.TimeStamp, rq.Timestamp, rq.Nonce, rq.BodyHMAC, rq.Canonical, rq.Signature
		a.ResponseHeader, a.Error, a.Detail, a.Message, a.Warnings = rs.Header, rs.Error, rs.Detail, rs.Message, rs.Warnings
		out = append(out, a)
	}
	return out, rows.Err()
}
