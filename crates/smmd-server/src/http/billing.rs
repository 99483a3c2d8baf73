//! REST for hourly billing (`docs/billing.md`, "Surfaces"): the customer's overview, renting
//! and cancelling (`/api/billing…`), and the admin's status, settings, pause, plans and rentals
//! (`/api/admin/billing…`). Thin adapters over `smmd_app::billing`; money is a decimal string
//! in the panel currency, times epoch ms, hours the epoch ms of their start.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_app::billing::{self, PlanEdit, PlanInput, PlanPreview, RentalView, SettingsInput};
use smmd_domain::billing::{hour_of, lag_hours, HOUR_MS, LAG_ALERT_HOURS};
use smmd_domain::UserId;
use smmd_store::{BillingSettings, Plan, RentalAction, RentalHour, RentalLogEntry};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{clamp_limit, ApiPath, ApiQuery, JsonBody};
use crate::auth::{AdminUser, AuthUser};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/billing", get(billing_overview))
        .route("/api/billing/rentals", post(rent_plan))
        .route("/api/billing/rentals/{id}/cancel", post(cancel_rental))
        .route("/api/billing/rentals/{id}/hours", get(my_rental_hours))
        .route("/api/admin/billing/status", get(billing_status))
        .route(
            "/api/admin/billing/settings",
            get(billing_settings).patch(update_billing_settings),
        )
        .route("/api/admin/billing/pause", post(pause_billing))
        .route("/api/admin/billing/resume", post(resume_billing))
        .route(
            "/api/admin/billing/plans",
            get(list_plans).post(create_plan),
        )
        .route("/api/admin/billing/plans/{id}", patch(edit_plan))
        .route("/api/admin/billing/rentals", get(list_rentals))
        .route("/api/admin/billing/rentals/{id}", get(show_rental))
        .route(
            "/api/admin/billing/rentals/{id}/suspend",
            post(suspend_rental),
        )
        .route(
            "/api/admin/billing/rentals/{id}/unsuspend",
            post(unsuspend_rental),
        )
        .route(
            "/api/admin/billing/rentals/{id}/terminate",
            post(terminate_rental),
        )
        .route(
            "/api/admin/billing/rentals/{id}/change-plan",
            post(change_rental_plan),
        )
        .route(
            "/api/admin/billing/rentals/{id}/credit",
            post(credit_rental),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        billing_overview,
        rent_plan,
        cancel_rental,
        my_rental_hours,
        billing_status,
        billing_settings,
        update_billing_settings,
        pause_billing,
        resume_billing,
        list_plans,
        create_plan,
        edit_plan,
        list_rentals,
        show_rental,
        suspend_rental,
        unsuspend_rental,
        terminate_rental,
        change_rental_plan,
        credit_rental
    ),
    components(schemas(
        OverviewDto,
        PlanDto,
        PreviewDto,
        RentalDto,
        HourDto,
        LogDto,
        RentalDetailDto,
        StatusDto,
        BillingSettingsDto,
        PauseDto,
        RentBody,
        ReasonBody,
        ChangePlanBody,
        CreditBody,
        CreditDto,
        PlanBody,
        PlanEditBody,
        BillingSettingsBody
    ))
)]
pub struct BillingDoc;

/// What renting a plan costs, from the function that charges.
#[derive(Serialize, ToSchema)]
pub struct PreviewDto {
    first_hour: String,
    setup_fee: String,
    /// Setup fee + first hour: what the wallet needs to rent now.
    due_now: String,
    /// A calendar month costs at most this (the monthly price).
    month_cap: String,
    /// This month's divisor D of the plan's cap mode.
    divisor: i64,
    /// "billed hourly, 0.10/h, never more than 73.00 per calendar month".
    summary: String,
}

fn preview_dto(p: &PlanPreview) -> PreviewDto {
    PreviewDto {
        first_hour: p.first_hour.to_string(),
        setup_fee: p.setup_fee.to_string(),
        due_now: p.due_now.to_string(),
        month_cap: p.month_cap.to_string(),
        divisor: p.divisor,
        summary: p.summary.clone(),
    }
}

