package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kgsim/kgsim/simulator"
)

const noticeColumns = `id, kind, product_id, order_id, instance_id, message_id, attempt_n, recipients, subject, body, record,
	created_at, mailed_at`

// addNotice is hot when a merchant is down: a notice per failed attempt.
const addNotice = `INSERT INTO notices (` + noticeColumns + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (id) DO NOTHING`

func noNotice(id string) error {
	return simulator.Errorf(simulator.ENOTFOUND, "noticeId", "no notice %s", id)
}

// AddNotice stores a new notice; a notice's ID is never reused, so a
// second one with the same ID is refused with ECONFLICT.
func (s store) AddNotice(ctx context.Context, n simulator.Notice) error {
	if n.ID == "" {
		return simulator.Errorf(simulator.EINVALID, "noticeId", "is required to store a notice")
	}
	// JSON keeps nil (null) and empty ([]) recipients apart.
	to, err := json.Marshal(n.To)
	if err != nil {
		return err
	}
	res, err := s.exec(ctx, addNotice,
		n.ID, string(n.Kind), n.ProductID, n.OrderID, n.InstanceID, n.MessageID, n.AttemptN, string(to), n.Subject, n.Body, n.Record,
		nanos(n.CreatedAt), nanos(n.MailedAt))
	if err != nil {
		return fmt.Errorf("add notice %s: %w", n.ID, err)
	}
	added, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if added == 0 {
		return simulator.Errorf(simulator.ECONFLICT, "noticeId", "notice %s is already stored; a notice is added once", n.ID)
	}
	return nil
}

func scanNotice(s scanner) (simulator.Notice, error) {
	var n simulator.Notice
	var kind string
	var to []byte
	var record any
	var created, mailed int64
	if err := s.Scan(&n.ID, &kind, &n.ProductID, &n.OrderID, &n.InstanceID, &n.MessageID, &n.AttemptN, &to, &n.Subject, &n.Body,
		&record, &created, &mailed); err != nil {
		return n, err
	}
	// Only NULL is no record; an empty one reads back empty, not nil.
	if b, ok := record.([]byte); ok {
		n.Record = append([]byte{}, b...)
	}
	n.Kind, n.CreatedAt, n.MailedAt = simulator.NoticeKind(kind), fromNanos(created), fromNanos(mailed)
	return n, json.Unmarshal(to, &n.To)
}

// Notice returns one stored notice.
func (s store) Notice(ctx context.Context, id string) (simulator.Notice, error) {
	return one(ctx, s, scanNotice, noNotice(id), `SELECT `+noticeColumns+` FROM notices WHERE id = ?`, id)
}

// Notices lists notices oldest first (by CreatedAt, then as stored), or
// newest first.
func (s store) Notices(ctx context.Context, f simulator.NoticeFilter) ([]simulator.Notice, error) {
	var w where
	w.eq("product_id", f.ProductID)
	w.eq("order_id", f.OrderID)
	w.eq("message_id", f.MessageID)
	if f.Unmailed {
		w.add("mailed_at = 0")
	}
	if !f.Since.IsZero() {
		w.add("created_at >= ?", nanos(f.Since))
	}
	clause, args, err := w.sql(w.page("notices", "id", []string{"created_at", "seq"}, f.Page), f.Limit)
	if err != nil {
		return nil, err
	}
	return list(ctx, s, scanNotice, `SELECT `+noticeColumns+` FROM notices`+clause, args...)
}

// MarkMailed records when a notice went out over SMTP.
func (s store) MarkMailed(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return simulator.Errorf(simulator.EINVALID, "mailedAt", "is required: the time notice %s was sent", id)
	}
	res, err := s.exec(ctx, `UPDATE notices SET mailed_at = ? WHERE id = ?`, nanos(at), id)
	if err != nil {
		return err
	}
	return exists(res, noNotice(id))
}

// PutDialRun stores a dial-test run, replacing the one with its ID.
func (s store) PutDialRun(ctx context.Context, r simulator.DialRun) error {
	if r.ID == "" {
		return simulator.Errorf(simulator.EINVALID, "runId", "is required to store a dial-test run")
	}
	_, err := s.exec(ctx, `INSERT INTO dial_runs (id, product_id, at, done, passed) VALUES (?,?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, at = excluded.at, done = excluded.done, passed = excluded.passed`,
		r.ID, r.ProductID, nanos(r.At), r.Done, r.Passed)
	return err
}

func scanDialRun(s scanner) (simulator.DialRun, error) {
	var r simulator.DialRun
	var at int64
	err := s.Scan(&r.ID, &r.ProductID, &at, &r.Done, &r.Passed)
	r.At = fromNanos(at)
	return r, err
}

// DialRuns returns a product's runs at or after since, oldest first; runs
// at the same time go in the order they were first stored.
func (s store) DialRuns(ctx context.Context, productID string, since time.Time) ([]simulator.DialRun, error) {
	return list(ctx, s, scanDialRun, `SELECT id, product_id, at, done, passed FROM dial_runs
		WHERE product_id = ? AND at >= ? ORDER BY at, seq`, productID, nanos(since))
}
