-- Secrets the replicas sharing the database must all have (the key that
-- signs login forms), made by the first that needs one.
CREATE TABLE secrets (
	name  text PRIMARY KEY,
	value bytea NOT NULL
);
