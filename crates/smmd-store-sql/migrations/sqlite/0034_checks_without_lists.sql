-- SQLite checks `x IN (a, b, c, …)` of more than two constants through a temporary b-tree it
-- builds on every execution of the statement (a page cache, a zeroed page, the list's values
-- inserted, all dropped again): each order's inserts built three, for `orders.status`,
-- `ledger.kind` and `order_events.kind` (found by a profile of `smmd-bench inserts`). The same
-- rules written as comparisons joined by OR cost nothing.
--
-- A CHECK constraint does not touch the stored rows, so this is SQLite's documented procedure
-- for such changes (https://sqlite.org/lang_altertable.html#otheralter): the tables' SQL is
-- rewritten in `sqlite_schema` and the schema reloaded, with no copy of the tables. The old and
-- the new rule accept exactly the same values; a text that does not match is left as it was.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (status IN (''queued'', ''submitting'', ''needs_review'', ''processing'',
                                                          ''in_progress'', ''completed'', ''partial'', ''canceled''))',
    'CHECK (status = ''queued'' OR status = ''submitting'' OR status = ''needs_review'' OR status = ''processing'' OR status = ''in_progress'' OR status = ''completed'' OR status = ''partial'' OR status = ''canceled'')')
WHERE type = 'table' AND name = 'orders';
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (kind IN (''deposit'', ''adjustment'', ''charge'', ''refund'', ''rent'', ''rent_credit'', ''affiliate_transfer''))',
    'CHECK (kind = ''deposit'' OR kind = ''adjustment'' OR kind = ''charge'' OR kind = ''refund'' OR kind = ''rent'' OR kind = ''rent_credit'' OR kind = ''affiliate_transfer'')')
WHERE type = 'table' AND name = 'ledger';
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (kind IN (''placed'', ''status'', ''cancel_requested'', ''refill'', ''stuck''))',
    'CHECK (kind = ''placed'' OR kind = ''status'' OR kind = ''cancel_requested'' OR kind = ''refill'' OR kind = ''stuck'')')
WHERE type = 'table' AND name = 'order_events';
PRAGMA writable_schema = RESET;
