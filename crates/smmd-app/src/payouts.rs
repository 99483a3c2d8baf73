//! Affiliate payouts, the use cases (`docs/affiliates.md`, Payout runs, Decisions, Payout
//! methods and transfer, Surfaces): what blocks an affiliate's payout now, payout methods
//! (submitted with the current password, reviewed by admins), transfers to the spending
//! wallet, the admin's decisions on payouts (one by one, or marked paid from a CSV of
//! references), the review of flagged referrals and held commissions, holds, blocks, program
//! settings, the report, and a payout run started by hand. Every admin change is audited in
//! its own transaction. Money is `Money` (micro-units of the panel currency); times epoch ms.

use smmd_domain::affiliate::calendar::{self, RunKind};
use smmd_domain::affiliate::eligibility::{self, Blocker};
use smmd_domain::affiliate::method::MethodKind;
use smmd_domain::affiliate::{Decision, Settings};
use smmd_domain::{Money, UserId};
use smmd_store::{
    AffiliateEntry, AffiliateReport, LedgerEntry, Payout, PayoutMethod, PayoutQuery, PayoutRun,
    ReviewDecision, RunItem, Transfer, User,
};

use crate::audit::{self, Actor};
use crate::error::{ErrorCode, UseCaseError};
use crate::App;

/// Whether the affiliate would be paid by their next run, and what blocks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eligibility {
    /// The next run that can pay them and its instant (epoch ms).
    pub kind: RunKind,
    pub at: i64,
    /// Every reason that blocks a payout now, in check order (empty: they would be paid).
    pub blockers: Vec<Blocker>,
    /// What that run would pay (the whole balance).
    pub balance: Money,
}

/// The affiliate's eligibility now against their next run; `None` without an account.
///
/// Errors: the store's.
pub async fn eligibility_now(
    app: App<'_>,
    user: UserId,
) -> Result<Option<Eligibility>, UseCaseError> {
    let Some(c) = app.store.payout_candidate(user).await? else {
        return Ok(None);
    };
    let settings = app.store.affiliate_settings().await?;
    let now = app.now();
    let (kind, at) = calendar::next_run(now, c.returning);
    Ok(Some(Eligibility {
        kind,
        at,
        blockers: eligibility::blockers(kind, &c, &settings.payout_rules(), at),
        balance: c.balance,
    }))
}

/// Submits a payout method for review after checking the current password (a taken-over
/// session cannot redirect payouts). `kind`: `binance_pay`, `crypto`, `paypal`, `bank`,
/// `other`.
///
/// Errors: `invalid_credentials`, `invalid_payout_method`, `method_cooling_down` (one change
/// per `cool_down_days`).
pub async fn submit_method(
    app: App<'_>,
    user: &User,
    kind: &str,
    details: &str,
    password: &str,
) -> Result<PayoutMethod, UseCaseError> {
    let kind = MethodKind::parse(kind).ok_or_else(|| {
        UseCaseError::refused(
            ErrorCode::InvalidPayoutMethod,
            "kind is binance_pay, crypto, paypal, bank or other",
        )
    })?;
    let details = kind
        .validate(details)
        .map_err(|e| UseCaseError::refused(ErrorCode::InvalidPayoutMethod, e))?;
    if crate::accounts::check_credentials(app, &user.email, password)
        .await?
        .is_none_or(|u| u.id != user.id)
    {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidCredentials,
            "The current password is wrong",
        ));
    }
    crate::affiliates::account(app, user.id).await?;
    Ok(app
        .store
        .submit_payout_method(user.id, kind, &details, app.now())
        .await?)
}

/// The longest transfer request id.
pub const MAX_REQUEST_ID: usize = 100;

