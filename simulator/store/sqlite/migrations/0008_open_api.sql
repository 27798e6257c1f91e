-- Sellers and the usage they push (open-api.md). A seller is a JSON
-- document under its ID; its AK is a column of its own, unique, because
-- every open-API call looks the seller up by it.
CREATE TABLE sellers (
	seq INTEGER PRIMARY KEY,
	id  TEXT NOT NULL UNIQUE,
	ak  TEXT NOT NULL UNIQUE,
	doc TEXT NOT NULL
) STRICT;

-- Accepted usage records. dedupe is the record's metering_sn (new API) or
-- its span (old API): a push repeated after a lost answer stores nothing
-- twice. Times are Unix nanoseconds.
CREATE TABLE usage_records (
	seq          INTEGER PRIMARY KEY,
	instance_key TEXT NOT NULL,
	instance_id  TEXT NOT NULL,
	seller_id    TEXT NOT NULL,
	dedupe       TEXT NOT NULL,
	doc          TEXT NOT NULL,
	accepted_at  INTEGER NOT NULL,
	UNIQUE (instance_key, dedupe)
) STRICT;
CREATE INDEX usage_instance ON usage_records (instance_id, seq);
