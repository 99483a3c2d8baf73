//! The reads of a placement in one go ([`OrderStore::order_context`], issue 20): the service,
//! the user's live rentals (their reseller tiers price it) and the user's custom rates that can
//! price it. On SQLite the reads are direct (in process, microseconds) and stay three.
//!
//! On PostgreSQL every statement is a round trip and a statement's set-up on both sides, so
//! the three reads are one statement, the price book coming back as two JSON arrays, and the
//! statements of concurrent placements are one too: a [`ContextReader`] task takes every ask
//! waiting (at most [`MAX_ASKS`]) and reads them all with one statement over the asked
//! `(user, service)` pairs, each answered with its own row. In `pgbench` the one-pair statement
//! ran ~12,500 times a second on 2 cores and the 32-pair one ~3,600 times (~115,000 pairs); a
//! placement's reads were half of PostgreSQL's time under `smmd-bench add100` (stop 51's
//! profile). Nothing is cached: each ask is read by a statement that starts after it was asked,
//! so it sees every commit that came before it, as its own statement would.

use std::collections::HashMap;

use smmd_domain::{ServiceId, UserId};
use smmd_store::*;
use tokio::sync::{mpsc, oneshot};

use crate::billing::live_rentals;
use crate::people::{custom_rate, CUSTOM_RATE_COLS};
use crate::pool::Db;
use crate::rows::{self, get, SERVICE_COLS};
use crate::{Dialect, SqlResultExt, SqlStore};

/// Most asks one statement reads.
pub(crate) const MAX_ASKS: usize = 256;

/// The one statement of [`ContextReader`]: `$1` and `$2` are the asked users and services as
/// PostgreSQL array texts (`{1,2}`: the generic driver binds no arrays), read pairwise;
/// `n` is an ask's place (from 1). A pair whose service does not exist has no row.
static PG_ORDER_CONTEXTS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT w.n, {SERVICE_COLS}, \
         (SELECT COALESCE(json_agg(json_build_array(p.entitlement, p.settings) ORDER BY r.id), \
          '[]')::text {live}) AS live_json, \
         (SELECT COALESCE(json_agg(json_build_array({CUSTOM_RATE_COLS}) ORDER BY service_id), \
          '[]')::text FROM custom_rates WHERE user_id = w.u AND service_id IN (0, w.s)) AS custom_json \
         FROM unnest($1::text::bigint[], $2::text::bigint[]) WITH ORDINALITY AS w(u, s, n) \
         JOIN services s ON s.id = w.s JOIN categories c ON c.id = s.category_id",
        live = live_rentals("w.u")
    )
});

pub(crate) async fn order_context(
    s: &SqlStore,
    user: UserId,
    service: ServiceId,
) -> StoreResult<OrderContext> {
    if s.dialect == Dialect::Postgres {
        // A hosted child's schema reads its own, one at a time: hundreds of children need no
        // reader task each (as for the batch writer, `pg_batches`).
        if s.pg_batches {
            let reader = s
                .contexts
                .get_or_init(|| ContextReader::start(s.read.clone()));
            if let Some(answer) = reader.read(user, service).await {
                return answer;
            }
            // The reader's task is gone (its runtime shut down): read it here.
        }
        let mut found = read_many(&s.read, &[(user, service)]).await?;
        return Ok(found.remove(&0).unwrap_or_default());
    }
    let Some(found) = crate::catalog::service(s, service).await? else {
        return Ok(OrderContext::default());
    };
    let live = BillingStore::live_entitlements(s, user).await?;
    let custom = PeopleStore::custom_rates(s, user)
        .await?
        .into_iter()
        .filter(|r| r.service_id.is_none_or(|id| id == service.0))
        .collect();
    Ok(OrderContext {
        service: Some(found),
        live,
        custom,
    })
}

