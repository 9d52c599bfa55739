-- Heartbeats read a pool's term from its subscription (sqlstore runBeats)
-- rather than from a copy kept on each session, which a sign-in racing a
-- change of the term could keep stale: 0013's column goes.
ALTER TABLE sessions DROP COLUMN until_at;
