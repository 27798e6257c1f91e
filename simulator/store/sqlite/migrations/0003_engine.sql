-- Queues deliver in enqueue order, not ID order: seq is a message's place
-- in the order messages were enqueued. Rows already stored get their rowid,
-- which is their insertion order (kgsim never runs VACUUM, which could
-- renumber them); new rows get max(seq)+1, found through messages_seq.
ALTER TABLE messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET seq = rowid;
CREATE UNIQUE INDEX messages_seq ON messages (seq);

-- A queue's head is its pending message with the lowest seq; Due scans
-- pending messages in due order, ties in enqueue order, and stops at its
-- limit.
DROP INDEX messages_pending;
CREATE INDEX messages_head ON messages (queue, seq) WHERE outcome = 'PENDING';
DROP INDEX messages_due;
CREATE INDEX messages_due ON messages (next_attempt_at, seq) WHERE outcome = 'PENDING';
-- The console and the engine list an order's messages.
CREATE INDEX messages_order ON messages (order_id, seq);

-- In the tables below seq INTEGER PRIMARY KEY is the insertion order
-- (listing ties and the catalogue's order); an upsert keeps it.

-- The catalogue: JSON documents under their key.
CREATE TABLE products (
	seq INTEGER PRIMARY KEY,
	id  TEXT NOT NULL UNIQUE,
	doc TEXT NOT NULL
) STRICT;

CREATE TABLE customers (
	seq INTEGER PRIMARY KEY,
	id  TEXT NOT NULL UNIQUE,
	doc TEXT NOT NULL
) STRICT;

CREATE TABLE orders (
	seq           INTEGER PRIMARY KEY,
	id            TEXT NOT NULL UNIQUE,
	line_id       TEXT NOT NULL,
	kind          TEXT NOT NULL,
	instance_key  TEXT NOT NULL,
	product_id    TEXT NOT NULL,
	sku_code      TEXT NOT NULL,
	customer_id   TEXT NOT NULL,
	state         TEXT NOT NULL,
	trial         INTEGER NOT NULL,
	period_type   TEXT NOT NULL,
	period_number INTEGER NOT NULL,
	amount        TEXT NOT NULL,
	linear_amount INTEGER NOT NULL,
	disk_size     INTEGER NOT NULL,
	bandwidth     INTEGER NOT NULL,
	expire_time   INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	settled_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX orders_instance ON orders (instance_key);
CREATE INDEX orders_customer ON orders (customer_id);
-- A product's orders by state and settlement: the monthly count of failed
-- orders that delists a product.
CREATE INDEX orders_product ON orders (product_id, state, settled_at);

CREATE TABLE instances (
	seq           INTEGER PRIMARY KEY,
	key           TEXT NOT NULL UNIQUE,
	instance_id   TEXT NOT NULL,
	product_id    TEXT NOT NULL,
	sku_code      TEXT NOT NULL,
	customer_id   TEXT NOT NULL,
	order_id      TEXT NOT NULL,
	order_line_id TEXT NOT NULL,
	state         TEXT NOT NULL,
	trial         INTEGER NOT NULL,
	frozen_by     TEXT NOT NULL,
	expire_at     INTEGER NOT NULL,
	next_event_at INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;
-- DueInstances reads scheduled instances in event order and stops at its
-- limit, whatever the number of idle ones.
CREATE INDEX instances_due ON instances (next_event_at, seq) WHERE next_event_at > 0;
CREATE INDEX instances_merchant_id ON instances (instance_id);
CREATE INDEX instances_product ON instances (product_id);
CREATE INDEX instances_customer ON instances (customer_id);

CREATE TABLE notices (
	seq         INTEGER PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
	kind        TEXT NOT NULL,
	product_id  TEXT NOT NULL,
	order_id    TEXT NOT NULL,
	instance_id TEXT NOT NULL,
	message_id  TEXT NOT NULL,
	attempt_n   INTEGER NOT NULL,
	recipients  TEXT NOT NULL, -- JSON array, or null for none
	subject     TEXT NOT NULL,
	body        TEXT NOT NULL,
	record      BLOB,          -- JSON call record; NULL when absent
	created_at  INTEGER NOT NULL,
	mailed_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX notices_product ON notices (product_id);
CREATE INDEX notices_order ON notices (order_id);
CREATE INDEX notices_message ON notices (message_id);
-- The mailer's queue.
CREATE INDEX notices_unmailed ON notices (created_at, seq) WHERE mailed_at = 0;

CREATE TABLE dial_runs (
	seq        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	product_id TEXT NOT NULL,
	at         INTEGER NOT NULL,
	done       INTEGER NOT NULL,
	passed     INTEGER NOT NULL
) STRICT;
CREATE INDEX dial_runs_product ON dial_runs (product_id, at, seq);