/// A plan users can rent.
#[derive(Serialize, ToSchema)]
pub struct PlanDto {
    id: i64,
    code: String,
    name: String,
    description: String,
    /// The monthly price.
    price: String,
    /// `h730`, `h672` or `calendar`.
    cap_mode: String,
    setup_fee: String,
    /// `reseller_tier`.
    entitlement: String,
    /// The entitlement's settings.
    #[schema(value_type = Object)]
    settings: serde_json::Value,
    active: bool,
    currency: String,
    preview: PreviewDto,
}

fn plan_dto(st: &AppState, p: &Plan, settings: &BillingSettings) -> PlanDto {
    let preview = billing::preview(p, settings, st.clock.now_ms());
    PlanDto {
        id: p.id,
        code: p.code.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        price: p.price.to_string(),
        cap_mode: p.cap_mode.as_str().into(),
        setup_fee: p.setup_fee.to_string(),
        entitlement: p.entitlement.clone(),
        settings: serde_json::from_str(&p.settings).unwrap_or_default(),
        active: p.active,
        currency: st.config.panel.currency.clone(),
        preview: preview_dto(&preview),
    }
}

/// A rental with this month's figures.
#[derive(Serialize, ToSchema)]
pub struct RentalDto {
    id: i64,
    user_id: i64,
    plan_id: i64,
    plan_name: String,
    /// `active`, `grace`, `suspended`, `terminated`, `canceled`.
    state: String,
    /// `non_payment` or `admin` when suspended.
    suspend_reason: Option<String>,
    /// When the state began.
    state_at: i64,
    /// Every hour before this one is billed.
    billed_through: i64,
    /// The oldest unpaid hour.
    first_due_hour: Option<i64>,
    created_at: i64,
    /// Billed this calendar month, net of credits.
    month_cost: String,
    /// The month's cap (the plan's price).
    month_cap: String,
    /// The next hour's charge.
    hourly: String,
    hours_due: i64,
    dues: String,
}

fn rental_dto(v: &RentalView) -> RentalDto {
    let r = &v.rental;
    RentalDto {
        id: r.id,
        user_id: r.user_id.0,
        plan_id: r.plan_id,
        plan_name: v.plan.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
        state: r.state.as_str().into(),
        suspend_reason: r.state.reason().map(|x| x.as_str().to_string()),
        state_at: r.state_at,
        billed_through: r.billed_through,
        first_due_hour: r.first_due_hour,
        created_at: r.created_at,
        month_cost: v.month_cost.to_string(),
        month_cap: v
            .plan
            .as_ref()
            .map(|p| p.price.to_string())
            .unwrap_or_default(),
        hourly: v.hourly.to_string(),
        hours_due: v.hours_due,
        dues: v.dues.to_string(),
    }
}

/// The customer's billing: what can be rented, their rentals, burn rate, runway and dues.
#[derive(Serialize, ToSchema)]
pub struct OverviewDto {
    /// Hourly billing is on (off: nothing can be rented).
    enabled: bool,
    /// Billing is paused (nothing can be rented; hours are waived).
    paused: bool,
    currency: String,
    balance: String,
    plans: Vec<PlanDto>,
    rentals: Vec<RentalDto>,
    /// What the live rentals cost per hour now.
    hourly: String,
    /// Whole hours the balance pays at that rate; null when nothing is billed by the hour.
    runway_hours: Option<i64>,
    /// Unpaid hours' sum: add funds to pay them.
    dues: String,
}

/// The caller's billing overview.
#[utoipa::path(get, path = "/api/billing", tag = "billing",
    responses((status = 200, body = OverviewDto)))]
