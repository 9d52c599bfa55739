-- The prices of a subscription over time: a statement bills each service
-- month at the prices in force when it began, so that a price change
-- applies from then on and never re-prices an earlier period.
CREATE TABLE subscription_prices (
    account       TEXT NOT NULL,
    license       TEXT NOT NULL,
    at            BIGINT NOT NULL,
    unit_price    BIGINT NOT NULL,
    overage_price BIGINT NOT NULL,
    PRIMARY KEY (account, license, at)
);
INSERT INTO subscription_prices (account, license, at, unit_price, overage_price)
    SELECT account, license, starts_at, unit_price, overage_price FROM subscriptions;
