-- {{identity}} is an auto-increasing integer key: BIGINT GENERATED ALWAYS AS
-- IDENTITY on PostgreSQL, INTEGER PRIMARY KEY (the rowid) on SQLite.
-- Times are microseconds since the Unix epoch (BIGINT), the same in both
-- stores, so that the SQL and the Go code are shared.
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    region      TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    catalog     TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    version     BIGINT NOT NULL DEFAULT 1,   -- bumped when anything decisions depend on changes
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);

CREATE TABLE subscriptions (
    account           TEXT NOT NULL REFERENCES accounts(id),
    license           TEXT NOT NULL,
    model             TEXT NOT NULL,
    enforcement       TEXT NOT NULL,
    quantity          BIGINT NOT NULL,
    overage_allowance BIGINT NOT NULL,
    grace_seconds     BIGINT NOT NULL,
    billing_period    TEXT NOT NULL,
    currency          TEXT NOT NULL,
    unit_price        BIGINT NOT NULL,
    overage_price     BIGINT NOT NULL,
    starts_at         BIGINT NOT NULL,
    ends_at           BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (account, license)
);

-- One row per account and user license: how many users hold a seat, and
-- the cap. Assignments take a seat with a guarded UPDATE on this row, which
-- is what makes caps hold under concurrency (R1, R9, R16).
CREATE TABLE seat_counters (
    account TEXT NOT NULL REFERENCES accounts(id),
    license TEXT NOT NULL,
    used    BIGINT NOT NULL DEFAULT 0,
    cap     BIGINT NOT NULL DEFAULT 0,
    capped  BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (account, license)
);

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    account     TEXT,                -- NULL for operator tokens
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE,  -- hex SHA-256 of the secret; the secret is never stored
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE users (
    account      TEXT NOT NULL REFERENCES accounts(id),
    id           TEXT NOT NULL,
    user_name    TEXT NOT NULL,
    email        TEXT NOT NULL,
    display_name TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    active       BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (account, id)
);
CREATE UNIQUE INDEX users_user_name ON users (account, lower(user_name));

CREATE TABLE assignments (
    account    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    license    TEXT NOT NULL,
    source     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account, user_id, license, source),
    FOREIGN KEY (account, user_id) REFERENCES users(account, id) ON DELETE CASCADE
);

CREATE TABLE user_roles (
    account    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    service    TEXT NOT NULL,
    role       TEXT NOT NULL,
    source     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account, user_id, service, role, source),
    FOREIGN KEY (account, user_id) REFERENCES users(account, id) ON DELETE CASCADE
);

CREATE TABLE custom_roles (
    account     TEXT NOT NULL REFERENCES accounts(id),
    service     TEXT NOT NULL,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL,   -- JSON list
    licenses    TEXT NOT NULL,   -- JSON list
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (account, service, name)
);

-- The usage ledger (SPEC §1): append-only, never updated or deleted.
CREATE TABLE usage_events (
    id       {{identity}},
    account  TEXT NOT NULL,
    at       BIGINT NOT NULL,
    type     TEXT NOT NULL,
    user_id  TEXT NOT NULL DEFAULT '',
    license  TEXT NOT NULL DEFAULT '',
    kind     TEXT NOT NULL DEFAULT '',
    session  TEXT NOT NULL DEFAULT '',
    quantity BIGINT NOT NULL DEFAULT 0,
    source   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX usage_events_account_at ON usage_events (account, at);

CREATE TABLE audit (
    id          {{identity}},
    account     TEXT NOT NULL,
    at          BIGINT NOT NULL,
    token_id    TEXT NOT NULL,
    token_kind  TEXT NOT NULL,
    acting_user TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_account_at ON audit (account, at);