async fn billing_overview(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Result<Json<OverviewDto>, AppError> {
    let o = billing::overview(st.app(), user.id).await?;
    Ok(Json(OverviewDto {
        enabled: o.settings.enabled,
        paused: o.settings.pause.is_some(),
        currency: st.config.panel.currency.clone(),
        balance: o.balance.to_string(),
        plans: o
            .plans
            .iter()
            .map(|(p, _)| plan_dto(&st, p, &o.settings))
            .collect(),
        rentals: o.rentals.iter().map(rental_dto).collect(),
        hourly: o.hourly.to_string(),
        runway_hours: o.runway_hours,
        dues: o.dues.to_string(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct RentBody {
    plan_id: i64,
}

async fn view(st: &AppState, r: smmd_store::Rental) -> Result<RentalDto, AppError> {
    let plans = st.store.plans(true).await?;
    let settings = st.store.billing_settings().await?;
    Ok(rental_dto(
        &billing::rental_view(st.app(), r, &plans, &settings).await?,
    ))
}

/// Rents a plan now: the setup fee and the current hour are paid at once (409
/// `billing_disabled` / `billing_paused` / `plan_inactive`, 422 `insufficient_funds`).
#[utoipa::path(post, path = "/api/billing/rentals", tag = "billing", request_body = RentBody,
    responses((status = 201, body = RentalDto),
        (status = 404, body = crate::error::ErrorBody, description = "`not_found`: no such plan")))]
async fn rent_plan(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    JsonBody(body): JsonBody<RentBody>,
) -> Result<(StatusCode, Json<RentalDto>), AppError> {
    let r = billing::rent(st.app(), user.id, body.plan_id).await?;
    Ok((StatusCode::CREATED, Json(view(&st, r).await?)))
}

/// Cancels the caller's rental now; the current hour stays paid.
#[utoipa::path(post, path = "/api/billing/rentals/{id}/cancel", tag = "billing",
    params(("id" = i64, Path)), responses((status = 200, body = RentalDto)))]
async fn cancel_rental(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RentalDto>, AppError> {
    let r = billing::cancel(st.app(), user.id, id).await?;
    Ok(Json(view(&st, r).await?))
}

/// One billed hour.
#[derive(Serialize, ToSchema)]
pub struct HourDto {
    /// The hour's start.
    hour: i64,
    plan_id: i64,
    /// Its place in the month's line for the plan (0 when waived).
    k: i64,
    amount: String,
    /// `paid`, `due`, `waived`, `written_off`.
    status: String,
    paid_at: Option<i64>,
    credited: String,
}

fn hour_dto(h: &RentalHour) -> HourDto {
    HourDto {
        hour: h.hour,
        plan_id: h.plan_id,
        k: h.k,
        amount: h.amount.to_string(),
        status: h.status.as_str().into(),
        paid_at: h.paid_at,
        credited: h.credited.to_string(),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HoursQuery {
    /// First hour (epoch ms, inclusive); default: 7 days ago.
    from: Option<i64>,
    /// Most rows (1–1000, default 200).
    limit: Option<i64>,
}

async fn hours(st: &AppState, id: i64, q: &HoursQuery) -> Result<Vec<HourDto>, AppError> {
    let now = st.clock.now_ms();
    let from = q
        .from
        .unwrap_or_else(|| hour_of(now).saturating_sub(7 * 24 * HOUR_MS));
    let rows = st
        .store
        .rental_hours(id, from, i64::MAX, clamp_limit(q.limit, 200, 1000))
        .await?;
    Ok(rows.iter().map(hour_dto).collect())
}

/// The billed hours of the caller's rental, oldest first.
#[utoipa::path(get, path = "/api/billing/rentals/{id}/hours", tag = "billing",
    params(("id" = i64, Path), HoursQuery), responses((status = 200, body = Vec<HourDto>)))]
async fn my_rental_hours(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<HoursQuery>,
) -> Result<Json<Vec<HourDto>>, AppError> {
    match st.store.rental(id).await? {
        Some(r) if r.user_id == user.id => Ok(Json(hours(&st, id, &q).await?)),
        _ => Err(AppError::not_found("Rental")),
    }
}

/// An interval whose hours are waived.
#[derive(Serialize, ToSchema)]
pub struct PauseDto {
    from_at: i64,
    until_at: Option<i64>,
    reason: String,
}

/// Where billing stands.
#[derive(Serialize, ToSchema)]
pub struct StatusDto {
    enabled: bool,
    /// The pause in force.
    pause: Option<PauseDto>,
    /// Every hour before this one is billed for every rental (null: never ran).
    watermark: Option<i64>,
    /// Hours the watermark is behind the current hour's end (above 1: the job is late).
    lag_hours: Option<i64>,
    lagging: bool,
    last_run_at: Option<i64>,
    /// Rentals per state (`suspended:admin`, `suspended:non_payment`).
    rentals_by_state: BTreeMap<String, i64>,
    hours_due: i64,
    due_total: String,
    oldest_due_hour: Option<i64>,
    currency: String,
}

/// Billing's watermark, lag, rentals by state, dues and pause. The job itself is
/// `/api/admin/jobs/billing.rentals` (status, runs, trigger, schedule).
#[utoipa::path(get, path = "/api/admin/billing/status", tag = "admin",
    responses((status = 200, body = StatusDto)))]
async fn billing_status(
    State(st): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Json<StatusDto>, AppError> {
    let s = st.store.billing_status().await?;
    let lag = lag_hours(s.settings.watermark, st.clock.now_ms());
    Ok(Json(StatusDto {
        enabled: s.settings.enabled,
        pause: s.settings.pause.as_ref().map(|p| PauseDto {
            from_at: p.from_at,
            until_at: p.until_at,
            reason: p.reason.clone(),
        }),
        watermark: s.settings.watermark,
        lag_hours: lag,
        lagging: lag.is_some_and(|l| l > LAG_ALERT_HOURS),
        last_run_at: s.settings.last_run_at,
        rentals_by_state: s.rentals_by_state.into_iter().collect(),
        hours_due: s.hours_due,
        due_total: s.due_total.to_string(),
        oldest_due_hour: s.oldest_due_hour,
        currency: st.config.panel.currency.clone(),
    }))
}

/// The billing settings.
#[derive(Serialize, ToSchema)]
pub struct BillingSettingsDto {
    enabled: bool,
    /// D of the `h730` cap mode (672–744).
    hours_per_month: i64,
    default_cap_mode: String,
    suspend_after_hours: i64,
    terminate_after_days: i64,
    /// Runway warning thresholds, hours: [first, second].
    warn_hours: [i64; 2],
    statement_grace_days: i64,
    rent_reserve_hours: i64,
    paused: bool,
    updated_at: i64,
}

fn settings_dto(s: &BillingSettings) -> BillingSettingsDto {
    BillingSettingsDto {
        enabled: s.enabled,
        hours_per_month: s.hours_per_month,
        default_cap_mode: s.default_cap_mode.as_str().into(),
        suspend_after_hours: s.dunning.suspend_after_hours,
        terminate_after_days: s.dunning.terminate_after_days,
        warn_hours: s.warn_hours,
        statement_grace_days: s.statement_grace_days,
        rent_reserve_hours: s.rent_reserve_hours,
        paused: s.pause.is_some(),
        updated_at: s.updated_at,
    }
}

/// The billing settings.
#[utoipa::path(get, path = "/api/admin/billing/settings", tag = "admin",
    responses((status = 200, body = BillingSettingsDto)))]
