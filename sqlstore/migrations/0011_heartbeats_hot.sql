-- A heartbeat moves expires_at. While an index holds it, every heartbeat
-- writes the row's every index again (and on PostgreSQL no such update is
-- a HOT update). So the reaper finds sessions by reap_at instead: at most
-- expires_at, set to it at sign-in, and moved up to it by the reaper when a
-- session it finds due has been extended since — once a timeout or so
-- rather than once a heartbeat.
ALTER TABLE sessions ADD COLUMN reap_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET reap_at = expires_at;
DROP INDEX sessions_live_expiry;
DROP INDEX sessions_live_pool;
CREATE INDEX sessions_live_reap ON sessions (reap_at) WHERE ended_at IS NULL;
CREATE INDEX sessions_live_pool ON sessions (account, pool, reap_at) WHERE ended_at IS NULL;
-- Room in each page for a heartbeat's new row version beside the old.
--postgres: ALTER TABLE sessions SET (fillfactor = 70);
