-- A closed month keeps what it froze: the usage billed (canonical JSON),
-- its SHA-256, and the terms it was computed under (time zone and the
-- subscriptions then), so that it can be recomputed from the ledger alone.
ALTER TABLE closed_months ADD COLUMN usage TEXT NOT NULL DEFAULT '';
ALTER TABLE closed_months ADD COLUMN terms TEXT NOT NULL DEFAULT '';
ALTER TABLE closed_months ADD COLUMN digest TEXT NOT NULL DEFAULT '';
ALTER TABLE closed_months ADD COLUMN ends_at BIGINT NOT NULL DEFAULT 0; -- the instant the month ended
