//! Affiliate payouts (`docs/affiliates.md`, Payout runs, Decisions, Payout methods and
//! transfer): payout methods and their review, the calendar payout runs with one item per
//! candidate, payout invoices and the admin's decisions on them, transfers from the affiliate
//! balance to the spending wallet, the admin's review of held commissions, and the program's
//! report.
//!
//! Every movement of an affiliate balance is an affiliate ledger row written in the same
//! transaction as the state it pays for: a run's payout (`payout:<run>:<user>`), a returned
//! payout (`payout_return:<payout>`), a transfer (`transfer:<user>:<request id>`, with its
//! `affiliate_transfer` entry in the main ledger). Money is micro-units of the panel currency;
//! times are epoch ms (UTC).

use serde::Serialize;
use smmd_domain::affiliate::calendar::{Date, RunKind};
use smmd_domain::affiliate::eligibility::Candidate;
use smmd_domain::affiliate::method::MethodKind;
use smmd_domain::affiliate::{Decision, NotAllowed, PayoutStatus};
use smmd_domain::{Money, UserId};

use crate::{LedgerEntry, NewAudit, StoreError, StoreResult};

/// Where a payout method stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodStatus {
    /// Waiting for an admin.
    Submitted,
    /// The method payouts use (one per affiliate).
    Approved,
    Rejected,
    /// An approved method a newer approval replaced.
    Replaced,
    /// A submitted method a newer submission replaced.
    Withdrawn,
}

impl MethodStatus {
    pub const ALL: [MethodStatus; 5] = [
        MethodStatus::Submitted,
        MethodStatus::Approved,
        MethodStatus::Rejected,
        MethodStatus::Replaced,
        MethodStatus::Withdrawn,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            MethodStatus::Submitted => "submitted",
            MethodStatus::Approved => "approved",
            MethodStatus::Rejected => "rejected",
            MethodStatus::Replaced => "replaced",
            MethodStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<MethodStatus> {
        MethodStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A payout method. `details` are whole: show [`PayoutMethod::masked`] in lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayoutMethod {
    pub id: i64,
    pub user_id: UserId,
    #[serde(serialize_with = "method_kind_name")]
    pub kind: MethodKind,
    #[serde(skip)]
    pub details: String,
    pub status: MethodStatus,
    /// The admin's reason for a rejection.
    pub reason: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    /// When it was approved: the cool-down runs from here.
    pub approved_at: Option<i64>,
}

impl PayoutMethod {
    /// The details as lists show them (`pa***@gmail.com`, `****1234`).
    pub fn masked(&self) -> String {
        smmd_domain::affiliate::method::mask(&self.details)
    }
}

fn method_kind_name<S: serde::Serializer>(k: &MethodKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

/// A payout run's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Candidates are being checked (a run interrupted here resumes when triggered again).
    Running,
    Done,
    /// Missed its catch-up window: nobody was paid, balances untouched.
    Skipped,
}

impl RunStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Done => "done",
            RunStatus::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<RunStatus> {
        [RunStatus::Running, RunStatus::Done, RunStatus::Skipped]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A payout run to start, resume or record as skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewPayoutRun {
    pub kind: RunKind,
    /// The scheduled date (UTC): a catch-up on Tuesday is still Monday's run.
    pub date: Date,
    /// The scheduled instant, epoch ms.
    pub scheduled_at: i64,
}

/// A payout run, unique per (date, kind).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayoutRun {
    pub id: i64,
    #[serde(serialize_with = "run_kind_name")]
    pub kind: RunKind,
    /// `YYYY-MM-DD`, the scheduled date.
    pub date: String,
    pub status: RunStatus,
    pub scheduled_at: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// Items recorded so far.
    pub candidates: i64,
    /// Payouts created so far.
    pub payouts: i64,
    /// Σ of those payouts.
    pub total: Money,
    /// Why it was skipped.
    pub note: String,
}

fn run_kind_name<S: serde::Serializer>(k: &RunKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

/// One candidate of a run: the payout created (`reason` empty) or the first failing reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunItem {
    pub run_id: i64,
    pub user_id: UserId,
    /// `Blocker::as_str`, `None` when paid.
    pub reason: Option<String>,
    /// The payout, or the balance when checked (may be negative).
    pub amount: Money,
    pub payout_id: Option<i64>,
}

/// What one call of [`PayoutStore::run_payouts`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunStep {
    /// The run after this step.
    pub run: PayoutRun,
    /// Candidates checked by this step.
    pub checked: i64,
    /// Payouts created by this step.
    pub created: i64,
    /// Σ of those payouts.
    pub paid_out: Money,
    /// The last user checked: pass it as `after` to the next step.
    pub cursor: i64,
    /// Whether candidates are left (call again).
    pub more: bool,
    /// How long its write transaction ran, from BEGIN acquired to COMMIT done, in
    /// microseconds (0 when the run was not running).
    pub tx_us: i64,
}

/// A payout invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Payout {
    pub id: i64,
    pub run_id: i64,
    pub user_id: UserId,
    pub amount: Money,
    #[serde(serialize_with = "payout_status_name")]
    pub status: PayoutStatus,
    /// The method at the time of the run (a snapshot).
    pub method_kind: String,
    #[serde(skip)]
    pub method_details: String,
    /// Gapless, assigned when marked paid.
    pub number: Option<i64>,
    /// The payment's reference (mark paid).
    pub reference: Option<String>,
    /// The reason of a rejection or return.
    pub reason: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

impl Payout {
    /// The method details as lists show them.
    pub fn masked(&self) -> String {
        smmd_domain::affiliate::method::mask(&self.method_details)
    }
}

fn payout_status_name<S: serde::Serializer>(k: &PayoutStatus, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

/// Which payouts to list, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayoutQuery {
    pub status: Option<PayoutStatus>,
    pub user: Option<UserId>,
    pub run: Option<i64>,
    /// Ids below this (paging).
    pub before: Option<i64>,
    /// 1 to 10,000.
    pub limit: i64,
}

/// A transfer from the affiliate balance to the spending wallet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub user_id: UserId,
    pub request_id: String,
    pub amount: Money,
    pub created_at: i64,
    /// The same `request_id` was seen before: this is the stored result, nothing moved now.
    pub replayed: bool,
}

/// The program's figures over `[from, to)` (`docs/affiliates.md`, Surfaces: reports).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AffiliateReport {
    /// Commission on the referred orders placed in the window (as it stands after refunds).
    pub earned: Money,
    /// Credited to affiliate ledgers by approvals.
    pub approved: Money,
    /// Taken back by clawbacks.
    pub clawed_back: Money,
    /// Payouts marked paid.
    pub paid: Money,
    /// Payouts rejected as fraud (the money stays out).
    pub forfeited: Money,
    /// Moved to spending wallets.
    pub transferred: Money,
    /// Now: Σ of pending payouts and Σ of affiliate balances.
    pub pending_now: Money,
    pub balances_now: Money,
    /// The panel's net revenue: charges − refunds of every order in the window.
    pub net_revenue: Money,
    /// Program cost (approved − clawed back) as basis points of net revenue; `None` without
    /// revenue.
    pub cost_bp: Option<i64>,
}

