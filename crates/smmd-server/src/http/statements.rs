//! REST for monthly billing statements (`docs/billing.md`, Statements): the customer's own
//! (`/api/billing/statements…`, JSON and CSV) and the admin's list, view and void
//! (`/api/admin/billing/statements…`). Thin adapters over `smmd_app::statements`; money is a
//! decimal string in the panel currency, `month` the epoch ms of its first instant (UTC).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_app::statements;
use smmd_domain::billing::charge::Month;
use smmd_domain::{Money, UserId};
use smmd_store::{Statement, StatementLine};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{ApiPath, ApiQuery, JsonBody};
use crate::auth::{AdminUser, AuthUser};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/billing/statements", get(my_statements))
        .route("/api/billing/statements/{id}", get(my_statement))
        .route("/api/billing/statements/{id}/csv", get(my_statement_csv))
        .route("/api/admin/billing/statements", get(list_statements))
        .route("/api/admin/billing/statements/{id}", get(show_statement))
        .route("/api/admin/billing/statements/{id}/csv", get(statement_csv))
        .route(
            "/api/admin/billing/statements/{id}/void",
            post(void_statement),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        my_statements,
        my_statement,
        my_statement_csv,
        list_statements,
        show_statement,
        statement_csv,
        void_statement
    ),
    components(schemas(StatementDto, StatementLineDto, VoidBody))
)]
pub struct StatementsDoc;

/// One (rental, plan) line of a month.
#[derive(Serialize, ToSchema)]
pub struct StatementLineDto {
    rental_id: i64,
    plan_id: i64,
    plan_name: String,
    /// Hours charged by the money rule (paid, due or written off), free ones included.
    hours_billed: i64,
    /// Of those, hours past the month's cap (charged 0).
    free_hours: i64,
    /// Hours inside a billing pause (not charged).
    waived_hours: i64,
    paid: String,
    due: String,
    written_off: String,
    credited: String,
    setup_fee: String,
}

/// A monthly statement: `charged` (paid hours and setup fees) minus `credited` is `net`, the
/// month's `rent` minus `rent_credit` ledger entries; `due` is still unpaid.
#[derive(Serialize, ToSchema)]
pub struct StatementDto {
    id: i64,
    user_id: i64,
    /// The month's first instant (epoch ms, UTC).
    month: i64,
    /// `YYYY-MM`.
    month_label: String,
    /// `draft`, `final` or `void`.
    status: String,
    /// `ST-YYYY-NNNNNN` once final.
    number: Option<String>,
    lines: Vec<StatementLineDto>,
    charged: String,
    credited: String,
    net: String,
    due: String,
    currency: String,
    /// The voided statement this one re-issues.
    replaces_id: Option<i64>,
    void_reason: Option<String>,
    created_at: i64,
    updated_at: i64,
    finalized_at: Option<i64>,
    voided_at: Option<i64>,
}

/// `YYYY-MM` of a month start.
pub(crate) fn month_label(month: i64) -> String {
    let m = Month::of(month);
    format!("{:04}-{:02}", m.year, m.month)
}

fn line_dto(l: &StatementLine) -> StatementLineDto {
    StatementLineDto {
        rental_id: l.rental_id,
        plan_id: l.plan_id,
        plan_name: l.plan_name.clone(),
        hours_billed: l.hours_billed,
        free_hours: l.free_hours,
        waived_hours: l.waived_hours,
        paid: l.paid.to_string(),
        due: l.due.to_string(),
        written_off: l.written_off.to_string(),
        credited: l.credited.to_string(),
        setup_fee: l.setup_fee.to_string(),
    }
}

fn dto(st: &AppState, s: &Statement) -> StatementDto {
    StatementDto {
        id: s.id,
        user_id: s.user_id.0,
        month: s.month,
        month_label: month_label(s.month),
        status: s.status.as_str().to_string(),
        number: s.number.clone(),
        lines: s.lines.iter().map(line_dto).collect(),
        charged: s.charged.to_string(),
        credited: s.credited.to_string(),
        net: Money::from_micros(s.charged.micros() - s.credited.micros()).to_string(),
        due: s.due.to_string(),
        currency: st.config.panel.currency.clone(),
        replaces_id: s.replaces_id,
        void_reason: s.void_reason.clone(),
        created_at: s.created_at,
        updated_at: s.updated_at,
        finalized_at: s.finalized_at,
        voided_at: s.voided_at,
    }
}

