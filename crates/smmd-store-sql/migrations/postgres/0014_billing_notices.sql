-- Billing's notices (issue 16, "Non-payment"): the events a renter hears about —
-- `rental.activated`, `rental.past_due`, `rental.suspended`, `rental.resumed`,
-- `rental.terminated` and `rental.runway_low` — written in the transaction of the change they
-- report (an outbox), then turned into in-app notifications, e-mails and signed webhooks by
-- `notifications.deliver` after its cursor `billing_notices`, like order events and alerts.
-- `tx` gives the commit order the notifier reads in (see 0011).
CREATE TABLE billing_notices (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users (id),
    kind          TEXT    NOT NULL,
    rental_id     BIGINT  REFERENCES rentals (id),
    runway_hours  BIGINT,
    threshold     BIGINT,
    detail        TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    tx            BIGINT  NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)
);
CREATE INDEX billing_notices_user ON billing_notices (user_id, id);
CREATE INDEX billing_notices_feed ON billing_notices (tx, id);
INSERT INTO notify_cursors (name, last_id) VALUES ('billing_notices', 0);