/// The program's counts for `/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AffiliateFigures {
    /// (status, count) of commissions.
    pub commissions: Vec<(String, i64)>,
    /// (status, count, Σ amount) of payouts.
    pub payouts: Vec<(String, i64, Money)>,
    /// (reason, count) of skipped runs: `missed` (never started) or `late` (past the window).
    pub skipped_runs: Vec<(String, i64)>,
}

/// Why a payout use case did nothing.
#[derive(Debug, thiserror::Error)]
pub enum PayoutError {
    #[error("not found")]
    NotFound,
    /// A decision that does not apply to the payout's state.
    #[error(transparent)]
    NotAllowed(#[from] NotAllowed),
    /// A payout method was changed fewer than `cool_down_days` ago.
    #[error("the payout method was changed recently; it can be changed again after {until_ms}")]
    CoolingDown { until_ms: i64 },
    /// A transfer above the affiliate balance.
    #[error("the affiliate balance is {balance}, less than the transfer")]
    InsufficientBalance { balance: Money },
    /// A `request_id` already used for another amount.
    #[error("this request_id was already used for a transfer of {amount}")]
    RequestReused { amount: Money },
    /// The user has no affiliate account.
    #[error("no affiliate account")]
    NoAccount,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An admin's decision on commissions waiting for review (flagged referrals).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewDecision {
    /// Back to held: approved by `affiliates.release` at its date.
    Approve,
    /// Voided: never credited.
    Void,
}

/// The payout side of the affiliate program.
#[async_trait::async_trait]
pub trait PayoutStore: Send + Sync {
    /// Submits a payout method (details already validated by `MethodKind::validate`); an
    /// earlier submitted one is withdrawn. `CoolingDown` inside `cool_down_days` of the user's
    /// last submission.
    async fn submit_payout_method(
        &self,
        user: UserId,
        kind: MethodKind,
        details: &str,
        now: i64,
    ) -> Result<PayoutMethod, PayoutError>;

    /// Approves (replacing the approved one; the cool-down restarts) or rejects a submitted
    /// method, with the audit line. `NotFound` unless it is `submitted`.
    async fn decide_payout_method(
        &self,
        id: i64,
        approve: bool,
        reason: &str,
        now: i64,
        audit: Option<NewAudit>,
    ) -> Result<PayoutMethod, PayoutError>;

    /// `user`'s methods, newest first (at most 20).
    async fn payout_methods_of(&self, user: UserId) -> StoreResult<Vec<PayoutMethod>>;

    /// Methods waiting for review, oldest first.
    async fn submitted_payout_methods(&self, limit: i64) -> StoreResult<Vec<PayoutMethod>>;

