-- Display currencies (issue 18): reference exchange rates against the euro and each user's
-- display currency. Rates are units of the currency per one euro in micro-units (the ECB's
-- quotes: 1.0824 USD per EUR = 1082400). `per_eur` is the rate in use: the feed's, or the
-- one an admin pinned (the feed then keeps `feed_per_eur` current but does not replace it).
-- The ledger and every charge stay in the panel currency.
CREATE TABLE currency_rates (
    currency TEXT PRIMARY KEY,
    per_eur BIGINT NOT NULL CHECK (per_eur > 0),
    pinned INTEGER NOT NULL DEFAULT 0,
    -- The feed's last rate and its date (`2026-12-02`); NULL for a currency only pinned.
    feed_per_eur BIGINT,
    feed_date TEXT,
    updated_at BIGINT NOT NULL
);

-- The currency a user sees amounts in besides the panel's; NULL: the panel's only.
ALTER TABLE users ADD COLUMN display_currency TEXT;
