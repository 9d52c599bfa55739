-- The overage allowance of a subscription over time: the license usage
-- report shows each interval's allowance as it was then, as it shows the
-- quantity from the ledger's subscription changes. A change applies from
-- the moment it is made; -9223372036854775808 is "from the start".
CREATE TABLE subscription_allowances (
    account   TEXT NOT NULL,
    license   TEXT NOT NULL,
    at        BIGINT NOT NULL,
    allowance BIGINT NOT NULL,
    PRIMARY KEY (account, license, at)
);
INSERT INTO subscription_allowances (account, license, at, allowance)
    SELECT account, license, -9223372036854775808, overage_allowance FROM subscriptions;
