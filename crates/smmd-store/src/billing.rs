//! Hourly billing of rentals (`docs/billing.md`): the settings, billing pauses, plans, rentals
//! with their append-only event log, one row per billed (rental, hour), and the reconciling
//! transaction the `billing.rentals` job runs per rental. The rules (the charge `c(k)`, which
//! hours are billable, the state machine, the dunning delays) are `smmd_domain::billing`; the
//! methods here apply them inside one transaction each. Money is micro-units of the panel
//! currency; times are epoch ms (UTC); hours are the epoch ms of their start.

use serde::{Deserialize, Serialize};
use smmd_domain::billing::charge::CapMode;
use smmd_domain::billing::rental::{Dunning, IllegalTransition, RentalState};
use smmd_domain::{Money, UserId};

use crate::{NewAudit, StoreError, StoreResult};

/// The billing settings (one row), with the open pause if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BillingSettings {
    /// Off on a new panel: nothing can be rented until the owner enables it. Disabling opens
    /// a billing pause (its hours are waived), enabling closes it.
    pub enabled: bool,
    /// D of the `h730` cap mode (672..=744, default 730), for lines that start after a change.
    pub hours_per_month: i64,
    /// The cap mode a new plan gets when none is given.
    pub default_cap_mode: CapMode,
    /// Grace → suspension (hours after the first due hour) → termination (days suspended).
    pub dunning: Dunning,
    /// The runway warning thresholds, hours (default 72 and 24; 0 = off).
    pub warn_hours: [i64; 2],
    /// Days after a month's end before its statements become final (default 2).
    pub statement_grace_days: i64,
    /// Orders must leave this many hours of the user's rent on the wallet (0 = off).
    pub rent_reserve_hours: i64,
    /// The billing pause in force (`None` = billing runs).
    pub pause: Option<BillingPause>,
    /// The hour (exclusive) up to which the last run reconciled every rental.
    pub watermark: Option<i64>,
    pub last_run_at: Option<i64>,
    pub updated_at: i64,
}

/// An interval whose hours are waived: an hour is waived when its start lies in
/// `[from_at, until_at)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BillingPause {
    pub id: i64,
    pub from_at: i64,
    /// `None` while the pause is open.
    pub until_at: Option<i64>,
    /// Why (`admin` with a note, or `disabled`).
    pub reason: String,
    pub actor_id: Option<UserId>,
}

/// An edit of the billing settings; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct BillingSettingsPatch {
    pub enabled: Option<bool>,
    pub hours_per_month: Option<i64>,
    pub default_cap_mode: Option<CapMode>,
    pub suspend_after_hours: Option<i64>,
    pub terminate_after_days: Option<i64>,
    pub warn_hours: Option<[i64; 2]>,
    pub statement_grace_days: Option<i64>,
    pub rent_reserve_hours: Option<i64>,
}

/// What a renter gets from a plan. The billing engine never looks inside: it stores the name
/// and the settings (JSON) and the entitlement's own code reads them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub id: i64,
    /// Unique short name (`reseller-pro`).
    pub code: String,
    pub name: String,
    pub description: String,
    /// The monthly price P (> 0), micro-units.
    pub price: Money,
    pub cap_mode: CapMode,
    /// Paid once with the first hour (≥ 0).
    pub setup_fee: Money,
    /// `reseller_tier` (or, later, `child_panel`).
    pub entitlement: String,
    /// The entitlement's settings, a JSON object.
    pub settings: String,
    /// Deactivated plans cannot be rented; rentals of them go on.
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new plan, validated by the caller (`smmd_app::billing`).
#[derive(Clone, Debug)]
pub struct NewPlan {
    pub code: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub cap_mode: CapMode,
    pub setup_fee: Money,
    pub entitlement: String,
    pub settings: String,
}

/// An edit of a plan; `None` leaves a field. A price or cap mode change reaches existing
/// rentals from their next calendar month (a month's line keeps the P and D it started with).
#[derive(Clone, Debug, Default)]
pub struct PlanPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Money>,
    pub cap_mode: Option<CapMode>,
    pub setup_fee: Option<Money>,
    pub settings: Option<String>,
    pub active: Option<bool>,
}

/// One user's instance of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rental {
    pub id: i64,
    pub user_id: UserId,
    pub plan_id: i64,
    pub state: RentalState,
    /// Every hour before this one (epoch ms, exclusive) has been reconciled.
    pub billed_through: i64,
    /// The oldest unpaid hour, while dues are outstanding.
    pub first_due_hour: Option<i64>,
    /// When the current state began (ms).
    pub state_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One line of a rental's append-only log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RentalLogEntry {
    pub id: i64,
    pub rental_id: i64,
    /// The instant it took effect (ms); billing reads these, never when a job ran.
    pub at: i64,
    /// `activated`, `past_due`, `suspended`, `resumed`, `terminated`, `canceled`,
    /// `plan_changed`, `credited`, `written_off`.
    pub event: String,
    /// The state after it.
    pub state: RentalState,
    /// The plan after it.
    pub plan_id: i64,
    pub detail: String,
    pub actor_id: Option<UserId>,
}

