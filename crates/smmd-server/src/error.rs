//! The REST error type: an [`ErrorCode`] (stable snake_case `code` and HTTP status), and a
//! message for clients, rendered as `{"error":{"code":"…","message":"…"}}`.
//!
//! Any use case error converts with `?` (it implements [`Coded`]). An `internal` error keeps
//! its cause only for the log: the response says "Internal server error", and the cause is
//! logged once, when the response is rendered. The reseller API v2 has its own error shape
//! (see `http::v2`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use smmd_app::{Coded, ErrorCode};

#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    /// Safe to show to the client.
    pub message: String,
    /// The status when it differs from the code's (415 for a body that is not JSON).
    status: Option<StatusCode>,
    /// What went wrong, for the log only (`internal` errors).
    cause: Option<String>,
}

impl AppError {
    /// An error with `code`'s status and a client-safe `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
            status: None,
            cause: None,
        }
    }

    /// The same error answered with another status (the code's table documents it).
    pub fn with_status(mut self, status: StatusCode) -> AppError {
        self.status = Some(status);
        self
    }

    pub fn unauthenticated() -> AppError {
        AppError::new(
            ErrorCode::Unauthenticated,
            "Log in or send Authorization: Bearer <api key>",
        )
    }

    pub fn not_found(what: &str) -> AppError {
        AppError::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// An unexpected failure: the client gets "Internal server error"; `cause` is logged once.
    pub fn internal(cause: impl std::fmt::Display) -> AppError {
        AppError {
            code: ErrorCode::Internal,
            message: "Internal server error".into(),
            status: None,
            cause: Some(cause.to_string()),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or_else(|| {
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        })
    }
}

/// Every use case error: its code and its message (the cause only for the log when internal).
impl<E: Coded> From<E> for AppError {
    fn from(e: E) -> Self {
        match e.code() {
            ErrorCode::Internal => AppError::internal(format!("{e:#}")),
            ErrorCode::NotFound => AppError::not_found("Resource").keep_message(e.to_string()),
            code => AppError::new(code, e.to_string()),
        }
    }
}

impl AppError {
    /// Keeps a store's generic "not found" as "Resource not found", and any more specific
    /// message a use case gave.
    fn keep_message(mut self, message: String) -> AppError {
        if message != "not found" {
            self.message = message;
        }
        self
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Some(cause) = &self.cause {
            tracing::error!(code = %self.code, error = %cause, "internal error");
        }
        let body =
            serde_json::json!({ "error": { "code": self.code.as_str(), "message": self.message } });
        (status, Json(body)).into_response()
    }
}

/// The error shape of every REST route.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code: one of [`ErrorCode::ALL`]; the table with statuses and meanings
    /// is in the document's description.
    #[schema(schema_with = error_code_schema)]
    pub code: String,
    /// Safe to show to a person.
    pub message: String,
}

/// The `code` property: a string, one of every [`ErrorCode`] (generated, so the document lists
/// exactly the codes the server can answer).
fn error_code_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some("Stable snake_case error code"))
        .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
        .build()
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;

    async fn render(e: AppError) -> (StatusCode, serde_json::Value) {
        let resp = e.into_response();
        let status = resp.status();
        let body = to_bytes(resp.into_body(), 1 << 16).await.expect("body");
        (status, serde_json::from_slice(&body).expect("json"))
    }

    /// Every code renders with its own status and text; an internal one never sends its cause.
    #[tokio::test]
    async fn every_code_answers_with_its_status_and_internal_causes_stay_in_the_log() {
        for code in ErrorCode::ALL {
            let (status, body) = render(AppError::new(*code, "the message")).await;
            assert_eq!(status.as_u16(), code.status(), "{code}");
            assert_eq!(body["error"]["code"], code.as_str());
        }
        let cause = smmd_store::StoreError::Other(anyhow::anyhow!("disk full at /var/lib/x"));
        let (status, body) = render(cause.into()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["message"], "Internal server error");
        assert!(!body.to_string().contains("disk"), "{body}");
        let (status, body) = render(
            AppError::new(ErrorCode::InvalidBody, "not json")
                .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        )
        .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(body["error"]["code"], "invalid_body");
        let refusal: AppError = smmd_store::BalanceError::InsufficientFunds.into();
        assert_eq!(refusal.code, ErrorCode::InsufficientFunds);
        assert_eq!(refusal.message, "Not enough funds on balance");
    }
}
