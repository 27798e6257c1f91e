-- A message's origin: the scheme and host of its URL (simulator.Origin),
-- by which the outbox read leaves out the merchants at their bound. Held
-- with the queue in messages_due, it lets that read pass over a busy
-- merchant's backlog in the index alone: matching each head's URL against
-- the origins, row by row, made a read behind 6,000 due heads take 12 ms.
ALTER TABLE messages ADD COLUMN origin TEXT NOT NULL DEFAULT '';
-- The URL up to the first '/', '?' or '#' after its "://", whole if none;
-- a URL without "://" is its own origin.
UPDATE messages SET origin = CASE
	WHEN instr(url, '://') = 0 THEN url
	ELSE substr(url, 1, instr(url, '://') + 1 + min(
		coalesce(nullif(instr(substr(url, instr(url, '://') + 3), '/'), 0), length(url)),
		coalesce(nullif(instr(substr(url, instr(url, '://') + 3), '?'), 0), length(url)),
		coalesce(nullif(instr(substr(url, instr(url, '://') + 3), '#'), 0), length(url))))
	END;
DROP INDEX messages_due;
CREATE INDEX messages_due ON messages (next_attempt_at, seq, origin, queue) WHERE outcome = 'PENDING';
