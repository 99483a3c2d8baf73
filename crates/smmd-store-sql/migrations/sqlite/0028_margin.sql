-- The margin guard (issue 20). A service's and a category's minimum margin over the live cost
-- (basis points; NULL = the next level), and what a service does when its cost breaches it.
ALTER TABLE services ADD COLUMN min_margin_bp BIGINT;
ALTER TABLE services ADD COLUMN margin_action TEXT NOT NULL DEFAULT 'hold';
ALTER TABLE categories ADD COLUMN min_margin_bp BIGINT;
-- An order held unsent because its charge is below cost plus margin ('margin'), or released by
-- the owner to be sent whatever the margin ('released'); NULL for every other order.
ALTER TABLE orders ADD COLUMN hold TEXT;
ALTER TABLE orders_archive ADD COLUMN hold TEXT;
CREATE INDEX orders_held ON orders (service_id) WHERE hold = 'margin';
-- The live cost of every upstream service a provider answers, per 1000 in its currency
-- (micro-units), as the last services call read it: what dispatch guards against.
CREATE TABLE provider_costs (
    provider_id         BIGINT NOT NULL,
    provider_service_id TEXT   NOT NULL,
    rate                BIGINT NOT NULL,
    changed_at          BIGINT NOT NULL,
    PRIMARY KEY (provider_id, provider_service_id)
);
-- When each provider's costs were last read (a services call), so dispatch knows their age.
CREATE TABLE provider_costs_read (
    provider_id BIGINT PRIMARY KEY,
    read_at     BIGINT NOT NULL
);
