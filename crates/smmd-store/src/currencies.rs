//! Display currencies (migration 0025): the reference exchange rates (units of a currency per
//! one euro, micro-units, [`smmd_domain::fx`]) that the `rates.ecb` job refreshes from the
//! ECB's daily feed and admins may pin by hand, and each user's display currency. Nothing
//! here touches money: the ledger stays in the panel currency. Times are epoch ms.

use async_trait::async_trait;
use smmd_domain::UserId;

use crate::{NewAudit, StoreResult};

/// One currency's rate as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrencyRate {
    /// ISO 4217 code (`USD`).
    pub currency: String,
    /// The rate in use: units of the currency per one euro, in micro-units (`1.0824` =
    /// 1 082 400) — the feed's, or the pinned one.
    pub per_eur: i64,
    /// Set by an admin: the feed does not replace `per_eur`.
    pub pinned: bool,
    /// The feed's last rate and its date (`2026-12-02`); `None` for a currency only pinned.
    pub feed_per_eur: Option<i64>,
    pub feed_date: Option<String>,
    pub updated_at: i64,
}

/// A rate the feed brings: (ISO code, units per euro in micro-units).
pub type FeedRate = (String, i64);

/// Exchange rates and users' display currencies.
#[async_trait]
pub trait CurrencyStore: Send + Sync {
    /// Every stored rate, by currency code.
    async fn currency_rates(&self) -> StoreResult<Vec<CurrencyRate>>;

    /// Stores the feed's rates of `feed_date` (one transaction): new currencies are added,
    /// unpinned ones replaced; a pinned one keeps the admin's rate in use and records the
    /// feed's beside it. Returns how many rows were written.
    async fn save_feed_rates(
        &self,
        rates: &[FeedRate],
        feed_date: &str,
        now: i64,
    ) -> StoreResult<u64>;

    /// Pins `currency` at `per_eur` (creating it if the feed never had it), with the audit
    /// line in the same transaction.
    async fn pin_rate(
        &self,
        currency: &str,
        per_eur: i64,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// Unpins `currency`: the feed's last rate is in use again (a currency the feed never
    /// quoted is removed). False when it was not pinned (nothing written, no audit line).
    async fn unpin_rate(
        &self,
        currency: &str,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<bool>;

    /// Sets the currency `user` sees amounts in besides the panel's (`None`: none).
    /// Errors: `NotFound` for an unknown user.
    async fn set_display_currency(&self, user: UserId, currency: Option<&str>) -> StoreResult<()>;
}
