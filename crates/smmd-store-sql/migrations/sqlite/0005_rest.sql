-- The REST API and database maintenance: public order references, idempotent placement,
-- the admin audit log, and archive tables for old terminal orders and their refills.
-- Money: BIGINT micro-units. Times: BIGINT epoch ms (UTC).

-- The public reference of an order (12 lower-case hex characters) shown by the REST API and the
-- pages instead of the sequential id.
ALTER TABLE orders ADD COLUMN reference TEXT;
UPDATE orders SET reference = lower(hex(randomblob(6)));
CREATE UNIQUE INDEX orders_reference ON orders (reference);

-- `Idempotency-Key` of the REST request that placed the order: a retry with the same key finds
-- this order instead of placing a second one (unique per user, enforced by the database).
ALTER TABLE orders ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX orders_request_key ON orders (user_id, request_key) WHERE request_key IS NOT NULL;
-- Admin order lists filter by these.
CREATE INDEX orders_service ON orders (service_id, id);
CREATE INDEX refills_order ON refills (order_id, id);

-- Admin actions outside the scheduler (which keeps schedule_audit): who did what to which subject.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id    BIGINT,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL
);

-- Terminal orders past their guarantee and the archive age move here (maintenance.cleanup);
-- every order read falls back to it. Same columns as `orders`, no defaults: rows are copied.
CREATE TABLE orders_archive (
    id                 BIGINT  PRIMARY KEY,
    user_id            BIGINT  NOT NULL,
    service_id         BIGINT  NOT NULL,
    status             TEXT    NOT NULL,
    link               TEXT,
    link_key           TEXT,
    quantity           BIGINT  NOT NULL,
    runs               BIGINT,
    interval_minutes   BIGINT,
    total_quantity     BIGINT  NOT NULL,
    charge             BIGINT  NOT NULL,
    refunded           BIGINT  NOT NULL,
    start_count        BIGINT,
    remains            BIGINT,
    extras             TEXT    NOT NULL,
    guarantee_days     BIGINT  NOT NULL,
    refill             BIGINT  NOT NULL,
    cancel             BIGINT  NOT NULL,
    cancel_requested   BIGINT  NOT NULL,
    provider_id        BIGINT,
    provider_order_id  TEXT,
    provider_charge    BIGINT,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    completed_at       BIGINT,
    provider_service_id TEXT,
    offer_index        BIGINT  NOT NULL,
    checked_at         BIGINT,
    cancel_sent_at     BIGINT,
    note               TEXT,
    reference          TEXT    NOT NULL,
    request_key        TEXT
);
CREATE INDEX orders_archive_user ON orders_archive (user_id, id);
CREATE INDEX orders_archive_service ON orders_archive (service_id, id);
CREATE INDEX orders_archive_status ON orders_archive (status, id);
CREATE UNIQUE INDEX orders_archive_reference ON orders_archive (reference);

CREATE TABLE refills_archive (
    id                  BIGINT  PRIMARY KEY,
    order_id            BIGINT  NOT NULL,
    user_id             BIGINT  NOT NULL,
    status              TEXT    NOT NULL,
    provider_refill_id  TEXT,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL,
    submitted_at        BIGINT,
    checked_at          BIGINT,
    note                TEXT
);
CREATE INDEX refills_archive_user ON refills_archive (user_id, id);
CREATE INDEX refills_archive_order ON refills_archive (order_id);
