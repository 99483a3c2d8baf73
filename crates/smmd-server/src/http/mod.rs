//! HTTP interfaces. Each module exposes `router()`; [`router`] merges them with the ops routes
//! (`/healthz`, `/readyz`, `/metrics`) and the shared layers (body limit, tracing).

pub mod admin;
pub mod api;
pub mod jobs;
pub mod v2;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde::de::DeserializeOwned;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::state::AppState;

/// The whole HTTP surface of smmd.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(v2::router())
        .merge(api::router())
        .merge(admin::router())
        .merge(jobs::router())
        .merge(crate::web::router())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(crate::metrics::scrape))
        .layer(DefaultBodyLimit::max(v2::MAX_BODY))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn ready(State(st): State<AppState>) -> Result<&'static str, AppError> {
    st.store
        .ping()
        .await
        .map_err(|e| AppError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", e.to_string()))?;
    Ok("ready")
}

/// A JSON body whose rejection is our REST error shape instead of axum's plain text.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(e @ JsonRejection::MissingJsonContentType(_)) => Err(AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_body",
                e.body_text(),
            )),
            Err(e) => Err(AppError::invalid("invalid_body", e.body_text())),
        }
    }
}
