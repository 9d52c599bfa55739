-- R9: a coverage license (QM, WFM under a concurrent Elite plan) has two
-- caps. seat_counters holds all its holders against the plan's quantity
-- plus the add-on's; addon_counters holds those without a plan that covers
-- it against the add-on's quantity alone. A row is made by the first
-- subscription change after it is needed, its used counted then from the
-- users (cap -1 marks a row a change made before that, whose used is not
-- yet counted: it caps nothing).
CREATE TABLE addon_counters (
    account TEXT NOT NULL REFERENCES accounts(id),
    license TEXT NOT NULL,
    used    BIGINT NOT NULL DEFAULT 0,
    cap     BIGINT NOT NULL DEFAULT 0,
    capped  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (account, license)
);
