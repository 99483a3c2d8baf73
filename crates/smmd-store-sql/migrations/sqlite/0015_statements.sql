-- Monthly statements (issue 16, docs/billing.md "Statements"): per user and month, a draft made
-- by the billing job once the month is over, with one line per (rental, plan) — hours billed,
-- free hours (the cap), waived hours, paid, due, credited — as JSON in `lines`; final after
-- `statement_grace_days` with a gapless number ST-YYYY-NNNNNN (the year of its month, the next
-- of `statement_sequences` in the finalising transaction, so a rolled-back finalisation never
-- leaves a gap). A final statement is never edited: it is voided and a new draft replaces it.
CREATE TABLE statements (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id        BIGINT  NOT NULL REFERENCES users (id),
    month          BIGINT  NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('draft', 'final', 'void')),
    number         TEXT    UNIQUE,
    lines          TEXT    NOT NULL,
    charged        BIGINT  NOT NULL,
    credited       BIGINT  NOT NULL,
    due            BIGINT  NOT NULL,
    replaces_id    BIGINT  REFERENCES statements (id),
    void_reason    TEXT,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    finalized_at   BIGINT,
    voided_at      BIGINT
);
-- One live (draft or final) statement per user and month.
CREATE UNIQUE INDEX statements_live ON statements (user_id, month) WHERE status <> 'void';
CREATE INDEX statements_status ON statements (status, month, id);
-- The drafting cursor: the last user drafted for a month.
CREATE INDEX statements_month_user ON statements (month, user_id);
CREATE TABLE statement_sequences (
    year  BIGINT PRIMARY KEY,
    last  BIGINT NOT NULL
);
-- The last month whose drafts are all made (month start, ms), so hourly runs skip the search.
ALTER TABLE billing_settings ADD COLUMN statements_month BIGINT;
