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
-- A step of the ladder is an order event of kind 'stuck' (status = the step's name). SQLite
-- cannot change a CHECK constraint in place: the table is rebuilt with every row and id kept
-- (the feed's cursors and the notifier's point at ids), then its indexes.
CREATE TABLE order_events_next (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    BIGINT  NOT NULL,
    user_id     BIGINT  NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('placed', 'status', 'cancel_requested', 'refill', 'stuck')),
    status      TEXT    NOT NULL,
    amount      BIGINT,
    detail      TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL
);
INSERT INTO order_events_next (id, order_id, user_id, kind, status, amount, detail, created_at)
SELECT id, order_id, user_id, kind, status, amount, detail, created_at FROM order_events;
DROP TABLE order_events;
ALTER TABLE order_events_next RENAME TO order_events;
CREATE INDEX order_events_order ON order_events (order_id, id);
CREATE INDEX order_events_user ON order_events (user_id, id);
