-- Hourly billing of rentals (issue 16, docs/billing.md): settings, pauses, plans, rentals with
-- their event log, one row per billed hour, runway alarms; the ledger gains the kinds `rent`
-- and `rent_credit`. SQLite cannot alter a CHECK, so the ledger is rebuilt (same rows, same
-- ids, the append-only triggers again).
CREATE TABLE ledger_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        BIGINT  NOT NULL REFERENCES users (id),
    amount         BIGINT  NOT NULL CHECK (amount <> 0),
    balance_after  BIGINT  NOT NULL CHECK (balance_after >= 0),
    idem_key       TEXT    NOT NULL UNIQUE,
    kind           TEXT    NOT NULL CHECK (kind IN ('deposit', 'adjustment', 'charge', 'refund', 'rent', 'rent_credit')),
    reason         TEXT    NOT NULL DEFAULT '',
    order_id       BIGINT,
    actor_id       BIGINT,
    created_at     BIGINT  NOT NULL
);
INSERT INTO ledger_new (id, user_id, amount, balance_after, idem_key, kind, reason, order_id, actor_id, created_at)
SELECT id, user_id, amount, balance_after, idem_key, kind, reason, order_id, actor_id, created_at FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_new RENAME TO ledger;
CREATE INDEX ledger_user ON ledger (user_id, id);
CREATE INDEX ledger_order ON ledger (order_id) WHERE order_id IS NOT NULL;
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;

-- The billing settings: one row. Billing starts disabled on a new panel (nothing can be rented
-- until the owner enables it, so enabling it later never bills a backlog). `watermark` is the
-- hour (epoch ms, exclusive) up to which the last `billing.rentals` run reconciled every rental.
CREATE TABLE billing_settings (
    id                    BIGINT  PRIMARY KEY CHECK (id = 1),
    enabled               BIGINT  NOT NULL DEFAULT 0,
    hours_per_month       BIGINT  NOT NULL DEFAULT 730 CHECK (hours_per_month BETWEEN 672 AND 744),
    default_cap_mode      TEXT    NOT NULL DEFAULT 'h730' CHECK (default_cap_mode IN ('h730', 'h672', 'calendar')),
    suspend_after_hours   BIGINT  NOT NULL DEFAULT 72 CHECK (suspend_after_hours BETWEEN 1 AND 8760),
    terminate_after_days  BIGINT  NOT NULL DEFAULT 30 CHECK (terminate_after_days BETWEEN 1 AND 3650),
    warn_hours_high       BIGINT  NOT NULL DEFAULT 72 CHECK (warn_hours_high >= 0),
    warn_hours_low        BIGINT  NOT NULL DEFAULT 24 CHECK (warn_hours_low >= 0),
    statement_grace_days  BIGINT  NOT NULL DEFAULT 2 CHECK (statement_grace_days BETWEEN 0 AND 28),
    rent_reserve_hours    BIGINT  NOT NULL DEFAULT 0 CHECK (rent_reserve_hours BETWEEN 0 AND 8760),
    watermark             BIGINT,
    last_run_at           BIGINT,
    updated_at            BIGINT  NOT NULL DEFAULT 0
);
INSERT INTO billing_settings (id) VALUES (1);

-- Intervals whose hours are waived (recorded with amount 0): an admin pause, or billing
-- disabled while rentals exist. `until_at` NULL = still open. An hour is waived when its start
-- lies in [from_at, until_at).
CREATE TABLE billing_pauses (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    from_at   BIGINT NOT NULL,
    until_at  BIGINT,
    reason    TEXT   NOT NULL DEFAULT '',
    actor_id  BIGINT,
    CHECK (until_at IS NULL OR until_at >= from_at)
);

-- What users rent. Deactivated, never deleted, while a rental uses them. Money in micro-units.
CREATE TABLE plans (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    code         TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    price        BIGINT  NOT NULL CHECK (price > 0),
    cap_mode     TEXT    NOT NULL CHECK (cap_mode IN ('h730', 'h672', 'calendar')),
    setup_fee    BIGINT  NOT NULL DEFAULT 0 CHECK (setup_fee >= 0),
    entitlement  TEXT    NOT NULL,
    settings     TEXT    NOT NULL DEFAULT '{}',
    active       BIGINT  NOT NULL DEFAULT 1,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);

-- One user's instance of a plan. `billed_through` (epoch ms, an hour start, exclusive): every
-- hour before it is reconciled (rows written). `first_due_hour`: the oldest unpaid hour while
-- in grace or suspended for non-payment. `state_at`: when the current state began.
CREATE TABLE rentals (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         BIGINT  NOT NULL REFERENCES users (id),
    plan_id         BIGINT  NOT NULL REFERENCES plans (id),
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'active', 'grace', 'suspended', 'terminated', 'canceled')),
    reason          TEXT    CHECK ((state = 'suspended') = (reason IS NOT NULL)),
    billed_through  BIGINT  NOT NULL,
    first_due_hour  BIGINT,
    state_at        BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX rentals_user ON rentals (user_id, id);
CREATE INDEX rentals_state ON rentals (state, id);

-- The append-only log of a rental: every state change at its instant (the facts billing
-- reads), plus plan changes and credits. `state`/`reason` is the state after the event.
CREATE TABLE rental_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    rental_id  BIGINT  NOT NULL REFERENCES rentals (id),
    at         BIGINT  NOT NULL,
    event      TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    reason     TEXT,
    plan_id    BIGINT  NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    actor_id   BIGINT,
    created_at BIGINT  NOT NULL
);
CREATE INDEX rental_events_rental ON rental_events (rental_id, at, id);

-- One row per billed (rental, hour): the unique key makes every instance, trigger and retry
-- converge on the same rows. A line is (rental, month, plan): `k` is the hour's place in it
-- (0 when waived), `price`/`divisor` the line's P and D, `amount` = c(k). `status`: paid (with
-- its `rent` ledger entry, none when the amount is 0), due (unpaid), waived (a billing pause),
-- written_off (due when the rental was terminated). `credited`: a `rent_credit` refund of it.
CREATE TABLE rental_hours (
    rental_id    BIGINT  NOT NULL REFERENCES rentals (id),
    hour         BIGINT  NOT NULL,
    month        BIGINT  NOT NULL,
    plan_id      BIGINT  NOT NULL,
    k            BIGINT  NOT NULL,
    price        BIGINT  NOT NULL,
    divisor      BIGINT  NOT NULL,
    amount       BIGINT  NOT NULL CHECK (amount >= 0),
    status       TEXT    NOT NULL CHECK (status IN ('paid', 'due', 'waived', 'written_off')),
    paid_at      BIGINT,
    credited     BIGINT  NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (rental_id, hour)
);
CREATE INDEX rental_hours_due ON rental_hours (rental_id, hour) WHERE status = 'due';
CREATE INDEX rental_hours_line ON rental_hours (rental_id, month, plan_id);

-- Runway warnings: one per dip below each threshold, re-armed at 125 % of it.
CREATE TABLE runway_alarms (
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    threshold  BIGINT  NOT NULL,
    armed      BIGINT  NOT NULL DEFAULT 1,
    PRIMARY KEY (user_id, threshold)
);
