-- A tenant's overrides of the identity provider's settings. 0, '' and
-- NULL (echo_state) leave the default in force; lifetimes are in
-- nanoseconds.
CREATE TABLE identity_settings (
	tenant_id             TEXT PRIMARY KEY,
	echo_state            INTEGER,
	cas_format            TEXT NOT NULL,
	invalid_client_status INTEGER NOT NULL,
	code_lifetime         INTEGER NOT NULL,
	access_lifetime       INTEGER NOT NULL,
	refresh_lifetime      INTEGER NOT NULL,
	ticket_lifetime       INTEGER NOT NULL,
	session_lifetime      INTEGER NOT NULL,
	updated_at            INTEGER NOT NULL
) STRICT;

