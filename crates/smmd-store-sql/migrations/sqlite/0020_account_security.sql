-- Account security (issue 18): password reset and e-mail verification by single-use tokens
-- sent by e-mail, two-factor authentication (TOTP, RFC 6238) with backup codes, and sessions
-- that wait for the second factor. Times are epoch ms.

-- users.totp_secret: the base32 TOTP secret once enrolled (NULL: no two-factor).
-- users.totp_last_step: the last 30-second step whose code was accepted; a code is accepted
-- once (RFC 6238 §5.2), so a step is only accepted above it.
-- users.email_pending_since: set at a sign-up that must confirm its e-mail (the owner's
-- setting), cleared by the confirmation or a password reset; such an account cannot log in.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN email_pending_since BIGINT;

-- sessions.pending_factor: 1 while the session has the password but not yet the code; such a
-- session authenticates nothing but the code form. sessions.factor_at: when the session last
-- passed a code (log-in or step-up), for the step-up window.
ALTER TABLE sessions ADD COLUMN pending_factor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN factor_at BIGINT;

-- Single-use tokens sent by e-mail, stored as their SHA-256. purpose: reset | verify.
-- A token is good until expires_at and until used_at is set; issuing a new one of the same
-- purpose ends the earlier ones.
CREATE TABLE account_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     BIGINT  NOT NULL REFERENCES users (id),
    purpose     TEXT    NOT NULL CHECK (purpose IN ('reset', 'verify')),
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    used_at     BIGINT
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose, created_at);

-- Backup codes of two-factor, stored as their SHA-256; each works once.
CREATE TABLE backup_codes (
    user_id    BIGINT NOT NULL REFERENCES users (id),
    code_hash  TEXT   NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);
