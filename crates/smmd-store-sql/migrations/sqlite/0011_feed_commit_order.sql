-- The live feed in commit order (issue 15): on PostgreSQL feed rows gain the id of the
-- transaction that wrote them. SQLite commits one writer at a time, so its row ids already are
-- commit order and the feed reads them as they are (tx is 0 for every row). The notifier's
-- cursors get the same (last_tx, last_id) shape on both backends; here last_tx stays 0.
ALTER TABLE notify_cursors ADD COLUMN last_tx BIGINT NOT NULL DEFAULT 0;