async fn billing_settings(
    State(st): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Json<BillingSettingsDto>, AppError> {
    Ok(Json(settings_dto(&st.store.billing_settings().await?)))
}

/// An edit of the settings; absent fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingSettingsBody {
    enabled: Option<bool>,
    hours_per_month: Option<i64>,
    default_cap_mode: Option<String>,
    suspend_after_hours: Option<i64>,
    terminate_after_days: Option<i64>,
    warn_hours: Option<[i64; 2]>,
    statement_grace_days: Option<i64>,
    rent_reserve_hours: Option<i64>,
}

/// Edits the settings (audited). Enabling billing lets plans be rented; disabling it waives
/// the hours while it is off.
#[utoipa::path(patch, path = "/api/admin/billing/settings", tag = "admin",
    request_body = BillingSettingsBody, responses((status = 200, body = BillingSettingsDto)))]
async fn update_billing_settings(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(b): JsonBody<BillingSettingsBody>,
) -> Result<Json<BillingSettingsDto>, AppError> {
    let s = billing::update_settings(
        st.app(),
        &AppState::actor(&admin),
        SettingsInput {
            enabled: b.enabled,
            hours_per_month: b.hours_per_month,
            default_cap_mode: b.default_cap_mode,
            suspend_after_hours: b.suspend_after_hours,
            terminate_after_days: b.terminate_after_days,
            warn_hours: b.warn_hours,
            statement_grace_days: b.statement_grace_days,
            rent_reserve_hours: b.rent_reserve_hours,
        },
    )
    .await?;
    Ok(Json(settings_dto(&s)))
}

