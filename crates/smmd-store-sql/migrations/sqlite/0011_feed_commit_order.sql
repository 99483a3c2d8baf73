-- The live feed in commit order (issue 15): on PostgreSQL feed rows gain the id of the
-- transaction that wrote them. SQLite commits one writer at a time, so its row ids already are
-- commit order and the feed reads them as they are (tx is 0 for every row); nothing changes.
SELECT 1;
