-- The admin's view of customers (issue 18): notes about an account (admins only) and custom
-- rates. Times are epoch ms; money micro-units of the panel currency.

CREATE TABLE user_notes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    author_id   BIGINT,
    author      TEXT   NOT NULL,
    body        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX user_notes_user ON user_notes (user_id, id);

-- A customer's custom rate: for one service, or every service (service_id 0). Exactly one of
-- discount_bp (basis points off the list rate) and fixed_rate (per 1000; one service only).
CREATE TABLE custom_rates (
    user_id      BIGINT NOT NULL REFERENCES users (id),
    service_id   BIGINT NOT NULL,
    discount_bp  BIGINT,
    fixed_rate   BIGINT,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, service_id),
    CHECK ((discount_bp IS NULL) <> (fixed_rate IS NULL)),
    CHECK (fixed_rate IS NULL OR service_id <> 0)
);