#[derive(Deserialize, ToSchema)]
pub struct ReasonBody {
    /// Why (1–500 characters), for the audit log.
    reason: String,
}

/// Pauses billing: hours from now are waived and nothing can be rented until it resumes.
#[utoipa::path(post, path = "/api/admin/billing/pause", tag = "admin",
    request_body = ReasonBody, responses((status = 200, body = BillingSettingsDto)))]
async fn pause_billing(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(b): JsonBody<ReasonBody>,
) -> Result<Json<BillingSettingsDto>, AppError> {
    let s = billing::set_pause(st.app(), &AppState::actor(&admin), true, &b.reason).await?;
    Ok(Json(settings_dto(&s)))
}

/// Resumes billing after a pause.
#[utoipa::path(post, path = "/api/admin/billing/resume", tag = "admin",
    request_body = ReasonBody, responses((status = 200, body = BillingSettingsDto)))]
async fn resume_billing(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(b): JsonBody<ReasonBody>,
) -> Result<Json<BillingSettingsDto>, AppError> {
    let s = billing::set_pause(st.app(), &AppState::actor(&admin), false, &b.reason).await?;
    Ok(Json(settings_dto(&s)))
}

/// Every plan, active and deactivated.
#[utoipa::path(get, path = "/api/admin/billing/plans", tag = "admin",
    responses((status = 200, body = Vec<PlanDto>)))]
async fn list_plans(
    State(st): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Json<Vec<PlanDto>>, AppError> {
    let settings = st.store.billing_settings().await?;
    let plans = st.store.plans(true).await?;
    Ok(Json(
        plans.iter().map(|p| plan_dto(&st, p, &settings)).collect(),
    ))
}

/// A new plan.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    /// 1–40 of `a-z 0-9 - _`, unique.
    code: String,
    name: String,
    #[serde(default)]
    description: String,
    /// The monthly price (> 0).
    price: String,
    /// `h730` (default), `h672` or `calendar`.
    cap_mode: Option<String>,
    setup_fee: Option<String>,
    /// `reseller_tier`.
    entitlement: String,
    /// The entitlement's settings, e.g. `{"discount_bp": 1000}`.
    #[schema(value_type = Option<Object>)]
    settings: Option<serde_json::Value>,
}

/// Adds a plan (audited).
#[utoipa::path(post, path = "/api/admin/billing/plans", tag = "admin",
    request_body = PlanBody, responses((status = 201, body = PlanDto)))]
async fn create_plan(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(b): JsonBody<PlanBody>,
) -> Result<(StatusCode, Json<PlanDto>), AppError> {
    let p = billing::create_plan(
        st.app(),
        &AppState::actor(&admin),
        PlanInput {
            code: b.code,
            name: b.name,
            description: b.description,
            price: b.price,
            cap_mode: b.cap_mode,
            setup_fee: b.setup_fee,
            entitlement: b.entitlement,
            settings: b.settings.map(|v| v.to_string()),
        },
    )
    .await?;
    let settings = st.store.billing_settings().await?;
    Ok((StatusCode::CREATED, Json(plan_dto(&st, &p, &settings))))
}

