//! Admin API for the scheduler under `/api/admin/jobs` (admin session or an admin's API key):
//! list, show with the next 10 fire times, paged run history, trigger ("run now", idempotent on
//! the `Idempotency-Key` header or `request_key`), edit (validated; clear errors), pause and
//! resume all. Every change is audited with the acting admin's e-mail. The shapes below are
//! the OpenAPI document's (`GET /api/openapi.json`, [`ApiDoc`]).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smmd_jobs::control::{self, ControlError, JobEdit, JobView};
use smmd_store::{RunRecord, TriggerOutcome};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::JsonBody;
use crate::auth::{self, AdminUser};
use crate::error::ErrorBody;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/jobs", get(list))
        .route("/api/admin/jobs/pause", post(pause))
        .route("/api/admin/jobs/resume", post(resume))
        .route("/api/admin/jobs/{name}", get(show).patch(edit))
        .route("/api/admin/jobs/{name}/runs", get(runs))
        .route("/api/admin/jobs/{name}/trigger", post(trigger))
}

/// The OpenAPI 3.1 document of the admin jobs API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "smmd admin API",
        description = "Scheduler control (docs/scheduler.md F11, F12). Admin session cookie with X-CSRF-Token on writes, or an admin's API key as a Bearer token."
    ),
    paths(list, show, runs, trigger, edit, pause, resume),
    components(schemas(
        JobDto,
        PoliciesDto,
        RunDto,
        JobList,
        RunPage,
        TriggerDto,
        EditDto,
        TriggerBody
    ))
)]
pub struct ApiDoc;

/// A job's policies (scheduler F6–F9). Durations in milliseconds.
#[derive(Serialize, ToSchema)]
pub struct PoliciesDto {
    /// `skip` | `fire_once` | `fire_all`.
    misfire: String,
    grace_ms: i64,
    catch_up_ms: i64,
    /// `skip` | `buffer_one`.
    overlap: String,
    max_attempts: i64,
    retry_base_ms: i64,
    timeout_ms: i64,
}

/// One run in history. Times are epoch milliseconds (UTC).
#[derive(Serialize, ToSchema)]
pub struct RunDto {
    id: i64,
    /// `tick` | `manual`.
    kind: String,
    scheduled_for: i64,
    /// `pending` | `running` | `succeeded` | `failed` | `timed_out` | `abandoned` | `skipped`.
    state: String,
    /// Why a tick was skipped: `misfire`, `overlap`, `invalid_expression`.
    reason: Option<String>,
    attempt: i64,
    /// The instance holding the lease while running.
    instance: Option<String>,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    duration_ms: Option<i64>,
    error: Option<String>,
    /// What the job reported (`{"checked": 100, "changed": 3}`).
    #[schema(value_type = Option<Object>)]
    counters: Option<Value>,
}

/// A job as the admin sees it. Times are epoch milliseconds (UTC).
#[derive(Serialize, ToSchema)]
pub struct JobDto {
    name: String,
    /// Cron (5 or 6 fields; AND semantics for day-of-month and day-of-week) or `@every 30s`.
    expression: String,
    /// IANA zone.
    zone: String,
    enabled: bool,
    /// All jobs paused.
    paused: bool,
    /// `active` | `disabled` | `paused`.
    state: String,
    /// `false` when the job has had no success within twice its interval.
    healthy: bool,
    policies: PoliciesDto,
    version: i64,
    next_run: Option<i64>,
    last_success_at: Option<i64>,
    last_run: Option<RunDto>,
    /// The next fire times (only in `GET /api/admin/jobs/{name}`: 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    preview: Option<Vec<i64>>,
}

#[derive(Serialize, ToSchema)]
pub struct JobList {
    items: Vec<JobDto>,
}

#[derive(Serialize, ToSchema)]
pub struct RunPage {
    items: Vec<RunDto>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    next_before: Option<i64>,
}

/// What "run now" did.
#[derive(Serialize, ToSchema)]
pub struct TriggerDto {
    run_id: i64,
    /// `queued` (202), `duplicate` (200: the same request key was used before) or
    /// `skipped_overlap` (409: a run is in flight and the overlap policy is `skip`).
    status: String,
}

fn control_error(e: ControlError) -> AppError {
    match e {
        ControlError::UnknownJob(_) => AppError::new(ErrorCode::UnknownJob, e.to_string()),
        ControlError::Calendar(_) => AppError::new(ErrorCode::InvalidSchedule, e.to_string()),
        ControlError::Invalid { .. } => AppError::new(ErrorCode::InvalidPolicy, e.to_string()),
        ControlError::Store(e) => e.into(),
    }
}

