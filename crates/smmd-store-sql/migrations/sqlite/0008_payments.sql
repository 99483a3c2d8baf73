-- Manual payments: a user asks to have funds added (paid outside the panel: bank transfer,
-- crypto…), an admin approves or rejects. Approval credits the wallet through the ledger with
-- the key `payment:<id>`, in the same transaction as the decision. Money: micro-units; times:
-- epoch ms.
CREATE TABLE payment_requests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT  NOT NULL REFERENCES users (id),
    amount      BIGINT  NOT NULL CHECK (amount > 0),
    method      TEXT    NOT NULL,
    note        TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by  BIGINT,
    reason      TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    decided_at  BIGINT
);
CREATE INDEX payment_requests_user ON payment_requests (user_id, id);
CREATE INDEX payment_requests_pending ON payment_requests (id) WHERE status = 'pending';
