-- The identity provider's records (identity.md, kit-sync.md). Times are
-- Unix nanoseconds, 0 for "not set"; seq INTEGER PRIMARY KEY is the order
-- first stored, which an upsert keeps.

CREATE TABLE tenants (
	seq         INTEGER PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
	code        TEXT NOT NULL UNIQUE,
	name        TEXT NOT NULL,
	domain_name TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;

-- Apps are JSON documents: nothing queries their lists.
CREATE TABLE apps (
	seq        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	product_id TEXT NOT NULL,
	client_id  TEXT NOT NULL,
	doc        TEXT NOT NULL
) STRICT;
CREATE INDEX apps_product ON apps (product_id);
CREATE INDEX apps_client ON apps (client_id);

-- client_secret is the plaintext: applicationSync encrypts it anew for
-- every send.
CREATE TABLE clients (
	seq           INTEGER PRIMARY KEY,
	tenant_id     TEXT NOT NULL,
	app_id        TEXT NOT NULL,
	client_id     TEXT NOT NULL,
	client_secret TEXT NOT NULL,
	instance_id   TEXT NOT NULL,
	order_id      TEXT NOT NULL,
	test          INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	rotated_at    INTEGER NOT NULL,
	UNIQUE (tenant_id, app_id),
	UNIQUE (tenant_id, client_id)
) STRICT;
CREATE INDEX clients_app ON clients (app_id);

CREATE TABLE users (
	seq           INTEGER PRIMARY KEY,
	tenant_id     TEXT NOT NULL,
	user_name     TEXT NOT NULL,
	id            TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	name          TEXT NOT NULL,
	email         TEXT NOT NULL,
	mobile        TEXT NOT NULL,
	role          TEXT NOT NULL,
	org_code      TEXT NOT NULL,
	position      TEXT NOT NULL,
	employee_code TEXT NOT NULL,
	employee_type INTEGER NOT NULL,
	work_place    TEXT NOT NULL,
	entry_date    TEXT NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	UNIQUE (tenant_id, user_name)
) STRICT;
-- The unified login page finds a user by name across tenants.
CREATE INDEX users_name ON users (user_name);
CREATE INDEX users_org ON users (tenant_id, org_code);

CREATE TABLE authorisations (
	seq        INTEGER PRIMARY KEY,
	tenant_id  TEXT NOT NULL,
	app_id     TEXT NOT NULL,
	user_name  TEXT NOT NULL,
	enabled    INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (tenant_id, app_id, user_name)
) STRICT;
CREATE INDEX authorisations_user ON authorisations (tenant_id, user_name);

CREATE TABLE departments (
	seq         INTEGER PRIMARY KEY,
	tenant_id   TEXT NOT NULL,
	org_code    TEXT NOT NULL,
	name        TEXT NOT NULL,
	parent_code TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	UNIQUE (tenant_id, org_code)
) STRICT;

CREATE TABLE auth_codes (
	code         TEXT PRIMARY KEY,
	client_id    TEXT NOT NULL,
	tenant_id    TEXT NOT NULL,
	app_id       TEXT NOT NULL,
	user_name    TEXT NOT NULL,
	redirect_uri TEXT NOT NULL,
	state        TEXT NOT NULL,
	scope        TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	used_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE tokens (
	seq                INTEGER PRIMARY KEY,
	access             TEXT NOT NULL UNIQUE,
	refresh            TEXT NOT NULL UNIQUE,
	client_id          TEXT NOT NULL,
	tenant_id          TEXT NOT NULL,
	app_id             TEXT NOT NULL,
	user_name          TEXT NOT NULL,
	scope              TEXT NOT NULL,
	code               TEXT NOT NULL,
	issued_at          INTEGER NOT NULL,
	access_expires_at  INTEGER NOT NULL,
	refresh_expires_at INTEGER NOT NULL,
	refresh_used_at    INTEGER NOT NULL,
	revoked_at         INTEGER NOT NULL
) STRICT;
-- A replayed code revokes the tokens it gave.
CREATE INDEX tokens_code ON tokens (code);
CREATE INDEX tokens_user ON tokens (tenant_id, user_name);

CREATE TABLE tickets (
	ticket           TEXT PRIMARY KEY,
	service          TEXT NOT NULL,
	tenant_id        TEXT NOT NULL,
	app_id           TEXT NOT NULL,
	user_name        TEXT NOT NULL,
	from_new_login   INTEGER NOT NULL,
	authenticated_at INTEGER NOT NULL,
	created_at       INTEGER NOT NULL,
	expires_at       INTEGER NOT NULL,
	used_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,
	tenant_id  TEXT NOT NULL,
	user_name  TEXT NOT NULL,
	app_id     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
