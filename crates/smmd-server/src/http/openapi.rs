//! The OpenAPI 3.1 document of every REST route, generated from the handlers' `utoipa`
//! annotations ([`document`]), served at `GET /api/openapi.json`, and rendered at
//! `GET /api/docs` by Swagger UI, bundled into the binary ([`DOCS_ASSETS`]) and loaded from
//! this server only, so the panel's strict CSP holds.
//!
//! The document also carries what the annotations cannot: the two auth schemes (`bearer`:
//! `Authorization: Bearer <api key>`; `session`: the `smmd_session` cookie, with `X-CSRF-Token`
//! on writes), the error responses each operation can give (derived from what it takes: auth,
//! path, query, body), and the stable error codes, generated from [`ErrorCode::ALL`] (the
//! `code` property's `enum` and the description's table).

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use maud::{html, Markup, DOCTYPE};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{RefOr, ResponseBuilder};
use utoipa::OpenApi;

use crate::error::{ErrorBody, ErrorCode, ErrorDetail};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(json))
        .route("/api/docs", get(page))
        .route(DOCS_JS_PATH, get(|| asset(0)))
        .route(DOCS_CSS_PATH, get(|| asset(1)))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "smmd REST API", version = env!("CARGO_PKG_VERSION")),
    components(schemas(ErrorBody, ErrorDetail)),
    security(("bearer" = []), ("session" = []))
)]
struct Base;

/// Each module's part of the document. Schemas are keyed by name when merged, so two modules
/// must never name different schemas alike (a test checks).
fn parts() -> [utoipa::openapi::OpenApi; 16] {
    [
        super::api::AccountDoc::openapi(),
        super::notifications::NotificationsDoc::openapi(),
        super::payments::PaymentsDoc::openapi(),
        super::billing::BillingDoc::openapi(),
        super::statements::StatementsDoc::openapi(),
        super::affiliates::AffiliatesDoc::openapi(),
        super::smm::SmmDoc::openapi(),
        super::admin::AdminDoc::openapi(),
        super::site::SiteDoc::openapi(),
        super::security::SecurityDoc::openapi(),
        super::alert_channels::AlertChannelsDoc::openapi(),
        super::tickets::TicketsDoc::openapi(),
        super::currencies::CurrenciesDoc::openapi(),
        super::panels::PanelsDoc::openapi(),
        super::admin::customers::CustomersDoc::openapi(),
        super::jobs::ApiDoc::openapi(),
    ]
}

/// The whole document: every module's paths and schemas, the auth schemes, the error
/// responses per operation and the error code table.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    for part in parts() {
        doc.merge(part);
    }
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
        let public = is_public(path);
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
            add_code_header(op);
            add_error_responses(op, path, public);
        }
    }
    doc
}

/// Routes anyone may call: log-in, the password reset, and the storefront's public catalogue.
fn is_public(path: &str) -> bool {
    path == "/api/auth/login"
        || path.starts_with("/api/auth/password-reset")
        || path.starts_with("/api/public/")
}

/// Operations behind the step-up (`smmd_app::security::step_up`): money and security actions
/// that take a two-factor code in `X-2FA-Code` from accounts with two-factor on.
const STEP_UP: &[&str] = &[
    "rotate_key",
    "adjust_balance",
    "approve_payment",
    "reject_payment",
    "add_provider",
    "edit_provider",
    "submit_method",
    "save_alert_channel",
];

/// Documents the `X-2FA-Code` header of a step-up operation.
fn add_code_header(op: &mut Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    if !op
        .operation_id
        .as_deref()
        .is_some_and(|id| STEP_UP.contains(&id))
    {
        return;
    }
    let header = ParameterBuilder::new()
        .name(crate::auth::CODE_HEADER)
        .parameter_in(ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(
            "A two-factor code (6 digits) or backup code, for accounts with two-factor on whose session has not passed one in the last 10 minutes: 403 `two_factor_required` without it, 422 `invalid_code` when wrong",
        ))
        .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::String).max_length(Some(64))))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(header);
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
    "rate_order",
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
    "rent_plan",
    "cancel_rental",
    "update_billing_settings",
    "create_plan",
    "suspend_rental",
    "unsuspend_rental",
    "terminate_rental",
    "change_rental_plan",
    "credit_rental",
    "void_statement",
    "submit_method",
    "transfer",
    "decide_payout",
    "mark_paid",
    "adjust",
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
    for code in ErrorCode::ALL {
        d.push_str(&format!(
            "| `{code}` | {} | {} |\n",
            code.status(),
            code.description()
        ));
    }
    d
}

/// The document, with the panel's address as its `servers` entry.
async fn json(
    axum::extract::State(st): axum::extract::State<crate::state::AppState>,
    headers: axum::http::HeaderMap,
) -> Json<utoipa::openapi::OpenApi> {
    let mut doc = document();
    let url = st.config.url_for(&headers);
    if !url.is_empty() {
        doc.servers = Some(vec![utoipa::openapi::Server::new(url)]);
    }
    Json(doc)
}

