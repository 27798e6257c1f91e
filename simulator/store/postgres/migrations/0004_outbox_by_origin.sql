-- A message's origin: the scheme and host of its URL (simulator.Origin),
-- and the pending messages by origin, then in due order. The outbox read
-- that leaves out the merchants at their bound takes each other
-- merchant's earliest heads from messages_origin and never walks the
-- backlog of one it leaves out; it matched every due head's URL against
-- the origins left out, so a merchant with 100,000 held up every read.
ALTER TABLE messages ADD COLUMN origin text NOT NULL DEFAULT '';
-- The URL up to the first '/', '?' or '#' after its "://", whole if none;
-- a URL without "://" is its own origin.
UPDATE messages SET origin = CASE
	WHEN strpos(url, '://') = 0 THEN url
	ELSE left(url, strpos(url, '://') + 2) || substring(substr(url, strpos(url, '://') + 3) from '^[^/?#]*')
	END;
CREATE INDEX messages_origin ON messages (origin, next_attempt_at, seq, queue) WHERE outcome = 'PENDING';
