//! The admin's affiliate REST (`/api/admin/affiliates/…`, `/api/admin/users/{id}/block`):
//! settings, flagged referrals, commissions in review, payout methods, runs, payouts with their
//! decisions, the pending CSV and the mark-paid file, holds, adjustments, the report.

use super::*;

/// The program's settings.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffiliateSettingsDto {
    enabled: bool,
    /// Commission in basis points of net spend (0–5000).
    rate_bp: i64,
    /// Commission only within this many months of sign-up (0 = always; up to 120).
    first_months: i64,
    /// Days a settled commission is held (0–365).
    hold_days: i64,
    /// Days after approval a refund claws back (0–3650).
    clawback_days: i64,
    /// The smallest balance a run pays (at least 0.01).
    min_payout: String,
    /// Days the referral cookie lasts (1–365).
    attribution_days: i64,
    /// Days a new method waits, and between method changes (0–90).
    cool_down_days: i64,
    /// `any_invoice` (any earlier payout) or `paid_payout` (an earlier paid one).
    returning_rule: String,
}

fn settings_dto(s: &Settings) -> AffiliateSettingsDto {
    AffiliateSettingsDto {
        enabled: s.enabled,
        rate_bp: s.rate_bp,
        first_months: s.first_months,
        hold_days: s.hold_days,
        clawback_days: s.clawback_days,
        min_payout: s.min_payout.to_string(),
        attribution_days: s.attribution_days,
        cool_down_days: s.cool_down_days,
        returning_rule: s.returning_rule.as_str().into(),
    }
}

/// The program's settings.
#[utoipa::path(get, path = "/api/admin/affiliates/settings", tag = "admin",
    responses((status = 200, body = AffiliateSettingsDto)))]
pub(super) async fn affiliate_settings(
    State(st): State<AppState>,
    AdminUser(_a): AdminUser,
) -> Result<Json<AffiliateSettingsDto>, AppError> {
    Ok(Json(settings_dto(&st.store.affiliate_settings().await?)))
}

/// Replaces the program's settings (apply to commissions created afterwards).
#[utoipa::path(put, path = "/api/admin/affiliates/settings", tag = "admin",
    request_body = AffiliateSettingsDto, responses((status = 200, body = AffiliateSettingsDto)))]
pub(super) async fn update_affiliate_settings(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(b): JsonBody<AffiliateSettingsDto>,
) -> Result<Json<AffiliateSettingsDto>, AppError> {
    let invalid = |m: &str| AppError::new(ErrorCode::InvalidAffiliateSettings, m.to_string());
    let settings = Settings {
        enabled: b.enabled,
        rate_bp: b.rate_bp,
        first_months: b.first_months,
        hold_days: b.hold_days,
        clawback_days: b.clawback_days,
        min_payout: Money::parse(b.min_payout.trim())
            .map_err(|_| invalid("min_payout is a decimal amount"))?,
        attribution_days: b.attribution_days,
        cool_down_days: b.cool_down_days,
        returning_rule: ReturningRule::parse(&b.returning_rule)
            .ok_or_else(|| invalid("returning_rule is any_invoice or paid_payout"))?,
    };
    let saved = payouts::update_settings(st.app(), &AppState::actor(&admin), &settings).await?;
    Ok(Json(settings_dto(&saved)))
}

/// A referral.
#[derive(Serialize, ToSchema)]
pub struct ReferralDto {
    user_id: i64,
    affiliate_id: i64,
    /// `clean`, `flagged`, `cleared`.
    status: String,
    /// `same_network`, `same_device`, `burst`, `same_payer`, `link_overlap`.
    flags: Vec<String>,
    ip: Option<String>,
    created_at: i64,
}

fn referral_dto(r: &Referral) -> ReferralDto {
    ReferralDto {
        user_id: r.user_id.0,
        affiliate_id: r.affiliate_id.0,
        status: r.status.as_str().into(),
        flags: r.flags.clone(),
        ip: r.ip.clone(),
        created_at: r.created_at,
    }
}

/// Flagged referrals, newest first: their commissions wait for review.
#[utoipa::path(get, path = "/api/admin/affiliates/referrals", tag = "admin",
    responses((status = 200, body = Vec<ReferralDto>)))]
pub(super) async fn flagged_referrals(
    State(st): State<AppState>,
    AdminUser(_a): AdminUser,
) -> Result<Json<Vec<ReferralDto>>, AppError> {
    let list = st.store.flagged_referrals(500).await?;
    Ok(Json(list.iter().map(referral_dto).collect()))
}

