-- Presences: one row per presence of the ledger (its first start and last
-- end), kept up to date by every write of ledger rows (sqlstore/presences.go), so that metering reads
-- one narrow row of integers per presence instead of pairing events.
-- Users are numbered per account (user_keys) for the same reason.
CREATE TABLE user_keys (
    key     {{identity}},
    account TEXT NOT NULL,
    user_id TEXT NOT NULL,
    UNIQUE (account, user_id)
);
CREATE TABLE presences (
    account    TEXT NOT NULL,
    license    TEXT NOT NULL,
    session    TEXT NOT NULL,
    user_key   BIGINT NOT NULL,
    started_at BIGINT,            -- NULL: an end whose start is not (yet) in the ledger
    ended_at   BIGINT,            -- NULL: still open
    PRIMARY KEY (account, license, session)
);
-- By start (a period's presences); the open ones; the long ones (over a
-- day), which a period may find started long before it.
CREATE INDEX presences_start ON presences (account, license, started_at, ended_at, user_key);
CREATE INDEX presences_open ON presences (account, license, started_at, user_key) WHERE ended_at IS NULL;
CREATE INDEX presences_long ON presences (account, license, started_at, ended_at, user_key) WHERE ended_at - started_at > 86400000000;

INSERT INTO user_keys (account, user_id)
    SELECT DISTINCT account, user_id FROM usage_events WHERE type IN ('presence.start', 'presence.end');
INSERT INTO presences (account, license, session, user_key, started_at, ended_at)
    SELECT e.account, e.license, e.session, min(k.key),
           min(CASE WHEN e.type = 'presence.start' THEN e.at END), max(CASE WHEN e.type = 'presence.end' THEN e.at END)
    FROM usage_events e JOIN user_keys k ON k.account = e.account AND k.user_id = e.user_id
    WHERE e.type IN ('presence.start', 'presence.end')
    GROUP BY e.account, e.license, e.session;
