//! The JSON interfaces. Each module exposes `router()`; [`routes`] merges them with the ops
//! routes (`/healthz`, `/readyz`, `/metrics`). The shared layers are in [`crate::router`].

pub mod admin;
pub mod affiliates;
pub mod alert_channels;
pub mod api;
pub mod billing;
pub mod currencies;
pub mod jobs;
pub mod notifications;
pub mod openapi;
pub mod panels;
pub mod payments;
pub mod push;
pub mod security;
pub mod site;
pub mod smm;
pub mod statements;
pub mod tickets;
pub mod v2;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde::de::DeserializeOwned;

use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// The JSON interfaces: reseller `/api/v2`, REST `/api/...` (with the NUL guard), the OpenAPI
/// document and the ops endpoints. The pages and `/ws` are merged beside them by
/// [`crate::router`].
pub fn routes() -> Router<AppState> {
    let rest = Router::new()
        .merge(api::router())
        .merge(notifications::router())
        .merge(payments::router())
        .merge(billing::router())
        .merge(statements::router())
        .merge(affiliates::router())
        .merge(admin::router())
        .merge(site::router())
        .merge(security::router())
        .merge(alert_channels::router())
        .merge(currencies::router())
        .merge(panels::router())
        .merge(tickets::router())
        .merge(jobs::router())
        .merge(smm::router())
        .route_layer(axum::middleware::from_fn(refuse_nul));
    Router::new()
        .merge(v2::router())
        .merge(push::router())
        .merge(rest)
        .merge(openapi::router())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(crate::metrics::scrape))
}

async fn ready(State(st): State<AppState>) -> Result<&'static str, AppError> {
    st.store
        .ping()
        .await
        .map_err(|e| AppError::new(ErrorCode::NotReady, e.to_string()))?;
    Ok("ready")
}

/// A JSON body whose rejection is our REST error shape instead of axum's plain text.
/// Strings with a NUL character are refused (422 `invalid_body`): no field has a use for one,
/// and PostgreSQL cannot store it.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(e @ JsonRejection::MissingJsonContentType(_)) => {
                return Err(AppError::new(ErrorCode::InvalidBody, e.body_text())
                    .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE))
            }
            Err(e) => return Err(AppError::new(ErrorCode::InvalidBody, e.body_text())),
        };
        if has_nul(&value) {
            return Err(AppError::new(
                ErrorCode::InvalidBody,
                "Text fields cannot contain NUL characters",
            ));
        }
        serde_path_to_error::deserialize(value)
            .map(JsonBody)
            .map_err(|e| AppError::new(ErrorCode::InvalidBody, readable(&e)))
    }
}

/// A body that does not fit its fields, said as a person reads it: "Amount is required.",
/// "Runs must be a whole number.", "Status: unknown variant …" with the field named by its
/// label (the last path segment, `price_jump_pct` → "Price jump pct"), never the parser's
/// text with backquotes and line numbers.
fn readable(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let label = |name: &str| {
        let text = name.replace('_', " ");
        let mut c = text.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    let raw = e.inner().to_string();
    // serde_json appends " at line L column C"; a person needs neither.
    let text = raw.split(" at line ").next().unwrap_or(&raw).to_string();
    let quoted = |t: &str| t.split('`').nth(1).map(str::to_string);
    if text.starts_with("missing field") {
        return format!("{} is required.", label(&quoted(&text).unwrap_or_default()));
    }
    if text.starts_with("unknown field") {
        return format!(
            "\"{}\" is not a field here.",
            quoted(&text).unwrap_or_default()
        );
    }
    let field = e
        .path()
        .iter()
        .rev()
        .find_map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(key.as_str()),
            _ => None,
        })
        .map(label);
    let subject = field.unwrap_or_else(|| "The body".to_string());
    if let Some(expected) = text
        .strip_prefix("invalid type: ")
        .and_then(|t| t.split(", expected ").nth(1))
    {
        let kind = if ["i64", "i32", "u64", "u32", "u16", "u8", "usize", "integer"]
            .iter()
            .any(|k| expected.contains(k))
        {
            "a whole number"
        } else if expected.contains("bool") {
            "true or false"
        } else if expected.contains("sequence") {
            "a list"
        } else if expected.contains("string") || expected.contains("decimal") {
            "text"
        } else {
            expected
        };
        return format!("{subject} must be {kind}.");
    }
    format!("{subject}: {}", text.replace('`', "\""))
}

fn has_nul(v: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match v {
        V::String(s) => s.contains('\0'),
        V::Array(a) => a.iter().any(has_nul),
        V::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Refuses a REST request whose path or query carries an encoded NUL (`%00`): in the path it
/// names nothing (404), in the query it is invalid (422). Headers cannot carry one.
async fn refuse_nul(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let has = |s: &str| s.to_ascii_lowercase().contains("%00");
    if has(req.uri().path()) {
        return AppError::not_found("Resource").into_response();
    }
    if req.uri().query().is_some_and(has) {
        return AppError::new(
            ErrorCode::InvalidQuery,
            "Query values cannot contain NUL characters",
        )
        .into_response();
    }
    next.run(req).await
}

/// Query parameters whose rejection is our REST error shape (422 `invalid_query`).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| AppError::new(ErrorCode::InvalidQuery, e.body_text()))
    }
}

/// Path parameters whose rejection is our REST error shape: an id that is not a number names
/// nothing, so it is a 404 `not_found`, never axum's plain-text 400.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|_| AppError::not_found("Resource"))
    }
}

/// A `limit` query value clamped to 1..=`max`, `default` when absent.
pub fn clamp_limit(limit: Option<i64>, default: i64, max: i64) -> i64 {
    limit.unwrap_or(default).clamp(1, max)
}

/// A CSV cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return is prefixed with `'` (OWASP "CSV injection"), so a customer's link or a
/// provider's message such as `=HYPERLINK(…)` is shown, never evaluated. The export's numbers
/// are never negative, so no figure changes.
pub(crate) fn spreadsheet_safe(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Adjust {
        amount: String,
        runs: Option<i64>,
        notify: Option<bool>,
        ids: Option<Vec<i64>>,
        kind: Option<Kind>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Credit,
    }

    fn message(body: serde_json::Value) -> String {
        match serde_path_to_error::deserialize::<_, Adjust>(body) {
            Ok(a) => panic!("accepted {a:?}"),
            Err(e) => readable(&e),
        }
    }

    #[test]
    fn body_errors_name_the_field_without_parser_text() {
        use serde_json::json;
        assert_eq!(message(json!({})), "Amount is required.");
        assert_eq!(
            message(json!({"amount": "1", "runs": "x"})),
            "Runs must be a whole number."
        );
        assert_eq!(message(json!({"amount": 5})), "Amount must be text.");
        assert_eq!(
            message(json!({"amount": "1", "notify": "yes"})),
            "Notify must be true or false."
        );
        assert_eq!(
            message(json!({"amount": "1", "ids": 3})),
            "Ids must be a list."
        );
        assert_eq!(
            message(json!({"amount": "1", "extra": 1})),
            "\"extra\" is not a field here."
        );
        let bad_kind = message(json!({"amount": "1", "kind": "debit"}));
        assert!(
            bad_kind.starts_with("Kind: unknown variant \"debit\""),
            "{bad_kind}"
        );
        assert!(
            !bad_kind.contains('`') && !bad_kind.contains("line"),
            "{bad_kind}"
        );
    }
}