/// Clears a flagged referral: its commissions in review go back on hold.
#[utoipa::path(post, path = "/api/admin/affiliates/referrals/{user_id}/clear", tag = "admin",
    params(("user_id" = i64, Path, description = "The referred user")),
    responses((status = 204, description = "Cleared")))]
pub(super) async fn clear_referral(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(user_id): ApiPath<i64>,
) -> Result<axum::http::StatusCode, AppError> {
    payouts::clear_referral(st.app(), &AppState::actor(&admin), UserId(user_id)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Commissions in review (of flagged referrals), oldest first.
#[utoipa::path(get, path = "/api/admin/affiliates/commissions/review", tag = "admin",
    responses((status = 200, body = Vec<CommissionDto>)))]
pub(super) async fn commissions_in_review(
    State(st): State<AppState>,
    AdminUser(_a): AdminUser,
) -> Result<Json<Vec<CommissionDto>>, AppError> {
    let list = st.store.commissions_in_review(500).await?;
    Ok(Json(list.iter().map(commission_dto).collect()))
}

/// A bulk decision on commissions in review.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// 1 to 1000 commission ids.
    ids: Vec<i64>,
    /// `approve` (back on hold, approved at their date) or `void`.
    decision: String,
}

/// How many commissions changed (the others were not in review).
#[derive(Serialize, ToSchema)]
pub struct ReviewedDto {
    changed: i64,
}

/// Approves or voids commissions in review.
#[utoipa::path(post, path = "/api/admin/affiliates/commissions/review", tag = "admin",
    request_body = ReviewBody, responses((status = 200, body = ReviewedDto)))]
pub(super) async fn review_commissions(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(b): JsonBody<ReviewBody>,
) -> Result<Json<ReviewedDto>, AppError> {
    let approve = match b.decision.as_str() {
        "approve" => true,
        "void" => false,
        _ => {
            return Err(AppError::new(
                ErrorCode::InvalidField,
                "decision is approve or void",
            ))
        }
    };
    let changed =
        payouts::review_commissions(st.app(), &AppState::actor(&admin), &b.ids, approve).await?;
    Ok(Json(ReviewedDto { changed }))
}

/// Payout methods waiting for approval, oldest first (details masked).
#[utoipa::path(get, path = "/api/admin/affiliates/methods", tag = "admin",
    responses((status = 200, body = Vec<PayoutMethodDto>)))]
pub(super) async fn submitted_methods(
    State(st): State<AppState>,
    AdminUser(_a): AdminUser,
) -> Result<Json<Vec<PayoutMethodDto>>, AppError> {
    let list = st.store.submitted_payout_methods(500).await?;
    Ok(Json(list.iter().map(|m| method_dto(m, false)).collect()))
}

/// One submitted payout method with its whole details, for the admin deciding it.
#[utoipa::path(get, path = "/api/admin/affiliates/methods/{id}", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = PayoutMethodDto)))]
pub(super) async fn show_method(
    State(st): State<AppState>,
    AdminUser(_a): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PayoutMethodDto>, AppError> {
    let m = st
        .store
        .submitted_payout_methods(1_000)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| AppError::not_found("Payout method"))?;
    Ok(Json(method_dto(&m, true)))
}

/// An admin's decision on a submitted method.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodDecisionBody {
    approve: bool,
    /// Why (needed to reject; shown to the affiliate).
    #[serde(default)]
    reason: String,
}

/// Approves (replacing the approved one; the cool-down restarts) or rejects a method.
#[utoipa::path(post, path = "/api/admin/affiliates/methods/{id}", tag = "admin",
    params(("id" = i64, Path)), request_body = MethodDecisionBody,
    responses((status = 200, body = PayoutMethodDto)))]
pub(super) async fn decide_method(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<MethodDecisionBody>,
) -> Result<Json<PayoutMethodDto>, AppError> {
    let m = payouts::decide_method(st.app(), &AppState::actor(&admin), id, b.approve, &b.reason)
        .await?;
    Ok(Json(method_dto(&m, false)))
}

/// A payout run.
#[derive(Serialize, ToSchema)]
pub struct PayoutRunDto {
    id: i64,
    /// `all` or `returning`.
    kind: String,
    /// The scheduled date, `YYYY-MM-DD`.
    date: String,
    /// `running`, `done`, `skipped`.
    status: String,
    scheduled_at: i64,
    started_at: i64,
    finished_at: Option<i64>,
    candidates: i64,
    payouts: i64,
    total: String,
    note: String,
}

