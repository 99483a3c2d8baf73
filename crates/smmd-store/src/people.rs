//! The admin's view of customers (issue 18): searching accounts, a customer's sessions, the
//! admins' notes about them and their custom rates (a discount or a fixed rate per service,
//! applied by `smmd_app::pricing`, the one pricing function). Orders and the ledger of a
//! customer are read with [`crate::OrderStore::search_orders`] and
//! [`crate::WalletStore::ledger`]. Times are epoch ms.

use async_trait::async_trait;
use serde::Serialize;
use smmd_domain::custom_rate::{CustomPrice, CustomRate};
use smmd_domain::{ServiceId, UserId};

use crate::{NewAudit, Role, StoreResult, User};

/// A search of accounts, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Case-insensitive substring of the e-mail, or an account id (`42` or `#42`).
    pub text: Option<String>,
    pub role: Option<Role>,
    /// Only blocked (`true`) or only active (`false`) accounts.
    pub blocked: Option<bool>,
    /// Cursor: only accounts with a smaller id.
    pub before: Option<UserId>,
    pub limit: i64,
}

/// An account as the admin's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserSummary {
    pub user: User,
    /// When the account was disabled; `None` while it is active.
    pub blocked_at: Option<i64>,
    /// Orders ever placed (live and archived).
    pub orders: i64,
}

/// A live session of a customer (the token itself is never shown).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    pub created_at: i64,
    pub expires_at: i64,
    /// When it last passed a two-factor code.
    pub factor_at: Option<i64>,
    /// Still waiting for its two-factor code.
    pub pending_factor: bool,
}

/// An admin's note about a customer (never shown to the customer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserNote {
    pub id: i64,
    pub user_id: UserId,
    /// The admin's e-mail when they wrote it.
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

/// A note to write.
#[derive(Clone, Debug)]
pub struct NewUserNote {
    pub user_id: UserId,
    pub author_id: Option<UserId>,
    pub author: String,
    pub body: String,
    pub now: i64,
}

#[async_trait]
pub trait PeopleStore: Send + Sync {
    /// Accounts matching `q`, newest first, at most `q.limit` (1 to 500).
    async fn search_users(&self, q: &UserQuery) -> StoreResult<Vec<UserSummary>>;

    /// One account's summary; `None` for no account.
    async fn user_summary(&self, user: UserId) -> StoreResult<Option<UserSummary>>;

    /// The account's sessions live at `now`, newest first.
    async fn user_sessions(&self, user: UserId, now: i64) -> StoreResult<Vec<SessionSummary>>;

    /// Ends every session of the account, with the audit line; how many ended.
    async fn end_user_sessions(&self, user: UserId, audit: Option<NewAudit>) -> StoreResult<u64>;

    /// The account's notes, newest first, at most `limit`.
    async fn user_notes(&self, user: UserId, limit: i64) -> StoreResult<Vec<UserNote>>;

    /// Writes a note; `NotFound` for no account.
    async fn add_user_note(&self, note: NewUserNote) -> StoreResult<UserNote>;

    /// The account's custom rates (every service's first, then by service id).
    async fn custom_rates(&self, user: UserId) -> StoreResult<Vec<CustomRate>>;

    /// Sets (`Some`) or removes (`None`) the custom rate of the account for `service` (or
    /// every service), with the audit line. `NotFound` for no account or no such service.
    async fn set_custom_rate(
        &self,
        user: UserId,
        service: Option<ServiceId>,
        price: Option<CustomPrice>,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;
}