/// What became of a billed hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HourStatus {
    /// Paid by its `rent` ledger entry (none when the amount is 0: the month's cap).
    Paid,
    /// Not paid yet (the wallet was short).
    Due,
    /// In a billing pause: recorded, amount 0.
    Waived,
    /// Due when the rental was terminated: never collected.
    WrittenOff,
}

impl HourStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HourStatus::Paid => "paid",
            HourStatus::Due => "due",
            HourStatus::Waived => "waived",
            HourStatus::WrittenOff => "written_off",
        }
    }

    pub fn parse(text: &str) -> Option<HourStatus> {
        [
            HourStatus::Paid,
            HourStatus::Due,
            HourStatus::Waived,
            HourStatus::WrittenOff,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One billed (rental, hour).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RentalHour {
    pub rental_id: i64,
    /// The hour's start (ms).
    pub hour: i64,
    /// The start of its UTC month (ms).
    pub month: i64,
    pub plan_id: i64,
    /// Its place in the (rental, month, plan) line; 0 when waived.
    pub k: i64,
    /// The line's monthly price P and divisor D.
    pub price: Money,
    pub divisor: i64,
    /// c(k).
    pub amount: Money,
    pub status: HourStatus,
    pub paid_at: Option<i64>,
    /// Refunded by an admin's credit (`rent_credit`), or zero.
    pub credited: Money,
}

/// What an admin or the renter does to a rental.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RentalAction {
    /// The renter (or an admin) ends it now; the current hour stays paid.
    Cancel,
    /// An admin suspends it; only an admin lifts it.
    Suspend,
    /// An admin lifts an admin suspension (to `grace` when dues remain).
    Unsuspend,
    /// An admin ends it; dues are written off.
    Terminate,
    /// Moves it to another plan: a new line (k = 1, its own cap) from the next hour.
    ChangePlan { plan_id: i64 },
}

/// What one reconciliation (a rental, a user's dues, or a whole run) did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BillReport {
    pub rentals: i64,
    /// New hour rows by what became of them.
    pub hours_paid: i64,
    pub hours_due: i64,
    pub hours_waived: i64,
    /// Charged for new hours and collected for old dues (micro-units).
    pub amount: Money,
    /// Due hours paid later (collection), and their amount (part of `amount`).
    pub hours_collected: i64,
    pub collected: Money,
    pub suspended: i64,
    pub terminated: i64,
    pub resumed: i64,
    /// `rental.runway_low` warnings written.
    pub runway_warnings: i64,
    /// Statements drafted (last month's) and made final by the run.
    pub statements_drafted: i64,
    pub statements_finalized: i64,
    /// The longest write transaction of the work (µs): what held the SQLite writer longest
    /// at a time.
    pub longest_tx_us: i64,
}

impl BillReport {
    /// Adds another report's figures to this one.
    pub fn add(&mut self, o: &BillReport) {
        self.rentals += o.rentals;
        self.hours_paid += o.hours_paid;
        self.hours_due += o.hours_due;
        self.hours_waived += o.hours_waived;
        self.amount = self.amount.saturating_add(o.amount);
        self.hours_collected += o.hours_collected;
        self.collected = self.collected.saturating_add(o.collected);
        self.suspended += o.suspended;
        self.terminated += o.terminated;
        self.resumed += o.resumed;
        self.runway_warnings += o.runway_warnings;
        self.statements_drafted += o.statements_drafted;
        self.statements_finalized += o.statements_finalized;
        self.longest_tx_us = self.longest_tx_us.max(o.longest_tx_us);
    }
}

/// `GET /api/admin/billing/status`: where billing stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BillingStatus {
    pub settings: BillingSettings,
    /// Rentals per state (`active`, `grace`, …; suspended ones by reason: `suspended:admin`).
    pub rentals_by_state: Vec<(String, i64)>,
    /// Unpaid hours and their sum, and the oldest of them.
    pub hours_due: i64,
    pub due_total: Money,
    pub oldest_due_hour: Option<i64>,
}

/// A statement's state: a `draft` is remade until it is `final`; a final one is never edited,
/// only `void`ed (and a new draft replaces it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementStatus {
    Draft,
    Final,
    Void,
}

