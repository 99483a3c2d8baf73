//! `rates.ecb`: the daily reference exchange rates. Reads the European Central Bank's
//! `eurofxref-daily.xml` (units of each currency per euro, published on TARGET working days
//! around 16:00 CET), keeps what passes the sanity limit and alerts on the rest: a currency
//! whose rate moved more than `max_jump_bp` from the feed's last one is held (its old rate
//! stays in use) and raises `rate_jump_held` for `rates:<code>`, resolved when a later rate
//! passes — or the admin pins the currency by hand ([`smmd_store::CurrencyStore::pin_rate`]).
//! Rates only change what customers *see* (`≈` amounts); money stays in the panel currency.
//!
//! The feed is untrusted: it is read with a timeout and at most [`MAX_FEED_BYTES`], and every
//! entry is checked (an ISO-shaped code, a positive decimal rate) before it is stored.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use smmd_domain::alert::{rates_subject, AlertKind};
use smmd_domain::fx;
use smmd_domain::Clock;
use smmd_store::{FeedRate, Store, StoreError};

use crate::engine::{Counters, Job, JobContext, JobError};

/// The job's schedule name.
pub const RATES_ECB: &str = "rates.ecb";

/// The ECB's daily reference rates.
pub const ECB_DAILY_URL: &str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml";

/// The most of a feed answer read (the real one is ~2 KiB).
pub const MAX_FEED_BYTES: usize = 256 * 1024;

/// A sample of the feed in its real format (2026-12-02): the demo's first rates and the
/// tests' feed.
pub const SAMPLE_FEED: &str = include_str!("../fixtures/eurofxref-daily.xml");

/// Where the rates come from and how far a day may move them.
#[derive(Clone, Debug)]
pub struct RatesSettings {
    /// The feed's address (`eurofxref-daily.xml` format); empty: the job does nothing (rates
    /// are then pinned by hand).
    pub feed_url: String,
    /// The largest accepted move from the feed's last rate, in basis points (1000 = 10 %).
    pub max_jump_bp: i64,
    /// How long the feed may take to answer.
    pub timeout: Duration,
}

impl Default for RatesSettings {
    /// No feed, a 10 % limit, 20 s.
    fn default() -> Self {
        RatesSettings {
            feed_url: String::new(),
            max_jump_bp: 1_000,
            timeout: Duration::from_secs(20),
        }
    }
}

/// One day of the feed: its date (`2026-12-02`) and the rates it quotes (EUR itself is 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedDay {
    pub date: String,
    pub rates: Vec<FeedRate>,
    /// Entries refused as malformed (a bad code or rate).
    pub skipped: usize,
}

/// What a feed day did to the stored rates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Rows written (new or changed currencies, pinned ones' feed rates included).
    pub saved: u64,
    /// Currencies held by the sanity limit: (code, last feed rate, refused rate, move in bp).
    pub held: Vec<(String, i64, i64, i64)>,
}

/// Why a feed could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the feed could not be read: {0}")]
    Fetch(String),
    #[error("the feed is not the ECB format: {0}")]
    Format(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses `eurofxref-daily.xml`: the `Cube` with a `time` attribute and its
/// `Cube currency=… rate=…` children. Errors: not XML, no dated cube, a malformed date, or no
/// valid rate at all.
pub fn parse_ecb(xml: &str) -> Result<FeedDay, FeedError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| FeedError::Format(e.to_string()))?;
    let day = doc
        .descendants()
        .find(|n| n.tag_name().name() == "Cube" && n.attribute("time").is_some())
        .ok_or_else(|| FeedError::Format("no dated Cube".into()))?;
    let date = day.attribute("time").unwrap_or_default().to_string();
    let b = date.as_bytes();
    let date_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !date_ok {
        return Err(FeedError::Format(format!(
            "the date `{date}` is not YYYY-MM-DD"
        )));
    }
    let mut rates = Vec::new();
    let mut skipped = 0;
    for c in day
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "Cube")
    {
        let code = c.attribute("currency").unwrap_or_default();
        let rate = c.attribute("rate").and_then(fx::parse_rate);
        match rate {
            Some(r) if fx::valid_code(code) && code != fx::BASE => {
                rates.push((code.to_string(), r))
            }
            _ => skipped += 1,
        }
    }
    if rates.is_empty() {
        return Err(FeedError::Format("no valid rate".into()));
    }
    Ok(FeedDay {
        date,
        rates,
        skipped,
    })
}

