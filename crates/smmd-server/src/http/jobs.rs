//! Admin API for the scheduler under `/api/admin/jobs` (admin session or an admin's API key):
//! list, show with the next 10 fire times, paged run history, trigger ("run now", idempotent on
//! the `Idempotency-Key` header or `request_key`), edit (validated; clear errors), pause and
//! resume all. Every change is audited with the acting admin's e-mail.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use smmd_jobs::control::{self, ControlError, JobEdit, JobView};
use smmd_store::{RunRecord, TriggerOutcome};

use super::JsonBody;
use crate::auth::{self, AdminUser};
use crate::error::AppError;
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

fn control_error(e: ControlError) -> AppError {
    match e {
        ControlError::UnknownJob(_) => {
            AppError::new(StatusCode::NOT_FOUND, "unknown_job", e.to_string())
        }
        ControlError::Calendar(_) => AppError::invalid("invalid_schedule", e.to_string()),
        ControlError::Invalid { .. } => AppError::invalid("invalid_policy", e.to_string()),
        ControlError::Store(e) => e.into(),
    }
}

fn run_json(r: &RunRecord) -> Value {
    json!({
        "id": r.id, "kind": r.kind, "scheduled_for": r.scheduled_for, "state": r.state, "reason": r.reason,
        "attempt": r.attempt, "instance": r.lease_owner, "started_at": r.started_at, "finished_at": r.finished_at,
        "duration_ms": r.started_at.zip(r.finished_at).map(|(a, b)| b - a), "error": r.error,
        "counters": r.counters.as_deref().and_then(|c| serde_json::from_str::<Value>(c).ok()),
    })
}

fn job_json(j: &JobView) -> Value {
    let s = &j.schedule;
    json!({
        "name": s.name, "expression": s.expr, "zone": s.zone, "enabled": s.enabled, "paused": j.paused,
        "state": if !s.enabled { "disabled" } else if j.paused { "paused" } else { "active" },
        "policies": {
            "misfire": s.misfire, "grace_ms": s.grace_ms, "catch_up_ms": s.catch_up_ms, "overlap": s.overlap,
            "max_attempts": s.max_attempts, "retry_base_ms": s.retry_base_ms, "timeout_ms": s.timeout_ms,
        },
        "version": s.version,
        "next_run": j.preview.first(),
        "last_run": j.last_run.as_ref().map(run_json),
    })
}

async fn list(State(st): State<AppState>, _a: AdminUser) -> Result<Json<Value>, AppError> {
    let jobs = control::list(st.store.as_ref(), st.clock.now_ms())
        .await
        .map_err(control_error)?;
    Ok(Json(
        json!({ "items": jobs.iter().map(job_json).collect::<Vec<_>>() }),
    ))
}

async fn show(
    State(st): State<AppState>,
    _a: AdminUser,
    Path(name): Path<String>,
) -> Result<Json<Value>, AppError> {
    let j = control::show(st.store.as_ref(), &name, st.clock.now_ms(), 10)
        .await
        .map_err(control_error)?;
    let mut v = job_json(&j);
    v["preview"] = json!(j.preview);
    Ok(Json(v))
}

#[derive(Deserialize)]
struct RunsPage {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn runs(
    State(st): State<AppState>,
    _a: AdminUser,
    Path(name): Path<String>,
    page: Result<Query<RunsPage>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let Query(page) = page.map_err(|e| AppError::invalid("invalid_query", e.body_text()))?;
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
    Ok(Json(
        json!({ "items": runs.iter().map(run_json).collect::<Vec<_>>(), "next_before": next }),
    ))
}

#[derive(Deserialize, Default)]
struct Trigger {
    request_key: Option<String>,
}

async fn trigger(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let body: Trigger = if body.iter().all(u8::is_ascii_whitespace) {
        Trigger::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::invalid("invalid_body", e.to_string()))?
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(body.request_key)
        .unwrap_or_else(|| auth::random_hex(16));
    if key.is_empty() || key.len() > 200 {
        return Err(AppError::invalid(
            "invalid_request_key",
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
    Ok(match outcome {
        TriggerOutcome::Queued { run_id } => (
            StatusCode::ACCEPTED,
            Json(json!({ "run_id": run_id, "status": "queued" })),
        ),
        TriggerOutcome::Duplicate { run_id } => (
            StatusCode::OK,
            Json(json!({ "run_id": run_id, "status": "duplicate" })),
        ),
        TriggerOutcome::Overlap { run_id } => (
            StatusCode::CONFLICT,
            Json(json!({ "run_id": run_id, "status": "skipped_overlap" })),
        ),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    expression: Option<String>,
    zone: Option<String>,
    enabled: Option<bool>,
    misfire: Option<String>,
    overlap: Option<String>,
    max_attempts: Option<i64>,
    timeout_ms: Option<i64>,
}

async fn edit(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(name): Path<String>,
    JsonBody(e): JsonBody<Edit>,
) -> Result<Json<Value>, AppError> {
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
    show(State(st), AdminUser(admin), Path(name)).await
}

async fn pause(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<StatusCode, AppError> {
    control::set_paused(st.store.as_ref(), true, &admin.email, st.clock.now_ms())
        .await
        .map_err(control_error)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn resume(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
) -> Result<StatusCode, AppError> {
    control::set_paused(st.store.as_ref(), false, &admin.email, st.clock.now_ms())
        .await
        .map_err(control_error)?;
    Ok(StatusCode::NO_CONTENT)
}
