-- Billing's notices (issue 16, "Non-payment"): the events a renter hears about —
-- `rental.activated`, `rental.past_due`, `rental.suspended`, `rental.resumed`,
-- `rental.terminated` and `rental.runway_low` — written in the transaction of the change they
-- report (an outbox), then turned into in-app notifications, e-mails and signed webhooks by
-- `notifications.deliver` after its cursor `billing_notices`, like order events and alerts.
CREATE TABLE billing_notices (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       BIGINT  NOT NULL REFERENCES users (id),
    kind          TEXT    NOT NULL,
    rental_id     BIGINT  REFERENCES rentals (id),
    -- The runway in whole hours when it was checked (`rental.runway_low`), the threshold it
    -- fell below.
    runway_hours  BIGINT,
    threshold     BIGINT,
    detail        TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL
);
CREATE INDEX billing_notices_user ON billing_notices (user_id, id);
INSERT INTO notify_cursors (name, last_id) VALUES ('billing_notices', 0);