/// The reference page: Swagger UI (bundled, `assets/vendor/swagger-ui`, see its `VERSION`)
/// reading `/api/openapi.json`. No inline script or style: the page loads the bundle, its
/// stylesheet and `docs.js` from `/assets`, so the panel's CSP (`script-src 'self'`) holds.
async fn page(
    axum::extract::State(st): axum::extract::State<crate::state::AppState>,
) -> impl IntoResponse {
    Html(docs_page(&st.config.panel.name).into_string())
}

fn docs_page(panel: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "REST API reference · " (panel) }
                link rel="stylesheet" href=(DOCS_CSS_PATH);
                link rel="stylesheet" href="/assets/docs.css";
            }
            body.docs {
                header.docs-bar {
                    a.brand href="/" { (panel) }
                    span { "REST API" }
                    a href="/api/openapi.json" { "openapi.json" }
                    a href="/api" { "API v2 (resellers)" }
                }
                div #swagger-ui data-spec="/api/openapi.json" {
                    noscript {
                        p { "The interactive reference needs JavaScript. The whole API is described in "
                            a href="/api/openapi.json" { "/api/openapi.json" } " (OpenAPI 3.1)." }
                    }
                }
                script src=(DOCS_JS_PATH) {}
                script src="/assets/docs.js" {}
            }
        }
    }
}

async fn asset(i: usize) -> impl IntoResponse {
    let (_, content_type, bytes) = DOCS_ASSETS[i];
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (
                axum::http::header::CACHE_CONTROL,
                "public, max-age=31536000, immutable",
            ),
        ],
        bytes,
    )
}

/// Where the bundled renderer is served (versioned, so browsers may keep it for a year).
pub const DOCS_JS_PATH: &str = "/assets/swagger-ui/5.35.0/swagger-ui-bundle.js";
pub const DOCS_CSS_PATH: &str = "/assets/swagger-ui/5.35.0/swagger-ui.css";

/// The renderer's files, embedded in the binary: (path, content type, bytes).
pub const DOCS_ASSETS: [(&str, &str, &[u8]); 2] = [
    (
        DOCS_JS_PATH,
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        DOCS_CSS_PATH,
        "text/css; charset=utf-8",
        include_bytes!("../../assets/vendor/swagger-ui/swagger-ui.css"),
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn no_two_modules_name_different_schemas_alike() {
        // A merge keeps one schema per name: a second `SettingsDto` silently replaced the
        // notification settings' (or the other way round), and responses broke their schema.
        let mut seen = std::collections::HashMap::new();
        for part in super::parts() {
            for (name, schema) in part.components.map(|c| c.schemas).unwrap_or_default() {
                let json = serde_json::to_string(&schema).expect("json");
                if let Some(before) = seen.insert(name.clone(), json.clone()) {
                    assert_eq!(before, json, "two different schemas are named {name}");
                }
            }
        }
        assert!(seen.contains_key("BillingSettingsDto") && seen.contains_key("SettingsDto"));
    }

    use super::*;

    /// The document lists exactly the codes of [`ErrorCode`] — as the `code` property's enum
    /// and in the description's table, each with its status and meaning — and every status a
    /// code answers with is one an operation documents.
    #[test]
    fn the_document_lists_exactly_every_error_code_with_its_status() {
        let doc = serde_json::to_value(document()).expect("json");
        let listed: Vec<&str> = doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]
            ["enum"]
            .as_array()
            .expect("the code is an enum")
            .iter()
            .map(|v| v.as_str().expect("text"))
            .collect();
        let all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, all);
        let description = doc["info"]["description"].as_str().expect("description");
        let rows: Vec<&str> = description
            .lines()
            .filter(|l| l.starts_with("| `"))
            .collect();
        assert_eq!(rows.len(), ErrorCode::ALL.len(), "one table row per code");
        let mut statuses = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            let row = format!(
                "| `{}` | {} | {} |",
                code.as_str(),
                code.status(),
                code.description()
            );
            assert!(rows.contains(&row.as_str()), "{row}");
            statuses.insert(code.status().to_string());
        }
        // Every status a code answers with is documented on some operation.
        let mut documented = std::collections::BTreeSet::new();
        for item in doc["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("item").values() {
                for status in op["responses"].as_object().expect("responses").keys() {
                    documented.insert(status.clone());
                }
            }
        }
        // `/metrics` and `/readyz` (401, 503) are ops endpoints outside the document.
        for s in statuses {
            assert!(
                documented.contains(&s) || ["401", "503"].contains(&s.as_str()),
                "status {s} is answered but no operation documents it"
            );
        }
    }

    #[test]
    fn the_reference_page_loads_the_bundled_renderer_without_inline_code() {
        let page = docs_page("Panel <x>").into_string();
        assert!(page.contains("Panel &lt;x&gt;"), "escaped");
        for (path, _, bytes) in DOCS_ASSETS {
            assert!(page.contains(path), "{path} is loaded");
            assert!(bytes.len() > 100_000, "{path} is the real bundle");
        }
        // Every script has a src (no inline code), and no element carries a style attribute.
        assert_eq!(
            page.matches("<script").count(),
            page.matches("<script src=").count()
        );
        assert!(!page.contains("style=") && !page.contains("<style"));
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
                if !is_public(path) {
                    assert!(r.contains_key("401"), "{method} {path} documents 401");
                }
                if path.contains('{') {
                    assert!(r.contains_key("404"), "{method} {path} documents 404");
                }
            }
        }
    }
}
