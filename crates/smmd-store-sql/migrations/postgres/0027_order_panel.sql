-- The hosted child panel whose dedicated /api/v2 key placed an order (issue 19): the root
-- admin's orders and revenue per panel count these, not every order of the renter's account.
ALTER TABLE orders ADD COLUMN panel_id BIGINT;
CREATE INDEX orders_panel ON orders (panel_id) WHERE panel_id IS NOT NULL;
