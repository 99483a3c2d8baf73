-- Providers in motion: credentials and limits, provider offers per service, the service change
-- log, dispatch and sync bookkeeping on orders and refills, provider balances and admin alerts.
-- Money: BIGINT micro-units. Times: BIGINT epoch ms. Rates: exchange_rate in micro-units of the
-- panel currency per one unit of the provider currency (1.0 = 1000000).

ALTER TABLE providers ADD COLUMN api_key_enc TEXT NOT NULL DEFAULT '';
ALTER TABLE providers ADD COLUMN exchange_rate BIGINT NOT NULL DEFAULT 1000000 CHECK (exchange_rate > 0);
ALTER TABLE providers ADD COLUMN timeout_ms BIGINT NOT NULL DEFAULT 30000;
ALTER TABLE providers ADD COLUMN max_concurrency BIGINT NOT NULL DEFAULT 8;
ALTER TABLE providers ADD COLUMN rate_per_sec BIGINT;
ALTER TABLE providers ADD COLUMN balance BIGINT;
ALTER TABLE providers ADD COLUMN balance_checked_at BIGINT;
ALTER TABLE providers ADD COLUMN balance_alert_below BIGINT;
ALTER TABLE providers ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

-- Admin-set fields of a service that services.sync never overwrites (comma list: name,rate,min,max,enabled).
ALTER TABLE services ADD COLUMN overrides TEXT NOT NULL DEFAULT '';
-- Request refills without a user when a drop is detected inside the guarantee (refills.auto).
ALTER TABLE services ADD COLUMN auto_refill BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX services_upstream ON services (provider_id, provider_service_id)
    WHERE provider_id IS NOT NULL AND provider_service_id IS NOT NULL;

-- Fallback offers: tried in position order after the service's own provider refused an order.
CREATE TABLE service_offers (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id           BIGINT  NOT NULL REFERENCES services (id),
    position             BIGINT  NOT NULL CHECK (position >= 1),
    provider_id          BIGINT  NOT NULL REFERENCES providers (id),
    provider_service_id  TEXT    NOT NULL,
    UNIQUE (service_id, position)
);

CREATE TABLE service_changes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id   BIGINT  NOT NULL REFERENCES services (id),
    field        TEXT    NOT NULL,
    old_value    TEXT,
    new_value    TEXT,
    source       TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX service_changes_service ON service_changes (service_id, id);

ALTER TABLE orders ADD COLUMN provider_service_id TEXT;
ALTER TABLE orders ADD COLUMN offer_index BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN checked_at BIGINT;
ALTER TABLE orders ADD COLUMN cancel_sent_at BIGINT;
ALTER TABLE orders ADD COLUMN note TEXT;
-- Status sync reads the active orders of one provider, oldest-checked first.
CREATE INDEX orders_sync ON orders (provider_id, checked_at, id)
    WHERE status IN ('processing', 'in_progress');
CREATE INDEX orders_dispatch ON orders (id) WHERE status = 'queued';

ALTER TABLE refills ADD COLUMN submitted_at BIGINT;
ALTER TABLE refills ADD COLUMN checked_at BIGINT;
ALTER TABLE refills ADD COLUMN note TEXT;
CREATE INDEX refills_active ON refills (status, id) WHERE status IN ('pending', 'in_progress');

CREATE TABLE provider_balances (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id  BIGINT  NOT NULL REFERENCES providers (id),
    balance      BIGINT  NOT NULL,
    currency     TEXT    NOT NULL,
    checked_at   BIGINT  NOT NULL
);
CREATE INDEX provider_balances_provider ON provider_balances (provider_id, id);

-- Admin alerts: at most one open alert per (kind, subject); raising it again refreshes it.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    resolved_at  BIGINT
);
CREATE UNIQUE INDEX alerts_open ON alerts (kind, subject) WHERE resolved_at IS NULL;
