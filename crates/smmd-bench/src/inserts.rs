//! `smmd-bench inserts`: the floor under `add` (issue 20) — the group commit's own statements
//! (order row, conditional debit, ledger row, `placed` event, each order in a savepoint) run
//! directly on a SQLite file, with no server, queue or lock around them
//! (`smmd_store_sql::place_directly`), for several batch sizes. Compared with `add` over
//! HTTP it says how much of an order's time is the database and how much everything else.

use clap::Args as ClapArgs;
use smmd_domain::service::{validate_order, OrderInput, ServiceType};
use smmd_domain::Money;
use smmd_store::prelude::*;
use smmd_store::{Role, ServiceDraft};
use smmd_store_sql::{ConnectOptions, SqlStore};

#[derive(ClapArgs, Clone)]
pub struct InsertsArgs {
    /// Orders placed per batch size.
    #[arg(long, default_value_t = 50_000)]
    orders: usize,
    /// Orders per transaction, one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    batch: Vec<usize>,
    /// Users the orders cycle through (each with its own balance row).
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Orders per printed line: a run in several chunks over one file shows what its growth
    /// costs (default: one line per batch size).
    #[arg(long)]
    chunk: Option<usize>,
    /// Indexes dropped before placing (what each costs an order), e.g. `orders_user_link`.
    #[arg(long, value_delimiter = ',')]
    without: Vec<String>,
}

pub async fn run(a: &InsertsArgs) -> anyhow::Result<()> {
    println!(
        "{:<7} {:>8} {:>10} {:>12} {:>13}",
        "batch", "orders", "orders/s", "µs / order", "pages / order"
    );
    for &batch in &a.batch {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("inserts.db");
        let store = SqlStore::connect(
            &format!("sqlite://{}", path.display()),
            ConnectOptions::default(),
        )
        .await?;
        let now = 1_767_225_600_000;
        let mut users = Vec::new();
        for i in 0..a.users {
            let u = crate::funded_user(
                &store,
                crate::Funded {
                    email: format!("u{i}@example.com"),
                    password_hash: "$argon2id$bench".into(),
                    role: Role::User,
                    api_key: None,
                    amount: "1000000",
                    key: format!("seed-{i}"),
                    now,
                },
            )
            .await?;
            users.push(u.id);
        }
        let d = ServiceDraft::new(
            "Category",
            "Followers",
            ServiceType::Default,
            Money::parse("0.90")?,
            10,
            100_000,
        );
        let service = store.create_service(d, now).await?;
        let input = OrderInput {
            link: Some("https://x.io/p".into()),
            quantity: Some("100".into()),
            ..Default::default()
        };
        let spec = validate_order(&service.rules(), &input)?;
        let file = path.display().to_string();
        let chunk = a.chunk.unwrap_or(a.orders).max(1);
        let mut start = 0;
        while start < a.orders {
            let end = (start + chunk).min(a.orders);
            let (file, users, service, spec) =
                (file.clone(), users.clone(), service.clone(), spec.clone());
            // The indexes go once, before the first chunk.
            let without = if start == 0 {
                a.without.clone()
            } else {
                Vec::new()
            };
            let (took, placed, pages) = tokio::task::spawn_blocking(move || {
                smmd_store_sql::place_directly(
                    &file,
                    &users,
                    &service,
                    &spec,
                    start..end,
                    batch,
                    &without,
                    now,
                )
            })
            .await??;
            anyhow::ensure!(placed == end - start, "placed {placed} of {}", end - start);
            println!(
                "{:<7} {:>8} {:>10.0} {:>12.1} {:>13.1}",
                batch,
                end,
                placed as f64 / took.as_secs_f64(),
                took.as_micros() as f64 / placed as f64,
                pages as f64 / placed as f64
            );
            start = end;
        }
    }
    Ok(())
}
