-- The affiliate program (issue 17, docs/affiliates.md), second part: payout methods, payout
-- runs with one item per candidate, payout invoices with their decisions and gapless numbers,
-- transfers to the spending wallet (the ledger gains the kind `affiliate_transfer`), and
-- blocked accounts. Money in micro-units of the panel currency; times epoch ms.
ALTER TABLE ledger DROP CONSTRAINT ledger_kind_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_kind_check
    CHECK (kind IN ('deposit', 'adjustment', 'charge', 'refund', 'rent', 'rent_credit', 'affiliate_transfer'));

-- Payout methods: submitted by the affiliate, approved or rejected by an admin. At most one
-- approved and one submitted per user; approving a new one replaces the old (status
-- `replaced`) and restarts the cool-down (`approved_at`). `details` are stored whole and
-- masked in every list.
CREATE TABLE payout_methods (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('binance_pay', 'crypto', 'paypal', 'bank', 'other')),
    details      TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected', 'replaced', 'withdrawn')),
    reason       TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    decided_at   BIGINT,
    approved_at  BIGINT
);
CREATE UNIQUE INDEX payout_methods_one_approved ON payout_methods (user_id) WHERE status = 'approved';
CREATE UNIQUE INDEX payout_methods_one_submitted ON payout_methods (user_id) WHERE status = 'submitted';
CREATE INDEX payout_methods_review ON payout_methods (status, id) WHERE status = 'submitted';

-- Payout runs, named by their scheduled date and unique per (date, kind) across instances and
-- triggers. `running` while candidates are checked in short transactions, `done` after, or
-- `skipped` (missed its catch-up window: balances untouched).
CREATE TABLE payout_runs (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('all', 'returning')),
    run_date      TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('running', 'done', 'skipped')),
    scheduled_at  BIGINT  NOT NULL,
    started_at    BIGINT  NOT NULL,
    finished_at   BIGINT,
    candidates    BIGINT  NOT NULL DEFAULT 0,
    payouts       BIGINT  NOT NULL DEFAULT 0,
    total         BIGINT  NOT NULL DEFAULT 0,
    note          TEXT    NOT NULL DEFAULT '',
    UNIQUE (run_date, kind)
);

-- One item per candidate of a run: paid (`reason` NULL; its payout is the run's payout of the
-- user, `payouts (run_id, user_id)`), or the first failing reason. `amount`: the payout, or
-- the balance when the candidate was checked.
CREATE TABLE payout_run_items (
    run_id     BIGINT  NOT NULL REFERENCES payout_runs (id),
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    reason     TEXT    CHECK (reason IS NULL OR reason IN ('account_inactive', 'first_time_waits_for_first_monday', 'no_approved_method', 'method_cooling_down', 'previous_payout_open', 'on_hold', 'below_minimum')),
    amount     BIGINT  NOT NULL,
    PRIMARY KEY (run_id, user_id)
);

-- Payout invoices: the whole balance taken by a run (`payout:<run>:<user>` in the affiliate
-- ledger) with a snapshot of the method. `number` is gapless, assigned when marked paid.
CREATE TABLE payouts (
    id              BIGSERIAL PRIMARY KEY,
    run_id          BIGINT  NOT NULL REFERENCES payout_runs (id),
    user_id         BIGINT  NOT NULL REFERENCES users (id),
    amount          BIGINT  NOT NULL CHECK (amount > 0),
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'paid', 'rejected_returned', 'rejected_forfeited', 'returned')),
    method_kind     TEXT    NOT NULL,
    method_details  TEXT    NOT NULL,
    number          BIGINT  UNIQUE,
    reference       TEXT,
    reason          TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    decided_at      BIGINT,
    UNIQUE (run_id, user_id)
);
CREATE UNIQUE INDEX payouts_one_open ON payouts (user_id) WHERE status = 'pending';
CREATE INDEX payouts_user ON payouts (user_id, id);
CREATE INDEX payouts_status ON payouts (status, id);

-- The last gapless payout number (incremented in the transaction that marks a payout paid).
CREATE TABLE payout_numbers (
    id    BIGINT  PRIMARY KEY CHECK (id = 1),
    last  BIGINT  NOT NULL
);
INSERT INTO payout_numbers (id, last) VALUES (1, 0);

-- Transfers from the affiliate balance to the spending wallet, one per (user, request_id):
-- a replayed request returns this row.
CREATE TABLE affiliate_transfers (
    user_id     BIGINT  NOT NULL REFERENCES users (id),
    request_id  TEXT    NOT NULL,
    amount      BIGINT  NOT NULL CHECK (amount > 0),
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (user_id, request_id)
);

-- An admin may block an account: it cannot log in and is not paid out (`account_inactive`).
ALTER TABLE users ADD COLUMN blocked_at BIGINT;

-- The link-overlap signal: did the affiliate order for this link in the last 90 days?
CREATE INDEX orders_user_link ON orders (user_id, link, created_at);

-- The release's indexes, one partial index per status it reads (SQLite uses a partial index
-- only when the query names its exact condition, so `status IN (...)` served none and every
-- step scanned all commissions): pending ones to settle, held ones by approval date (not the
-- far more numerous ones not yet due), review ones for the admin.
DROP INDEX commissions_open;
CREATE INDEX commissions_pending ON commissions (id) WHERE status = 'pending';
CREATE INDEX commissions_due ON commissions (approve_at, id) WHERE status = 'held';
CREATE INDEX commissions_review ON commissions (id) WHERE status = 'review';
-- A referral flagged or cleared moves its commissions: found by the referred user.
CREATE INDEX commissions_referred ON commissions (referred_id, status);