impl StatementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StatementStatus::Draft => "draft",
            StatementStatus::Final => "final",
            StatementStatus::Void => "void",
        }
    }

    pub fn parse(text: &str) -> Option<StatementStatus> {
        [
            StatementStatus::Draft,
            StatementStatus::Final,
            StatementStatus::Void,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One line of a statement: a (rental, plan) of the month. Amounts in micro-units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    pub rental_id: i64,
    pub plan_id: i64,
    pub plan_name: String,
    /// Hours charged by the money rule (paid, due or written off), free ones included.
    pub hours_billed: i64,
    /// Of those, hours past the month's cap (charged 0).
    pub free_hours: i64,
    /// Hours inside a billing pause (recorded, not charged).
    pub waived_hours: i64,
    pub paid: Money,
    pub due: Money,
    pub written_off: Money,
    pub credited: Money,
    /// The rental's setup fee when it began this month (a `rent` entry too).
    pub setup_fee: Money,
}

/// A user's monthly statement (`docs/billing.md`, Statements): `charged` is the month's `rent`
/// entries (paid hours and setup fees), `credited` its `rent_credit`s, `due` what is unpaid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub id: i64,
    pub user_id: UserId,
    /// The month's first instant (epoch ms, UTC).
    pub month: i64,
    pub status: StatementStatus,
    /// `ST-YYYY-NNNNNN`, once final.
    pub number: Option<String>,
    pub lines: Vec<StatementLine>,
    pub charged: Money,
    pub credited: Money,
    pub due: Money,
    /// The voided statement this one re-issues.
    pub replaces_id: Option<i64>,
    pub void_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finalized_at: Option<i64>,
    pub voided_at: Option<i64>,
}