/// Moves `amount` from the affiliate balance to the spending wallet, once per `request_id`
/// (a replay returns the stored transfer).
///
/// Errors: `invalid_amount`, `invalid_request_key` (1–100 visible characters),
/// `insufficient_affiliate_balance`, `request_id_reused` (another amount), `not_found` (no
/// affiliate account).
pub async fn transfer(
    app: App<'_>,
    user: UserId,
    amount: Money,
    request_id: &str,
) -> Result<(Transfer, Option<LedgerEntry>), UseCaseError> {
    if !amount.is_positive() || amount > Money::MAX_AMOUNT {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidAmount,
            "The amount must be positive",
        ));
    }
    let id = request_id.trim();
    if id.is_empty() || id.len() > MAX_REQUEST_ID || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidRequestKey,
            "request_id has 1 to 100 visible ASCII characters",
        ));
    }
    Ok(app
        .store
        .transfer_to_wallet(user, amount, id, app.now())
        .await?)
}

/// `user`'s payouts, newest first.
///
/// Errors: the store's.
pub async fn my_payouts(app: App<'_>, user: UserId) -> Result<Vec<Payout>, UseCaseError> {
    Ok(app
        .store
        .payouts(&PayoutQuery {
            user: Some(user),
            limit: 100,
            ..PayoutQuery::default()
        })
        .await?)
}

/// Replaces the program settings (validated), audited.
///
/// Errors: `invalid_affiliate_settings`.
pub async fn update_settings(
    app: App<'_>,
    actor: &Actor,
    settings: &Settings,
) -> Result<Settings, UseCaseError> {
    settings
        .validate()
        .map_err(|e| UseCaseError::refused(ErrorCode::InvalidAffiliateSettings, e))?;
    let now = app.now();
    let detail = serde_json::to_string(settings).map_err(|e| anyhow::anyhow!(e))?;
    let entry = actor.audit("affiliates.settings", "affiliates".into(), detail, now);
    Ok(app
        .store
        .update_affiliate_settings(settings, now, Some(entry))
        .await?)
}

/// Approves or rejects a submitted payout method (a rejection needs a reason), audited.
///
/// Errors: `not_found` (no such submitted method), `reason_required`.
pub async fn decide_method(
    app: App<'_>,
    actor: &Actor,
    id: i64,
    approve: bool,
    reason: &str,
) -> Result<PayoutMethod, UseCaseError> {
    let reason = if approve {
        reason.trim()
    } else {
        audit::reason(reason)?
    };
    let now = app.now();
    let action = if approve { "approve" } else { "reject" };
    let entry = actor.audit(
        &format!("payout_method.{action}"),
        format!("payout_method:{id}"),
        reason.to_string(),
        now,
    );
    Ok(app
        .store
        .decide_payout_method(id, approve, reason, now, Some(entry))
        .await?)
}

/// The stored name of a decision: `mark_paid`, `reject_return`, `reject_fraud`, `returned`.
pub fn parse_decision(text: &str) -> Option<Decision> {
    [
        Decision::MarkPaid,
        Decision::RejectReturn,
        Decision::RejectFraud,
        Decision::Returned,
    ]
    .into_iter()
    .find(|d| d.as_str() == text)
}

/// An admin's decision on a payout, audited. `text` is the payment reference (mark paid) or
/// the reason (the others); reject as fraud needs `confirm`.
///
/// Errors: `not_found`, `payout_not_allowed` (the payout is not in the decision's state),
/// `reason_required` (empty or over 500 characters), `confirmation_required`.
pub async fn decide_payout(
    app: App<'_>,
    actor: &Actor,
    id: i64,
    decision: Decision,
    text: &str,
    confirm: bool,
) -> Result<Payout, UseCaseError> {
    let text = audit::reason(text)?;
    if decision == Decision::RejectFraud && !confirm {
        return Err(UseCaseError::refused(
            ErrorCode::ConfirmationRequired,
            "Rejecting as fraud keeps the money out: send confirm: true",
        ));
    }
    let now = app.now();
    let entry = actor.audit(
        &format!("payout.{}", decision.as_str()),
        format!("payout:{id}"),
        text.to_string(),
        now,
    );
    Ok(app
        .store
        .decide_payout(id, decision, text, now, Some(entry))
        .await?)
}

/// What a bulk mark-paid did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BulkPaid {
    /// Marked paid now.
    pub paid: Vec<i64>,
    /// Already paid with the same reference (the file was replayed): left alone.
    pub unchanged: Vec<i64>,
}

