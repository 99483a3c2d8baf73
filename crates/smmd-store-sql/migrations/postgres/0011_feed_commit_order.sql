-- The live feed in commit order (issue 15). Two PostgreSQL transactions can commit out of id
-- order, so a feed that follows ids skips a row committed behind its cursor. Each feed row now
-- carries the id of the transaction that wrote it (`tx`, pg_current_xact_id() as a bigint), and
-- a feed read takes rows in (tx, id) order, only of transactions older than every transaction
-- still in flight (pg_snapshot_xmin of the current snapshot): once read past, no row can appear
-- behind the cursor. Rows written before this migration keep tx = 0 (all of them committed).
ALTER TABLE order_events ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE order_events ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX order_events_feed ON order_events (tx, id);
CREATE INDEX order_events_user_feed ON order_events (user_id, tx, id);

ALTER TABLE ledger ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ledger ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX ledger_feed ON ledger (tx, id);
CREATE INDEX ledger_user_feed ON ledger (user_id, tx, id);

ALTER TABLE notifications ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX notifications_feed ON notifications (tx, id);
CREATE INDEX notifications_user_feed ON notifications (user_id, tx, id);

ALTER TABLE alerts ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alerts ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX alerts_feed ON alerts (tx, id);

-- The notifier's cursors (notifications.deliver reads order_events and alerts after them) move
-- in the same order: a position is (last_tx, last_id).
ALTER TABLE notify_cursors ADD COLUMN last_tx BIGINT NOT NULL DEFAULT 0;
