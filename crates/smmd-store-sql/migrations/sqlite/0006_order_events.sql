-- What happened to each order and when, written in the same transaction as the change itself:
-- the order's timeline (REST, pages), and the feed notifications and live updates read.
-- kind: placed | status | cancel_requested | refill. `status` is the order's new status (the
-- refill's for `refill`); `amount` the wallet effect in micro-units (-charge when placed, the
-- refund a change paid); times are epoch ms. Rows are never updated; archived orders keep theirs.
CREATE TABLE order_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    BIGINT  NOT NULL,
    user_id     BIGINT  NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('placed', 'status', 'cancel_requested', 'refill')),
    status      TEXT    NOT NULL,
    amount      BIGINT,
    detail      TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);
CREATE INDEX order_events_user ON order_events (user_id, id);

-- Orders placed before this migration: their placement and, if they ended, their outcome.
INSERT INTO order_events (order_id, user_id, kind, status, amount, detail, created_at)
SELECT id, user_id, 'placed', 'queued', -charge, '', created_at FROM orders;
INSERT INTO order_events (order_id, user_id, kind, status, amount, detail, created_at)
SELECT id, user_id, 'placed', 'queued', -charge, '', created_at FROM orders_archive;
INSERT INTO order_events (order_id, user_id, kind, status, amount, detail, created_at)
SELECT id, user_id, 'status', status, NULLIF(refunded, 0), COALESCE(note, ''), completed_at FROM orders
WHERE completed_at IS NOT NULL AND status IN ('completed', 'partial', 'canceled');
INSERT INTO order_events (order_id, user_id, kind, status, amount, detail, created_at)
SELECT id, user_id, 'status', status, NULLIF(refunded, 0), COALESCE(note, ''), completed_at FROM orders_archive
WHERE completed_at IS NOT NULL AND status IN ('completed', 'partial', 'canceled');