    /// `user` as a payout run would see them now (the `returning` rule from the settings);
    /// `None` without an affiliate account.
    async fn payout_candidate(&self, user: UserId) -> StoreResult<Option<Candidate>>;

    /// One step of a payout run: creates the run (unique per (date, kind)) if needed and
    /// checks at most `limit` candidates (affiliates with a non-zero balance) with a user id
    /// above `after`, in one transaction (on SQLite fewer once it has run about 15 ms: the one
    /// writer is never held long; `cursor` and `more` tell where to go on): one item each, and for the eligible a pending payout
    /// of the whole balance with its `payout:<run>:<user>` ledger entry and a snapshot of the
    /// method. The step that finds no more candidates marks the run done. A run already done
    /// or skipped changes nothing; several instances and repeated triggers record each
    /// candidate once.
    async fn run_payouts(
        &self,
        run: &NewPayoutRun,
        after: i64,
        limit: i64,
        now: i64,
    ) -> StoreResult<RunStep>;

    /// Records a run that missed its window as skipped with `note` (balances untouched);
    /// returns the run as it stands (an existing run is left alone).
    async fn skip_payout_run(
        &self,
        run: &NewPayoutRun,
        note: &str,
        now: i64,
    ) -> StoreResult<PayoutRun>;

    /// Runs, newest scheduled first; of one kind or both.
    async fn payout_runs(&self, kind: Option<RunKind>, limit: i64) -> StoreResult<Vec<PayoutRun>>;

    async fn payout_run(&self, id: i64) -> StoreResult<Option<PayoutRun>>;

    /// A run's items by user id above `after`.
    async fn payout_run_items(&self, run: i64, after: i64, limit: i64)
        -> StoreResult<Vec<RunItem>>;

    async fn payouts(&self, q: &PayoutQuery) -> StoreResult<Vec<Payout>>;

    async fn payout(&self, id: i64) -> StoreResult<Option<Payout>>;

    /// An admin's decision (`smmd_domain::affiliate::Decision`), with the audit line in the
    /// same transaction. `text` is the reference (mark paid: a gapless number is assigned) or
    /// the reason. Money goes back (`payout_return:<id>`) for reject & return and returned.
    /// Marking paid a payout already paid with the same reference returns it unchanged
    /// (idempotent bulk mark-paid); any other decision on a payout not in its state is
    /// `NotAllowed` and writes nothing.
    async fn decide_payout(
        &self,
        id: i64,
        decision: Decision,
        text: &str,
        now: i64,
        audit: Option<NewAudit>,
    ) -> Result<Payout, PayoutError>;

    /// Moves `amount` from the affiliate balance (`transfer_out`) to the spending wallet
    /// (`affiliate_transfer`) in one transaction, at most the balance. Idempotent per
    /// (`user`, `request_id`): a replay returns the stored transfer (`replayed`).
    async fn transfer_to_wallet(
        &self,
        user: UserId,
        amount: Money,
        request_id: &str,
        now: i64,
    ) -> Result<(Transfer, Option<LedgerEntry>), PayoutError>;

    /// Puts an affiliate's payouts on hold (`on_hold` reason) or lifts it.
    async fn set_affiliate_hold(
        &self,
        user: UserId,
        on_hold: bool,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// Blocks an account (no log-in, `account_inactive` in runs) or unblocks it.
    async fn set_user_blocked(
        &self,
        user: UserId,
        blocked: bool,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// Commissions waiting for review (flagged referrals), oldest first.
    async fn commissions_in_review(&self, limit: i64) -> StoreResult<Vec<crate::Commission>>;

    /// Bulk decision on commissions in review; returns how many changed (others are left).
    async fn review_commissions(
        &self,
        ids: &[i64],
        decision: ReviewDecision,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<i64>;

    /// Flagged referrals, newest first.
    async fn flagged_referrals(&self, limit: i64) -> StoreResult<Vec<crate::Referral>>;

    /// Clears a flagged referral: its commissions in review go back to held.
    async fn clear_referral(
        &self,
        user: UserId,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// Flags a referral with a later signal (`same_payer`, `link_overlap`); a cleared or clean
    /// referral becomes flagged. `false` when `user` was not referred or already has the flag.
    async fn flag_referral(&self, user: UserId, flag: &str, now: i64) -> StoreResult<bool>;

    /// An admin's correction of an affiliate balance (`adjustment`, ±, may go negative), keyed
    /// `adjust:<key>`: `Conflict("affiliate_ledger.key")` when the key was used;
    /// `NoAccount` without an affiliate account.
    async fn adjust_affiliate_balance(
        &self,
        user: UserId,
        amount: Money,
        key: &str,
        reason: &str,
        now: i64,
        audit: Option<NewAudit>,
    ) -> Result<crate::AffiliateEntry, PayoutError>;

    /// Counts by status for `/metrics`.
    async fn affiliate_figures(&self) -> StoreResult<AffiliateFigures>;

    /// The program's figures over `[from, to)`.
    async fn affiliate_report(&self, from: i64, to: i64) -> StoreResult<AffiliateReport>;
}
