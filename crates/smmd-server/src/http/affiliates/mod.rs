//! REST for the affiliate program (`docs/affiliates.md`, Surfaces): the affiliate's own
//! (`/api/affiliate…`: overview with eligibility now, commissions, payouts, payout method,
//! transfer to the wallet) and the admin's (`/api/admin/affiliates/…`: settings, flagged
//! referrals, commissions in review, payout methods, runs with their items, payouts with their
//! decisions, the pending CSV and a bulk mark-paid, holds, blocks, adjustments, the report).
//! Thin adapters over `smmd_app::payouts` and `smmd_app::affiliates`; money is a decimal
//! string in the panel currency; times are epoch ms (UTC).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_app::payouts;
use smmd_domain::affiliate::calendar::{Date, RunKind};
use smmd_domain::affiliate::eligibility::ReturningRule;
use smmd_domain::affiliate::{PayoutStatus, Settings};
use smmd_domain::{Money, UserId};
use smmd_store::{Commission, Payout, PayoutMethod, PayoutQuery, PayoutRun, Referral};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{clamp_limit, ApiPath, ApiQuery, JsonBody};
use crate::auth::{AdminUser, AuthUser};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

mod admin;

use admin::*;

pub fn router() -> Router<AppState> {
    const A: &str = "/api/admin/affiliates";
    Router::new()
        .route("/api/affiliate", get(my_affiliate))
        .route("/api/affiliate/commissions", get(my_commissions))
        .route("/api/affiliate/payouts", get(my_payouts))
        .route("/api/affiliate/method", post(submit_method))
        .route("/api/affiliate/transfer", post(transfer))
        .route(
            &format!("{A}/settings"),
            get(admin::affiliate_settings).put(admin::update_affiliate_settings),
        )
        .route(&format!("{A}/referrals"), get(admin::flagged_referrals))
        .route(
            &format!("{A}/referrals/{{user_id}}/clear"),
            post(admin::clear_referral),
        )
        .route(
            &format!("{A}/commissions/review"),
            get(admin::commissions_in_review).post(admin::review_commissions),
        )
        .route(&format!("{A}/methods"), get(admin::submitted_methods))
        .route(
            &format!("{A}/methods/{{id}}"),
            get(admin::show_method).post(admin::decide_method),
        )
        .route(
            &format!("{A}/runs"),
            get(admin::list_runs).post(admin::run_now),
        )
        .route(&format!("{A}/runs/{{id}}"), get(admin::show_run))
        .route(&format!("{A}/payouts"), get(admin::list_payouts))
        .route(&format!("{A}/payouts/pending.csv"), get(admin::pending_csv))
        .route(&format!("{A}/payouts/mark-paid"), post(admin::mark_paid))
        .route(&format!("{A}/payouts/{{id}}"), post(admin::decide_payout))
        .route(
            &format!("{A}/users/{{user_id}}/hold"),
            post(admin::set_hold),
        )
        .route(
            &format!("{A}/users/{{user_id}}/adjust"),
            post(admin::adjust),
        )
        .route("/api/admin/users/{user_id}/block", post(admin::block_user))
        .route(&format!("{A}/report"), get(admin::report))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        my_affiliate,
        my_commissions,
        my_payouts,
        submit_method,
        transfer,
        admin::affiliate_settings,
        admin::update_affiliate_settings,
        admin::flagged_referrals,
        admin::clear_referral,
        admin::commissions_in_review,
        admin::review_commissions,
        admin::submitted_methods,
        admin::show_method,
        admin::decide_method,
        admin::list_runs,
        admin::run_now,
        admin::show_run,
        admin::list_payouts,
        admin::pending_csv,
        admin::mark_paid,
        admin::decide_payout,
        admin::set_hold,
        admin::adjust,
        admin::block_user,
        admin::report
    ),
    components(schemas(
        AffiliateDto,
        BlockerDto,
        CommissionDto,
        AffiliatePayoutDto,
        PayoutMethodDto,
        MethodBody,
        TransferBody,
        TransferDto,
        AffiliateSettingsDto,
        ReferralDto,
        ReviewBody,
        ReviewedDto,
        MethodDecisionBody,
        PayoutRunDto,
        RunItemDto,
        PayoutRunDetailDto,
        RunNowBody,
        PayoutDecisionBody,
        MarkPaidBody,
        MarkPaidDto,
        HoldBody,
        AffiliateAdjustBody,
        AffiliateEntryDto,
        BlockBody,
        AffiliateReportDto
    ))
)]
pub struct AffiliatesDoc;

