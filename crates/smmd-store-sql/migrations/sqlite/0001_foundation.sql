-- smmd foundation schema (SQLite). Money: BIGINT micro-units. Times: BIGINT epoch ms (UTC).
-- Flags: BIGINT 0/1 (portable with PostgreSQL through one code path).

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT    NOT NULL,
    email_lower    TEXT    NOT NULL UNIQUE,
    password_hash  TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
    api_key_hash   TEXT    UNIQUE,
    balance        BIGINT  NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at     BIGINT  NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT   PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE ledger (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        BIGINT  NOT NULL REFERENCES users (id),
    amount         BIGINT  NOT NULL CHECK (amount <> 0),
    balance_after  BIGINT  NOT NULL CHECK (balance_after >= 0),
    idem_key       TEXT    NOT NULL UNIQUE,
    kind           TEXT    NOT NULL CHECK (kind IN ('deposit', 'adjustment', 'charge', 'refund')),
    reason         TEXT    NOT NULL DEFAULT '',
    order_id       BIGINT,
    actor_id       BIGINT,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX ledger_user ON ledger (user_id, id);
CREATE INDEX ledger_order ON ledger (order_id) WHERE order_id IS NOT NULL;
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;

CREATE TABLE providers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    url         TEXT    NOT NULL,
    currency    TEXT    NOT NULL DEFAULT 'USD',
    enabled     BIGINT  NOT NULL DEFAULT 1,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE categories (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    sort       BIGINT  NOT NULL DEFAULT 0,
    markup_bp  BIGINT
);

CREATE TABLE services (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    category_id          BIGINT  NOT NULL REFERENCES categories (id),
    name                 TEXT    NOT NULL,
    service_type         TEXT    NOT NULL,
    rate                 BIGINT  NOT NULL CHECK (rate >= 0),
    min_qty              BIGINT  NOT NULL CHECK (min_qty >= 0),
    max_qty              BIGINT  NOT NULL,
    refill               BIGINT  NOT NULL DEFAULT 0,
    guarantee_days       BIGINT  NOT NULL DEFAULT 0 CHECK (guarantee_days >= 0),
    cancel               BIGINT  NOT NULL DEFAULT 0,
    dripfeed             BIGINT  NOT NULL DEFAULT 0,
    link_rule            BIGINT  NOT NULL DEFAULT 1,
    description          TEXT    NOT NULL DEFAULT '',
    enabled              BIGINT  NOT NULL DEFAULT 1,
    markup_bp            BIGINT,
    provider_id          BIGINT  REFERENCES providers (id),
    provider_service_id  TEXT,
    provider_rate        BIGINT,
    provider_currency    TEXT,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    CHECK (max_qty >= min_qty)
);
CREATE INDEX services_category ON services (category_id, id);

CREATE TABLE orders (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            BIGINT  NOT NULL REFERENCES users (id),
    service_id         BIGINT  NOT NULL REFERENCES services (id),
    status             TEXT    NOT NULL CHECK (status IN ('queued', 'submitting', 'needs_review', 'processing',
                                                          'in_progress', 'completed', 'partial', 'canceled')),
    link               TEXT,
    -- = link when the service enforces one active order per link, else NULL (see orders_active_link).
    link_key           TEXT,
    quantity           BIGINT  NOT NULL,
    runs               BIGINT,
    interval_minutes   BIGINT,
    total_quantity     BIGINT  NOT NULL,
    charge             BIGINT  NOT NULL CHECK (charge >= 0),
    refunded           BIGINT  NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= charge),
    start_count        BIGINT,
    remains            BIGINT,
    extras             TEXT    NOT NULL DEFAULT '{}',
    guarantee_days     BIGINT  NOT NULL DEFAULT 0,
    refill             BIGINT  NOT NULL DEFAULT 0,
    cancel             BIGINT  NOT NULL DEFAULT 0,
    cancel_requested   BIGINT  NOT NULL DEFAULT 0,
    provider_id        BIGINT,
    provider_order_id  TEXT,
    provider_charge    BIGINT,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    completed_at       BIGINT
);
CREATE INDEX orders_user ON orders (user_id, id);
CREATE INDEX orders_status ON orders (status, id);
-- "You have active order with this link": at most one active order per (user, service, link)
-- for services with the rule, enforced by the database across every instance.
CREATE UNIQUE INDEX orders_active_link ON orders (user_id, service_id, link_key)
    WHERE status IN ('queued', 'submitting', 'needs_review', 'processing', 'in_progress');

CREATE TABLE refills (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id            BIGINT  NOT NULL REFERENCES orders (id),
    user_id             BIGINT  NOT NULL REFERENCES users (id),
    status              TEXT    NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'rejected')),
    provider_refill_id  TEXT,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE INDEX refills_user ON refills (user_id, id);
CREATE UNIQUE INDEX refills_one_active ON refills (order_id) WHERE status IN ('pending', 'in_progress');