fn run_dto(r: &PayoutRun) -> PayoutRunDto {
    PayoutRunDto {
        id: r.id,
        kind: r.kind.as_str().into(),
        date: r.date.clone(),
        status: r.status.as_str().into(),
        scheduled_at: r.scheduled_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        candidates: r.candidates,
        payouts: r.payouts,
        total: r.total.to_string(),
        note: r.note.clone(),
    }
}

/// One candidate of a run.
#[derive(Serialize, ToSchema)]
pub struct RunItemDto {
    user_id: i64,
    /// The first failing reason; absent when paid.
    reason: Option<String>,
    /// The payout, or the balance when checked.
    amount: String,
    payout_id: Option<i64>,
}

/// A run with its items.
#[derive(Serialize, ToSchema)]
pub struct PayoutRunDetailDto {
    run: PayoutRunDto,
    items: Vec<RunItemDto>,
}

/// Payout runs, newest first.
#[utoipa::path(get, path = "/api/admin/affiliates/runs", tag = "admin",
    responses((status = 200, body = Vec<PayoutRunDto>)))]
pub(super) async fn list_runs(
    State(st): State<AppState>,
    AdminUser(_a): AdminUser,
) -> Result<Json<Vec<PayoutRunDto>>, AppError> {
    let list = st.store.payout_runs(None, 200).await?;
    Ok(Json(list.iter().map(run_dto).collect()))
}

/// A run with every item (candidate and reason).
#[utoipa::path(get, path = "/api/admin/affiliates/runs/{id}", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = PayoutRunDetailDto)))]
pub(super) async fn show_run(
    State(st): State<AppState>,
    AdminUser(_a): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PayoutRunDetailDto>, AppError> {
    let (run, items) = payouts::run_with_items(st.app(), id).await?;
    Ok(Json(PayoutRunDetailDto {
        run: run_dto(&run),
        items: items
            .iter()
            .map(|i| RunItemDto {
                user_id: i.user_id.0,
                reason: i.reason.clone(),
                amount: i.amount.to_string(),
                payout_id: i.payout_id,
            })
            .collect(),
    }))
}

/// Which run to start now.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunNowBody {
    /// `all` (every eligible affiliate) or `returning`.
    kind: String,
}

/// Starts today's run of a kind by hand (named by today's date; a done run changes nothing).
#[utoipa::path(post, path = "/api/admin/affiliates/runs", tag = "admin",
    request_body = RunNowBody, responses((status = 200, body = PayoutRunDto)))]
pub(super) async fn run_now(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(b): JsonBody<RunNowBody>,
) -> Result<Json<PayoutRunDto>, AppError> {
    let kind = RunKind::parse(&b.kind)
        .ok_or_else(|| AppError::new(ErrorCode::InvalidField, "kind is all or returning"))?;
    let r = payouts::run_now(st.app(), &AppState::actor(&admin), kind).await?;
    let run = r
        .run
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the run was not recorded")))?;
    Ok(Json(run_dto(&run)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PayoutsQuery {
    /// `pending`, `paid`, `rejected_returned`, `rejected_forfeited`, `returned`.
    status: Option<String>,
    user_id: Option<i64>,
    run_id: Option<i64>,
    before: Option<i64>,
    /// 1 to 1000 (default 100).
    limit: Option<i64>,
}

/// Payouts, newest first (method details masked).
#[utoipa::path(get, path = "/api/admin/affiliates/payouts", tag = "admin",
    params(PayoutsQuery), responses((status = 200, body = Vec<AffiliatePayoutDto>)))]
pub(super) async fn list_payouts(
    State(st): State<AppState>,
    AdminUser(_a): AdminUser,
    ApiQuery(q): ApiQuery<PayoutsQuery>,
) -> Result<Json<Vec<AffiliatePayoutDto>>, AppError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(
            PayoutStatus::parse(s)
                .ok_or_else(|| AppError::new(ErrorCode::InvalidQuery, "unknown payout status"))?,
        ),
    };
    let list = st
        .store
        .payouts(&PayoutQuery {
            status,
            user: q.user_id.map(UserId),
            run: q.run_id,
            before: q.before,
            limit: clamp_limit(q.limit, 100, 1_000),
        })
        .await?;
    Ok(Json(list.iter().map(payout_dto).collect()))
}

/// The pending payouts as CSV for mass payment: `payout_id, user_id, email, method, details,
/// amount, currency, reference` (the last column left empty for the payer to fill and send
/// back to `mark-paid`).
#[utoipa::path(get, path = "/api/admin/affiliates/payouts/pending.csv", tag = "admin",
    responses((status = 200, description = "Pending payouts as CSV", content_type = "text/csv", body = String)))]
