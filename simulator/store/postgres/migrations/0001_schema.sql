-- kgsim's schema, as the SQLite store's migrations 0001 to 0011 left it.
-- Times are Unix nanoseconds in bigint, 0 for "not set", so that every
-- time reads back to the nanosecond; JSON documents are text, read back
-- byte for byte; seq is the order in which rows were first stored (an
-- upsert keeps it), taken under the write lock and so in commit order.

-- The outbox: one row per logical callback, one per attempt at it.
CREATE TABLE messages (
	seq             bigint NOT NULL UNIQUE,
	id              text PRIMARY KEY,
	kind            text NOT NULL,
	protocol        text NOT NULL,
	activity        text NOT NULL,
	queue           text NOT NULL,
	product_id      text NOT NULL,
	order_id        text NOT NULL,
	order_line_id   text NOT NULL,
	instance_id     text NOT NULL,
	customer_id     text NOT NULL,
	url             text NOT NULL,
	params          bytea NOT NULL,
	outcome         text NOT NULL,
	attempts        bigint NOT NULL,
	first_attempt   bigint NOT NULL,
	next_attempt_at bigint NOT NULL,
	created_at      bigint NOT NULL
);
-- A queue's head is its pending message with the lowest seq; Due scans
-- pending messages in due order, ties in enqueue order.
CREATE INDEX messages_head ON messages (queue, seq) WHERE outcome = 'PENDING';
CREATE INDEX messages_due ON messages (next_attempt_at, seq) WHERE outcome = 'PENDING';
CREATE INDEX messages_order ON messages (order_id, seq);
CREATE INDEX messages_queue ON messages (queue, seq);
CREATE INDEX messages_outcome ON messages (outcome, seq);
CREATE INDEX messages_activity ON messages (activity, seq);

CREATE TABLE attempts (
	message_id    text NOT NULL REFERENCES messages (id),
	n             bigint NOT NULL,
	started_at    bigint NOT NULL,
	finished_at   bigint NOT NULL,
	request       text NOT NULL,  -- JSON: method, url, header, signing inputs
	body          bytea NOT NULL,
	status        bigint NOT NULL,
	response      text NOT NULL,  -- JSON: header, error, verdict detail, warnings
	response_body bytea NOT NULL,
	verdict       text NOT NULL,
	PRIMARY KEY (message_id, n)
);

-- The catalogue: JSON documents under their key.
CREATE TABLE products (
	seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id  text NOT NULL UNIQUE,
	doc text NOT NULL
);

CREATE TABLE customers (
	seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id  text NOT NULL UNIQUE,
	doc text NOT NULL
);

CREATE TABLE orders (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id            text NOT NULL UNIQUE,
	line_id       text NOT NULL,
	kind          text NOT NULL,
	instance_key  text NOT NULL,
	product_id    text NOT NULL,
	sku_code      text NOT NULL,
	customer_id   text NOT NULL,
	state         text NOT NULL,
	trial         boolean NOT NULL,
	period_type   text NOT NULL,
	period_number bigint NOT NULL,
	amount        text NOT NULL,
	linear_amount bigint NOT NULL,
	disk_size     bigint NOT NULL,
	bandwidth     bigint NOT NULL,
	expire_time   bigint NOT NULL,
	created_at    bigint NOT NULL,
	settled_at    bigint NOT NULL
);
CREATE INDEX orders_instance ON orders (instance_key);
CREATE INDEX orders_customer ON orders (customer_id);
-- A product's orders by state and settlement: the monthly count of failed
-- orders that delists a product.
CREATE INDEX orders_product ON orders (product_id, state, settled_at);
CREATE INDEX orders_created ON orders (created_at, seq);

CREATE TABLE instances (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key           text NOT NULL UNIQUE,
	instance_id   text NOT NULL,
	product_id    text NOT NULL,
	sku_code      text NOT NULL,
	customer_id   text NOT NULL,
	order_id      text NOT NULL,
	order_line_id text NOT NULL,
	state         text NOT NULL,
	trial         boolean NOT NULL,
	frozen_by     text NOT NULL,
	expire_at     bigint NOT NULL,
	next_event_at bigint NOT NULL,
	created_at    bigint NOT NULL,
	updated_at    bigint NOT NULL
);
CREATE INDEX instances_due ON instances (next_event_at, seq) WHERE next_event_at > 0;
CREATE INDEX instances_merchant_id ON instances (instance_id);
-- A purchase's answer is checked against the product's other instances
-- by instanceId.
CREATE INDEX instances_product ON instances (product_id, instance_id);
CREATE INDEX instances_customer ON instances (customer_id);
CREATE INDEX instances_created ON instances (created_at, seq);

