//! Provider status pushes (issue 20): `POST /hooks/providers/{id}`, where a provider (an
//! upstream smmd panel's webhooks included) posts signed order statuses, and the admin routes
//! that set or generate each provider's push secret. Each handler calls one `smmd_app::push`
//! use case; the rules (signature, 5-minute window, idempotency, the sync's guarded path) are
//! there.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_app::push::{self, Push, PushOutcome};
use smmd_domain::ProviderId;
use utoipa::ToSchema;

use crate::auth::AdminUser;
use crate::error::{AppError, ErrorCode};
use crate::http::{ApiPath, JsonBody};
use crate::state::AppState;

/// Largest push body read, bytes; a longer one is refused with 413 before it is read.
pub const PUSH_MAX_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/hooks/providers/{id}",
            post(receive).layer(DefaultBodyLimit::max(PUSH_MAX_BYTES)),
        )
        .route(
            "/api/admin/providers/{id}/push-secret",
            put(set_secret).post(generate_secret),
        )
}

fn fulfil(st: &AppState) -> Result<&smmd_fulfil::Fulfil, AppError> {
    st.fulfil.as_ref().ok_or_else(|| {
        AppError::new(
            ErrorCode::ProvidersUnavailable,
            "Set security.secret_key to use providers",
        )
    })
}

#[derive(Serialize)]
pub struct PushAnswer {
    /// `applied`, `unchanged`, `duplicate` or `unknown_order`.
    result: PushOutcome,
}

/// Receives one signed status push of provider `id`.
async fn receive(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<PushAnswer>, AppError> {
    let f = fulfil(&st)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let body = std::str::from_utf8(&body)
        .map_err(|_| AppError::new(ErrorCode::InvalidPush, "the body is not UTF-8"))?;
    let p = Push {
        timestamp: header(smmd_notify::webhook::TIMESTAMP_HEADER),
        signature: header(smmd_notify::webhook::SIGNATURE_HEADER),
        delivery: header(smmd_notify::webhook::DELIVERY_HEADER),
        body,
    };
    let result = push::receive(f, ProviderId(id), p).await?;
    // The order changed: its customer's notices (and, in a chain of smmd panels, the push to
    // the next panel) leave now rather than at the next tick.
    if result == PushOutcome::Applied && st.config.scheduler.run_on_demand {
        st.jobs_wake.wake(smmd_jobs::jobs::NOTIFICATIONS_DELIVER);
    }
    Ok(Json(PushAnswer { result }))
}

#[derive(Deserialize, ToSchema)]
pub struct PushSecretBody {
    /// The secret the provider signs its pushes with (for an upstream smmd panel: the webhook
    /// secret of our account there), 16–256 characters; null turns pushes off.
    secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PushEndpoint {
    /// Where the provider sends its pushes (`{public_url}/hooks/providers/{id}`; the path alone
    /// when the panel's public address is not configured).
    push_url: String,
    enabled: bool,
    /// A generated secret, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn endpoint(st: &AppState, id: i64, enabled: bool, secret: Option<String>) -> PushEndpoint {
    PushEndpoint {
        push_url: format!(
            "{}/hooks/providers/{id}",
            st.config.base_url().unwrap_or_default()
        ),
        enabled,
        secret,
    }
}

/// Sets or clears a provider's push secret (audited as `provider.push_secret`).
#[utoipa::path(put, path = "/api/admin/providers/{id}/push-secret", tag = "admin",
    params(("id" = i64, Path, description = "Provider id")), request_body = PushSecretBody,
    responses((status = 200, body = PushEndpoint), (status = 422, description = "invalid_push_secret")))]
pub async fn set_secret(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<PushSecretBody>,
) -> Result<Json<PushEndpoint>, AppError> {
    let f = fulfil(&st)?;
    push::set_secret(
        st.app(),
        &f.clients,
        &AppState::actor(&admin),
        ProviderId(id),
        b.secret.as_deref(),
    )
    .await?;
    Ok(Json(endpoint(&st, id, b.secret.is_some(), None)))
}

/// Generates a provider's push secret to give the provider (audited as `provider.push_secret`);
/// the secret is in this answer only.
#[utoipa::path(post, path = "/api/admin/providers/{id}/push-secret", tag = "admin",
    params(("id" = i64, Path, description = "Provider id")),
    responses((status = 200, body = PushEndpoint), (status = 404, description = "No such provider")))]
pub async fn generate_secret(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PushEndpoint>, AppError> {
    let f = fulfil(&st)?;
    let secret = push::generate_secret(
        st.app(),
        &f.clients,
        &AppState::actor(&admin),
        ProviderId(id),
    )
    .await?;
    Ok(Json(endpoint(&st, id, true, Some(secret))))
}