fn run_dto(r: &RunRecord) -> RunDto {
    RunDto {
        id: r.id,
        kind: r.kind.as_str().to_string(),
        scheduled_for: r.scheduled_for,
        state: r.state.as_str().to_string(),
        reason: r.reason.clone(),
        attempt: r.attempt,
        instance: r.lease_owner.clone(),
        started_at: r.started_at,
        finished_at: r.finished_at,
        duration_ms: r.started_at.zip(r.finished_at).map(|(a, b)| b - a),
        error: r.error.clone(),
        counters: r
            .counters
            .as_deref()
            .and_then(|c| serde_json::from_str::<Value>(c).ok()),
    }
}

fn job_dto(j: &JobView, preview: bool) -> JobDto {
    let s = &j.schedule;
    JobDto {
        name: s.name.clone(),
        expression: s.expr.clone(),
        zone: s.zone.clone(),
        enabled: s.enabled,
        paused: j.paused,
        state: if !s.enabled {
            "disabled"
        } else if j.paused {
            "paused"
        } else {
            "active"
        }
        .into(),
        healthy: j.healthy,
        policies: PoliciesDto {
            misfire: s.misfire.as_str().to_string(),
            grace_ms: s.grace_ms,
            catch_up_ms: s.catch_up_ms,
            overlap: s.overlap.as_str().to_string(),
            max_attempts: s.max_attempts,
            retry_base_ms: s.retry_base_ms,
            timeout_ms: s.timeout_ms,
        },
        version: s.version,
        next_run: j.preview.first().copied(),
        last_success_at: s.last_success_at,
        last_run: j.last_run.as_ref().map(run_dto),
        preview: preview.then(|| j.preview.clone()),
    }
}

/// Every job with its state, policies, last run and next run.
#[utoipa::path(get, path = "/api/admin/jobs", tag = "jobs",
    responses((status = 200, body = JobList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list(State(st): State<AppState>, _a: AdminUser) -> Result<Json<JobList>, AppError> {
    let jobs = control::list(st.store.as_ref(), st.clock.now_ms())
        .await
        .map_err(control_error)?;
    Ok(Json(JobList {
        items: jobs.iter().map(|j| job_dto(j, false)).collect(),
    }))
}

/// One job with a preview of its next 10 fire times (the engine's own calendar).
#[utoipa::path(get, path = "/api/admin/jobs/{name}", tag = "jobs",
    params(("name" = String, Path, description = "Job name, e.g. `maintenance.cleanup`")),
    responses((status = 200, body = JobDto), (status = 404, body = ErrorBody)))]
async fn show(
    State(st): State<AppState>,
    _a: AdminUser,
    Path(name): Path<String>,
) -> Result<Json<JobDto>, AppError> {
    let j = control::show(st.store.as_ref(), &name, st.clock.now_ms(), 10)
        .await
        .map_err(control_error)?;
    Ok(Json(job_dto(&j, true)))
}

#[derive(Deserialize, IntoParams)]
struct RunsPage {
    /// Only runs with a smaller id (from `next_before`).
    before: Option<i64>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<i64>,
}

