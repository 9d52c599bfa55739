-- A session in a pool lives no longer than its subscription's term: a
-- heartbeat extends it to until_at at most, and the reaper ends it there.
-- Subscription changes move it (sqlstore PutSubscription); no end is the
-- largest BIGINT. Not indexed: a heartbeat stays a HOT update.
ALTER TABLE sessions ADD COLUMN until_at BIGINT NOT NULL DEFAULT 9223372036854775807;
UPDATE sessions SET until_at = (SELECT s.ends_at FROM subscriptions s WHERE s.account = sessions.account AND s.license = sessions.pool)
    WHERE ended_at IS NULL AND pool <> '' AND EXISTS (
        SELECT 1 FROM subscriptions s WHERE s.account = sessions.account AND s.license = sessions.pool AND s.ends_at IS NOT NULL);
