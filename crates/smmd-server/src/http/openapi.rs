//! The OpenAPI 3.1 document of every REST route, generated from the handlers' `utoipa`
//! annotations ([`document`]), served at `GET /api/openapi.json`, and rendered as a plain HTML
//! reference at `GET /api/docs` (server-side, no script, so it obeys the panel's strict CSP).
//!
//! The document also carries what the annotations cannot: the two auth schemes (`bearer`:
//! `Authorization: Bearer <api key>`; `session`: the `smmd_session` cookie, with `X-CSRF-Token`
//! on writes), the error responses each operation can give (derived from what it takes: auth,
//! path, query, body), and the table of stable error codes ([`ERROR_CODES`]).

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{RefOr, ResponseBuilder};
use utoipa::{OpenApi, ToSchema};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(json))
        .route("/api/docs", get(page))
}

/// Every stable `error.code` a REST route can answer, with its HTTP status and meaning.
pub const ERROR_CODES: &[(&str, u16, &str)] = &[
    (
        "unauthenticated",
        401,
        "No valid session cookie or Bearer API key",
    ),
    ("invalid_credentials", 401, "Wrong e-mail or password"),
    (
        "too_many_attempts",
        429,
        "Too many log-in attempts for this address (Retry-After)",
    ),
    (
        "csrf_failed",
        403,
        "A cookie-authenticated write without the session's X-CSRF-Token",
    ),
    ("admin_only", 403, "The route needs an admin account"),
    (
        "not_found",
        404,
        "The resource does not exist or is not yours",
    ),
    ("unknown_job", 404, "No job with this name"),
    ("conflict", 409, "The change collides with existing data"),
    (
        "already_decided",
        409,
        "The payment request was already approved or rejected",
    ),
    (
        "invalid_payment",
        422,
        "The amount, method or reference of a payment request is not accepted",
    ),
    (
        "no_webhook",
        409,
        "A webhook secret needs a webhook URL first",
    ),
    (
        "invalid_webhook_url",
        422,
        "The webhook URL is not a public http(s) URL",
    ),
    ("email_taken", 409, "An account with this e-mail exists"),
    (
        "request_id_reused",
        409,
        "A balance request id was used for another change",
    ),
    (
        "active_order_with_link",
        409,
        "An active order for this link and service exists",
    ),
    ("not_cancelable", 409, "The service does not allow cancel"),
    ("already_finished", 409, "The order has reached its outcome"),
    (
        "cancel_already_requested",
        409,
        "A cancel was already asked",
    ),
    ("refill_not_available", 409, "The service has no refill"),
    (
        "order_not_completed",
        409,
        "Refill needs a completed or partial order",
    ),
    ("guarantee_expired", 409, "The refill guarantee is over"),
    (
        "refill_already_active",
        409,
        "A refill of this order is in progress",
    ),
    ("not_in_review", 409, "The order is not waiting for review"),
    (
        "invalid_transition",
        409,
        "The order state machine forbids this action now",
    ),
    (
        "invalid_body",
        422,
        "The JSON body is malformed or has wrong types (415 without a JSON content type)",
    ),
    (
        "invalid_query",
        422,
        "A query parameter is malformed or unknown",
    ),
    (
        "invalid_cursor",
        422,
        "The paging cursor is not one the API gave",
    ),
    ("invalid_service", 422, "No enabled service with this id"),
    ("invalid_link", 422, "The link is missing or malformed"),
    (
        "invalid_quantity",
        422,
        "Quantity missing or outside the service's min/max",
    ),
    (
        "dripfeed_not_allowed",
        422,
        "The service does not support drip-feed",
    ),
    ("invalid_runs", 422, "Drip-feed runs out of range"),
    ("invalid_interval", 422, "Drip-feed interval out of range"),
    (
        "invalid_field",
        422,
        "A type-specific field is missing or malformed",
    ),
    (
        "insufficient_funds",
        422,
        "The balance does not cover the charge (or the debit)",
    ),
    ("amount_too_large", 422, "The charge overflows"),
    (
        "invalid_idempotency_key",
        422,
        "Idempotency-Key must be 1-200 visible ASCII characters",
    ),
    (
        "idempotency_key_reused",
        422,
        "The Idempotency-Key was used for a different order",
    ),
    ("invalid_email", 422, "Not an e-mail address"),
    ("weak_password", 422, "Passwords have 8 to 1024 characters"),
    ("invalid_amount", 422, "Not a decimal amount, or zero"),
    (
        "reason_required",
        422,
        "Admin money and order actions need a reason",
    ),
    (
        "invalid_remains",
        422,
        "Remains must be 0 to the order's quantity",
    ),
    ("invalid_markup", 422, "Markup is 0 to 100000 basis points"),
    (
        "invalid_service_edit",
        422,
        "Name, min, max or rate out of range",
    ),
    ("invalid_role", 422, "Role is `user` or `admin`"),
    (
        "invalid_provider_order_id",
        422,
        "A provider order id has 1 to 100 characters",
    ),
    (
        "invalid_schedule",
        422,
        "The cron expression or time zone is invalid",
    ),
    ("invalid_policy", 422, "A job policy value is out of range"),
    (
        "invalid_request_key",
        422,
        "A job request key has 1 to 200 characters",
    ),
    (
        "provider_error",
        502,
        "The provider did not answer as API v2 should",
    ),
    (
        "providers_unavailable",
        503,
        "Provider routes need security.secret_key",
    ),
    (
        "internal",
        500,
        "An unexpected failure (logged, never detailed)",
    ),
    ("unauthorized", 401, "`/metrics` without its Bearer token"),
    (
        "metrics_unavailable",
        503,
        "`/metrics`: another recorder is installed",
    ),
    (
        "not_ready",
        503,
        "`/readyz`: the database cannot be reached",
    ),
];