/// The job's runs, newest first, with state, attempt, instance, duration, counters and error.
#[utoipa::path(get, path = "/api/admin/jobs/{name}/runs", tag = "jobs",
    params(("name" = String, Path, description = "Job name"), RunsPage),
    responses((status = 200, body = RunPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn runs(
    State(st): State<AppState>,
    _a: AdminUser,
    Path(name): Path<String>,
    page: Result<Query<RunsPage>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<RunPage>, AppError> {
    let Query(page) = page.map_err(|e| AppError::new(ErrorCode::InvalidQuery, e.body_text()))?;
    let j = control::show(st.store.as_ref(), &name, st.clock.now_ms(), 0)
        .await
        .map_err(control_error)?;
    let limit = page.limit.unwrap_or(50).clamp(1, 500);
    let runs = st
        .store
        .schedule_runs(j.schedule.id, page.before, limit)
        .await?;
    let next = (runs.len() as i64 == limit)
        .then(|| runs.last().map(|r| r.id))
        .flatten();
    Ok(Json(RunPage {
        items: runs.iter().map(run_dto).collect(),
        next_before: next,
    }))
}

/// Optional body of "run now"; the `Idempotency-Key` header takes precedence.
#[derive(Deserialize, Default, ToSchema)]
pub struct TriggerBody {
    /// 1 to 200 characters; the same key never makes a second run.
    request_key: Option<String>,
}

/// "Run now": a manual run that does not move the schedule and obeys its overlap policy.
#[utoipa::path(post, path = "/api/admin/jobs/{name}/trigger", tag = "jobs",
    params(("name" = String, Path, description = "Job name"),
        ("Idempotency-Key" = Option<String>, Header, description = "Request key (1-200 characters)")),
    request_body(content = Option<TriggerBody>, content_type = "application/json"),
    responses((status = 202, body = TriggerDto), (status = 200, body = TriggerDto, description = "The same request key was used before"),
        (status = 409, body = TriggerDto, description = "Skipped: a run is in flight"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn trigger(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<TriggerDto>), AppError> {
    let body: TriggerBody = if body.iter().all(u8::is_ascii_whitespace) {
        TriggerBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::new(ErrorCode::InvalidBody, e.to_string()))?
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(body.request_key)
        .unwrap_or_else(|| auth::random_hex(16));
    if key.is_empty() || key.len() > 200 {
        return Err(AppError::new(
            ErrorCode::InvalidRequestKey,
            "The request key must be 1 to 200 characters",
        ));
    }
    let outcome = control::run_now(
        st.store.as_ref(),
        &name,
        &format!("admin:{key}"),
        &admin.email,
        st.clock.now_ms(),
    )
    .await
    .map_err(control_error)?;
    // The engine starts the queued run at its next pass: now, not at its next poll.
    st.jobs_wake.nudge();
    let (status, run_id, label) = match outcome {
        TriggerOutcome::Queued { run_id } => (StatusCode::ACCEPTED, run_id, "queued"),
        TriggerOutcome::Duplicate { run_id } => (StatusCode::OK, run_id, "duplicate"),
        TriggerOutcome::Overlap { run_id } => (StatusCode::CONFLICT, run_id, "skipped_overlap"),
    };
    Ok((
        status,
        Json(TriggerDto {
            run_id,
            status: label.into(),
        }),
    ))
}

/// A change to a job; absent fields stay. A new expression or zone recomputes the next run
/// from now; re-enabling does not burst catch-up runs. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditDto {
    /// Cron (optional seconds field; `MON#1`, `L`, `W`) or `@every 30s|5m|1h|1d`.
    expression: Option<String>,
    /// IANA zone, e.g. `Europe/London`.
    zone: Option<String>,
    enabled: Option<bool>,
    /// `skip` | `fire_once` | `fire_all`.
    misfire: Option<String>,
    /// `skip` | `buffer_one`.
    overlap: Option<String>,
    /// 1 to 100.
    max_attempts: Option<i64>,
    /// 1000 to 86400000 ms.
    timeout_ms: Option<i64>,
}

/// Edits expression, zone, enabled and policies (audited with the acting admin).
#[utoipa::path(patch, path = "/api/admin/jobs/{name}", tag = "jobs",
    params(("name" = String, Path, description = "Job name")),
    request_body = EditDto,
    responses((status = 200, body = JobDto), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`invalid_schedule` or `invalid_policy`, nothing changed")))]
async fn edit(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(name): Path<String>,
    JsonBody(e): JsonBody<EditDto>,
) -> Result<Json<JobDto>, AppError> {
    let edit = JobEdit {
        expr: e.expression,
        zone: e.zone,
        enabled: e.enabled,
        misfire: e.misfire,
        overlap: e.overlap,
        max_attempts: e.max_attempts,
        timeout_ms: e.timeout_ms,
    };
    control::edit(
        st.store.as_ref(),
        &name,
        edit,
        &admin.email,
        st.clock.now_ms(),
    )
    .await
    .map_err(control_error)?;
    st.jobs_wake.nudge();
    show(State(st), AdminUser(admin), Path(name)).await
}

/// Pauses every job: no claims and no starts until resumed; runs in flight finish.
#[utoipa::path(post, path = "/api/admin/jobs/pause", tag = "jobs", responses((status = 204), (status = 403, body = ErrorBody)))]
async fn pause(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<StatusCode, AppError> {
    control::set_paused(st.store.as_ref(), true, &admin.email, st.clock.now_ms())
        .await
        .map_err(control_error)?;
    st.jobs_wake.nudge();
    Ok(StatusCode::NO_CONTENT)
}

/// Resumes every job (each follows its misfire policy for ticks missed while paused).
#[utoipa::path(post, path = "/api/admin/jobs/resume", tag = "jobs", responses((status = 204), (status = 403, body = ErrorBody)))]
async fn resume(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<StatusCode, AppError> {
    control::set_paused(st.store.as_ref(), false, &admin.email, st.clock.now_ms())
        .await
        .map_err(control_error)?;
    st.jobs_wake.nudge();
    Ok(StatusCode::NO_CONTENT)
}