/// An edit of a plan; absent fields stay. `active: false` deactivates it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanEditBody {
    name: Option<String>,
    description: Option<String>,
    price: Option<String>,
    cap_mode: Option<String>,
    setup_fee: Option<String>,
    #[schema(value_type = Option<Object>)]
    settings: Option<serde_json::Value>,
    active: Option<bool>,
}

/// Edits a plan (audited). A new price reaches existing rentals from their next month.
#[utoipa::path(patch, path = "/api/admin/billing/plans/{id}", tag = "admin",
    params(("id" = i64, Path)), request_body = PlanEditBody, responses((status = 200, body = PlanDto)))]
async fn edit_plan(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<PlanEditBody>,
) -> Result<Json<PlanDto>, AppError> {
    let p = billing::edit_plan(
        st.app(),
        &AppState::actor(&admin),
        id,
        PlanEdit {
            name: b.name,
            description: b.description,
            price: b.price,
            cap_mode: b.cap_mode,
            setup_fee: b.setup_fee,
            settings: b.settings.map(|v| v.to_string()),
            active: b.active,
        },
    )
    .await?;
    let settings = st.store.billing_settings().await?;
    Ok(Json(plan_dto(&st, &p, &settings)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RentalFilter {
    /// `active`, `grace`, `suspended`, `terminated`, `canceled`.
    state: Option<String>,
    user_id: Option<i64>,
    /// 1–500, default 100.
    limit: Option<i64>,
}

/// Rentals newest first, by state and/or user.
#[utoipa::path(get, path = "/api/admin/billing/rentals", tag = "admin",
    params(RentalFilter), responses((status = 200, body = Vec<RentalDto>)))]
async fn list_rentals(
    State(st): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiQuery(f): ApiQuery<RentalFilter>,
) -> Result<Json<Vec<RentalDto>>, AppError> {
    let state = match f.state.as_deref() {
        None | Some("") => None,
        Some(s @ ("active" | "grace" | "suspended" | "terminated" | "canceled")) => Some(s),
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::InvalidQuery,
                "state is active, grace, suspended, terminated or canceled",
            ))
        }
    };
    let list = st
        .store
        .rentals(f.user_id.map(UserId), state, clamp_limit(f.limit, 100, 500))
        .await?;
    let plans = st.store.plans(true).await?;
    let settings = st.store.billing_settings().await?;
    let mut out = Vec::with_capacity(list.len());
    for r in list {
        out.push(rental_dto(
            &billing::rental_view(st.app(), r, &plans, &settings).await?,
        ));
    }
    Ok(Json(out))
}

/// One line of a rental's log.
#[derive(Serialize, ToSchema)]
pub struct LogDto {
    at: i64,
    /// `activated`, `past_due`, `suspended`, `resumed`, `terminated`, `canceled`,
    /// `plan_changed`, `credited`.
    event: String,
    state: String,
    suspend_reason: Option<String>,
    plan_id: i64,
    detail: String,
    actor_id: Option<i64>,
}

fn log_dto(e: &RentalLogEntry) -> LogDto {
    LogDto {
        at: e.at,
        event: e.event.clone(),
        state: e.state.as_str().into(),
        suspend_reason: e.state.reason().map(|r| r.as_str().to_string()),
        plan_id: e.plan_id,
        detail: e.detail.clone(),
        actor_id: e.actor_id.map(|a| a.0),
    }
}

/// A rental with its timeline and recent hours.
#[derive(Serialize, ToSchema)]
pub struct RentalDetailDto {
    rental: RentalDto,
    timeline: Vec<LogDto>,
    /// The last 7 days of hours (or from `from`), oldest first.
    hours: Vec<HourDto>,
}

/// A rental: its figures, timeline and hours.
#[utoipa::path(get, path = "/api/admin/billing/rentals/{id}", tag = "admin",
    params(("id" = i64, Path), HoursQuery), responses((status = 200, body = RentalDetailDto)))]