/// The error shape of every REST route.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code; the table is in the document's description.
    pub code: String,
    /// Safe to show to a person.
    pub message: String,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "smmd REST API", version = env!("CARGO_PKG_VERSION")),
    components(schemas(ErrorBody, ErrorDetail)),
    security(("bearer" = []), ("session" = []))
)]
struct Base;

/// The whole document: every module's paths and schemas, the auth schemes, the error
/// responses per operation and the error code table.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    doc.merge(super::api::AccountDoc::openapi());
    doc.merge(super::notifications::NotificationsDoc::openapi());
    doc.merge(super::payments::PaymentsDoc::openapi());
    doc.merge(super::smm::SmmDoc::openapi());
    doc.merge(super::admin::AdminDoc::openapi());
    doc.merge(super::jobs::ApiDoc::openapi());
    doc.info.description = Some(description());
    if let Some(c) = doc.components.as_mut() {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The user's API key (an admin's for /api/admin)"))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "Set by POST /api/auth/login; writes also need the X-CSRF-Token header",
            ))),
        );
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = path == "/api/auth/login";
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.patch,
            &mut item.put,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            add_error_responses(op, path, public);
        }
    }
    doc
}

/// Adds the error responses an operation can give, from what it takes.
fn add_error_responses(op: &mut Operation, path: &str, public: bool) {
    use utoipa::openapi::path::ParameterIn;
    let params = op.parameters.as_deref().unwrap_or_default();
    let has = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
    let mut codes: Vec<(u16, &str)> = vec![(500, "Internal error")];
    if public {
        op.security = Some(Vec::new());
    } else {
        codes.push((401, "Not authenticated"));
        codes.push((403, "CSRF token missing, or not an admin"));
    }
    if has(ParameterIn::Path) || path.contains('{') {
        codes.push((404, "Not found (or not yours)"));
    }
    if has(ParameterIn::Query) || has(ParameterIn::Header) || op.request_body.is_some() {
        codes.push((422, "Invalid input"));
    }
    if op.request_body.is_some() {
        codes.push((415, "The body must be application/json"));
    }
    if op
        .operation_id
        .as_deref()
        .is_some_and(|id| MUTATING_CONFLICTS.contains(&id))
    {
        codes.push((409, "Conflicts with the current state"));
    }
    if path.starts_with("/api/admin/providers/") {
        codes.push((502, "The provider failed"));
        codes.push((503, "Provider routes need security.secret_key"));
    }
    for (code, what) in codes {
        let key = code.to_string();
        if op.responses.responses.contains_key(&key) {
            continue;
        }
        let resp = ResponseBuilder::new()
            .description(what)
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        "ErrorBody",
                    ))))
                    .build(),
            )
            .build();
        op.responses.responses.insert(key, RefOr::T(resp));
    }
}