fn money(field: &str, text: &str) -> Result<Money, AppError> {
    Money::parse(text.trim()).map_err(|_| {
        AppError::new(
            ErrorCode::InvalidAmount,
            format!("{field} is a decimal amount such as 10.50"),
        )
    })
}

/// One reason a payout is blocked now.
#[derive(Serialize, ToSchema)]
pub struct BlockerDto {
    /// `account_inactive`, `first_time_waits_for_first_monday`, `no_approved_method`,
    /// `method_cooling_down`, `previous_payout_open`, `on_hold`, `below_minimum`.
    reason: String,
    message: String,
}

/// A commission on a referred order.
#[derive(Serialize, ToSchema)]
pub struct CommissionDto {
    id: i64,
    order_id: i64,
    referred_id: i64,
    rate_bp: i64,
    charge: String,
    refunded: String,
    /// The commission on the net (before approval) or what was credited (after).
    amount: String,
    /// `pending`, `held`, `review`, `approved`, `void`.
    status: String,
    clawed: String,
    /// When a held commission is approved.
    approve_at: Option<i64>,
    approved_at: Option<i64>,
    created_at: i64,
}

fn commission_dto(c: &Commission) -> CommissionDto {
    CommissionDto {
        id: c.id,
        order_id: c.order_id.0,
        referred_id: c.referred_id.0,
        rate_bp: c.rate_bp,
        charge: c.charge.to_string(),
        refunded: c.refunded.to_string(),
        amount: if c.credited.is_positive() {
            c.credited.to_string()
        } else {
            c.amount.to_string()
        },
        status: c.status.as_str().into(),
        clawed: c.clawed.to_string(),
        approve_at: c.approve_at,
        approved_at: c.approved_at,
        created_at: c.created_at,
    }
}

/// A payout method; `details` masked (`pa***@gmail.com`, `****1234`) except where noted.
#[derive(Serialize, ToSchema)]
pub struct PayoutMethodDto {
    id: i64,
    user_id: i64,
    /// `binance_pay`, `crypto`, `paypal`, `bank`, `other`.
    kind: String,
    details: String,
    /// `submitted`, `approved`, `rejected`, `replaced`, `withdrawn`.
    status: String,
    reason: String,
    created_at: i64,
    approved_at: Option<i64>,
}

fn method_dto(m: &PayoutMethod, whole: bool) -> PayoutMethodDto {
    PayoutMethodDto {
        id: m.id,
        user_id: m.user_id.0,
        kind: m.kind.as_str().into(),
        details: if whole { m.details.clone() } else { m.masked() },
        status: m.status.as_str().into(),
        reason: m.reason.clone(),
        created_at: m.created_at,
        approved_at: m.approved_at,
    }
}

/// A payout invoice (method details masked).
#[derive(Serialize, ToSchema)]
pub struct AffiliatePayoutDto {
    id: i64,
    run_id: i64,
    user_id: i64,
    amount: String,
    /// `pending`, `paid`, `rejected_returned`, `rejected_forfeited`, `returned`.
    status: String,
    method_kind: String,
    method_details: String,
    /// Gapless, once paid.
    number: Option<i64>,
    reference: Option<String>,
    reason: String,
    created_at: i64,
    decided_at: Option<i64>,
}

fn payout_dto(p: &Payout) -> AffiliatePayoutDto {
    AffiliatePayoutDto {
        id: p.id,
        run_id: p.run_id,
        user_id: p.user_id.0,
        amount: p.amount.to_string(),
        status: p.status.as_str().into(),
        method_kind: p.method_kind.clone(),
        method_details: p.masked(),
        number: p.number,
        reference: p.reference.clone(),
        reason: p.reason.clone(),
        created_at: p.created_at,
        decided_at: p.decided_at,
    }
}

/// The affiliate's page as JSON.
#[derive(Serialize, ToSchema)]
pub struct AffiliateDto {
    code: String,
    /// The referral link's path (`/?ref=CODE`).
    link: String,
    clicks: i64,
    signups: i64,
    /// Referred users who ordered.
    paying: i64,
    /// The affiliate balance (negative after clawbacks).
    balance: String,
    rate_bp: i64,
    hold_days: i64,
    min_payout: String,
    /// The next run that can pay them: `all` or `returning`, its instant and date.
    next_run_kind: String,
    next_run_at: i64,
    next_run_date: String,
    /// Whether that run would pay them, and what blocks it now.
    eligible: bool,
    blockers: Vec<BlockerDto>,
    methods: Vec<PayoutMethodDto>,
    currency: String,
}

