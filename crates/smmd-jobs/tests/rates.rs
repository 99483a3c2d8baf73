//! `rates.ecb` against a local server speaking the ECB feed's real format: a day's rates are
//! stored, a jump above the limit is held and alerts (and resolves when a sane rate comes),
//! pinned currencies keep their pin, and a bad, huge, slow or failing feed writes nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use smmd_domain::alert::AlertKind;
use smmd_domain::Clock;
use smmd_jobs::engine::{Job, JobContext};
use smmd_jobs::rates::{self, RatesJob, RatesSettings, SAMPLE_FEED};
use smmd_store::Store;
use smmd_store_sql::both_stores;

const NOW: i64 = 1_796_140_800_000; // 2026-12-02T16:00:00Z

struct Fixed;
impl Clock for Fixed {
    fn now_ms(&self) -> i64 {
        NOW
    }
}

/// What the local feed answers: (status, body, delay).
type Answer = Arc<Mutex<(StatusCode, String, Duration)>>;

async fn feed_server() -> (String, Answer) {
    let answer: Answer = Arc::new(Mutex::new((
        StatusCode::OK,
        SAMPLE_FEED.to_string(),
        Duration::ZERO,
    )));
    let a = answer.clone();
    let app = axum::Router::new().route(
        "/stats/eurofxref/eurofxref-daily.xml",
        get(move || {
            let a = a.clone();
            async move {
                let (status, body, delay) = a.lock().expect("answer").clone();
                tokio::time::sleep(delay).await;
                (status, [("content-type", "text/xml")], body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (
        format!("http://{addr}/stats/eurofxref/eurofxref-daily.xml"),
        answer,
    )
}

fn ctx() -> JobContext {
    JobContext {
        idempotency_key: "schedule:1:0".into(),
        scheduled_for: NOW,
        attempt: 1,
        run_id: 1,
        lease_token: 1,
        instance: "test".into(),
        started_at: NOW,
    }
}

fn job(store: &Arc<dyn Store>, url: &str) -> RatesJob {
    RatesJob::new(
        store.clone(),
        Arc::new(Fixed),
        RatesSettings {
            feed_url: url.to_string(),
            max_jump_bp: 1_000,
            timeout: Duration::from_millis(500),
        },
    )
}

async fn per_eur(store: &Arc<dyn Store>, code: &str) -> Option<i64> {
    store
        .currency_rates()
        .await
        .expect("rates")
        .into_iter()
        .find(|r| r.currency == code)
        .map(|r| r.per_eur)
}

async fn open_jump_alerts(store: &Arc<dyn Store>) -> Vec<String> {
    store
        .open_alerts()
        .await
        .expect("alerts")
        .into_iter()
        .filter(|a| a.kind == AlertKind::RateJumpHeld.as_str())
        .map(|a| a.subject)
        .collect()
}

/// The sample's rates with USD replaced by `usd`.
fn feed_with_usd(usd: &str) -> String {
    SAMPLE_FEED.replace("rate='1.1612'", &format!("rate='{usd}'"))
}

async fn a_day_of_rates_is_stored_and_a_jump_is_held_until_sane(store: Arc<dyn Store>) {
    let (url, answer) = feed_server().await;
    let counters = job(&store, &url).run(ctx()).await.expect("run");
    assert_eq!(counters["currencies"], 29);
    assert_eq!(counters["saved"], 29);
    assert_eq!(counters["held"], 0);
    assert_eq!(per_eur(&store, "USD").await, Some(1_161_200));
    assert_eq!(per_eur(&store, "GBP").await, Some(879_350));
    assert_eq!(per_eur(&store, "IDR").await, Some(19_360_410_000));
    let usd = store
        .currency_rates()
        .await
        .expect("rates")
        .into_iter()
        .find(|r| r.currency == "USD")
        .expect("usd");
    assert_eq!(usd.feed_date.as_deref(), Some("2026-12-02"));

    // USD jumps 20 %: held (the old rate stays), alert raised; the others still update.
    *answer.lock().expect("a") = (
        StatusCode::OK,
        feed_with_usd("1.3934").replace("rate='0.87935'", "rate='0.88000'"),
        Duration::ZERO,
    );
    let counters = job(&store, &url).run(ctx()).await.expect("run");
    assert_eq!(counters["held"], 1);
    assert_eq!(per_eur(&store, "USD").await, Some(1_161_200));
    assert_eq!(per_eur(&store, "GBP").await, Some(880_000));
    assert_eq!(open_jump_alerts(&store).await, ["rates:USD"]);
    let alert = store
        .open_alerts()
        .await
        .expect("alerts")
        .into_iter()
        .find(|a| a.subject == "rates:USD")
        .expect("alert");
    assert!(
        alert.message.contains("1.1612") && alert.message.contains("1.3934"),
        "{}",
        alert.message
    );

    // A move within the limit (5 %) passes and resolves the alert.
    *answer.lock().expect("a") = (StatusCode::OK, feed_with_usd("1.2193"), Duration::ZERO);
    job(&store, &url).run(ctx()).await.expect("run");
    assert_eq!(per_eur(&store, "USD").await, Some(1_219_300));
    assert!(open_jump_alerts(&store).await.is_empty());

    // A pinned currency keeps its pin whatever the feed says.
    store
        .pin_rate("USD", 1_000_000, NOW, None)
        .await
        .expect("pin");
    *answer.lock().expect("a") = (StatusCode::OK, feed_with_usd("1.2200"), Duration::ZERO);
    job(&store, &url).run(ctx()).await.expect("run");
    assert_eq!(per_eur(&store, "USD").await, Some(1_000_000));
}

async fn a_bad_huge_slow_or_failing_feed_writes_nothing(store: Arc<dyn Store>) {
    let (url, answer) = feed_server().await;
    let cases = [
        (
            StatusCode::OK,
            "<html>maintenance</html>".to_string(),
            Duration::ZERO,
        ),
        (
            StatusCode::OK,
            "not xml at all <".to_string(),
            Duration::ZERO,
        ),
        (
            StatusCode::OK,
            SAMPLE_FEED.replace("time='2026-12-02'", "time='yesterday'"),
            Duration::ZERO,
        ),
        (
            StatusCode::OK,
            "x".repeat(rates::MAX_FEED_BYTES + 1),
            Duration::ZERO,
        ),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            SAMPLE_FEED.to_string(),
            Duration::ZERO,
        ),
        (
            StatusCode::OK,
            SAMPLE_FEED.to_string(),
            Duration::from_secs(3),
        ),
    ];
    for (i, case) in cases.into_iter().enumerate() {
        *answer.lock().expect("a") = case;
        let started = std::time::Instant::now();
        let err = job(&store, &url).run(ctx()).await.expect_err("must fail");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "case {i} waited {:?}",
            started.elapsed()
        );
        assert!(!format!("{err:?}").is_empty());
        assert!(
            store.currency_rates().await.expect("rates").is_empty(),
            "case {i}"
        );
    }
    // Entries with a bad code or rate are skipped, the rest kept.
    *answer.lock().expect("a") = (
        StatusCode::OK,
        SAMPLE_FEED
            .replace(
                "currency='JPY' rate='180.37'",
                "currency='jpy' rate='180.37'",
            )
            .replace("rate='24.198'", "rate='-3'"),
        Duration::ZERO,
    );
    let counters = job(&store, &url).run(ctx()).await.expect("run");
    assert_eq!((counters["saved"], counters["skipped"]), (27, 2));
    // No feed address: the job does nothing.
    let counters = job(&store, " ").run(ctx()).await.expect("run");
    assert_eq!(counters.get("disabled"), Some(&1));
}

both_stores!(
    a_day_of_rates_is_stored_and_a_jump_is_held_until_sane,
    a_bad_huge_slow_or_failing_feed_writes_nothing,
);