CREATE TABLE notices (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id          text NOT NULL UNIQUE,
	kind        text NOT NULL,
	product_id  text NOT NULL,
	order_id    text NOT NULL,
	instance_id text NOT NULL,
	message_id  text NOT NULL,
	attempt_n   bigint NOT NULL,
	recipients  text NOT NULL, -- JSON array, or null for none
	subject     text NOT NULL,
	body        text NOT NULL,
	record      bytea,         -- JSON call record; NULL when absent
	created_at  bigint NOT NULL,
	mailed_at   bigint NOT NULL
);
CREATE INDEX notices_product ON notices (product_id);
CREATE INDEX notices_order ON notices (order_id);
CREATE INDEX notices_message ON notices (message_id);
-- The mailer's queue.
CREATE INDEX notices_unmailed ON notices (created_at, seq) WHERE mailed_at = 0;
CREATE INDEX notices_created ON notices (created_at, seq);

CREATE TABLE dial_runs (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         text NOT NULL UNIQUE,
	product_id text NOT NULL,
	at         bigint NOT NULL,
	done       boolean NOT NULL,
	passed     boolean NOT NULL
);
CREATE INDEX dial_runs_product ON dial_runs (product_id, at, seq);

-- The identity provider's records (identity.md, kit-sync.md).

CREATE TABLE tenants (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id          text NOT NULL UNIQUE,
	code        text NOT NULL UNIQUE,
	name        text NOT NULL,
	domain_name text NOT NULL,
	created_at  bigint NOT NULL,
	updated_at  bigint NOT NULL
);

-- Apps are JSON documents: nothing queries their lists.
CREATE TABLE apps (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         text NOT NULL UNIQUE,
	product_id text NOT NULL,
	client_id  text NOT NULL,
	doc        text NOT NULL
);
CREATE INDEX apps_product ON apps (product_id);
CREATE INDEX apps_client ON apps (client_id);

-- client_secret is the plaintext: applicationSync encrypts it anew for
-- every send.
CREATE TABLE clients (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id     text NOT NULL,
	app_id        text NOT NULL,
	client_id     text NOT NULL,
	client_secret text NOT NULL,
	instance_id   text NOT NULL,
	order_id      text NOT NULL,
	test          boolean NOT NULL,
	created_at    bigint NOT NULL,
	rotated_at    bigint NOT NULL,
	UNIQUE (tenant_id, app_id),
	UNIQUE (tenant_id, client_id)
);
CREATE INDEX clients_app ON clients (app_id);

CREATE TABLE users (
	seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id     text NOT NULL,
	user_name     text NOT NULL,
	id            text NOT NULL,
	password_hash text NOT NULL,
	name          text NOT NULL,
	email         text NOT NULL,
	mobile        text NOT NULL,
	role          text NOT NULL,
	org_code      text NOT NULL,
	position      text NOT NULL,
	employee_code text NOT NULL,
	employee_type bigint NOT NULL,
	work_place    text NOT NULL,
	entry_date    text NOT NULL,
	created_at    bigint NOT NULL,
	updated_at    bigint NOT NULL,
	UNIQUE (tenant_id, user_name)
);
-- The unified login page finds a user by name across tenants.
CREATE INDEX users_name ON users (user_name);
CREATE INDEX users_org ON users (tenant_id, org_code);

CREATE TABLE authorisations (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id  text NOT NULL,
	app_id     text NOT NULL,
	user_name  text NOT NULL,
	enabled    boolean NOT NULL,
	updated_at bigint NOT NULL,
	UNIQUE (tenant_id, app_id, user_name)
);
CREATE INDEX authorisations_user ON authorisations (tenant_id, user_name);

CREATE TABLE departments (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id   text NOT NULL,
	org_code    text NOT NULL,
	name        text NOT NULL,
	parent_code text NOT NULL,
	created_at  bigint NOT NULL,
	UNIQUE (tenant_id, org_code)
);

