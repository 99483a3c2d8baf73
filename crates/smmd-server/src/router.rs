//! The whole HTTP surface of one panel: the JSON interfaces ([`crate::http`]), the pages
//! ([`crate::web`]) and the live socket (`/ws`), under the shared layers: the body limit and one
//! tracing span per request.
//!
//! The span, `http_request`, carries the method and the matched route (`/api/smm/orders/{reference}`,
//! never the raw path with its ids), and records the status and the duration in milliseconds
//! when the response is ready; every log line written while handling the request (use cases,
//! store, provider calls) is inside it, so a line can be tied to the request that caused it.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::state::AppState;

/// Every route of the panel with its layers and state.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::http::routes())
        .merge(crate::web::router())
        .route("/ws", get(crate::live::ws))
        .layer(axum::middleware::map_response(html_security_headers))
        .layer(DefaultBodyLimit::max(crate::http::v2::MAX_BODY))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(record_response),
        )
        .with_state(state)
}

/// Every response that a browser renders (HTML) gets the pages' security headers when its
/// handler set none: the strict CSP (`frame-ancestors 'none'` included), `nosniff` and
/// `same-origin` referrers. Pages set them themselves; this covers the rest (`/api/docs`).
async fn html_security_headers(mut resp: Response) -> Response {
    use axum::http::{header, HeaderValue};
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if html {
        let h = resp.headers_mut();
        for (name, value) in [
            (header::CONTENT_SECURITY_POLICY, crate::web::CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
        ] {
            if !h.contains_key(&name) {
                h.insert(name, HeaderValue::from_static(value));
            }
        }
    }
    resp
}

fn request_span(req: &Request) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!(
        "http_request",
        method = %req.method(),
        route,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    )
}

fn record_response(resp: &Response, latency: Duration, span: &Span) {
    span.record("status", resp.status().as_u16());
    span.record(
        "duration_ms",
        u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
    );
    tracing::debug!("response");
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use tower::ServiceExt;

    use super::*;

    /// A log sink the test reads back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn each_request_has_a_span_with_its_route_status_and_duration() {
        let db = smmd_store_sql::testing::fresh(smmd_store_sql::testing::Backend::Sqlite)
            .await
            .expect("db");
        let clock = Arc::new(smmd_domain::ManualClock::new(1_800_000_000_000));
        let state = AppState::new(db.store.clone(), clock, crate::Config::default());
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = router(state);
        let resp = app
            .clone()
            .oneshot(
                Request::get("/api/smm/orders/0123456789ab")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(resp.status().as_u16(), 401);
        let resp = app
            .oneshot(
                Request::get("/healthz")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(resp.status().as_u16(), 200);
        let log = String::from_utf8(sink.0.lock().expect("log").clone()).expect("utf-8");
        // The response line is written inside the span, after the status and duration are set.
        let closes: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("http_request{") && l.ends_with("response"))
            .collect();
        assert_eq!(closes.len(), 2, "one span per request:\n{log}");
        let first = closes[0];
        for part in [
            "http_request{",
            "method=GET",
            "route=\"/api/smm/orders/{reference}\"",
            "status=401",
            "duration_ms=",
        ] {
            assert!(first.contains(part), "{part} in {first}");
        }
        assert!(
            !first.contains("0123456789ab"),
            "the route, not the raw path: {first}"
        );
        assert!(closes[1].contains("route=\"/healthz\"") && closes[1].contains("status=200"));
    }

    /// `/api/docs` renders in a browser like the pages do, so it gets their headers.
    #[tokio::test(flavor = "current_thread")]
    async fn every_html_response_gets_the_security_headers() {
        let db = smmd_store_sql::testing::fresh(smmd_store_sql::testing::Backend::Sqlite)
            .await
            .expect("db");
        let clock = Arc::new(smmd_domain::ManualClock::new(1_800_000_000_000));
        let app = router(AppState::new(
            db.store.clone(),
            clock,
            crate::Config::default(),
        ));
        for path in ["/api/docs", "/login"] {
            let resp = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).expect("request"))
                .await
                .expect("response");
            assert_eq!(resp.status().as_u16(), 200, "{path}");
            let h = resp.headers();
            let csp = h
                .get("content-security-policy")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp:?}");
            assert!(csp.contains("script-src 'self'"), "{path}: {csp:?}");
            assert_eq!(
                h.get("x-content-type-options")
                    .and_then(|v| v.to_str().ok()),
                Some("nosniff"),
                "{path}"
            );
        }
        let json = app
            .oneshot(
                Request::get("/api/openapi.json")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert!(
            json.headers().get("content-security-policy").is_none(),
            "JSON is not rendered"
        );
    }
}
