//! The affiliate program (`docs/affiliates.md`): program settings, affiliate accounts and their
//! referral codes, referrals, commissions on net spend and the append-only affiliate ledger.
//!
//! The rules are `smmd_domain::affiliate`; the store applies them in the transactions that
//! move the money they follow: a referred user's order creates its commission in the order's
//! own transaction, and every refund of that order lowers the commission (before approval) or
//! claws it back (after) in the refund's transaction, so a commission can never miss a refund.
//! Money is micro-units of the panel currency; times are epoch ms (UTC).

use serde::Serialize;
use smmd_domain::affiliate::commission::CommissionStatus;
use smmd_domain::affiliate::referral::Flag;
use smmd_domain::affiliate::{EntryKind, Settings};
use smmd_domain::{Money, OrderId, UserId};

use crate::{NewAudit, StoreResult};

/// A user's affiliate account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AffiliateAccount {
    pub user_id: UserId,
    /// The referral code (`smmd_domain::affiliate::referral`), unique.
    pub code: String,
    /// Σ of their affiliate ledger; negative after clawbacks larger than what is left.
    pub balance: Money,
    /// Payouts on hold by an admin.
    pub on_hold: bool,
    /// Visits through their link.
    pub clicks: i64,
    pub created_at: i64,
}

/// How a referral stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralStatus {
    /// No signal: commissions are approved after the hold.
    Clean,
    /// A self-referral signal: commissions wait for an admin.
    Flagged,
    /// An admin reviewed the flags and released the referral.
    Cleared,
}

impl ReferralStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ReferralStatus::Clean => "clean",
            ReferralStatus::Flagged => "flagged",
            ReferralStatus::Cleared => "cleared",
        }
    }

    pub fn parse(text: &str) -> Option<ReferralStatus> {
        [
            ReferralStatus::Clean,
            ReferralStatus::Flagged,
            ReferralStatus::Cleared,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A referral to create with a new account (first touch: at sign-up, once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReferral {
    pub affiliate_id: UserId,
    /// The sign-up's self-referral signals; any makes the referral `flagged`.
    pub flags: Vec<Flag>,
    /// The sign-up's client address, for later review.
    pub ip: Option<String>,
}

/// Who referred a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Referral {
    /// The referred user.
    pub user_id: UserId,
    pub affiliate_id: UserId,
    pub status: ReferralStatus,
    /// Stored names of the signals (`same_network`, `link_overlap`, …).
    pub flags: Vec<String>,
    pub ip: Option<String>,
    pub created_at: i64,
}

/// One referred order's commission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Commission {
    pub id: i64,
    pub order_id: OrderId,
    pub affiliate_id: UserId,
    pub referred_id: UserId,
    pub rate_bp: i64,
    /// The order's charge.
    pub charge: Money,
    /// Its refunds so far.
    pub refunded: Money,
    /// The commission on `charge − refunded` (before approval); what was credited after.
    pub amount: Money,
    #[serde(serialize_with = "status_name")]
    pub status: CommissionStatus,
    pub credited: Money,
    pub clawed: Money,
    /// When a held commission is approved (order final + `hold_days`).
    pub approve_at: Option<i64>,
    pub approved_at: Option<i64>,
    pub created_at: i64,
}

fn status_name<S: serde::Serializer>(s: &CommissionStatus, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.as_str())
}

/// One row of the affiliate ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AffiliateEntry {
    pub id: i64,
    pub user_id: UserId,
    /// Signed: credits positive.
    pub amount: Money,
    pub balance_after: Money,
    #[serde(serialize_with = "kind_name")]
    pub kind: EntryKind,
    pub key: String,
    pub reason: String,
    pub commission_id: Option<i64>,
    pub created_at: i64,
}

fn kind_name<S: serde::Serializer>(k: &EntryKind, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(k.as_str())
}

/// What one `affiliates.release` pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReleaseReport {
    /// Commissions whose order became final: now held until their approval date.
    pub settled: i64,
    /// Held commissions of flagged referrals moved to review instead.
    pub to_review: i64,
    /// Approved and credited.
    pub approved: i64,
    /// Earned nothing (refunded to zero): voided.
    pub voided: i64,
    /// Σ credited by this pass.
    pub credited: Money,
    /// Whether rows are left for another pass (the pass stopped at its limit).
    pub more: bool,
    /// The longest of its write transactions, from BEGIN acquired to COMMIT done, in
    /// microseconds: how long it held the SQLite writer at once.
    pub longest_tx_us: i64,
}

