//! The admin audit log, newest first: who did what to which subject, and why.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AdminUser;
use crate::error::AppError;
use crate::http::smm::next_cursor;
use crate::http::{clamp_limit, ApiQuery};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct AuditDto {
    id: i64,
    actor_id: Option<i64>,
    /// The admin's e-mail at the time.
    actor: String,
    /// `user.credit`, `order.refund`, `service.edit`, …
    action: String,
    /// `user:7`, `order:42`, `service:3`, `provider:1`, …
    subject: String,
    detail: String,
    created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    items: Vec<AuditDto>,
    /// Pass as `before` for the next page.
    next_before: Option<i64>,
}

/// Admin actions, newest first (scheduler edits are in each job's history).
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", params(crate::http::api::Page),
    responses((status = 200, body = AuditPage)))]
pub async fn audit_log(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiQuery(page): ApiQuery<crate::http::api::Page>,
) -> Result<Json<AuditPage>, AppError> {
    let limit = clamp_limit(page.limit, 50, 200);
    let list = st.store.audit_log(page.before, limit).await?;
    Ok(Json(AuditPage {
        next_before: next_cursor(list.len(), limit, list.last().map(|e| e.id))
            .and_then(|c| c.parse().ok()),
        items: list
            .into_iter()
            .map(|e| AuditDto {
                id: e.id,
                actor_id: e.actor_id.map(|a| a.0),
                actor: e.actor,
                action: e.action,
                subject: e.subject,
                detail: e.detail,
                created_at: e.created_at,
            })
            .collect(),
    }))
}
