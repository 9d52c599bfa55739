-- Presence starts and ends are read from presences (0007) now: the ledger
-- needs no index by session, and its index by license and type leaves them
-- out (most of the ledger), which makes every insert of one cheaper.
DROP INDEX usage_events_session;
DROP INDEX usage_events_license_type;
CREATE INDEX usage_events_license_type ON usage_events (account, license, type, at)
    WHERE type NOT IN ('presence.start', 'presence.end');
