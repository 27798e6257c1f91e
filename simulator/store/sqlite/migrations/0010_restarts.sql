-- Where a virtual clock stands, so that a restart goes on from there
-- instead of going back to the wall clock's time.
CREATE TABLE virtual_clock (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	now INTEGER NOT NULL
) STRICT;

-- The first answer to each Idempotency-Key of the admin API's POSTs. A
-- row whose status is 0 is a request still running, or one a crash cut
-- short.
CREATE TABLE idempotency_keys (
	key        TEXT PRIMARY KEY,
	request    BLOB NOT NULL, -- SHA-256 of method, path and body
	status     INTEGER NOT NULL,
	body       BLOB NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
