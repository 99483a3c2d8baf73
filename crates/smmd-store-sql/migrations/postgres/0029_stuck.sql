-- The stuck-order ladder (issue 20). A service's and a category's own "stuck after" (percent of
-- the average completion time) and floor (minutes); NULL = the next level's.
ALTER TABLE services ADD COLUMN stuck_after_pct BIGINT;
ALTER TABLE services ADD COLUMN stuck_floor_minutes BIGINT;
ALTER TABLE categories ADD COLUMN stuck_after_pct BIGINT;
ALTER TABLE categories ADD COLUMN stuck_floor_minutes BIGINT;
-- Each step an order took, once: the primary key is what makes a step happen at most once.
-- `detail` is the step's outcome (empty while the step is under way).
CREATE TABLE order_stuck_steps (
    order_id    BIGINT NOT NULL,
    step        BIGINT NOT NULL,
    provider_id BIGINT,
    taken_at    BIGINT NOT NULL,
    detail      TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (order_id, step)
);
CREATE INDEX order_stuck_steps_taken ON order_stuck_steps (taken_at);
-- A step of the ladder is an order event of kind 'stuck' (status = the step's name).
ALTER TABLE order_events DROP CONSTRAINT order_events_kind_check;
ALTER TABLE order_events ADD CONSTRAINT order_events_kind_check
    CHECK (kind IN ('placed', 'status', 'cancel_requested', 'refill', 'stuck'));
