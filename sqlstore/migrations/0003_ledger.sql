-- Closed months (billing) refuse imports; sessions are joined by id.
CREATE TABLE closed_months (
    account   TEXT NOT NULL,
    month     TEXT NOT NULL,   -- YYYY-MM in the account's time zone
    closed_at BIGINT NOT NULL,
    PRIMARY KEY (account, month)
);
CREATE INDEX usage_events_session ON usage_events (account, session);
CREATE INDEX usage_events_license_type ON usage_events (account, license, type, at);