CREATE TABLE auth_codes (
	code         text PRIMARY KEY,
	client_id    text NOT NULL,
	tenant_id    text NOT NULL,
	app_id       text NOT NULL,
	user_name    text NOT NULL,
	redirect_uri text NOT NULL,
	state        text NOT NULL,
	scope        text NOT NULL,
	created_at   bigint NOT NULL,
	expires_at   bigint NOT NULL,
	used_at      bigint NOT NULL
);
CREATE INDEX auth_codes_tenant ON auth_codes (tenant_id);

CREATE TABLE tokens (
	seq                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	access             text NOT NULL UNIQUE,
	refresh            text NOT NULL UNIQUE,
	client_id          text NOT NULL,
	tenant_id          text NOT NULL,
	app_id             text NOT NULL,
	user_name          text NOT NULL,
	scope              text NOT NULL,
	code               text NOT NULL,
	issued_at          bigint NOT NULL,
	access_expires_at  bigint NOT NULL,
	refresh_expires_at bigint NOT NULL,
	refresh_used_at    bigint NOT NULL,
	revoked_at         bigint NOT NULL
);
-- A replayed code revokes the tokens it gave.
CREATE INDEX tokens_code ON tokens (code);
CREATE INDEX tokens_user ON tokens (tenant_id, user_name);

CREATE TABLE tickets (
	ticket           text PRIMARY KEY,
	service          text NOT NULL,
	tenant_id        text NOT NULL,
	app_id           text NOT NULL,
	user_name        text NOT NULL,
	from_new_login   boolean NOT NULL,
	authenticated_at bigint NOT NULL,
	created_at       bigint NOT NULL,
	expires_at       bigint NOT NULL,
	used_at          bigint NOT NULL
);

CREATE TABLE sessions (
	id         text PRIMARY KEY,
	tenant_id  text NOT NULL,
	user_name  text NOT NULL,
	app_id     text NOT NULL,
	created_at bigint NOT NULL,
	expires_at bigint NOT NULL
);

-- A tenant's overrides of the identity provider's settings. 0, '' and
-- NULL (echo_state) leave the default in force; lifetimes are in
-- nanoseconds.
CREATE TABLE identity_settings (
	tenant_id             text PRIMARY KEY,
	echo_state            boolean,
	cas_format            text NOT NULL,
	invalid_client_status bigint NOT NULL,
	code_lifetime         bigint NOT NULL,
	access_lifetime       bigint NOT NULL,
	refresh_lifetime      bigint NOT NULL,
	ticket_lifetime       bigint NOT NULL,
	session_lifetime      bigint NOT NULL,
	updated_at            bigint NOT NULL
);

-- Sellers and the usage they push (open-api.md).
CREATE TABLE sellers (
	seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id  text NOT NULL UNIQUE,
	ak  text NOT NULL UNIQUE,
	doc text NOT NULL
);

-- dedupe is the record's metering_sn (new API) or its span (old API): a
-- push repeated after a lost answer stores nothing twice.
CREATE TABLE usage_records (
	seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	instance_key text NOT NULL,
	instance_id  text NOT NULL,
	seller_id    text NOT NULL,
	dedupe       text NOT NULL,
	doc          text NOT NULL,
	accepted_at  bigint NOT NULL,
	UNIQUE (instance_key, dedupe)
);
CREATE INDEX usage_instance ON usage_records (instance_id, seq);

-- Test License codes (open-api.md §5).
CREATE TABLE licenses (
	seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code         text NOT NULL UNIQUE,
	product_id   text NOT NULL,
	order_id     text NOT NULL,
	instance_key text NOT NULL,
	state        text NOT NULL,
	doc          text NOT NULL
);
CREATE INDEX licenses_instance ON licenses (instance_key, seq);

-- Where a virtual clock stands, so that a restart goes on from there.
CREATE TABLE virtual_clock (
	id  bigint PRIMARY KEY CHECK (id = 1),
	now bigint NOT NULL
);

-- The first answer to each Idempotency-Key of the admin API's POSTs. A
-- row whose status is 0 is a request still running, or one a crash cut
-- short.
CREATE TABLE idempotency_keys (
	key        text PRIMARY KEY,
	request    bytea NOT NULL, -- SHA-256 of method, path and body
	status     bigint NOT NULL,
	body       bytea NOT NULL,
	created_at bigint NOT NULL
);