/// Operations that can answer 409 (by operation id, which utoipa sets to the handler's name).
const MUTATING_CONFLICTS: &[&str] = &[
    "create_order",
    "cancel",
    "refill",
    "create_user",
    "adjust_balance",
    "resolve_order",
    "refund_order",
    "cancel_order",
    "set_partial",
    "edit_service",
    "edit_category",
    "sync_provider",
    "rotate_webhook_secret",
    "approve_payment",
    "reject_payment",
];

fn description() -> String {
    let mut d = String::from(
        "The panel's REST API for apps, owners' scripts and admins. Resellers use the SMM API v2 \
         at `/api/v2` instead.\n\n\
         **Auth**: `Authorization: Bearer <api key>` (the key from the account page or \
         `POST /api/account/api-key`), or the session cookie from `POST /api/auth/login` with its \
         CSRF token in `X-CSRF-Token` on every write. `/api/admin/*` needs an admin.\n\n\
         **Money** is a decimal string in the panel currency, exact to micro-units. **Times** \
         are epoch milliseconds (UTC). **Lists** are newest first; pass `next_cursor` as \
         `cursor` for the next page.\n\n\
         **Errors** are `{\"error\":{\"code\":\"…\",\"message\":\"…\"}}` with a real HTTP \
         status. Stable codes:\n\n| code | status | meaning |\n|---|---|---|\n",
    );
    for (code, status, what) in ERROR_CODES {
        d.push_str(&format!("| `{code}` | {status} | {what} |\n"));
    }
    d
}

async fn json() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

/// The reference page: every operation with its parameters, body and responses.
async fn page() -> impl IntoResponse {
    let doc = document();
    let v = serde_json::to_value(&doc).unwrap_or_default();
    Html(render(&v).into_string())
}

fn render(v: &serde_json::Value) -> Markup {
    let empty = serde_json::Map::new();
    let paths = v["paths"].as_object().unwrap_or(&empty);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "smmd REST API reference" }
                link rel="stylesheet" href="/assets/app.css";
            }
            body.docs {
                main.container {
                    h1 { "smmd REST API" }
                    p { "Machine-readable: " a href="/api/openapi.json" { "/api/openapi.json" } " (OpenAPI 3.1)." }
                    pre.description { (v["info"]["description"].as_str().unwrap_or_default()) }
                    nav {
                        ul {
                            @for (path, item) in paths {
                                @for (method, _) in item.as_object().unwrap_or(&empty) {
                                    li { a href=(format!("#{}-{}", method, anchor(path))) { code { (method.to_uppercase()) " " (path) } } }
                                }
                            }
                        }
                    }
                    @for (path, item) in paths {
                        @for (method, op) in item.as_object().unwrap_or(&empty) {
                            section.operation id=(format!("{}-{}", method, anchor(path))) {
                                h2 { code { (method.to_uppercase()) " " (path) } }
                                @if let Some(d) = op["description"].as_str().or(op["summary"].as_str()) {
                                    p { (d) }
                                }
                                @if let Some(ps) = op["parameters"].as_array() {
                                    table {
                                        thead { tr { th { "parameter" } th { "in" } th { "required" } th { "description" } } }
                                        tbody {
                                            @for p in ps {
                                                tr {
                                                    td { code { (p["name"].as_str().unwrap_or_default()) } }
                                                    td { (p["in"].as_str().unwrap_or_default()) }
                                                    td { (if p["required"].as_bool().unwrap_or(false) { "yes" } else { "no" }) }
                                                    td { (p["description"].as_str().unwrap_or_default()) }
                                                }
                                            }
                                        }
                                    }
                                }
                                @if let Some(schema) = op["requestBody"]["content"]["application/json"]["schema"].as_object() {
                                    p { "Body: " code { (schema_name(schema)) } }
                                }
                                ul {
                                    @for (status, r) in op["responses"].as_object().unwrap_or(&empty) {
                                        li { code { (status) } " " (r["description"].as_str().unwrap_or_default()) }
                                    }
                                }
                            }
                        }
                    }
                    h2 { "Schemas" }
                    @for (name, schema) in v["components"]["schemas"].as_object().unwrap_or(&empty) {
                        section.schema id=(format!("schema-{name}")) {
                            h3 { (name) }
                            pre { (PreEscaped(escape(&serde_json::to_string_pretty(schema).unwrap_or_default()))) }
                        }
                    }
                }
            }
        }
    }
}

