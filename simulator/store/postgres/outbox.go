package postgres

import (
	"context"
	"fmt"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/record"
)

// The outbox's queries. seq, one more than the highest, is taken under
// the write lock, so it is the order in which enqueues committed.
const (
	enqueueMessage = `INSERT INTO messages (` + record.MessageColumns + `, origin, seq)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, (SELECT coalesce(max(seq), 0) + 1 FROM messages))
		ON CONFLICT (id) DO NOTHING`
	// Due walks messages_due and looks each head up in messages_head.
	dueMessages = `SELECT ` + record.MessageColumns + ` FROM messages m
		WHERE m.outcome = 'PENDING' AND m.next_attempt_at <= ?
		AND m.seq = (SELECT min(seq) FROM messages WHERE queue = m.queue AND outcome = 'PENDING')
		ORDER BY m.next_attempt_at, m.seq LIMIT ?`
	// dueSkipping is dueMessages less the queues of one array (?2) and
	// the origins of another (?3), within the first window (?4) pending
	// due messages in due order. Fewer than the limit (?5) found there,
	// dueByOrigin reads on, unless dueInWindow says the window held every
	// due message.
	dueSkipping = `SELECT ` + record.MessageColumns + ` FROM (
			SELECT id AS w_id, next_attempt_at AS w_at, seq AS w_seq, origin AS w_origin, queue AS w_queue FROM messages
			WHERE outcome = 'PENDING' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, seq LIMIT ?4) w
		JOIN messages m ON m.id = w.w_id
		WHERE w.w_queue <> ALL (?2::text[]) AND w.w_origin <> ALL (?3::text[])
		AND w.w_seq = (SELECT min(seq) FROM messages WHERE queue = w.w_queue AND outcome = 'PENDING')
		ORDER BY w.w_at, w.w_seq LIMIT ?5`
	// dueByOrigin is dueSkipping without the window: it reads each
	// origin's heads apart, in messages_origin, so a merchant left out is
	// passed over in one step however many heads it holds, where a read in
	// due order went through every one of them to reach the others'
	// behind. The origins are found by a loose scan of the same index, one
	// step each; an origin gives at most the limit of its earliest heads,
	// and the earliest of them all are returned. A head's seq is "<=" its
	// queue's lowest, which is "=" since it is one of them: PostgreSQL
	// takes "=" to keep few of an origin's messages, sorted every one of
	// them and estimated the read costly enough to compile it first (1.5 s
	// a read behind 10,000), where "<=" has it walk the index in order
	// and stop at the limit.
	dueByOrigin = `WITH RECURSIVE origins(origin) AS (
			(SELECT origin FROM messages WHERE outcome = 'PENDING' ORDER BY origin LIMIT 1)
			UNION ALL
			SELECT (SELECT m.origin FROM messages m WHERE m.outcome = 'PENDING' AND m.origin > o.origin ORDER BY m.origin LIMIT 1)
			FROM origins o WHERE o.origin IS NOT NULL)
		SELECT ` + record.MessageColumns + ` FROM origins o CROSS JOIN LATERAL (
			SELECT ` + record.MessageColumns + `, h.seq FROM messages h
			WHERE h.origin = o.origin AND h.outcome = 'PENDING' AND h.next_attempt_at <= ?1
			AND h.queue <> ALL (?2::text[])
			AND h.seq <= (SELECT min(seq) FROM messages WHERE queue = h.queue AND outcome = 'PENDING')
			ORDER BY h.next_attempt_at, h.seq LIMIT ?4) m
		WHERE o.origin IS NOT NULL AND o.origin <> ALL (?3::text[])
		ORDER BY m.next_attempt_at, m.seq LIMIT ?4`
	// dueInWindow counts the due messages in dueSkipping's window (?2):
	// fewer than the window, and dueSkipping has seen them all, so reading
	// on origin by origin would find nothing more. Without a backlog, where
	// a read that skips nearly always finds fewer heads than it wants, it
	// did that read every time.
	dueInWindow = `SELECT count(*) FROM (SELECT 1 FROM messages
		WHERE outcome = 'PENDING' AND next_attempt_at <= ?1 LIMIT ?2) w`
	// The partial index messages_due holds only pending messages: counting
	// them costs the outbox depth, not the history.
	countPending = `SELECT count(*) FROM messages WHERE outcome = 'PENDING'`
)

// Enqueue stores new pending messages, all or none, each after every
// message enqueued before it: seq is one more than the highest so far. A
// message without Params gets {}. An ID already stored is an ECONFLICT.
func (s store) Enqueue(ctx context.Context, msgs ...simulator.Message) error {
	return s.atomic(ctx, func(s store) error {
		for _, m := range msgs {
			if m.ID == "" || m.Queue == "" {
				return simulator.Errorf(simulator.EINVALID, "message", "a message needs an ID and a queue")
			}
			if m.Params == nil {
				m.Params = []byte("{}")
			}
			res, err := s.exec(ctx, enqueueMessage, m.ID, m.Kind, string(m.Protocol), m.Activity, m.Queue, m.ProductID, m.OrderID, m.OrderLineID,
				m.InstanceID, m.CustomerID, m.URL, m.Params, string(m.Outcome), m.Attempts, record.Nanos(m.FirstAttempt), record.Nanos(m.NextAttemptAt), record.Nanos(m.CreatedAt),
				simulator.Origin(m.URL))
			if err != nil {
				return fmt.Errorf("enqueue %s: %w", m.ID, err)
			}
			if err := exists(res, simulator.Errorf(simulator.ECONFLICT, "message", "%s is already enqueued; a message is enqueued once", m.ID)); err != nil {
				return err
			}
		}
		return nil
	})
}

// dueWindow is how many pending due messages a read that skips looks
// through in due order before it reads origin by origin: as many as the
// deliverer's bounds hold in flight, and heads to start behind them.
const dueWindow = 256

// Due returns the due heads of the pending queues, earliest due first,
// ties in enqueue order. The skips travel as two arrays, so that one
// prepared statement serves every read. A read that skips looks through
// the first dueWindow due messages in due order; when they hold fewer
// heads than it wants, it reads origin by origin, where a skipped
// origin's heads are not read at all, however many: a merchant at its
// bound with a backlog no longer makes every read walk it. With fewer due
// messages than the window, the first read has seen them all and is the
// answer.
func (s store) Due(ctx context.Context, f simulator.DueFilter) ([]simulator.Message, error) {
	if err := record.Positive(f.Limit); err != nil {
		return nil, err
	}
	if len(f.SkipQueues) == 0 && len(f.SkipOrigins) == 0 {
		return record.List(ctx, s.conn, record.ScanMessage, dueMessages, record.Nanos(f.Now), f.Limit)
	}
	queues, origins := nonNilStrings(f.SkipQueues), nonNilStrings(f.SkipOrigins)
	due, err := record.List(ctx, s.conn, record.ScanMessage, dueSkipping, record.Nanos(f.Now), queues, origins, dueWindow, f.Limit)
	if err != nil || len(due) == f.Limit {
		return due, err
	}
	var inWindow int
	if err := s.conn.QueryRow(ctx, dueInWindow, record.Nanos(f.Now), dueWindow).Scan(&inWindow); err != nil {
		return nil, s.conn.Fail(err)
	}
	if inWindow < dueWindow {
		return due, nil
	}
	return record.List(ctx, s.conn, record.ScanMessage, dueByOrigin, record.Nanos(f.Now), queues, origins, f.Limit)
}

func nonNilStrings(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// Pending counts the pending messages.
func (s store) Pending(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, countPending).Scan(&n)
	return n, err
}
