-- Notifications: the users' preferences, the in-app notifications, and the outbox of e-mails
-- and webhooks delivered by `notifications.deliver`. Times are epoch ms (UTC).

-- E-mail me when an order completes, ends partial or canceled, or a refill finishes (1 = yes);
-- where to POST the same events as signed webhooks (HMAC-SHA256 with webhook_secret).
ALTER TABLE users ADD COLUMN email_notifications INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN webhook_url TEXT;
ALTER TABLE users ADD COLUMN webhook_secret TEXT;

-- One in-app notification per user and source (`event:<order_events.id>`, `alert:<alerts.id>`):
-- the unique pair makes collecting them idempotent.
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT  NOT NULL,
    source      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL DEFAULT '',
    order_id    BIGINT,
    created_at  BIGINT  NOT NULL,
    read_at     BIGINT,
    UNIQUE (user_id, source)
);
CREATE INDEX notifications_user ON notifications (user_id, id);

-- The outbox: one row per notification and channel. `payload` is the webhook body (JSON) or the
-- e-mail text; `next_at` is when it is due (a claim pushes it out by the lease); after the last
-- attempt a delivery is `failed` with its last error.
CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id  BIGINT  NOT NULL,
    user_id          BIGINT  NOT NULL,
    channel          TEXT    NOT NULL CHECK (channel IN ('email', 'webhook')),
    target           TEXT    NOT NULL,
    subject          TEXT    NOT NULL DEFAULT '',
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_at          BIGINT  NOT NULL,
    last_error       TEXT,
    created_at       BIGINT  NOT NULL,
    finished_at      BIGINT,
    UNIQUE (notification_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE status = 'pending';

-- How far `notifications.deliver` has read each source; history before this migration is not
-- notified.
CREATE TABLE notify_cursors (
    name     TEXT    PRIMARY KEY,
    last_id  BIGINT  NOT NULL
);
INSERT INTO notify_cursors (name, last_id) SELECT 'order_events', COALESCE(MAX(id), 0) FROM order_events;
INSERT INTO notify_cursors (name, last_id) SELECT 'alerts', COALESCE(MAX(id), 0) FROM alerts;