pub(super) async fn pending_csv(
    State(st): State<AppState>,
    AdminUser(_a): AdminUser,
) -> Result<Response, AppError> {
    let list = payouts::pending(st.app()).await?;
    let safe = crate::http::spreadsheet_safe;
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| AppError::internal(anyhow::anyhow!("csv: {e}"));
    w.write_record([
        "payout_id",
        "user_id",
        "email",
        "method",
        "details",
        "amount",
        "currency",
        "reference",
    ])
    .map_err(fail)?;
    for p in &list {
        let email = st
            .store
            .user(p.user_id)
            .await?
            .map(|u| u.email)
            .unwrap_or_default();
        w.write_record([
            p.id.to_string(),
            p.user_id.0.to_string(),
            safe(email),
            p.method_kind.clone(),
            safe(p.method_details.clone()),
            p.amount.to_string(),
            st.config.panel.currency.clone(),
            String::new(),
        ])
        .map_err(fail)?;
    }
    let body = w
        .into_inner()
        .map_err(|e| AppError::internal(anyhow::anyhow!("csv: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"pending-payouts.csv\"".to_string(),
            ),
        ],
        body,
    )
        .into_response())
}

/// A mass-payment result file.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkPaidBody {
    /// CSV with a header row and the columns `payout_id` and `reference` (others ignored), at
    /// most 1 MiB. The whole file is checked before anything is written.
    csv: String,
}

/// What a mark-paid file did.
#[derive(Serialize, ToSchema)]
pub struct MarkPaidDto {
    /// Marked paid now.
    paid: Vec<i64>,
    /// Already paid with the same reference (the file was sent before).
    unchanged: Vec<i64>,
}

/// Marks payouts paid from a CSV of references; idempotent per payout (a replayed file
/// changes nothing), and a file with an unknown or repeated id writes nothing.
#[utoipa::path(post, path = "/api/admin/affiliates/payouts/mark-paid", tag = "admin",
    request_body = MarkPaidBody, responses((status = 200, body = MarkPaidDto)))]
pub(super) async fn mark_paid(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(b): JsonBody<MarkPaidBody>,
) -> Result<Json<MarkPaidDto>, AppError> {
    let rows = payouts::parse_mark_paid(&b.csv)?;
    let done = payouts::mark_paid_bulk(st.app(), &AppState::actor(&admin), &rows).await?;
    Ok(Json(MarkPaidDto {
        paid: done.paid,
        unchanged: done.unchanged,
    }))
}

/// An admin's decision on a payout.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutDecisionBody {
    /// `mark_paid` (pending), `reject_return` (pending: the amount goes back),
    /// `reject_fraud` (pending: the money stays out; needs `confirm`), `returned` (paid,
    /// bounced: the amount goes back).
    decision: String,
    /// The payment reference (mark paid) or the reason (the others), 1–500 characters.
    text: String,
    #[serde(default)]
    confirm: bool,
}

/// Decides a payout.
#[utoipa::path(post, path = "/api/admin/affiliates/payouts/{id}", tag = "admin",
    params(("id" = i64, Path)), request_body = PayoutDecisionBody,
    responses((status = 200, body = AffiliatePayoutDto)))]
pub(super) async fn decide_payout(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<PayoutDecisionBody>,
) -> Result<Json<AffiliatePayoutDto>, AppError> {
    let decision = payouts::parse_decision(&b.decision).ok_or_else(|| {
        AppError::new(
            ErrorCode::InvalidField,
            "decision is mark_paid, reject_return, reject_fraud or returned",
        )
    })?;
    let p = payouts::decide_payout(
        st.app(),
        &AppState::actor(&admin),
        id,
        decision,
        &b.text,
        b.confirm,
    )
    .await?;
    Ok(Json(payout_dto(&p)))
}

/// Payouts on hold or not.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    on_hold: bool,
}

/// Puts an affiliate's payouts on hold (runs record `on_hold`) or lifts it.
#[utoipa::path(post, path = "/api/admin/affiliates/users/{user_id}/hold", tag = "admin",
    params(("user_id" = i64, Path)), request_body = HoldBody,
    responses((status = 204, description = "Done")))]
