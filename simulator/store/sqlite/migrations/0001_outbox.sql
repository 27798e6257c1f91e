-- The outbox: one row per logical callback, one per attempt at it.
-- Times are Unix nanoseconds; 0 means "not set".
CREATE TABLE messages (
	id              TEXT PRIMARY KEY,
	kind            TEXT NOT NULL,
	protocol        TEXT NOT NULL,
	activity        TEXT NOT NULL,
	queue           TEXT NOT NULL,
	product_id      TEXT NOT NULL,
	order_id        TEXT NOT NULL,
	order_line_id   TEXT NOT NULL,
	instance_id     TEXT NOT NULL,
	customer_id     TEXT NOT NULL,
	url             TEXT NOT NULL,
	params          BLOB NOT NULL,
	outcome         TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	first_attempt   INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	created_at      INTEGER NOT NULL
) STRICT;

-- Finding each queue's head among pending messages.
CREATE INDEX messages_pending ON messages (queue, id) WHERE outcome = 'PENDING';

CREATE TABLE attempts (
	message_id  TEXT NOT NULL REFERENCES messages (id),
	n           INTEGER NOT NULL,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL,
	request     TEXT NOT NULL,  -- JSON: method, url, header, signing inputs
	body        BLOB NOT NULL,
	status      INTEGER NOT NULL,
	response    TEXT NOT NULL,  -- JSON: header, error, verdict detail, warnings
	response_body BLOB NOT NULL,
	verdict     TEXT NOT NULL,
	PRIMARY KEY (message_id, n)
) STRICT;
