package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kgsim/kgsim/simulator"
	"github.com/kgsim/kgsim/simulator/store/record"
)

// The hot queries of the outbox (see statements). Their limit is bound
// as ?+0: SQLite plans a LIMIT that is a bare parameter by its value and
// prepares the statement again, parsing it anew, whenever the value
// changes (86 us a read of an empty table instead of 6), and the outbox
// read's limit follows the places free, NextDue's is 1. An expression it
// does not evaluate while planning keeps one plan.
const (
	enqueueMessage = `INSERT INTO messages (` + record.MessageColumns + `, origin, seq)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, (SELECT coalesce(max(seq), 0) + 1 FROM messages))
		ON CONFLICT (id) DO NOTHING`
	// Due walks messages_due and looks each head up in messages_head, so
	// it reads little more than it returns. Named, because SQLite prefers
	// messages_outcome for the head's min(seq): it walks every pending
	// message in enqueue order until one of the queue's, for each head.
	dueMessages = `SELECT ` + record.MessageColumns + ` FROM messages m INDEXED BY messages_due
		WHERE m.outcome = 'PENDING' AND m.next_attempt_at <= ?
		AND m.seq = (SELECT min(seq) FROM messages INDEXED BY messages_head WHERE queue = m.queue AND outcome = 'PENDING')
		ORDER BY m.next_attempt_at, m.seq LIMIT ?+0`
	// dueSkipping is dueMessages less the queues of a JSON array (?2) and
	// the origins of another (?3), both held in messages_due, within the
	// first window (?4) pending due messages: a busy merchant's heads are
	// passed over in the index, up to the window. Fewer than the limit
	// (?5) found there, dueByOrigin reads on, unless dueInWindow says
	// the window held every due message.
	dueSkipping = `SELECT ` + record.MessageColumns + ` FROM (
			SELECT rowid AS r, next_attempt_at AS at, seq AS s, origin AS o, queue AS q FROM messages INDEXED BY messages_due
			WHERE outcome = 'PENDING' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, seq LIMIT ?4+0) w
		JOIN messages m ON m.rowid = w.r
		WHERE w.q NOT IN (SELECT value FROM json_each(?2)) AND w.o NOT IN (SELECT value FROM json_each(?3))
		AND w.s = (SELECT min(seq) FROM messages INDEXED BY messages_head WHERE queue = w.q AND outcome = 'PENDING')
		ORDER BY w.at, w.s LIMIT ?5+0`
	// dueByOrigin is dueSkipping without the window: it reads each
	// origin's heads apart, in messages_origin, so a merchant left out is
	// passed over in one step however many heads it holds, where a walk of
	// messages_due went through every one of them to reach the others'
	// behind. The origins are found by a loose scan of the same index, one
	// step each; an origin gives at most the limit of its earliest heads,
	// and the earliest of them all are returned.
	dueByOrigin = `WITH RECURSIVE origins(origin) AS (
			SELECT min(origin) FROM messages INDEXED BY messages_origin WHERE outcome = 'PENDING'
			UNION ALL
			SELECT (SELECT min(origin) FROM messages INDEXED BY messages_origin WHERE outcome = 'PENDING' AND origin > o.origin)
			FROM origins o WHERE o.origin IS NOT NULL)
		SELECT ` + record.MessageColumns + ` FROM origins o, messages m
		WHERE o.origin IS NOT NULL AND o.origin NOT IN (SELECT value FROM json_each(?3))
		AND m.rowid IN (SELECT h.rowid FROM messages h INDEXED BY messages_origin
			WHERE h.origin = o.origin AND h.outcome = 'PENDING' AND h.next_attempt_at <= ?1
			AND h.queue NOT IN (SELECT value FROM json_each(?2))
			AND h.seq = (SELECT min(seq) FROM messages INDEXED BY messages_head WHERE queue = h.queue AND outcome = 'PENDING')
			ORDER BY h.next_attempt_at, h.seq LIMIT ?4+0)
		ORDER BY m.next_attempt_at, m.seq LIMIT ?4+0`
	// dueInWindow counts the due messages in dueSkipping's window (?2)
	// from messages_due alone: fewer than the window, and dueSkipping has
	// seen them all, so reading on origin by origin (a query costing
	// several of these) would find nothing more. Without a backlog, where
	// a read that skips nearly always finds fewer heads than it wants, it
	// did that read every time.
	dueInWindow = `SELECT count(*) FROM (SELECT 1 FROM messages INDEXED BY messages_due
		WHERE outcome = 'PENDING' AND next_attempt_at <= ?1 LIMIT ?2+0)`
	// The partial index messages_due holds only pending messages: counting
	// them costs the outbox depth, not the history.
	countPending = `SELECT count(*) FROM messages INDEXED BY messages_due WHERE outcome = 'PENDING'`
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
// ties in enqueue order. The skips travel as two JSON arrays, so that one
// prepared query serves every read. A read that skips looks through the
// first dueWindow due messages in due order, the busy merchants' passed
// over in the index; when they hold fewer heads than it wants, it reads
// origin by origin, where a skipped origin's heads are not read at all,
// however many: a merchant at its bound with a backlog no longer makes
// every read walk it. With fewer due messages than the window, the first
// read has seen them all and is the answer.
func (s store) Due(ctx context.Context, f simulator.DueFilter) ([]simulator.Message, error) {
	if err := record.Positive(f.Limit); err != nil {
		return nil, err
	}
	if len(f.SkipQueues) == 0 && len(f.SkipOrigins) == 0 {
		return record.List(ctx, s.conn, record.ScanMessage, dueMessages, record.Nanos(f.Now), f.Limit)
	}
	queues, err := json.Marshal(nonNilStrings(f.SkipQueues))
	if err != nil {
		return nil, err
	}
	origins, err := json.Marshal(nonNilStrings(f.SkipOrigins))
	if err != nil {
		return nil, err
	}
	due, err := record.List(ctx, s.conn, record.ScanMessage, dueSkipping, record.Nanos(f.Now), string(queues), string(origins), dueWindow, f.Limit)
	if err != nil || len(due) == f.Limit {
		return due, err
	}
	var inWindow int
	if err := s.queryRow(ctx, dueInWindow, record.Nanos(f.Now), dueWindow).Scan(&inWindow); err != nil {
		return nil, s.health.fail(err)
	}
	if inWindow < dueWindow {
		return due, nil
	}
	return record.List(ctx, s.conn, record.ScanMessage, dueByOrigin, record.Nanos(f.Now), string(queues), string(origins), f.Limit)
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
