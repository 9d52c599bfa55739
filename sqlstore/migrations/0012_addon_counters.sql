-- R9: a coverage license (QM, WFM under a concurrent Elite plan) has two
-- caps. seat_counters holds all its holders against the plan's quantity
-- plus the add-on's; addon_counters holds those who hold it with a plan
-- that does not cover it, against the add-on's quantity alone.
-- A row whose cap is -1 has not been counted yet and caps nothing: the
-- next subscription change of its account counts it from the users
-- (sqlstore recomputeAddonCap). Every license with seats gets its row now,
-- so that every change of one, a free too, finds the row and waits for
-- that count.
CREATE TABLE addon_counters (
    account TEXT NOT NULL REFERENCES accounts(id),
    license TEXT NOT NULL,
    used    BIGINT NOT NULL DEFAULT 0,
    cap     BIGINT NOT NULL DEFAULT 0,
    capped  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (account, license)
);
INSERT INTO addon_counters (account, license, used, cap, capped)
    SELECT account, license, 0, -1, FALSE FROM seat_counters;
