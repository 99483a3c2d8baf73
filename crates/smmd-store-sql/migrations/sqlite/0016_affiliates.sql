-- The affiliate program (issue 17, docs/affiliates.md), first part: the program's settings,
-- affiliate accounts with their referral code and balance, referrals (one per referred user,
-- first touch, never reassigned), commissions on net spend (one per referred order, created
-- with its charge and lowered by its refunds in the same transactions), and the append-only
-- affiliate ledger whose sum per user is `affiliates.balance` (it may go negative through
-- clawbacks). Money in micro-units of the panel currency; times epoch ms.
CREATE TABLE affiliate_settings (
    id                BIGINT  PRIMARY KEY CHECK (id = 1),
    enabled           BIGINT  NOT NULL DEFAULT 1,
    rate_bp           BIGINT  NOT NULL DEFAULT 500 CHECK (rate_bp BETWEEN 0 AND 5000),
    first_months      BIGINT  NOT NULL DEFAULT 0 CHECK (first_months BETWEEN 0 AND 120),
    hold_days         BIGINT  NOT NULL DEFAULT 30 CHECK (hold_days BETWEEN 0 AND 365),
    clawback_days     BIGINT  NOT NULL DEFAULT 90 CHECK (clawback_days BETWEEN 0 AND 3650),
    min_payout        BIGINT  NOT NULL DEFAULT 100000000 CHECK (min_payout >= 10000),
    attribution_days  BIGINT  NOT NULL DEFAULT 30 CHECK (attribution_days BETWEEN 1 AND 365),
    cool_down_days    BIGINT  NOT NULL DEFAULT 7 CHECK (cool_down_days BETWEEN 0 AND 90),
    returning_rule    TEXT    NOT NULL DEFAULT 'any_invoice' CHECK (returning_rule IN ('any_invoice', 'paid_payout')),
    updated_at        BIGINT  NOT NULL DEFAULT 0
);
INSERT INTO affiliate_settings (id) VALUES (1);

-- A user's affiliate account, made when they first open the affiliate page (or are referred
-- to). `balance` = Σ affiliate_ledger.amount of the user.
CREATE TABLE affiliates (
    user_id     BIGINT  PRIMARY KEY REFERENCES users (id),
    code        TEXT    NOT NULL UNIQUE,
    balance     BIGINT  NOT NULL DEFAULT 0,
    on_hold     BIGINT  NOT NULL DEFAULT 0,
    clicks      BIGINT  NOT NULL DEFAULT 0,
    created_at  BIGINT  NOT NULL
);

-- Who referred whom. `flags`: comma-separated reasons (same_network, same_device, burst,
-- same_payer, link_overlap); `status` clean, flagged (its commissions wait for review) or
-- cleared (an admin looked and released it).
CREATE TABLE referrals (
    user_id       BIGINT  PRIMARY KEY REFERENCES users (id),
    affiliate_id  BIGINT  NOT NULL REFERENCES users (id),
    status        TEXT    NOT NULL CHECK (status IN ('clean', 'flagged', 'cleared')),
    flags         TEXT    NOT NULL DEFAULT '',
    ip            TEXT,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    CHECK (affiliate_id <> user_id)
);
CREATE INDEX referrals_affiliate ON referrals (affiliate_id, created_at);
CREATE INDEX referrals_flagged ON referrals (status, user_id) WHERE status = 'flagged';

-- One commission per referred order. `refunded` follows the order's refunds, `amount` is the
-- commission on charge − refunded until approval; `credited` is what the approval credited and
-- `clawed` what refunds after it took back. `approve_at`: when a held commission is approved.
CREATE TABLE commissions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id      BIGINT  NOT NULL UNIQUE,
    affiliate_id  BIGINT  NOT NULL REFERENCES users (id),
    referred_id   BIGINT  NOT NULL REFERENCES users (id),
    rate_bp       BIGINT  NOT NULL CHECK (rate_bp BETWEEN 0 AND 5000),
    charge        BIGINT  NOT NULL CHECK (charge >= 0),
    refunded      BIGINT  NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= charge),
    amount        BIGINT  NOT NULL CHECK (amount >= 0),
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'held', 'review', 'approved', 'void')),
    credited      BIGINT  NOT NULL DEFAULT 0 CHECK (credited >= 0),
    clawed        BIGINT  NOT NULL DEFAULT 0 CHECK (clawed >= 0 AND clawed <= credited),
    approve_at    BIGINT,
    approved_at   BIGINT,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX commissions_affiliate ON commissions (affiliate_id, id);
CREATE INDEX commissions_open ON commissions (status, id) WHERE status IN ('pending', 'held', 'review');

-- The affiliate ledger: append-only, one row per movement with a unique key.
CREATE TABLE affiliate_ledger (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        BIGINT  NOT NULL REFERENCES users (id),
    amount         BIGINT  NOT NULL CHECK (amount <> 0),
    balance_after  BIGINT  NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('commission', 'clawback', 'payout', 'payout_return', 'transfer_out', 'adjustment')),
    idem_key       TEXT    NOT NULL UNIQUE,
    reason         TEXT    NOT NULL DEFAULT '',
    commission_id  BIGINT,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX affiliate_ledger_user ON affiliate_ledger (user_id, id);
CREATE TRIGGER affiliate_ledger_no_update BEFORE UPDATE ON affiliate_ledger
BEGIN SELECT RAISE(ABORT, 'affiliate_ledger is append-only'); END;
CREATE TRIGGER affiliate_ledger_no_delete BEFORE DELETE ON affiliate_ledger
BEGIN SELECT RAISE(ABORT, 'affiliate_ledger is append-only'); END;

-- Where users logged in from (one row per user and address, its last time): the self-referral
-- check compares a sign-up's address with the affiliate's recent ones (same /24 or /64).
CREATE TABLE login_addresses (
    user_id  BIGINT NOT NULL REFERENCES users (id),
    ip       TEXT   NOT NULL,
    at       BIGINT NOT NULL,
    PRIMARY KEY (user_id, ip)
);
