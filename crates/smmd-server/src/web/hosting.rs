//! The notices the deployment answers for a host itself, before any panel's routes
//! ([`crate::panels`]): a suspended child's "temporarily unavailable" page, a child being set
//! up, a closed child, and the plain 404 of a name no panel has. API paths get the same as
//! JSON (`{"error": …}`), so a reseller's client reads a reason instead of HTML.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::i18n::{self, t, ta};

/// Which notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Notice {
    /// A suspended child, to its customers (503).
    Unavailable,
    /// A child still provisioning (503).
    Setup,
    /// A terminated child whose data is still kept: its admin may take the archive (404).
    Ended,
    /// A removed child (404).
    Closed,
    /// No panel has this name (404).
    Unknown,
}

/// The notice `kind` for panel `name` in the visitor's language; JSON for `/api` paths.
pub(crate) fn notice(kind: Notice, name: &str, path: &str, headers: &HeaderMap) -> Response {
    let lang = i18n::from_headers(headers);
    let (status, title, text) = i18n::render_in(lang, || {
        let with = |key: &str| ta(key, &[("name", name.into())]);
        match kind {
            Notice::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                t("hosting-unavailable-title"),
                with("hosting-unavailable-text"),
            ),
            Notice::Setup => (
                StatusCode::SERVICE_UNAVAILABLE,
                t("hosting-setup-title"),
                with("hosting-setup-text"),
            ),
            Notice::Ended => (
                StatusCode::NOT_FOUND,
                t("hosting-closed-title"),
                format!(
                    "{} {}",
                    with("hosting-closed-text"),
                    t("hosting-archive-hint")
                ),
            ),
            Notice::Closed => (
                StatusCode::NOT_FOUND,
                t("hosting-closed-title"),
                with("hosting-closed-text"),
            ),
            Notice::Unknown => (
                StatusCode::NOT_FOUND,
                t("hosting-unknown-title"),
                t("hosting-unknown-text"),
            ),
        }
    });
    if path.starts_with("/api/") || path == "/api" {
        return (status, axum::Json(serde_json::json!({ "error": text }))).into_response();
    }
    let page = i18n::render_in(lang, || super::bare(&title, html! { p { (text) } }));
    super::html_response(status, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_speak_the_visitors_language_and_api_paths_get_json() {
        let mut headers = HeaderMap::new();
        headers.insert("accept-language", "es".parse().expect("header"));
        let page = notice(Notice::Unavailable, "Boost", "/orders", &headers);
        assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(page
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html")));
        let api = notice(Notice::Closed, "Boost", "/api/v2", &HeaderMap::new());
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert!(api
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")));
    }
}
