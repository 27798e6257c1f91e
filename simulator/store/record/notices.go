package record

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
func (tb Tables) AddNotice(ctx context.Context, n simulator.Notice) error {
	if n.ID == "" {
		return simulator.Errorf(simulator.EINVALID, "noticeId", "is required to store a notice")
	}
	// JSON keeps nil (null) and empty ([]) recipients apart.
	to, err := json.Marshal(n.To)
	if err != nil {
		return err
	}
	added, err := tb.c.Exec(ctx, addNotice,
		n.ID, string(n.Kind), n.ProductID, n.OrderID, n.InstanceID, n.MessageID, n.AttemptN, string(to), n.Subject, n.Body, n.Record,
		Nanos(n.CreatedAt), Nanos(n.MailedAt))
	if err != nil {
		return fmt.Errorf("add notice %s: %w", n.ID, err)
	}
	if added == 0 {
		return simulator.Errorf(simulator.ECONFLICT, "noticeId", "notice %s is already stored; a notice is added once", n.ID)
	}
	return nil
}

func scanNotice(r Row) (simulator.Notice, error) {
	var n simulator.Notice
	var kind string
	var to []byte
	var record any
	var created, mailed int64
	if err := r.Scan(&n.ID, &kind, &n.ProductID, &n.OrderID, &n.InstanceID, &n.MessageID, &n.AttemptN, &to, &n.Subject, &n.Body,
		&record, &created, &mailed); err != nil {
		return n, err
	}
	// Only NULL is no record. SQLite's driver reads an empty BLOB as a
	// nil []byte, so an empty record is made empty again.
	if b, ok := record.([]byte); ok {
		n.Record = append([]byte{}, b...)
	}
	n.Kind, n.CreatedAt, n.MailedAt = simulator.NoticeKind(kind), FromNanos(created), FromNanos(mailed)
	return n, json.Unmarshal(to, &n.To)
}

// Notice returns one stored notice.
func (tb Tables) Notice(ctx context.Context, id string) (simulator.Notice, error) {
	return One(ctx, tb.c, scanNotice, noNotice(id), `SELECT `+noticeColumns+` FROM notices WHERE id = ?`, id)
}

// Notices lists notices oldest first (by CreatedAt, then as stored), or
// newest first.
func (tb Tables) Notices(ctx context.Context, f simulator.NoticeFilter) ([]simulator.Notice, error) {
	var w Where
	w.Eq("product_id", f.ProductID)
	w.Eq("order_id", f.OrderID)
	w.Eq("message_id", f.MessageID)
	if f.Unmailed {
		w.Add("mailed_at = 0")
	}
	if !f.Since.IsZero() {
		w.Add("created_at >= ?", Nanos(f.Since))
	}
	clause, args, err := w.SQL(tb.d, w.Page("notices", "id", []string{"created_at", "seq"}, f.Page), f.Limit)
	if err != nil {
		return nil, err
	}
	return List(ctx, tb.c, scanNotice, `SELECT `+noticeColumns+` FROM notices`+clause, args...)
}

// MarkMailed records when a notice went out over SMTP.
func (tb Tables) MarkMailed(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		return simulator.Errorf(simulator.EINVALID, "mailedAt", "is required: the time notice %s was sent", id)
	}
	n, err := tb.c.Exec(ctx, `UPDATE notices SET mailed_at = ? WHERE id = ?`, Nanos(at), id)
	return exists(n, err, noNotice(id))
}

// PutDialRun stores a dial-test run, replacing the one with its ID.
func (tb Tables) PutDialRun(ctx context.Context, r simulator.DialRun) error {
	if r.ID == "" {
		return simulator.Errorf(simulator.EINVALID, "runId", "is required to store a dial-test run")
	}
	_, err := tb.c.Exec(ctx, `INSERT INTO dial_runs (id, product_id, at, done, passed) VALUES (?,?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, at = excluded.at, done = excluded.done, passed = excluded.passed`,
		r.ID, r.ProductID, Nanos(r.At), r.Done, r.Passed)
	return err
}

func scanDialRun(row Row) (simulator.DialRun, error) {
	var r simulator.DialRun
	var at int64
	err := row.Scan(&r.ID, &r.ProductID, &at, &r.Done, &r.Passed)
	r.At = FromNanos(at)
	return r, err
}

// DialRuns returns a product's runs at or after since, oldest first; runs
// at the same time go in the order they were first stored.
func (tb Tables) DialRuns(ctx context.Context, productID string, since time.Time) ([]simulator.DialRun, error) {
	return List(ctx, tb.c, scanDialRun, `SELECT id, product_id, at, done, passed FROM dial_runs
		WHERE product_id = ? AND at >= ? ORDER BY at, seq`, productID, Nanos(since))
}