pub(super) async fn set_hold(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(user_id): ApiPath<i64>,
    JsonBody(b): JsonBody<HoldBody>,
) -> Result<axum::http::StatusCode, AppError> {
    payouts::set_hold(
        st.app(),
        &AppState::actor(&admin),
        UserId(user_id),
        b.on_hold,
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// An admin's correction of an affiliate balance.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AffiliateAdjustBody {
    /// Signed decimal amount.
    amount: String,
    reason: String,
    /// 1–100 characters; the same id twice is refused (`conflict`).
    request_id: String,
}

/// One affiliate ledger entry.
#[derive(Serialize, ToSchema)]
pub struct AffiliateEntryDto {
    id: i64,
    user_id: i64,
    amount: String,
    balance_after: String,
    kind: String,
    reason: String,
    created_at: i64,
}

/// Corrects an affiliate balance (an `adjustment` entry; the balance may go negative).
#[utoipa::path(post, path = "/api/admin/affiliates/users/{user_id}/adjust", tag = "admin",
    params(("user_id" = i64, Path)), request_body = AffiliateAdjustBody,
    responses((status = 200, body = AffiliateEntryDto)))]
pub(super) async fn adjust(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(user_id): ApiPath<i64>,
    JsonBody(b): JsonBody<AffiliateAdjustBody>,
) -> Result<Json<AffiliateEntryDto>, AppError> {
    let amount = money("amount", &b.amount)?;
    let id = b.request_id.trim();
    if id.is_empty() || id.len() > 100 {
        return Err(AppError::new(
            ErrorCode::InvalidRequestKey,
            "request_id has 1 to 100 characters",
        ));
    }
    let e = payouts::adjust(
        st.app(),
        &AppState::actor(&admin),
        UserId(user_id),
        amount,
        &b.reason,
        id,
    )
    .await?;
    Ok(Json(AffiliateEntryDto {
        id: e.id,
        user_id: e.user_id.0,
        amount: e.amount.to_string(),
        balance_after: e.balance_after.to_string(),
        kind: e.kind.as_str().into(),
        reason: e.reason,
        created_at: e.created_at,
    }))
}

/// Blocked or not.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockBody {
    blocked: bool,
}

/// Blocks an account (its sessions end, it cannot log in or use its API key, runs record
/// `account_inactive`) or unblocks it.
#[utoipa::path(post, path = "/api/admin/users/{user_id}/block", tag = "admin",
    params(("user_id" = i64, Path)), request_body = BlockBody,
    responses((status = 204, description = "Done")))]
pub(super) async fn block_user(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(user_id): ApiPath<i64>,
    JsonBody(b): JsonBody<BlockBody>,
) -> Result<axum::http::StatusCode, AppError> {
    smmd_app::people::set_blocked(
        st.app(),
        &AppState::actor(&admin),
        UserId(user_id),
        b.blocked,
    )
    .await?;
    // The key stops at once here (other instances drop it within their cache's lifetime).
    st.api_keys.invalidate_user(UserId(user_id));
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Epoch ms, inclusive (default: 30 days ago).
    from: Option<i64>,
    /// Epoch ms, exclusive (default: just after now).
    to: Option<i64>,
}

/// The program's figures over a window.
#[derive(Serialize, ToSchema)]
pub struct AffiliateReportDto {
    from: i64,
    to: i64,
    earned: String,
    approved: String,
    clawed_back: String,
    paid: String,
    forfeited: String,
    transferred: String,
    pending_now: String,
    balances_now: String,
    net_revenue: String,
    /// (approved − clawed back) as basis points of net revenue; absent without revenue.
    cost_bp: Option<i64>,
}

/// Earned, approved, clawed back, paid, forfeited, transferred; the program's cost as a share
/// of net revenue.
#[utoipa::path(get, path = "/api/admin/affiliates/report", tag = "admin",
    params(ReportQuery), responses((status = 200, body = AffiliateReportDto)))]
pub(super) async fn report(
    State(st): State<AppState>,
    AdminUser(_a): AdminUser,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<AffiliateReportDto>, AppError> {
    let now = st.clock.now_ms();
    let to = q.to.unwrap_or(now.saturating_add(1));
    let from = q.from.unwrap_or(to.saturating_sub(30 * 86_400_000));
    let r = payouts::report(st.app(), from, to).await?;
    Ok(Json(AffiliateReportDto {
        from,
        to,
        earned: r.earned.to_string(),
        approved: r.approved.to_string(),
        clawed_back: r.clawed_back.to_string(),
        paid: r.paid.to_string(),
        forfeited: r.forfeited.to_string(),
        transferred: r.transferred.to_string(),
        pending_now: r.pending_now.to_string(),
        balances_now: r.balances_now.to_string(),
        net_revenue: r.net_revenue.to_string(),
        cost_bp: r.cost_bp,
    }))
}
