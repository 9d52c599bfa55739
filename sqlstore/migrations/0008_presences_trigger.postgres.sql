-- Keeps presences (0007) as the ledger grows: PostgreSQL.
CREATE FUNCTION seatkeeper_presences() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k BIGINT;
BEGIN
    SELECT key INTO k FROM user_keys WHERE account = NEW.account AND user_id = NEW.user_id;
    IF k IS NULL THEN
        INSERT INTO user_keys (account, user_id) VALUES (NEW.account, NEW.user_id) ON CONFLICT DO NOTHING;
        SELECT key INTO k FROM user_keys WHERE account = NEW.account AND user_id = NEW.user_id;
    END IF;
    INSERT INTO presences AS p (account, license, session, user_key, started_at, ended_at)
    VALUES (NEW.account, NEW.license, NEW.session, k,
            CASE WHEN NEW.type = 'presence.start' THEN NEW.at END,
            CASE WHEN NEW.type = 'presence.end' THEN NEW.at END)
    ON CONFLICT (account, license, session) DO UPDATE SET
        started_at = LEAST(p.started_at, EXCLUDED.started_at),     -- LEAST and GREATEST skip NULLs
        ended_at = GREATEST(p.ended_at, EXCLUDED.ended_at);
    RETURN NULL;
END
$$;
CREATE TRIGGER usage_events_presences AFTER INSERT ON usage_events FOR EACH ROW
    WHEN (NEW.type IN ('presence.start', 'presence.end') AND NEW.source <> 'import') -- imports update presences a batch at a time
    EXECUTE FUNCTION seatkeeper_presences();