/// The caller's affiliate account (made on first use), figures and eligibility now.
#[utoipa::path(get, path = "/api/affiliate", tag = "affiliate",
    responses((status = 200, body = AffiliateDto)))]
async fn my_affiliate(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Result<Json<AffiliateDto>, AppError> {
    let o = smmd_app::affiliates::overview(st.app(), user.id).await?;
    Ok(Json(AffiliateDto {
        link: format!("/?ref={}", o.account.code),
        code: o.account.code.clone(),
        clicks: o.account.clicks,
        signups: o.stats.signups,
        paying: o.stats.paying,
        balance: o.account.balance.to_string(),
        rate_bp: o.rate_bp,
        hold_days: o.hold_days,
        min_payout: o.min_payout.to_string(),
        next_run_kind: o.eligibility.kind.as_str().into(),
        next_run_at: o.eligibility.at,
        next_run_date: Date::of(o.eligibility.at).to_string(),
        eligible: o.eligibility.blockers.is_empty(),
        blockers: o
            .eligibility
            .blockers
            .iter()
            .map(|b| BlockerDto {
                reason: b.as_str().into(),
                message: b.message(),
            })
            .collect(),
        methods: o.methods.iter().map(|m| method_dto(m, false)).collect(),
        currency: st.config.panel.currency.clone(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Ids below this one (the last id of the previous page).
    before: Option<i64>,
    /// 1 to 500 (default 100).
    limit: Option<i64>,
}

/// The caller's commissions, newest first.
#[utoipa::path(get, path = "/api/affiliate/commissions", tag = "affiliate",
    params(PageQuery), responses((status = 200, body = Vec<CommissionDto>)))]
async fn my_commissions(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Vec<CommissionDto>>, AppError> {
    let list = st
        .store
        .commissions_of(user.id, q.before, clamp_limit(q.limit, 100, 500))
        .await?;
    Ok(Json(list.iter().map(commission_dto).collect()))
}

/// The caller's payouts, newest first.
#[utoipa::path(get, path = "/api/affiliate/payouts", tag = "affiliate",
    responses((status = 200, body = Vec<AffiliatePayoutDto>)))]
async fn my_payouts(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Result<Json<Vec<AffiliatePayoutDto>>, AppError> {
    let list = payouts::my_payouts(st.app(), user.id).await?;
    Ok(Json(list.iter().map(payout_dto).collect()))
}

/// A payout method to submit for approval.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodBody {
    /// `binance_pay`, `crypto`, `paypal`, `bank` or `other`.
    kind: String,
    /// The e-mail, address or account the money goes to.
    details: String,
    /// The account's current password.
    password: String,
}

/// Submits a payout method for an admin's approval (one change per cool-down).
#[utoipa::path(post, path = "/api/affiliate/method", tag = "affiliate",
    request_body = MethodBody, responses((status = 200, body = PayoutMethodDto)))]
async fn submit_method(
    State(st): State<AppState>,
    auth: AuthUser,
    headers: axum::http::HeaderMap,
    JsonBody(b): JsonBody<MethodBody>,
) -> Result<Json<PayoutMethodDto>, AppError> {
    auth.step_up(&st, crate::auth::code_header(&headers))
        .await?;
    let user = &auth.user;
    let m = payouts::submit_method(st.app(), user, &b.kind, &b.details, &b.password).await?;
    Ok(Json(method_dto(&m, false)))
}

/// A transfer to the spending wallet.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// A decimal amount, at most the affiliate balance.
    amount: String,
    /// 1–100 visible characters; the same id again returns the stored transfer.
    request_id: String,
}

/// A transfer done (or, `replayed`, found again by its request id).
#[derive(Serialize, ToSchema)]
pub struct TransferDto {
    request_id: String,
    amount: String,
    created_at: i64,
    replayed: bool,
    /// The wallet balance after it (absent for a replay).
    wallet_balance: Option<String>,
}

/// Moves an amount from the affiliate balance to the spending wallet.
#[utoipa::path(post, path = "/api/affiliate/transfer", tag = "affiliate",
    request_body = TransferBody, responses((status = 200, body = TransferDto)))]
async fn transfer(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    JsonBody(b): JsonBody<TransferBody>,
) -> Result<Json<TransferDto>, AppError> {
    let amount = money("amount", &b.amount)?;
    let (t, entry) = payouts::transfer(st.app(), user.id, amount, &b.request_id).await?;
    Ok(Json(TransferDto {
        request_id: t.request_id,
        amount: t.amount.to_string(),
        created_at: t.created_at,
        replayed: t.replayed,
        wallet_balance: entry.map(|e| e.balance_after.to_string()),
    }))
}