/// Marks payouts paid from `(payout id, reference)` rows (a mass-payment file). The whole file
/// is checked first: an unknown or repeated id, an empty reference, or a payout that is
/// neither pending nor paid with that same reference refuses it all, writing nothing; then
/// each row is one idempotent decision, so a replayed file changes nothing.
///
/// Errors: `invalid_csv` (with the first bad row), the decisions' own.
pub async fn mark_paid_bulk(
    app: App<'_>,
    actor: &Actor,
    rows: &[(i64, String)],
) -> Result<BulkPaid, UseCaseError> {
    let bad = |line: usize, why: String| {
        UseCaseError::refused(ErrorCode::InvalidCsv, format!("row {line}: {why}"))
    };
    if rows.is_empty() {
        return Err(bad(0, "no payouts".into()));
    }
    let mut seen = std::collections::HashSet::new();
    let mut plan = Vec::new();
    for (i, (id, reference)) in rows.iter().enumerate() {
        let line = i + 1;
        if !seen.insert(*id) {
            return Err(bad(line, format!("payout {id} is repeated")));
        }
        let reference = audit::reason(reference)
            .map_err(|_| bad(line, "the reference is empty or too long".into()))?;
        let p = app
            .store
            .payout(*id)
            .await?
            .ok_or_else(|| bad(line, format!("payout {id} does not exist")))?;
        let same = p.reference.as_deref() == Some(reference);
        match p.status {
            smmd_domain::affiliate::PayoutStatus::Pending => plan.push((*id, reference, false)),
            smmd_domain::affiliate::PayoutStatus::Paid if same => plan.push((*id, reference, true)),
            other => {
                return Err(bad(
                    line,
                    format!("payout {id} is {}, not pending", other.as_str()),
                ))
            }
        }
    }
    let mut out = BulkPaid::default();
    for (id, reference, already) in plan {
        if already {
            out.unchanged.push(id);
            continue;
        }
        decide_payout(app, actor, id, Decision::MarkPaid, reference, false).await?;
        out.paid.push(id);
    }
    Ok(out)
}

/// The largest mark-paid file read (bytes).
pub const MAX_CSV_BYTES: usize = 1 << 20;

/// The `(payout id, reference)` rows of a mark-paid CSV: a header row naming `payout_id` and
/// `reference` (any case, other columns ignored), then one row per payout.
///
/// Errors: `invalid_csv` naming the first bad row (over [`MAX_CSV_BYTES`], no such column,
/// an id that is not a number).
pub fn parse_mark_paid(text: &str) -> Result<Vec<(i64, String)>, UseCaseError> {
    let bad = |m: String| UseCaseError::refused(ErrorCode::InvalidCsv, m);
    if text.len() > MAX_CSV_BYTES {
        return Err(bad("the file is over 1 MiB".into()));
    }
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = r
        .headers()
        .map_err(|e| bad(format!("header: {e}")))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| bad(format!("no `{name}` column")))
    };
    let (id_col, ref_col) = (col("payout_id")?, col("reference")?);
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("row {}: {e}", i + 1)))?;
        let id = rec
            .get(id_col)
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| bad(format!("row {}: payout_id is not a number", i + 1)))?;
        rows.push((id, rec.get(ref_col).unwrap_or("").to_string()));
    }
    Ok(rows)
}

/// Pending payouts with their whole method details, oldest first (the mass-payment file).
///
/// Errors: the store's.
pub async fn pending(app: App<'_>) -> Result<Vec<Payout>, UseCaseError> {
    let mut all = app
        .store
        .payouts(&PayoutQuery {
            status: Some(smmd_domain::affiliate::PayoutStatus::Pending),
            limit: 10_000,
            ..PayoutQuery::default()
        })
        .await?;
    all.reverse();
    Ok(all)
}

/// A run's items, by user id.
///
/// Errors: `not_found` for an unknown run.
pub async fn run_with_items(
    app: App<'_>,
    id: i64,
) -> Result<(PayoutRun, Vec<RunItem>), UseCaseError> {
    let run = app
        .store
        .payout_run(id)
        .await?
        .ok_or(smmd_store::StoreError::NotFound)?;
    let items = app.store.payout_run_items(id, 0, 10_000).await?;
    Ok((run, items))
}