async fn show_rental(
    State(st): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<HoursQuery>,
) -> Result<Json<RentalDetailDto>, AppError> {
    let Some(r) = st.store.rental(id).await? else {
        return Err(AppError::not_found("Rental"));
    };
    let timeline = st.store.rental_log(id).await?;
    Ok(Json(RentalDetailDto {
        rental: view(&st, r).await?,
        timeline: timeline.iter().map(log_dto).collect(),
        hours: hours(&st, id, &q).await?,
    }))
}

async fn act(
    st: &AppState,
    admin: &smmd_store::User,
    id: i64,
    action: RentalAction,
    reason: &str,
) -> Result<Json<RentalDto>, AppError> {
    let r = billing::admin_action(st.app(), &AppState::actor(admin), id, action, reason).await?;
    Ok(Json(view(st, r).await?))
}

/// Suspends a rental (audited); only an admin lifts it, a top-up does not.
#[utoipa::path(post, path = "/api/admin/billing/rentals/{id}/suspend", tag = "admin",
    params(("id" = i64, Path)), request_body = ReasonBody, responses((status = 200, body = RentalDto)))]
async fn suspend_rental(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<ReasonBody>,
) -> Result<Json<RentalDto>, AppError> {
    act(&st, &admin, id, RentalAction::Suspend, &b.reason).await
}

/// Lifts an admin suspension: `active`, or `grace` with a fresh grace period when dues remain.
#[utoipa::path(post, path = "/api/admin/billing/rentals/{id}/unsuspend", tag = "admin",
    params(("id" = i64, Path)), request_body = ReasonBody, responses((status = 200, body = RentalDto)))]
async fn unsuspend_rental(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<ReasonBody>,
) -> Result<Json<RentalDto>, AppError> {
    act(&st, &admin, id, RentalAction::Unsuspend, &b.reason).await
}

/// Ends a rental now; its dues are written off.
#[utoipa::path(post, path = "/api/admin/billing/rentals/{id}/terminate", tag = "admin",
    params(("id" = i64, Path)), request_body = ReasonBody, responses((status = 200, body = RentalDto)))]
async fn terminate_rental(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<ReasonBody>,
) -> Result<Json<RentalDto>, AppError> {
    act(&st, &admin, id, RentalAction::Terminate, &b.reason).await
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePlanBody {
    plan_id: i64,
    reason: String,
}

/// Moves a rental to another plan from the next hour (a new line: k = 1, its own cap).
#[utoipa::path(post, path = "/api/admin/billing/rentals/{id}/change-plan", tag = "admin",
    params(("id" = i64, Path)), request_body = ChangePlanBody, responses((status = 200, body = RentalDto)))]
async fn change_rental_plan(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<ChangePlanBody>,
) -> Result<Json<RentalDto>, AppError> {
    let action = RentalAction::ChangePlan { plan_id: b.plan_id };
    act(&st, &admin, id, action, &b.reason).await
}

#[derive(Deserialize, ToSchema)]
pub struct CreditBody {
    /// The starts (epoch ms) of billed, paid hours to refund (1–744).
    hours: Vec<i64>,
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreditDto {
    /// What this call credited (hours credited before count zero).
    credited: String,
    currency: String,
}

/// Refunds billed hours of a rental (`rent_credit`, once per hour).
#[utoipa::path(post, path = "/api/admin/billing/rentals/{id}/credit", tag = "admin",
    params(("id" = i64, Path)), request_body = CreditBody, responses((status = 200, body = CreditDto)))]
async fn credit_rental(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<CreditBody>,
) -> Result<Json<CreditDto>, AppError> {
    let total =
        billing::credit_hours(st.app(), &AppState::actor(&admin), id, &b.hours, &b.reason).await?;
    Ok(Json(CreditDto {
        credited: total.to_string(),
        currency: st.config.panel.currency.clone(),
    }))
}
