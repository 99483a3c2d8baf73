//! Accounts: roles, users, credentials and new accounts.

use serde::{Deserialize, Serialize};
use smmd_domain::{Money, UserId};

use crate::*;

/// Account role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A panel account. `balance` is the cached wallet balance (= Σ ledger).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub balance: Money,
    pub created_at: i64,
    /// Two-factor authentication (TOTP) is on ([`crate::SecurityStore`]).
    pub two_factor: bool,
    /// The account was signed up under e-mail confirmation and has not confirmed yet: it
    /// cannot log in.
    pub email_pending: bool,
    /// The language the user reads pages and e-mails in (`en`, `es`, `ru`, `ar`); `None`:
    /// the browser's. Written with the notification settings
    /// ([`NotificationSettings::language`](crate::NotificationSettings)).
    pub language: Option<String>,
    /// The currency the user sees amounts in besides the panel's (`EUR`); `None`: the
    /// panel's only ([`crate::CurrencyStore::set_display_currency`]).
    pub display_currency: Option<String>,
}

/// A live session as the edge sees it.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub user: User,
    pub csrf: String,
    /// The password was right but the second factor is still to come: the session
    /// authenticates nothing but the code form.
    pub pending_factor: bool,
    /// When the session last passed a second factor (epoch ms): the step-up window.
    pub factor_at: Option<i64>,
}

/// A user with the argon2id PHC string of its password, for log-in only.
#[derive(Clone, Debug)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

/// A new account. `api_key_hash` is the hex SHA-256 of the API key (keys are random, 256 bits).
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub api_key_hash: Option<String>,
    pub now: i64,
    /// The admin action this change is, written to the audit log in the same transaction
    /// (never without the change, never twice for a replayed key). `None` for system changes.
    pub audit: Option<NewAudit>,
    /// Who referred the new account (a sign-up through a referral link), written with it.
    pub referral: Option<crate::NewReferral>,
}

/// Accounts: users, credentials, API keys, roles and sessions.
#[async_trait::async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates an account with a zero balance. `Conflict("users.email")` if the e-mail exists.
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;

    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;

    /// The wallet balance of account `id` alone (micro-units of the panel currency), as
    /// committed; `None` if there is no such account. API v2 `action=balance` reads only this:
    /// a store may answer it with one column instead of the whole [`User`].
    async fn balance(&self, id: UserId) -> StoreResult<Option<Money>> {
        Ok(self.user(id).await?.map(|u| u.balance))
    }

    /// Case-insensitive e-mail lookup, with the password hash; `None` for a blocked account
    /// (`PayoutStore::set_user_blocked`), which cannot log in.
    async fn user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>>;

    /// The owner of an API key, by the key's hex SHA-256; `None` for a blocked account.
    async fn user_by_api_key(&self, key_hash: &str) -> StoreResult<Option<User>>;

    /// Replaces the user's API key hash (the old key stops working at once).
    async fn set_api_key(&self, user: UserId, key_hash: &str) -> StoreResult<()>;

    /// Sets the password hash and, in the same transaction, ends every session of the user but
    /// `keep_session` (a session token hash: the browser that changed it stays signed in).
    async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep_session: Option<&str>,
    ) -> StoreResult<()>;

    /// Sets the role; `audit` is written in the same transaction.
    async fn set_role(&self, user: UserId, role: Role, audit: Option<NewAudit>) -> StoreResult<()>;

    /// Users ordered by id, at most `limit` after `after`.
    async fn list_users(&self, after: Option<UserId>, limit: i64) -> StoreResult<Vec<User>>;

    /// Stores a session by the hash of its token; `pending_factor` when it waits for the
    /// account's second factor ([`SessionRecord::pending_factor`]).
    async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        csrf: &str,
        now: i64,
        expires_at: i64,
        pending_factor: bool,
    ) -> StoreResult<()>;

    /// The session if it has not expired at `now`.
    async fn session(&self, token_hash: &str, now: i64) -> StoreResult<Option<SessionRecord>>;

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;

    /// Deletes at most `batch` sessions expired at `now`.
    async fn prune_sessions(&self, now: i64, batch: i64) -> StoreResult<u64>;
}
