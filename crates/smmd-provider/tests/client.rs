//! Client vectors that need a real HTTP exchange (spec §9.2 C4, C13–C18) and the client's
//! limits: each test starts a tiny upstream on 127.0.0.1 that answers one fixed way.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Response, StatusCode};
use axum::routing::any;
use axum::Router;
use smmd_provider::{ProviderClient, ProviderConfig, ProviderError, RejectKind};

const KEY: &str = "sk-test-secret-key-1234";

/// An upstream that answers every request with `status`, `content_type` and `body` after
/// `delay`, counting requests and remembering the last body it received.
struct Upstream {
    url: String,
    hits: Arc<AtomicUsize>,
    last_body: Arc<std::sync::Mutex<String>>,
}

async fn upstream(
    status: u16,
    content_type: &'static str,
    body: &'static str,
    delay_ms: u64,
) -> Upstream {
    let hits = Arc::new(AtomicUsize::new(0));
    let last_body = Arc::new(std::sync::Mutex::new(String::new()));
    let (h, lb) = (hits.clone(), last_body.clone());
    let app = Router::new().route(
        "/api/v2",
        any(move |req: axum::extract::Request| {
            let (h, lb) = (h.clone(), lb.clone());
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
                    .await
                    .unwrap_or_default();
                *lb.lock().expect("lock") = String::from_utf8_lossy(&bytes).into_owned();
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                let mut r = Response::builder()
                    .status(StatusCode::from_u16(status).expect("status"))
                    .header(header::CONTENT_TYPE, content_type);
                if (300..400).contains(&status) {
                    r = r.header(header::LOCATION, "https://elsewhere.example/api/v2/");
                }
                r.body(Body::from(body)).expect("response")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    Upstream {
        url: format!("http://{addr}/api/v2"),
        hits,
        last_body,
    }
}

fn client(url: &str) -> ProviderClient {
    let mut c = ProviderConfig::new(url, KEY);
    c.timeout = Duration::from_millis(300);
    ProviderClient::new(c).expect("client")
}

fn add_params() -> Vec<(&'static str, String)> {
    vec![
        ("service", "1".into()),
        ("link", "https://x.io/p".into()),
        ("quantity", "100".into()),
    ]
}

#[tokio::test]
async fn c4_add_timeout_502_and_html_after_sending_are_ambiguous_and_sent_once() {
    for (status, ct, body, delay) in [
        (200, "application/json", r#"{"order":1}"#, 1_000),
        (502, "text/html", "<html>Bad gateway</html>", 0),
        (
            200,
            "text/html",
            "<!DOCTYPE html><title>Just a moment...</title>",
            0,
        ),
        (200, "application/json", "", 0),
        (200, "application/json", r#"{"ord"#, 0),
    ] {
        let up = upstream(status, ct, body, delay).await;
        let got = client(&up.url).add(&add_params()).await;
        assert!(
            matches!(got, Err(ProviderError::Ambiguous(_))),
            "{status} {body:?} → {got:?}"
        );
        assert_eq!(up.hits.load(Ordering::SeqCst), 1, "never retried");
    }
}

#[tokio::test]
async fn add_sends_key_action_and_parameters_as_a_form() {
    let up = upstream(200, "application/json", r#"{"order":"23501"}"#, 0).await;
    assert_eq!(client(&up.url).add(&add_params()).await, Ok("23501".into()));
    let body = up.last_body.lock().expect("lock").clone();
    assert!(body.contains("action=add"), "{body}");
    assert!(body.contains(&format!("key={KEY}")), "{body}");
    assert!(body.contains("link=https%3A%2F%2Fx.io%2Fp"), "{body}");
}

#[tokio::test]
async fn add_refused_by_the_provider_is_rejected_with_its_kind() {
    let up = upstream(
        200,
        "application/json",
        r#"{"error":"Not enough funds on balance"}"#,
        0,
    )
    .await;
    assert_eq!(
        client(&up.url).add(&add_params()).await,
        Err(ProviderError::Rejected {
            kind: RejectKind::InsufficientFunds,
            message: "Not enough funds on balance".into()
        })
    );
}

#[tokio::test]
async fn c14_html_on_a_read_is_blocked_with_the_key_redacted() {
    static PAGE: &str =
        "<!DOCTYPE html><html><title>Just a moment...</title>sk-test-secret-key-1234</html>";
    for status in [200, 403] {
        let up = upstream(status, "text/html", PAGE, 0).await;
        match client(&up.url).balance().await {
            Err(ProviderError::Blocked(snippet)) => {
                assert!(snippet.contains("Just a moment"), "{snippet}");
                assert!(!snippet.contains(KEY), "key leaked: {snippet}");
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    let up = upstream(503, "text/html", PAGE, 0).await;
    let got = client(&up.url).balance().await;
    assert!(
        matches!(&got, Err(ProviderError::Transient(m)) if !m.contains(KEY)),
        "{got:?}"
    );
}

#[tokio::test]
async fn c13_c15_balance_with_a_bom() {
    let up = upstream(200, "text/html", "\u{feff}{\"balance\":\"4.00\"}", 0).await;
    let b = client(&up.url).balance().await.expect("balance");
    assert_eq!(b.amount, smmd_provider::Decimal::new(400, 2));
}

#[tokio::test]
async fn c16_http_401_with_a_json_error_is_auth() {
    let up = upstream(401, "application/json", r#"{"error":"Invalid API key"}"#, 0).await;
    assert_eq!(
        client(&up.url).balance().await,
        Err(ProviderError::Auth("Invalid API key".into()))
    );
    let up = upstream(
        200,
        "application/json",
        r#"{"error":"Incorrect API key"}"#,
        0,
    )
    .await;
    assert!(matches!(
        client(&up.url).add(&add_params()).await,
        Err(ProviderError::Auth(_))
    ));
}

#[tokio::test]
async fn c17_a_redirect_on_post_is_a_config_error_not_a_get() {
    for status in [301, 302, 307, 308] {
        let up = upstream(status, "text/html", "", 0).await;
        let got = client(&up.url).add(&add_params()).await;
        assert!(
            matches!(&got, Err(ProviderError::Config(m)) if m.contains("elsewhere.example")),
            "{status}: {got:?}"
        );
        assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn c18_an_empty_body_on_a_read_is_empty() {
    let up = upstream(200, "application/json", "", 0).await;
    assert_eq!(client(&up.url).balance().await, Err(ProviderError::Empty));
}

#[tokio::test]
async fn http_429_is_transient() {
    let up = upstream(
        429,
        "application/json",
        r#"{"error":"Too many requests"}"#,
        0,
    )
    .await;
    let got = client(&up.url).statuses(&["1".into()]).await;
    assert!(
        matches!(&got, Err(ProviderError::Transient(m)) if m.contains("429")),
        "{got:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_transient_even_for_add() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/api/v2", listener.local_addr().expect("addr"));
    drop(listener);
    let got = client(&url).add(&add_params()).await;
    assert!(matches!(got, Err(ProviderError::Transient(_))), "{got:?}");
}

#[tokio::test]
async fn the_circuit_opens_after_repeated_failures_and_stops_calling() {
    let up = upstream(503, "text/html", "<html>down</html>", 0).await;
    let mut cfg = ProviderConfig::new(&up.url, KEY);
    cfg.breaker_threshold = 3;
    cfg.breaker_cooldown = Duration::from_millis(200);
    let c = ProviderClient::new(cfg).expect("client");
    for _ in 0..6 {
        let _ = c.balance().await;
    }
    assert_eq!(
        up.hits.load(Ordering::SeqCst),
        3,
        "calls stop once the circuit opens"
    );
    assert!(c.circuit_open());
    tokio::time::sleep(Duration::from_millis(250)).await;
    let _ = c.balance().await;
    assert_eq!(
        up.hits.load(Ordering::SeqCst),
        4,
        "one probe after the cooldown"
    );
    assert!(c.circuit_open(), "a failed probe opens it again");
}

#[tokio::test]
async fn concurrency_is_limited_per_provider() {
    let up = upstream(200, "application/json", r#"{"balance":"1"}"#, 100).await;
    let mut cfg = ProviderConfig::new(&up.url, KEY);
    cfg.max_concurrency = 2;
    let c = ProviderClient::new(cfg).expect("client");
    let started = tokio::time::Instant::now();
    let calls: Vec<_> = (0..6).map(|_| c.balance()).collect();
    for r in futures::future::join_all(calls).await {
        r.expect("balance");
    }
    // 6 calls of 100 ms, two at a time: at least three rounds.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_request_budget_spaces_calls_to_the_provider() {
    let up = upstream(200, "application/json", r#"{"balance":"1"}"#, 0).await;
    let mut cfg = ProviderConfig::new(&up.url, KEY);
    cfg.rate_per_sec = Some(10);
    let c = ProviderClient::new(cfg).expect("client");
    let started = tokio::time::Instant::now();
    for _ in 0..20 {
        c.balance().await.expect("balance");
    }
    // A bucket of 10 per second: the first 10 go at once, the next 10 over about a second.
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(up.hits.load(Ordering::SeqCst), 20);
}

#[tokio::test]
async fn invalid_urls_are_config_errors() {
    for url in ["not a url", "ftp://x/api/v2"] {
        assert!(matches!(
            ProviderClient::new(ProviderConfig::new(url, KEY)),
            Err(ProviderError::Config(_))
        ));
    }
}
