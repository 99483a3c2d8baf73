//! The REST error type: a stable snake_case `code`, an HTTP status and a message for clients,
//! rendered as `{"error":{"code":"…","message":"…"}}`. Store failures become an opaque 500 whose
//! cause is logged once, never sent. The reseller API v2 has its own error shape (see `http::v2`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use smmd_store::StoreError;

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    /// Stable machine-readable code (`insufficient_funds`).
    pub code: &'static str,
    /// Safe to show to the client.
    pub message: String,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    pub fn unauthenticated() -> AppError {
        AppError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Log in or send Authorization: Bearer <api key>",
        )
    }
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::FORBIDDEN, code, message)
    }
    pub fn not_found(what: &str) -> AppError {
        AppError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    pub fn internal(cause: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %cause, "internal error");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
        )
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found("Resource"),
            StoreError::Conflict(what) => AppError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("Already exists: {what}"),
            ),
            StoreError::Other(e) => AppError::internal(format!("{e:#}")),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}
