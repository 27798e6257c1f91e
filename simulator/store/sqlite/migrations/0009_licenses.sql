-- Test License codes (open-api.md §5). A code is a JSON document under its
-- code; the instance it follows is a column of its own, because every
-- change of an instance's state looks its codes up by it.
CREATE TABLE licenses (
	seq          INTEGER PRIMARY KEY,
	code         TEXT NOT NULL UNIQUE,
	product_id   TEXT NOT NULL,
	order_id     TEXT NOT NULL,
	instance_key TEXT NOT NULL,
	state        TEXT NOT NULL,
	doc          TEXT NOT NULL
) STRICT;
CREATE INDEX licenses_instance ON licenses (instance_key, seq);