/// The statement as RFC 4180 CSV: a header, one row per line, a totals row.
pub(crate) fn csv_of(s: &Statement, currency: &str) -> Result<String, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let safe = super::spreadsheet_safe;
    let title = s
        .number
        .clone()
        .unwrap_or_else(|| format!("draft #{}", s.id));
    let write = |w: &mut csv::Writer<Vec<u8>>, row: Vec<String>| {
        w.write_record(row)
            .map_err(|e| AppError::internal(anyhow::anyhow!("csv: {e}")))
    };
    write(
        &mut w,
        [
            "statement",
            "month",
            "rental",
            "plan",
            "hours billed",
            "free hours",
            "waived hours",
            "paid",
            "due",
            "written off",
            "credited",
            "setup fee",
            "currency",
        ]
        .map(String::from)
        .to_vec(),
    )?;
    for l in &s.lines {
        write(
            &mut w,
            vec![
                title.clone(),
                month_label(s.month),
                l.rental_id.to_string(),
                safe(l.plan_name.clone()),
                l.hours_billed.to_string(),
                l.free_hours.to_string(),
                l.waived_hours.to_string(),
                l.paid.to_string(),
                l.due.to_string(),
                l.written_off.to_string(),
                l.credited.to_string(),
                l.setup_fee.to_string(),
                currency.to_string(),
            ],
        )?;
    }
    write(
        &mut w,
        vec![
            title.clone(),
            month_label(s.month),
            "total".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            s.charged.to_string(),
            s.due.to_string(),
            String::new(),
            s.credited.to_string(),
            String::new(),
            currency.to_string(),
        ],
    )?;
    let bytes = w
        .into_inner()
        .map_err(|e| AppError::internal(anyhow::anyhow!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::internal(anyhow::anyhow!("csv: {e}")))
}

/// The caller's statements, newest month first.
#[utoipa::path(get, path = "/api/billing/statements", tag = "billing",
    responses((status = 200, body = Vec<StatementDto>)))]
async fn my_statements(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Result<Json<Vec<StatementDto>>, AppError> {
    let list = statements::mine(st.app(), user.id).await?;
    Ok(Json(list.iter().map(|s| dto(&st, s)).collect()))
}

/// One of the caller's statements.
#[utoipa::path(get, path = "/api/billing/statements/{id}", tag = "billing",
    params(("id" = i64, Path)), responses((status = 200, body = StatementDto)))]
async fn my_statement(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<StatementDto>, AppError> {
    let s = statements::my_statement(st.app(), user.id, id).await?;
    Ok(Json(dto(&st, &s)))
}

/// One of the caller's statements as CSV.
#[utoipa::path(get, path = "/api/billing/statements/{id}/csv", tag = "billing",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The statement as CSV", content_type = "text/csv", body = String)))]
async fn my_statement_csv(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, AppError> {
    let s = statements::my_statement(st.app(), user.id, id).await?;
    csv_response(&st, &s)
}

fn csv_response(st: &AppState, s: &Statement) -> Result<Response, AppError> {
    let body = csv_of(s, &st.config.panel.currency)?;
    let name = s
        .number
        .clone()
        .unwrap_or_else(|| format!("draft-{}", s.id));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementsQuery {
    /// Only this user's.
    user_id: Option<i64>,
}

/// Statements, newest month first: everyone's or one user's.
#[utoipa::path(get, path = "/api/admin/billing/statements", tag = "admin",
    params(StatementsQuery), responses((status = 200, body = Vec<StatementDto>)))]
async fn list_statements(
    State(st): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiQuery(q): ApiQuery<StatementsQuery>,
) -> Result<Json<Vec<StatementDto>>, AppError> {
    let list = statements::list(st.app(), q.user_id.map(UserId)).await?;
    Ok(Json(list.iter().map(|s| dto(&st, s)).collect()))
}

/// Any statement.
#[utoipa::path(get, path = "/api/admin/billing/statements/{id}", tag = "admin",
    params(("id" = i64, Path)), responses((status = 200, body = StatementDto)))]
async fn show_statement(
    State(st): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<StatementDto>, AppError> {
    let s = statements::statement(st.app(), id).await?;
    Ok(Json(dto(&st, &s)))
}

/// Any statement as CSV.
#[utoipa::path(get, path = "/api/admin/billing/statements/{id}/csv", tag = "admin",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The statement as CSV", content_type = "text/csv", body = String)))]
async fn statement_csv(
    State(st): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, AppError> {
    let s = statements::statement(st.app(), id).await?;
    csv_response(&st, &s)
}

/// Why a final statement is voided.
#[derive(Deserialize, ToSchema)]
pub struct VoidBody {
    /// Why (1–500 characters), for the audit log and the statement.
    reason: String,
}

/// Voids a final statement; returns the draft that replaces it (final after the next run).
#[utoipa::path(post, path = "/api/admin/billing/statements/{id}/void", tag = "admin",
    params(("id" = i64, Path)), request_body = VoidBody,
    responses((status = 200, body = StatementDto)))]
async fn void_statement(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<VoidBody>,
) -> Result<Json<StatementDto>, AppError> {
    let s = statements::void(st.app(), &AppState::actor(&admin), id, &b.reason).await?;
    Ok(Json(dto(&st, &s)))
}