/// Reads the feed at `url` with `client` (its timeout), at most [`MAX_FEED_BYTES`].
pub async fn fetch(client: &reqwest::Client, url: &str) -> Result<String, FeedError> {
    let fetch = |e: reqwest::Error| FeedError::Fetch(e.without_url().to_string());
    let mut resp = client.get(url).send().await.map_err(fetch)?;
    if !resp.status().is_success() {
        return Err(FeedError::Fetch(format!("HTTP {}", resp.status().as_u16())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(fetch)? {
        if body.len() + chunk.len() > MAX_FEED_BYTES {
            return Err(FeedError::Fetch(format!(
                "the answer is larger than {MAX_FEED_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| FeedError::Format("not UTF-8".into()))
}

/// Stores a feed day under the sanity limit: a rate that moved more than `max_jump_bp` from
/// the feed's last one for that currency is held and alerts; the others are saved (pinned
/// currencies keep their pin and record the feed's rate) and resolve their alert.
pub async fn apply(
    store: &dyn Store,
    day: &FeedDay,
    max_jump_bp: i64,
    now: i64,
) -> Result<Applied, FeedError> {
    let current = store.currency_rates().await?;
    let mut accepted = Vec::new();
    let mut applied = Applied::default();
    for (code, new) in &day.rates {
        let last = current
            .iter()
            .find(|r| &r.currency == code)
            .and_then(|r| r.feed_per_eur);
        if fx::acceptable(last, *new, max_jump_bp) {
            accepted.push((code.clone(), *new));
            continue;
        }
        let old = last.unwrap_or_default();
        let moved = fx::jump_bp(old, *new).unwrap_or_default();
        applied.held.push((code.clone(), old, *new, moved));
    }
    applied.saved = store.save_feed_rates(&accepted, &day.date, now).await?;
    for (code, old, new, moved) in &applied.held {
        let message = format!(
            "The {} feed of {} moves {code} from {} to {} per EUR ({}.{:02} %, above the {}.{:02} % limit): \
             the old rate stays in use. Pin {code} by hand if the new rate is right.",
            "ECB",
            day.date,
            smmd_domain::Money::from_micros(*old),
            smmd_domain::Money::from_micros(*new),
            moved / 100,
            moved % 100,
            max_jump_bp / 100,
            max_jump_bp % 100,
        );
        store
            .raise_alert(AlertKind::RateJumpHeld, &rates_subject(code), &message, now)
            .await?;
    }
    for (code, _) in &accepted {
        store
            .resolve_alert(AlertKind::RateJumpHeld, &rates_subject(code), now)
            .await?;
    }
    Ok(applied)
}

/// `rates.ecb` as a [`Job`]: fetch, parse, apply. An unreachable or malformed feed fails the
/// run (transient: the next tick tries again, and a failing job alerts as every job does).
pub struct RatesJob {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub http: reqwest::Client,
    pub settings: RatesSettings,
}

impl RatesJob {
    /// The job with its HTTP client (the settings' timeout, no redirects to other schemes).
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: RatesSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("smmd/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        RatesJob {
            store,
            clock,
            http,
            settings,
        }
    }
}

#[async_trait]
impl Job for RatesJob {
    async fn run(&self, _ctx: JobContext) -> Result<Counters, JobError> {
        if self.settings.feed_url.trim().is_empty() {
            return Ok(Counters::from([("disabled".to_string(), 1)]));
        }
        let transient = |e: FeedError| JobError::Transient(e.to_string());
        let xml = fetch(&self.http, &self.settings.feed_url)
            .await
            .map_err(transient)?;
        let day = parse_ecb(&xml).map_err(transient)?;
        let applied = apply(
            self.store.as_ref(),
            &day,
            self.settings.max_jump_bp,
            self.clock.now_ms(),
        )
        .await
        .map_err(transient)?;
        Ok(Counters::from([
            ("currencies".to_string(), day.rates.len() as i64),
            ("saved".to_string(), applied.saved as i64),
            ("held".to_string(), applied.held.len() as i64),
            ("skipped".to_string(), day.skipped as i64),
        ]))
    }
}
