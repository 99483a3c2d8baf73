//! Orders in motion (architecture §2): everything smmd does with upstream providers.
//!
//! - [`dispatch`] — `orders.dispatch`: at most one `add` per provider offer; ambiguous answers
//!   park the order in `needs_review`, never resent automatically;
//! - [`sync`] — `orders.sync_status`: pending cancels, then batched `status` (≤ 100 ids a call),
//!   oldest-checked first, providers in parallel, guarded updates with refunds in the same
//!   transaction;
//! - [`catalog`] — `services.sync`: import and price services with exchange rate and markup,
//!   disable what is gone (with a guard against truncated answers), keep admin overrides;
//! - [`refills`] — `refills.dispatch`, `refills.sync_status`, `refills.auto`;
//! - [`failover`] — offer failover at dispatch: an unsent order leaves a failing offer for the
//!   healthiest one that meets the margin, with a reason code;
//! - [`margin`] — the margin guard at dispatch: no order sent below its live cost plus margin;
//! - [`stuck`] — the `order_stuck` alert and the stuck-order ladder (refresh, speed-up, cancel,
//!   ticket), after every status sync;
//! - [`balances`] — `providers.check_balances`;
//! - [`clients`] — one [`smmd_provider::ProviderClient`] per provider, built from its row;
//! - [`keys`] — provider API keys sealed at rest;
//! - [`lanes`] — each provider's part of a run in its own task: a hung provider delays only
//!   its own orders;
//! - [`params`] — an order's API v2 `add` parameters.
//!
//! Each job is a plain async function over [`Fulfil`] returning a [`Report`] of counters; the
//! scheduler registers them.

pub mod balances;
pub mod catalog;
pub mod clients;
pub mod dispatch;
pub mod failover;
/// Provider keys at rest: the store's sealing ([`smmd_store::sealed`]).
pub use smmd_store::sealed as keys;
pub mod lanes;
pub mod margin;
pub mod params;
pub mod refills;
pub mod stuck;
pub mod sync;

use std::collections::BTreeMap;
use std::sync::Arc;

use smmd_domain::Clock;
use smmd_store::Store;

pub use clients::Clients;
pub use lanes::Lanes;

/// Tunables of the fulfilment jobs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Markup over cost when neither the service nor its category sets one, basis points
    /// (5000 = +50 %).
    pub default_markup_bp: i64,
    /// Most orders claimed per dispatch batch (a batch is also capped by the providers'
    /// combined `max_concurrency`).
    pub dispatch_batch: i64,
    /// Batches one dispatch run may claim before it ends (the next run continues).
    pub dispatch_max_batches: usize,
    /// A `submitting` order older than this (ms) was interrupted mid-call: it goes to review.
    pub stale_submitting_ms: i64,
    /// Status calls in flight per provider during sync (the client's own limit also applies).
    pub sync_parallel_calls: usize,
    /// `services.sync` refuses to disable more than this share (percent) of a provider's
    /// enabled services at once.
    pub max_disable_pct: u32,
    /// Refill guarantee (days) given to imported services that offer refill.
    pub default_guarantee_days: i64,
    /// Where `refills.auto` reads a link's current count: a URL template with `{link}`
    /// answering `{"count": N}`. `None` disables automatic refills.
    pub link_count_url: Option<String>,
    /// `refills.auto` requests a refill when the count dropped by at least this share
    /// (percent) of the delivered units.
    pub auto_refill_drop_pct: u32,
    /// How long (ms) a dispatch, status or refill run waits for each provider's part before it
    /// ends and leaves a slow part to finish on its own ([`lanes`]).
    pub provider_wait_ms: u64,
    /// An order still active this long (ms) after it was due raises `order_stuck`
    /// ([`stuck`]); 0 = never. Also the ladder's default floor: a forwarded order is stuck no
    /// sooner than this after it was due.
    pub stuck_after_ms: i64,
    /// The ladder's default "stuck after": this share of the service's average time for the
    /// order's quantity, percent (300 = three times as long) ([`stuck::ladder`]).
    pub stuck_after_pct: i64,
    /// Time between two steps of the ladder, ms.
    pub stuck_step_ms: i64,
    /// Minimum margin over the live cost when neither the service nor its category sets one,
    /// basis points (0 = never sell below cost) ([`margin`]).
    pub default_min_margin_bp: i64,
    /// Dispatch reads a provider's live costs again (a `services` call) before sending when its
    /// last read is older than this, ms (0 = before every batch) ([`margin`]).
    pub cost_max_age_ms: i64,
    /// After a provider refuses an order for lack of funds, its offers count as failing for
    /// this long (or until it accepts an order), ms ([`failover`]).
    pub funds_retry_ms: i64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            default_markup_bp: 5_000,
            dispatch_batch: 200,
            dispatch_max_batches: 500,
            stale_submitting_ms: 10 * 60_000,
            sync_parallel_calls: 8,
            max_disable_pct: 20,
            default_guarantee_days: 30,
            link_count_url: None,
            auto_refill_drop_pct: 10,
            provider_wait_ms: 5_000,
            stuck_after_ms: 48 * 3_600_000,
            stuck_after_pct: 300,
            stuck_step_ms: 6 * 3_600_000,
            default_min_margin_bp: 0,
            cost_max_age_ms: 15 * 60_000,
            funds_retry_ms: 10 * 60_000,
        }
    }
}

/// What the fulfilment jobs share.
#[derive(Clone)]
pub struct Fulfil {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub clients: Clients,
    pub settings: Settings,
    /// The provider lanes in use by this process's runs.
    pub lanes: Lanes,
}

/// Named counters of one job run (`checked`, `changed`, `refunded_micros`, `errors`, …).
pub type Report = BTreeMap<String, i64>;

/// Adds `n` to counter `name`.
pub fn bump(r: &mut Report, name: &str, n: i64) {
    *r.entry(name.to_string()).or_default() += n;
}

/// Sums reports counter by counter.
pub fn merge(into: &mut Report, other: Report) {
    for (k, v) in other {
        *into.entry(k).or_default() += v;
    }
}

/// Raises the provider alert a failure calls for (an answer past its size cap), if any.
pub async fn alert_provider_error(
    f: &Fulfil,
    p: &smmd_store::Provider,
    e: &smmd_provider::ProviderError,
) {
    if let smmd_provider::ProviderError::TooLarge { .. } = e {
        let msg = format!(
            "{}: {e}. Raise the provider's answer limit if its answers really are this large.",
            p.name
        );
        if let Err(err) = f
            .store
            .raise_alert(
                smmd_domain::alert::AlertKind::ProviderAnswerTooLarge,
                &smmd_domain::alert::provider_subject(p.id),
                &msg,
                f.clock.now_ms(),
            )
            .await
        {
            tracing::warn!(error = %err, "raising an alert failed");
        }
    }
}