/// Why a billing operation was refused. Each writes nothing.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error(
        "Hourly billing is disabled: the owner has to enable it before anything can be rented"
    )]
    Disabled,
    #[error("Billing is paused: nothing can be rented until it resumes")]
    Paused,
    #[error("no such plan")]
    PlanNotFound,
    #[error("This plan is no longer offered")]
    PlanInactive,
    #[error("a plan with this code already exists")]
    DuplicateCode,
    #[error("no such rental")]
    RentalNotFound,
    #[error("Not enough funds: renting needs {needed} (the first hour and any setup fee)")]
    InsufficientFunds { needed: Money },
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("The rental is already on this plan")]
    SamePlan,
    #[error("Hour {0} was never billed, or was not paid, so there is nothing to credit")]
    NotBilled(i64),
    #[error("no such statement")]
    StatementNotFound,
    #[error("Statement {0} is final: it is never edited, only voided and re-issued")]
    StatementFinal(String),
    #[error("Only a final statement can be voided (this one is {0})")]
    StatementNotFinal(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Plans, rentals and the billing engine's transactions.
#[async_trait::async_trait]
pub trait BillingStore: Send + Sync {
    /// The settings with the open pause.
    async fn billing_settings(&self) -> StoreResult<BillingSettings>;

    /// Edits the settings (validated by the caller), audited. Disabling opens a pause
    /// (`disabled`), enabling closes the open one.
    async fn update_billing_settings(
        &self,
        patch: &BillingSettingsPatch,
        actor: Option<UserId>,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<BillingSettings>;

    /// Opens (`paused`) or closes a billing pause, audited. Opening when one is open, or
    /// closing when none is, changes nothing.
    async fn set_billing_pause(
        &self,
        paused: bool,
        reason: &str,
        actor: Option<UserId>,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<BillingSettings>;

    /// Every pause, oldest first.
    async fn billing_pauses(&self) -> StoreResult<Vec<BillingPause>>;

    /// Adds a plan, audited. `DuplicateCode` if the code is taken.
    async fn create_plan(
        &self,
        plan: &NewPlan,
        now: i64,
        audit: Option<NewAudit>,
    ) -> Result<Plan, BillingError>;

    /// Edits a plan, audited.
    async fn update_plan(
        &self,
        id: i64,
        patch: &PlanPatch,
        now: i64,
        audit: Option<NewAudit>,
    ) -> Result<Plan, BillingError>;

    /// Plans by id; only active ones unless `all`.
    async fn plans(&self, all: bool) -> StoreResult<Vec<Plan>>;

    /// Rents `plan` for `user` at `now`: in one transaction the rental, its `activated` event,
    /// the setup fee and the current hour paid (billing is in advance). Refused with nothing
    /// written when billing is disabled or paused, the plan is inactive, or the wallet cannot
    /// pay (`InsufficientFunds` with what is needed).
    async fn rent(&self, user: UserId, plan_id: i64, now: i64) -> Result<Rental, BillingError>;

    /// Applies an action at `now` after reconciling the rental to `now`. `owner`: the renter
    /// acting on their own rental (only `Cancel`, only their own: another's is `RentalNotFound`);
    /// `None` is an admin.
    async fn rental_action(
        &self,
        id: i64,
        action: RentalAction,
        owner: Option<UserId>,
        actor: Option<UserId>,
        now: i64,
        audit: Option<NewAudit>,
    ) -> Result<Rental, BillingError>;

    /// Reconciles all of a user's rentals to `now` in one transaction: dues collected oldest
    /// first, the dunning ladder at its exact instants, one row per missing billable hour up
    /// to the current one (paid, due or waived), hours paid in the order a punctual hourly
    /// run would have paid them. Idempotent: any number of calls, instances, schedules or
    /// crashes converge on the same rows and ledger. What the job runs per user, and what a
    /// deposit runs before (bill with the old balance) and after (collect) its credit.
    async fn bill_user(&self, user: UserId, now: i64) -> StoreResult<BillReport>;

    /// [`bill_user`](Self::bill_user) for several users in as few short transactions as fit
    /// a time budget (a new one starts after ~20 ms), so a run spends fewer commits and
    /// settings reads per user. An error rolls back the transaction it happened in; the
    /// caller then bills those users one by one.
    async fn bill_users(&self, users: &[UserId], now: i64) -> StoreResult<BillReport>;

    /// Users with rentals the engine has work on, above `after`, ascending.
    async fn users_to_bill(&self, after: UserId, limit: i64) -> StoreResult<Vec<UserId>>;

    /// Records that a run reconciled every rental up to `watermark` (an hour start, exclusive).
    async fn record_billing_run(&self, watermark: i64, now: i64) -> StoreResult<()>;

    /// Refunds paid hours of a rental (`rent_credit`, key per hour: crediting an hour twice
    /// changes nothing), audited. `NotBilled` names an hour that has no paid row.
    async fn credit_rental_hours(
        &self,
        id: i64,
        hours: &[i64],
        actor: Option<UserId>,
        now: i64,
        audit: Option<NewAudit>,
    ) -> Result<Money, BillingError>;

    async fn rental(&self, id: i64) -> StoreResult<Option<Rental>>;

    /// Rentals newest first: of one user and/or in one state.
    async fn rentals(
        &self,
        user: Option<UserId>,
        state: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<Rental>>;

    /// A rental's hour rows in `[from, until)`, oldest first, at most `limit`.
    async fn rental_hours(
        &self,
        id: i64,
        from: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<RentalHour>>;

    /// A rental's log, oldest first.
    async fn rental_log(&self, id: i64) -> StoreResult<Vec<RentalLogEntry>>;

    async fn billing_status(&self) -> StoreResult<BillingStatus>;

    /// The `(entitlement, settings JSON)` of the user's live (`active` or `grace`) rentals:
    /// what their plans grant now.
    async fn live_entitlements(&self, user: UserId) -> StoreResult<Vec<(String, String)>>;

    /// The rent reserve `user` must keep after an order: `Some((reserve, hours, balance))`
    /// when `rent_reserve_hours` is set and the user has running rentals — `reserve` is
    /// `hours` × the next hour's charge of those rentals; `None` otherwise (one cheap read).
    async fn rent_reserve(&self, user: UserId) -> StoreResult<Option<(Money, i64, Money)>>;

    /// Makes the drafts of the month starting at `month` (epoch ms) for up to `limit` users
    /// with billed hours in it and no live statement; returns how many were made. When none
    /// is left, the month is recorded as the last one drafted, and later calls for it return 0
    /// at once (the job drafts only last month; any other month is searched in full).
    async fn draft_statements(&self, month: i64, now: i64, limit: i64) -> StoreResult<i64>;

    /// Finalises up to `limit` drafts of months that ended at least `statement_grace_days`
    /// before `now`: each remade, numbered (gapless per year) and made final in its own
    /// transaction. Returns how many. Safe to run on several instances at once.
    async fn finalize_statements(&self, now: i64, limit: i64) -> StoreResult<i64>;

    /// Remakes a draft from the hours as they are now; a final or void one is refused.
    async fn refresh_statement(&self, id: i64, now: i64) -> Result<Statement, BillingError>;

    /// Voids a final statement and makes the draft that replaces it, audited.
    async fn void_statement(
        &self,
        id: i64,
        reason: &str,
        now: i64,
        audit: Option<NewAudit>,
    ) -> Result<Statement, BillingError>;

    async fn statement(&self, id: i64) -> StoreResult<Option<Statement>>;

    /// Statements, newest month first (of one user, or everyone's).
    async fn statements(&self, user: Option<UserId>, limit: i64) -> StoreResult<Vec<Statement>>;
}