/// The placement reads of a PostgreSQL store, coalesced (see the module's doc); shared by the
/// store's clones. Its task ends when the last handle is dropped.
#[derive(Debug)]
pub(crate) struct ContextReader {
    asks: mpsc::Sender<Ask>,
}

/// One placement's read and where its answer goes.
struct Ask {
    user: UserId,
    service: ServiceId,
    answer: oneshot::Sender<StoreResult<OrderContext>>,
}

impl ContextReader {
    /// Starts the reader's task on `read` (the store's pool). Call inside a tokio runtime.
    pub(crate) fn start(read: Db) -> ContextReader {
        let (asks, queue) = mpsc::channel(4 * MAX_ASKS);
        tokio::spawn(run(read, queue));
        ContextReader { asks }
    }

    /// The service `service` (`None`: there is none) and what prices it for `user`, read by
    /// the next statement; `None` if the task is gone (its runtime shut down) and read nothing.
    /// Errors: the statement's failure (the read wrote nothing).
    pub(crate) async fn read(
        &self,
        user: UserId,
        service: ServiceId,
    ) -> Option<StoreResult<OrderContext>> {
        let (answer, answered) = oneshot::channel();
        let ask = Ask {
            user,
            service,
            answer,
        };
        self.asks.send(ask).await.ok()?;
        answered.await.ok()
    }
}

/// The reader's task: one statement at a time, each for every ask waiting.
async fn run(read: Db, mut queue: mpsc::Receiver<Ask>) {
    let mut asks = Vec::with_capacity(MAX_ASKS);
    while queue.recv_many(&mut asks, MAX_ASKS).await > 0 {
        let pairs: Vec<(UserId, ServiceId)> = asks.iter().map(|a| (a.user, a.service)).collect();
        match read_many(&read, &pairs).await {
            Ok(mut found) => {
                for (n, ask) in asks.drain(..).enumerate() {
                    let context = found.remove(&n).unwrap_or_default();
                    let _ = ask.answer.send(Ok(context));
                }
            }
            Err(e) => {
                let said = format!("{e:#}");
                for ask in asks.drain(..) {
                    let e = anyhow::anyhow!("reading the service and price book: {said}");
                    let _ = ask.answer.send(Err(StoreError::Other(e)));
                }
            }
        }
    }
}

/// Reads `pairs` with one statement: each found pair's context by its place in `pairs` (from
/// 0); a pair without a row asked for a service that does not exist.
async fn read_many(
    read: &Db,
    pairs: &[(UserId, ServiceId)],
) -> StoreResult<HashMap<usize, OrderContext>> {
    let list = |ids: &mut dyn Iterator<Item = i64>| {
        let ids: Vec<String> = ids.map(|id| id.to_string()).collect();
        format!("{{{}}}", ids.join(","))
    };
    let users = list(&mut pairs.iter().map(|(u, _)| u.0));
    let services = list(&mut pairs.iter().map(|(_, s)| s.0));
    let rows = sqlx::query(PG_ORDER_CONTEXTS.as_str())
        .bind(users)
        .bind(services)
        .fetch_all(read)
        .await
        .db()?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in &rows {
        let n: i64 = get(row, "n")?;
        let place = usize::try_from(n - 1)
            .ok()
            .filter(|&p| p < pairs.len())
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("a context row for ask {n}")))?;
        found.insert(place, context(row)?);
    }
    Ok(found)
}

