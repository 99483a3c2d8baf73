//! Monthly billing statements (`docs/billing.md`, Statements): the customer reads their own,
//! the admin reads everyone's and voids a final one (audited; a new draft replaces it). The
//! billing job drafts and finalises them (`smmd_jobs::billing`); this module never numbers one.

use smmd_domain::UserId;
use smmd_store::Statement;

use crate::audit;
use crate::error::{Refusal, UseCaseError};
use crate::{Actor, App, ErrorCode};

/// Statements shown per list.
pub const LIST_LIMIT: i64 = 120;

/// The user's statements, newest month first.
pub async fn mine(app: App<'_>, user: UserId) -> Result<Vec<Statement>, UseCaseError> {
    Ok(app.store.statements(Some(user), LIST_LIMIT).await?)
}

/// One of the user's statements; another's is "not found", as if it did not exist.
pub async fn my_statement(app: App<'_>, user: UserId, id: i64) -> Result<Statement, UseCaseError> {
    match app.store.statement(id).await? {
        Some(s) if s.user_id == user => Ok(s),
        _ => Err(not_found()),
    }
}

fn not_found() -> UseCaseError {
    Refusal::new(ErrorCode::NotFound, "Statement not found").into()
}

/// Any statement (admins).
pub async fn statement(app: App<'_>, id: i64) -> Result<Statement, UseCaseError> {
    app.store.statement(id).await?.ok_or_else(not_found)
}

/// Everyone's statements, or one user's (admins).
pub async fn list(app: App<'_>, user: Option<UserId>) -> Result<Vec<Statement>, UseCaseError> {
    Ok(app.store.statements(user, LIST_LIMIT).await?)
}

/// Voids a final statement with a reason and returns the draft that replaces it.
pub async fn void(
    app: App<'_>,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<Statement, UseCaseError> {
    let reason = audit::reason(reason)?;
    let now = app.now();
    let entry = actor.audit(
        "statement.void",
        format!("statement:{id}"),
        reason.to_string(),
        now,
    );
    Ok(app
        .store
        .void_statement(id, reason, now, Some(entry))
        .await?)
}
