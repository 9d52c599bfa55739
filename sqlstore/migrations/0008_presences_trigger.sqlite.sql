-- Keeps presences (0007) as the ledger grows: SQLite.
CREATE TRIGGER usage_events_presences AFTER INSERT ON usage_events
WHEN NEW.type IN ('presence.start', 'presence.end') AND NEW.source <> 'import' -- imports update presences a batch at a time
BEGIN
    INSERT INTO user_keys (account, user_id) VALUES (NEW.account, NEW.user_id) ON CONFLICT DO NOTHING;
    INSERT INTO presences (account, license, session, user_key, started_at, ended_at)
    VALUES (NEW.account, NEW.license, NEW.session,
            (SELECT key FROM user_keys WHERE account = NEW.account AND user_id = NEW.user_id),
            CASE WHEN NEW.type = 'presence.start' THEN NEW.at END,
            CASE WHEN NEW.type = 'presence.end' THEN NEW.at END)
    ON CONFLICT (account, license, session) DO UPDATE SET
        started_at = coalesce(min(presences.started_at, excluded.started_at), presences.started_at, excluded.started_at),
        ended_at = coalesce(max(presences.ended_at, excluded.ended_at), presences.ended_at, excluded.ended_at);
END;
