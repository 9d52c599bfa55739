-- Presence (SPEC §4.4): sessions, the distinct signed-in users of each
-- concurrent pool, and idempotent session creation.
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    account     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,             -- work_session | portal | api
    pool        TEXT NOT NULL DEFAULT '',  -- the concurrent plan it counts in, '' for none
    started_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,           -- the last heartbeat
    expires_at  BIGINT NOT NULL,           -- last heartbeat + timeout (R6)
    timeout     BIGINT NOT NULL,           -- microseconds each heartbeat extends it by
    ended_at    BIGINT,
    end_reason  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_live_user ON sessions (account, user_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_live_expiry ON sessions (expires_at) WHERE ended_at IS NULL;
CREATE INDEX sessions_live_pool ON sessions (account, pool, expires_at) WHERE ended_at IS NULL;

-- One row per pool: how many distinct users are signed in (R5) and the cap
-- Q + A (R4). Sign-ins take a place with a guarded UPDATE on this row.
CREATE TABLE pools (
    account  TEXT NOT NULL,
    license  TEXT NOT NULL,
    in_use   BIGINT NOT NULL DEFAULT 0,
    cap      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account, license)
);

-- The users signed in to a pool, with how many live presences each has.
CREATE TABLE pool_users (
    account   TEXT NOT NULL,
    license   TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    presences BIGINT NOT NULL,
    PRIMARY KEY (account, license, user_id)
);

CREATE TABLE idempotency (
    account    TEXT NOT NULL,
    key        TEXT NOT NULL,
    request    TEXT NOT NULL,   -- hash of what was asked
    status     BIGINT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account, key)
);