/// Starts (or resumes) today's payout run of `kind` by hand, named by today's date; audited.
/// A run of that date and kind that is done already changes nothing.
///
/// Errors: the store's.
pub async fn run_now(
    app: App<'_>,
    actor: &Actor,
    kind: RunKind,
) -> Result<smmd_jobs::affiliates::PayoutReport, UseCaseError> {
    let now = app.now();
    let report = smmd_jobs::affiliates::pay_out(app.store, kind, now, now)
        .await
        .map_err(|e| anyhow::anyhow!("payout run: {e}"))?;
    let entry = actor.audit(
        "payouts.run_now",
        format!("payouts:{}", kind.as_str()),
        format!("{} payouts, {}", report.created, report.paid_out),
        now,
    );
    app.store.record_audit(entry).await?;
    Ok(report)
}

/// An admin's decision on commissions in review: `approve` puts them back on hold (approved at
/// their date), otherwise they are voided. Returns how many changed.
///
/// Errors: `invalid_field` for an empty or too long list (at most 1,000 ids).
pub async fn review_commissions(
    app: App<'_>,
    actor: &Actor,
    ids: &[i64],
    approve: bool,
) -> Result<i64, UseCaseError> {
    if ids.is_empty() || ids.len() > 1_000 {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidField,
            "ids lists 1 to 1000 commissions",
        ));
    }
    let now = app.now();
    let decision = if approve {
        ReviewDecision::Approve
    } else {
        ReviewDecision::Void
    };
    let entry = actor.audit(
        if approve {
            "commissions.approve"
        } else {
            "commissions.void"
        },
        "commissions".into(),
        format!("{ids:?}"),
        now,
    );
    Ok(app
        .store
        .review_commissions(ids, decision, now, Some(entry))
        .await?)
}

/// Clears a flagged referral: its commissions in review go back on hold. Audited.
///
/// Errors: `not_found` when the referral is not flagged.
pub async fn clear_referral(app: App<'_>, actor: &Actor, user: UserId) -> Result<(), UseCaseError> {
    let now = app.now();
    let entry = actor.audit(
        "referral.clear",
        format!("user:{}", user.0),
        String::new(),
        now,
    );
    Ok(app.store.clear_referral(user, now, Some(entry)).await?)
}

/// Puts an affiliate's payouts on hold or lifts it. Audited.
///
/// Errors: `not_found` without an affiliate account.
pub async fn set_hold(
    app: App<'_>,
    actor: &Actor,
    user: UserId,
    on_hold: bool,
) -> Result<(), UseCaseError> {
    let entry = actor.audit(
        if on_hold {
            "affiliate.hold"
        } else {
            "affiliate.release_hold"
        },
        format!("user:{}", user.0),
        String::new(),
        app.now(),
    );
    Ok(app
        .store
        .set_affiliate_hold(user, on_hold, Some(entry))
        .await?)
}

/// An admin's correction of an affiliate balance, with a reason, once per `request_id`.
///
/// Errors: `invalid_amount`, `reason_required`, `not_found`, `conflict` (request id used).
pub async fn adjust(
    app: App<'_>,
    actor: &Actor,
    user: UserId,
    amount: Money,
    reason: &str,
    request_id: &str,
) -> Result<AffiliateEntry, UseCaseError> {
    let reason = audit::reason(reason)?;
    if amount == Money::ZERO {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidAmount,
            "The amount must not be zero",
        ));
    }
    let now = app.now();
    let entry = actor.audit(
        "affiliate.adjust",
        format!("user:{}", user.0),
        format!("{amount}: {reason}"),
        now,
    );
    Ok(app
        .store
        .adjust_affiliate_balance(user, amount, request_id, reason, now, Some(entry))
        .await?)
}

/// The program report over `[from, to)` (epoch ms).
///
/// Errors: `invalid_query` when `from >= to`.
pub async fn report(app: App<'_>, from: i64, to: i64) -> Result<AffiliateReport, UseCaseError> {
    if from >= to {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidQuery,
            "from must be before to",
        ));
    }
    Ok(app.store.affiliate_report(from, to).await?)
}
