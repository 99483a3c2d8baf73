//! The simulator over HTTP, read by smmd's own provider client: every dialect quirk decodes to
//! the same facts, every fault kind is classified as the client must, and the counters count.

use std::sync::Arc;
use std::time::Duration;

use smmd_domain::clock::ManualClock;
use smmd_provider::{Item, OrderState, ProviderClient, ProviderConfig, ProviderError};
use smmd_sim::{spawn, SimConfig, SimHandle};

async fn start(f: impl FnOnce(&mut SimConfig)) -> (SimHandle, Arc<ManualClock>, ProviderClient) {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let mut c = SimConfig::default();
    for s in &mut c.services {
        s.partial_pct = 0;
        s.canceled_pct = 0;
    }
    f(&mut c);
    let key = c.api_key.clone();
    let h = spawn(c, clock.clone(), "127.0.0.1:0").await.expect("sim");
    let mut pc = ProviderConfig::new(h.url.clone(), key);
    pc.timeout = Duration::from_millis(400);
    pc.breaker_threshold = 1_000;
    (h, clock, ProviderClient::new(pc).expect("client"))
}

fn add(link: &str, qty: i64) -> Vec<(&'static str, String)> {
    vec![
        ("service", "2".into()),
        ("link", link.into()),
        ("quantity", qty.to_string()),
    ]
}

/// The facts of one order, whatever the dialect: the same run in canonical and in quirky form.
async fn run_once(quirky: bool) -> Vec<String> {
    let (h, clock, c) = start(|c| {
        if quirky {
            c.faults.quirks_pct = 100;
            c.faults.bare_error_pct = 100;
            c.faults.envelope_pct = 100;
        }
    })
    .await;
    let mut facts = Vec::new();
    let (services, skipped) = c.services().await.expect("services");
    assert!(skipped.is_empty());
    facts.push(format!(
        "{} services, first {} rate {}",
        services.len(),
        services[0].id,
        services[0].rate
    ));
    let id = c.add(&add("https://x.io/1", 500)).await.expect("add");
    facts.push(format!("order {id}"));
    clock.advance_ms(35_000);
    let got = c
        .statuses(&[id.clone(), "999".into()])
        .await
        .expect("status");
    match &got[&id] {
        Item::Found(s) => {
            assert_eq!(s.state, OrderState::InProgress);
            facts.push(format!("remains {:?} charge {:?}", s.remains, s.charge));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(got["999"], Item::Error(_)), "{:?}", got["999"]);
    let refused = c.add(&add("https://x.io/2", 1)).await;
    assert!(
        matches!(refused, Err(ProviderError::Rejected { .. })),
        "{refused:?}"
    );
    facts.push(format!(
        "balance {}",
        c.balance().await.expect("balance").amount
    ));
    let cancel = c.cancel(std::slice::from_ref(&id)).await.expect("cancel");
    assert_eq!(cancel[&id], Item::Found(()));
    clock.advance_ms(10_000);
    let got = c.statuses(std::slice::from_ref(&id)).await.expect("status");
    let Item::Found(s) = &got[&id] else {
        panic!("{got:?}")
    };
    assert_eq!(s.state, OrderState::Partial);
    facts.push(format!("partial remains {:?}", s.remains));
    drop(h);
    facts
}

#[tokio::test]
async fn every_quirk_decodes_to_the_same_facts() {
    assert_eq!(run_once(false).await, run_once(true).await);
}

#[tokio::test]
async fn faults_are_classified_and_after_faults_really_execute() {
    // (fault, expected class of `add`, whether the order exists upstream afterwards)
    type Setter = fn(&mut smmd_sim::Faults);
    let cases: [(&str, Setter, &str, u64); 5] = [
        (
            "timeout",
            |f| {
                f.timeout_pct = 100;
                f.timeout_ms = 2_000;
            },
            "ambiguous",
            1,
        ),
        ("http_5xx", |f| f.http_5xx_pct = 100, "ambiguous", 1),
        ("malformed", |f| f.malformed_pct = 100, "ambiguous", 1),
        ("html", |f| f.html_pct = 100, "ambiguous", 0),
        ("http_429", |f| f.http_429_pct = 100, "transient", 0),
    ];
    for (name, set, class, created) in cases {
        let (h, _, c) = start(|c| set(&mut c.faults)).await;
        let got = c.add(&add("https://x.io/f", 500)).await;
        let seen = match &got {
            Err(ProviderError::Ambiguous(_)) => "ambiguous",
            Err(ProviderError::Transient(_)) => "transient",
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(seen, class, "{name}");
        let stats = h.sim.stats();
        assert_eq!(stats.orders_created, created, "{name}");
        assert_eq!(
            stats.faults.get(name),
            Some(&1),
            "{name}: {:?}",
            stats.faults
        );
        // Reads under the same fault are never ambiguous.
        let read = c.balance().await;
        assert!(
            matches!(
                read,
                Err(ProviderError::Transient(_)
                    | ProviderError::Blocked(_)
                    | ProviderError::Malformed(_))
            ),
            "{name}: {read:?}"
        );
    }
}

#[tokio::test]
async fn stats_count_calls_and_status_ids() {
    let (h, _, c) = start(|_| {}).await;
    let mut ids = Vec::new();
    for i in 0..150 {
        ids.push(
            c.add(&add(&format!("https://x.io/{i}"), 100))
                .await
                .expect("add"),
        );
    }
    c.add(&add("https://x.io/0", 100))
        .await
        .expect("same link again");
    for chunk in ids.chunks(100) {
        c.statuses(chunk).await.expect("status");
    }
    let body: serde_json::Value = reqwest::get(format!("http://{}/_sim/stats", h.addr))
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(body["calls"]["add"], 151);
    assert_eq!(body["calls"]["status"], 2);
    assert_eq!(body["status_ids"], 150);
    assert_eq!(body["max_status_ids"], 100);
    assert_eq!(body["orders_created"], 151);
    assert_eq!(body["duplicate_links"], 1);
    let link: serde_json::Value =
        reqwest::get(format!("http://{}/_sim/link?link=https://x.io/1", h.addr))
            .await
            .expect("link")
            .json()
            .await
            .expect("json");
    assert!(link["count"].as_i64().is_some());
}

#[tokio::test]
async fn a_wrong_key_is_an_auth_error() {
    let (h, _, _) = start(|_| {}).await;
    let c = ProviderClient::new(ProviderConfig::new(h.url.clone(), "wrong")).expect("client");
    assert!(matches!(c.balance().await, Err(ProviderError::Auth(_))));
}

/// The review-queue test link: the order is made upstream, the answer is lost, and only that
/// `add` is affected (other links and other actions answer normally).
#[tokio::test]
async fn a_lost_answer_link_executes_the_add_and_loses_only_its_answer() {
    let (h, _clock, c) = start(|_| {}).await;
    let link = format!(
        "https://instagram.com/p/{}",
        smmd_sim::server::LOST_ANSWER_MARK
    );
    assert!(
        matches!(
            c.add(&add(&link, 500)).await,
            Err(ProviderError::Ambiguous(_))
        ),
        "a 502 after sending is ambiguous"
    );
    let stats = h.sim.stats();
    assert_eq!(stats.orders_created, 1, "the order exists upstream");
    assert_eq!(stats.faults.get("http_5xx"), Some(&1));
    assert!(c.add(&add("https://x.io/plain", 500)).await.is_ok());
    assert!(c.balance().await.is_ok());
    assert_eq!(h.sim.stats().orders_created, 2);
}