fn anchor(path: &str) -> String {
    path.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn schema_name(schema: &serde_json::Map<String, serde_json::Value>) -> String {
    schema
        .get("$ref")
        .and_then(|r| r.as_str())
        .map(|r| r.rsplit('/').next().unwrap_or(r).to_string())
        .unwrap_or_else(|| "object".to_string())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code the server's source passes to an `AppError` constructor is in the table, so
    /// the document lists every code a client can meet.
    #[test]
    fn every_error_code_in_the_source_is_documented() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![root.clone()];
        let mut seen = Vec::new();
        while let Some(p) = files.pop() {
            if p.is_dir() {
                for e in std::fs::read_dir(&p).expect("dir").flatten() {
                    files.push(e.path());
                }
                continue;
            }
            let text = std::fs::read_to_string(&p).expect("read");
            for ctor in [
                "AppError::new(",
                "AppError::invalid(",
                "AppError::forbidden(",
            ] {
                for (i, _) in text.match_indices(ctor) {
                    let rest = &text[i + ctor.len()..];
                    let Some(q) = rest.find('"') else { continue };
                    let lit: String = rest[q + 1..].chars().take_while(|c| *c != '"').collect();
                    if lit.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !lit.is_empty() {
                        seen.push((p.display().to_string(), lit));
                    }
                }
            }
        }
        assert!(
            seen.len() > 30,
            "the scan finds the constructors: {}",
            seen.len()
        );
        for (file, code) in seen {
            assert!(
                ERROR_CODES.iter().any(|(c, _, _)| *c == code),
                "`{code}` ({file}) is not in ERROR_CODES"
            );
        }
    }

    #[test]
    fn the_reference_page_shows_every_operation_and_code_without_scripts() {
        let doc = serde_json::to_value(document()).expect("json");
        let page = render(&doc).into_string();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("item").keys() {
                let heading = format!("{} {}", method.to_uppercase(), path);
                assert!(page.contains(&heading), "{heading} is on the page");
            }
        }
        for (code, _, _) in ERROR_CODES {
            assert!(page.contains(code), "{code}");
        }
        assert!(
            !page.contains("<script"),
            "the strict CSP allows no inline script"
        );
    }

    #[test]
    fn every_operation_has_an_id_a_success_and_its_error_responses() {
        let doc = serde_json::to_value(document()).expect("json");
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.len() >= 30, "{} paths", paths.len());
        let mut ids = std::collections::HashSet::new();
        for (path, item) in paths {
            for (method, op) in item.as_object().expect("item") {
                let id = op["operationId"].as_str().expect("an operation id");
                assert!(
                    ids.insert(id.to_string()),
                    "{method} {path}: operation id {id} is used twice"
                );
                let r = op["responses"].as_object().expect("responses");
                assert!(
                    r.keys().any(|k| k.starts_with('2')),
                    "{method} {path} has a success response"
                );
                assert!(r.contains_key("500"), "{method} {path}");
                if path != "/api/auth/login" {
                    assert!(r.contains_key("401"), "{method} {path} documents 401");
                }
                if path.contains('{') {
                    assert!(r.contains_key("404"), "{method} {path} documents 404");
                }
            }
        }
    }
}