/// One ask's context from its row.
fn context(row: &(impl rows::Cols + ?Sized)) -> StoreResult<OrderContext> {
    let json = |column: &str| -> StoreResult<String> { get(row, column) };
    let live: Vec<(String, String)> = serde_json::from_str(&json("live_json")?)
        .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("live rentals")))?;
    let custom: Vec<(i64, Option<i64>, Option<i64>)> = serde_json::from_str(&json("custom_json")?)
        .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("custom rates")))?;
    Ok(OrderContext {
        service: Some(rows::service(row)?),
        live,
        custom: custom
            .into_iter()
            .map(|(service, discount, fixed)| custom_rate(service, discount, fixed))
            .collect::<StoreResult<_>>()?,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use smmd_domain::custom_rate::CustomPrice;
    use smmd_domain::service::ServiceType;
    use smmd_domain::{Money, ServiceId, UserId};
    use smmd_store::testsuite::{followers, user, NOW};
    use smmd_store::{OrderContext, ServiceDraft, Store};

    use super::read_many;
    use crate::testing::{fresh, Backend};

    /// Placements' reads on PostgreSQL, many in one statement, each answer the ask's own
    /// service and price book: one statement over every (user, service) pair gives each pair
    /// what the pair's statement alone gives, and so do many asks at once through the store
    /// (coalesced by the reader task). Users differ by custom rates (one for every service, one
    /// for one service, none); a service that does not exist comes back as none.
    #[tokio::test]
    async fn coalesced_reads_answer_each_ask_with_its_own_context() {
        let Some(db) = fresh(Backend::Postgres).await else {
            return;
        };
        let store: Arc<dyn Store> = db.store.clone();
        let followers = followers(&store).await.id;
        let draft = ServiceDraft::new(
            "Instagram Likes",
            "Likes",
            ServiceType::Default,
            Money::parse("0.20").expect("rate"),
            10,
            50_000,
        );
        let likes = store.create_service(draft, NOW).await.expect("service").id;
        let missing = ServiceId(987_654);
        let mut users = Vec::new();
        for i in 0..6 {
            let u = user(&store, &format!("r{i}@example.com"), "10").await.id;
            let (service, price) = match i % 3 {
                0 => (None, CustomPrice::Discount(1_000 + i)),
                1 => (
                    Some(likes),
                    CustomPrice::Fixed(Money::from_micros(100_000 + i)),
                ),
                _ => {
                    users.push(u);
                    continue;
                }
            };
            store
                .set_custom_rate(u, service, Some(price), NOW, None)
                .await
                .expect("custom rate");
            users.push(u);
        }
        let pairs: Vec<(UserId, ServiceId)> = users
            .iter()
            .flat_map(|&u| [followers, likes, missing].map(|s| (u, s)))
            .collect();
        let alone = |u: UserId, s: ServiceId| {
            let read = db.store.read.clone();
            async move {
                let mut found = read_many(&read, &[(u, s)]).await.expect("one pair");
                found.remove(&0).unwrap_or_default()
            }
        };
        let mut expected: Vec<OrderContext> = Vec::new();
        for &(u, s) in &pairs {
            let context = alone(u, s).await;
            // The pair's own answer: its service (none for the missing one), and only the
            // user's rates that can price it.
            assert_eq!(
                context.service.as_ref().map(|x| x.id),
                (s != missing).then_some(s)
            );
            let i = users.iter().position(|&x| x == u).expect("user");
            let rates = match (i % 3, s) {
                (_, s) if s == missing => 0,
                (0, _) => 1,
                (1, s) if s == likes => 1,
                _ => 0,
            };
            assert_eq!(context.custom.len(), rates, "user {i}, service {}", s.0);
            expected.push(context);
        }
        // One statement over every pair.
        let mut found = read_many(&db.store.read, &pairs).await.expect("every pair");
        let together: Vec<OrderContext> = (0..pairs.len())
            .map(|n| found.remove(&n).unwrap_or_default())
            .collect();
        assert_eq!(together, expected);
        // Four rounds of every pair at once through the store's reader.
        let asks = (0..4).flat_map(|_| pairs.iter().copied());
        let answers = futures::future::join_all(asks.map(|(u, s)| {
            let store = store.clone();
            async move { store.order_context(u, s).await.expect("context") }
        }))
        .await;
        let rounds: Vec<OrderContext> = (0..4).flat_map(|_| expected.iter().cloned()).collect();
        assert_eq!(answers, rounds);
    }
}
