//! `smmd-bench rest`: latency of the REST API's heaviest reads on a real `smmd serve` process.
//!
//! For each backend it seeds a fresh database with 5,000 services (20 categories) and one user
//! with 100,000 orders, starts `smmd serve` on it, and drives, over keep-alive connections with
//! the user's Bearer key:
//! - `services`: `GET /api/smm/services` (first page of 100 over the whole catalog);
//! - `services_q`: the same with a text search and a refill filter;
//! - `orders_first`: `GET /api/smm/orders` (the newest 50 of 100,000);
//! - `orders_deep`: `GET /api/smm/orders?cursor=N` with N drawn from the oldest 5 % (a page
//!   95,000+ orders deep).
//!
//! - pages, with the user's session cookie (the user is an admin): `page_new_order`
//!   (`/orders/new?service=1`: the catalog and the service's average completion time over its
//!   last 10 of 50,000 completed orders), `admin_dashboard` (`/admin`: orders by status over the
//!   whole book, today's revenue and cost) and `admin_orders` (`/admin/orders`, newest 50).
//!
//! It prints requests/s and p50/p99/max per scenario and concurrency. The target is p99 ≤ 20 ms.

use clap::Args as ClapArgs;
use rand::Rng;

use crate::{drive, seed, Args, BenchDb, Server, BENCH_EMAIL, BENCH_PASSWORD, KEY};

#[derive(ClapArgs, Clone)]
pub struct RestArgs {
    /// Services in the catalog.
    #[arg(long, default_value_t = 5_000)]
    services: i64,
    /// Orders of the one user.
    #[arg(long, default_value_t = 100_000)]
    orders: i64,
    /// Concurrency levels (open connections).
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    concurrency: Vec<usize>,
    /// Measured seconds per scenario and concurrency (after a 1 s warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

const SCENARIOS: [&str; 7] = [
    "services",
    "services_q",
    "orders_first",
    "orders_deep",
    "page_new_order",
    "admin_dashboard",
    "admin_orders",
];

fn path(scenario: &str, orders: i64) -> String {
    match scenario {
        "services" => "/api/smm/services".into(),
        "services_q" => "/api/smm/services?q=service%204&refill=true".into(),
        "orders_first" => "/api/smm/orders".into(),
        "page_new_order" => "/orders/new?service=1".into(),
        "admin_dashboard" => "/admin".into(),
        "admin_orders" => "/admin/orders".into(),
        _ => {
            let deep = rand::thread_rng().gen_range(1_000..=(orders / 20).max(1_001));
            format!("/api/smm/orders?cursor={deep}")
        }
    }
}

/// A success: 200 and a non-empty `items` page, or for a page 200 and a whole HTML document.
fn ok(status: u16, body: &[u8]) -> bool {
    if body.starts_with(b"<!DOCTYPE html>") {
        return status == 200 && body.ends_with(b"</body>");
    }
    status == 200
        && serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["items"].as_array().map(|a| !a.is_empty()))
            .unwrap_or(false)
}

pub async fn run(args: &Args, r: &RestArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.smmd.exists(),
        "{} not found: run `cargo build --release -p smmd` first",
        args.smmd.display()
    );
    println!(
        "smmd-bench rest: {} services, {} orders of one user, {} s per cell, {} cores",
        r.services,
        r.orders,
        r.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<9} {:<13} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "backend", "scenario", "conc", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    let seeded = Args {
        services: r.services,
        orders: r.orders,
        ..args.clone()
    };
    for backend in &args.backends {
        let db = BenchDb::create(backend).await?;
        seed(&db.store, &seeded).await?;
        let server = Server::start(&args.smmd, &db.url).await?;
        let addr = server.addr;
        let cookie = session_cookie(addr).await?;
        for scenario in SCENARIOS {
            for &conc in &r.concurrency {
                let orders = r.orders;
                let cookie = cookie.clone();
                let make = move |_w: usize, _n: u64| {
                    let req = hyper::Request::get(path(scenario, orders))
                        .header("host", addr.to_string());
                    let req = if scenario.starts_with("page_") || scenario.starts_with("admin_") {
                        req.header("cookie", cookie.as_str())
                    } else {
                        req.header("authorization", format!("Bearer {KEY}"))
                    };
                    req.body(http_body_util::Full::new(bytes::Bytes::new()))
                };
                let rep = drive(addr, conc, r.seconds, make, ok).await?;
                println!(
                    "{:<9} {:<13} {:>5} {:>9} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {:>7}",
                    backend,
                    scenario,
                    conc,
                    rep.requests,
                    rep.rps,
                    rep.p50_ms,
                    rep.p99_ms,
                    rep.max_ms,
                    rep.errors
                );
            }
        }
        drop(server);
        db.drop_db().await;
    }
    Ok(())
}

/// Logs the seeded user in (`POST /api/auth/login`) and returns its `Cookie` header value.
async fn session_cookie(addr: std::net::SocketAddr) -> anyhow::Result<String> {
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/api/auth/login"))
        .json(&serde_json::json!({"email": BENCH_EMAIL, "password": BENCH_PASSWORD}))
        .send()
        .await?;
    anyhow::ensure!(resp.status() == 200, "log-in: {}", resp.status());
    resp.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(String::from)
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))
}
