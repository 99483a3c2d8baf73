-- The (month, plan) line of each rental's last written hour (issue 16, the hourly run's
-- set-based path): `line_k` hours charged in it so far, its P (`line_price`, micro-units) and D
-- (`line_divisor`). With it the hourly run continues a line without counting its rows; the
-- engine writes it with every hour. NULL until the engine writes an hour (rentals from before
-- this migration take the engine's path once). `line_k = 0` (only waived hours so far) means
-- the line takes the plan's price as it is then, as the engine does.
ALTER TABLE rentals ADD COLUMN line_month BIGINT;
ALTER TABLE rentals ADD COLUMN line_plan_id BIGINT;
ALTER TABLE rentals ADD COLUMN line_k BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rentals ADD COLUMN line_price BIGINT;
ALTER TABLE rentals ADD COLUMN line_divisor BIGINT;
