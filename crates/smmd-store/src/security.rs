//! Account security records (issue 18): single-use tokens sent by e-mail (password reset,
//! e-mail confirmation) written with the e-mail that carries them, two-factor authentication
//! (the TOTP secret, the last accepted step, backup codes) and the sessions' second factor.
//! Secrets and codes are stored as SHA-256 hashes (the TOTP secret excepted: checking a code
//! needs it). Rules (expiry, code format, the step-up window) belong to `smmd_app::security`.

use async_trait::async_trait;
use smmd_domain::UserId;

use crate::{NewAudit, StoreResult};

/// What a token sent by e-mail is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Sets a new password (and ends every session).
    Reset,
    /// Confirms the e-mail of a sign-up.
    Verify,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Reset => "reset",
            TokenPurpose::Verify => "verify",
        }
    }
}

/// A token to issue to the account of `email` (case-insensitive), with the e-mail that carries
/// it: written to the outbox (`deliveries`, channel `email`, `notification_id` = minus the
/// token's id) in the same transaction, sent by `notifications.deliver` with its retries.
#[derive(Clone, Debug)]
pub struct NewAccountToken {
    pub email: String,
    pub purpose: TokenPurpose,
    /// Hex SHA-256 of the token (the token itself is only in the e-mail).
    pub token_hash: String,
    /// Epoch ms.
    pub now: i64,
    pub expires_at: i64,
    /// The e-mail's subject and text.
    pub subject: String,
    pub text: String,
    /// At most this many tokens of this purpose per account in the hour before `now`; past it
    /// nothing is written ([`TokenIssue::Throttled`]).
    pub per_hour: i64,
}

/// What [`SecurityStore::issue_account_token`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenIssue {
    /// The token and its e-mail are written; earlier unused tokens of the purpose are ended.
    Issued(UserId),
    /// No account (or a blocked one) has that e-mail; nothing written.
    NoAccount,
    /// The account had `per_hour` tokens of the purpose in the last hour; nothing written.
    Throttled(UserId),
}

/// An account's two-factor state, for checking a code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwoFactor {
    /// Base32 TOTP secret; `None` when two-factor is off.
    pub secret: Option<String>,
    /// The last accepted 30-second step (0 for none).
    pub last_step: i64,
    /// Backup codes not yet used.
    pub backup_codes_left: i64,
}

#[async_trait]
pub trait SecurityStore: Send + Sync {
    /// Issues a token to the account of `t.email` and writes its e-mail to the outbox, in one
    /// transaction; earlier unused tokens of the same purpose stop working.
    async fn issue_account_token(&self, t: NewAccountToken) -> StoreResult<TokenIssue>;

    /// Uses a reset token (by hash) good at `now`: sets the password hash, ends every session
    /// of the account, clears a pending e-mail confirmation (the mailbox was proven), marks the
    /// token used, in one transaction. `None` for an unknown, used or expired token.
    async fn redeem_reset_token(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<Option<UserId>>;

    /// Uses a confirmation token good at `now`: clears the account's pending e-mail
    /// confirmation and marks the token used. `None` for an unknown, used or expired token.
    async fn redeem_verify_token(&self, token_hash: &str, now: i64) -> StoreResult<Option<UserId>>;

    /// Marks a new account as waiting for its e-mail confirmation (it cannot log in until then).
    async fn set_email_pending(&self, user: UserId, since: Option<i64>) -> StoreResult<()>;

    /// The account's two-factor state; `NotFound` for no account.
    async fn two_factor(&self, user: UserId) -> StoreResult<TwoFactor>;

    /// Turns two-factor on with `secret` (base32), `step` (the step of the code that proved
    /// it, accepted once) and the backup codes' hashes, with the audit line. `false` (nothing
    /// written) when it is already on.
    async fn enable_two_factor(
        &self,
        user: UserId,
        secret: &str,
        step: i64,
        backup_code_hashes: &[String],
        audit: Option<NewAudit>,
    ) -> StoreResult<bool>;

    /// Turns two-factor off and deletes the backup codes, with the audit line.
    async fn disable_two_factor(&self, user: UserId, audit: Option<NewAudit>) -> StoreResult<()>;

    /// Replaces every backup code of the account (the old ones stop working).
    async fn replace_backup_codes(
        &self,
        user: UserId,
        hashes: &[String],
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// Accepts the TOTP step `step` if it is above the last accepted one (a code works once,
    /// RFC 6238 §5.2): `true` when accepted, atomically across instances.
    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;

    /// Uses the backup code of this hash if it is the account's and unused: `true` once.
    async fn use_backup_code(&self, user: UserId, code_hash: &str, now: i64) -> StoreResult<bool>;

    /// The session (by token hash) passed a second factor at `now`: it stops waiting for one
    /// and its step-up window starts. `NotFound` for no such session.
    async fn pass_second_factor(&self, token_hash: &str, now: i64) -> StoreResult<()>;

    /// Deletes at most `batch` tokens that expired before `before` (used or not); how many.
    async fn prune_account_tokens(&self, before: i64, batch: i64) -> StoreResult<u64>;
}