/// What an affiliate's page counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AffiliateStats {
    /// Users who signed up through the affiliate.
    pub signups: i64,
    /// Of them, those with at least one commission (they ordered).
    pub paying: i64,
    /// Commissions per status: (status, count, Σ amount).
    pub by_status: Vec<(String, i64, Money)>,
}

impl ReleaseReport {
    /// Adds the figures of a later pass (`more` is the later pass's).
    pub fn add(&mut self, r: &ReleaseReport) {
        self.settled += r.settled;
        self.to_review += r.to_review;
        self.approved += r.approved;
        self.voided += r.voided;
        self.credited = self.credited.saturating_add(r.credited);
        self.more = r.more;
        self.longest_tx_us = self.longest_tx_us.max(r.longest_tx_us);
    }
}

/// An affiliate whose cached balance differs from the sum of their affiliate ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffiliateMismatch {
    pub user_id: UserId,
    pub balance: Money,
    pub ledger_sum: Money,
}

/// The affiliate program's storage.
#[async_trait::async_trait]
pub trait AffiliateStore: Send + Sync {
    /// The program settings (one row).
    async fn affiliate_settings(&self) -> StoreResult<Settings>;

    /// Replaces the settings (already validated by `Settings::validate`), with the admin's
    /// audit line in the same transaction. Changes apply to commissions created afterwards.
    async fn update_affiliate_settings(
        &self,
        settings: &Settings,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<Settings>;

    /// The user's affiliate account, created with `new_code` when they have none.
    /// `Conflict("affiliates.code")` when `new_code` is taken (draw another and call again).
    async fn affiliate_account(
        &self,
        user: UserId,
        new_code: &str,
        now: i64,
    ) -> StoreResult<AffiliateAccount>;

    /// The account a referral code (normalised, `referral::parse_code`) belongs to.
    async fn affiliate_by_code(&self, code: &str) -> StoreResult<Option<AffiliateAccount>>;

    /// Counts one visit through `code`'s link; `false` for an unknown code.
    async fn count_referral_click(&self, code: &str) -> StoreResult<bool>;

    /// Who referred `user`, if anyone.
    async fn referral(&self, user: UserId) -> StoreResult<Option<Referral>>;

    /// `affiliate`'s commissions, newest first, before id `before` (paging; `None` = newest).
    async fn commissions_of(
        &self,
        affiliate: UserId,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Commission>>;

    /// The commission of an order, if it earned one.
    async fn commission_of_order(&self, order: OrderId) -> StoreResult<Option<Commission>>;

    /// One pass of `affiliates.release` at `now`, at most `limit` commissions per step (on
    /// SQLite fewer once a transaction has run about 15 ms; `more` says to call again):
    /// pending commissions of final orders become held until `completed_at + hold_days`
    /// (or review, for a flagged referral); held ones past that date are approved, each credit
    /// `commission:<id>` in the affiliate ledger in the same transaction, or voided when they
    /// earn nothing. Idempotent; several instances may run it at once.
    async fn release_commissions(&self, now: i64, limit: i64) -> StoreResult<ReleaseReport>;

    /// `user`'s affiliate ledger, newest first.
    async fn affiliate_ledger(&self, user: UserId, limit: i64) -> StoreResult<Vec<AffiliateEntry>>;

    /// Notes that `user` logged in at `now` from `ip` and with the device cookie `device`
    /// (one row per user and address, one per user and device; either may be absent).
    async fn record_login(
        &self,
        user: UserId,
        ip: Option<&str>,
        device: Option<&str>,
        now: i64,
    ) -> StoreResult<()>;

    /// The addresses `user` logged in from since `since`, newest first (at most 50).
    async fn login_addresses(&self, user: UserId, since: i64) -> StoreResult<Vec<String>>;

    /// The device cookies `user` logged in with since `since`, newest first (at most 50).
    async fn login_devices(&self, user: UserId, since: i64) -> StoreResult<Vec<String>>;

    /// Deletes up to `batch` log-in addresses and up to `batch` log-in devices last seen
    /// before `before` (epoch ms); the number deleted.
    async fn prune_login_traces(&self, before: i64, batch: i64) -> StoreResult<u64>;

    /// Referrals of `affiliate` from address `ip` since `since` (the burst check).
    async fn referrals_from_address(
        &self,
        affiliate: UserId,
        ip: &str,
        since: i64,
    ) -> StoreResult<i64>;

    /// The figures of an affiliate's page.
    async fn affiliate_stats(&self, affiliate: UserId) -> StoreResult<AffiliateStats>;

    /// Affiliates whose balance is not the sum of their ledger (empty when sound).
    async fn affiliate_mismatches(&self) -> StoreResult<Vec<AffiliateMismatch>>;
}
