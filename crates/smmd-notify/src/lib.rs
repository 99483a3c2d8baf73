//! Notifications of smmd, run by the job `notifications.deliver`: it reads the order event log
//! the admin alerts and billing's notices (rentals, runway) after its cursors, writes one in-app notification per event and
//! recipient with the e-mail and webhook deliveries it starts (one transaction per window, so a
//! crash or a second run never notifies twice), then sends the due deliveries from the outbox:
//! e-mail over SMTP (`lettre`) and webhooks signed with HMAC-SHA256 ([`webhook`]), retried with
//! backoff ([`retry_at`]) until they succeed or run out of attempts.

pub mod address;
pub mod channels;
pub mod compose;
pub mod webhook;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use smmd_domain::alert::{AlertChannel, AlertKind};
use smmd_domain::Clock;
use smmd_store::{
    AlertChannelConfig, Channel, ChannelMessage, Delivery, DeliveryOutcome, FeedPos,
    NotificationBatch, Store, StoreResult,
};

/// What the notifier needs to know about the panel and its mail server.
#[derive(Clone, Debug)]
pub struct NotifySettings {
    pub panel_name: String,
    /// The panel currency code shown next to refunds (`USD`).
    pub currency: String,
    /// The panel's public address for links in e-mails (`https://panel.example.com`, no
    /// trailing slash).
    pub base_url: String,
    /// SMTP server (`smtp://host:port`, `smtps://user:pass@host`, `smtp://host?tls=required`);
    /// `None` turns e-mail off (no e-mail deliveries are created).
    pub smtp_url: Option<String>,
    /// The `From:` of e-mails (`Panel <noreply@example.com>`).
    pub email_from: String,
    /// Events or alerts read per window.
    pub batch: i64,
    /// How long a claimed delivery is hidden from other runs (ms).
    pub lease_ms: i64,
    /// Deliveries sent in parallel.
    pub concurrency: usize,
    /// Most deliveries one run sends (the rest wait for the next run).
    pub max_per_run: usize,
    /// Timeout of one webhook request or SMTP session.
    pub timeout: Duration,
    /// Let webhooks reach loopback and private addresses (off: host names are resolved through
    /// [`webhook::PublicOnly`]). The owner's alert channels use the same client.
    pub allow_private_webhooks: bool,
    /// The Telegram Bot API address ([`channels::TELEGRAM_API`]; a local server in tests).
    pub telegram_api: String,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            panel_name: "smmd".into(),
            currency: "USD".into(),
            base_url: "http://127.0.0.1:8080".into(),
            smtp_url: None,
            email_from: "smmd <noreply@localhost>".into(),
            batch: 500,
            lease_ms: 120_000,
            concurrency: 8,
            max_per_run: 2_000,
            timeout: Duration::from_secs(10),
            allow_private_webhooks: false,
            telegram_api: channels::TELEGRAM_API.into(),
        }
    }
}

/// Why the notifier could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("invalid SMTP URL: {0}")]
    SmtpUrl(String),
    #[error("invalid e-mail sender {0:?}")]
    From(String),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// How long a run waits for transactions in flight before reading new events and alerts.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(1);

/// The notifier: the store, the clock, an SMTP transport (if configured) and an HTTP client
/// for webhooks (no redirects followed; public addresses only unless allowed).
#[derive(Clone)]
pub struct Notifier {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: NotifySettings,
    mailer: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    http: reqwest::Client,
    /// The panel secret that opens the alert channels' sealed secrets; without it their
    /// messages fail as unconfigured.
    secret: Option<Arc<[u8; 32]>>,
    /// How far past the stored `order_events` cursor this process found nothing to notify.
    quiet: Arc<std::sync::Mutex<Quiet>>,
}

/// Order events past the stored cursor that this process read and found nothing to notify
/// in (`placed`, `dispatched`, most of a busy panel's events): the cursor is moved over them
/// at most every [`QUIET_RECORD_MS`], not after every read. Each move is a write, and on
/// SQLite every write by another connection empties the order writer's page cache (a fifth
/// of the order writer's time under a stream of `add`). Lost with the process: a restart
/// reads those events again and again finds nothing.
#[derive(Debug, Default)]
struct Quiet {
    /// The stored cursor this was measured from, and the position read up to.
    seen: Option<(FeedPos, FeedPos)>,
    /// When (epoch ms) this process last moved the stored cursor.
    recorded_at: i64,
}

/// The longest (ms) a stretch of events with nothing to notify stays unrecorded.
pub const QUIET_RECORD_MS: i64 = 5_000;

impl Notifier {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: NotifySettings,
    ) -> Result<Notifier, NotifyError> {
        let mailer = match &settings.smtp_url {
            None => None,
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| NotifyError::SmtpUrl(e.to_string()))?
                    .timeout(Some(settings.timeout))
                    .build();
                let from: Mailbox = settings
                    .email_from
                    .parse()
                    .map_err(|_| NotifyError::From(settings.email_from.clone()))?;
                Some((transport, from))
            }
        };
        let mut http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("smmd-webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private_webhooks {
            http = http.dns_resolver(Arc::new(webhook::PublicOnly));
        }
        let http = http.build()?;
        Ok(Notifier {
            store,
            clock,
            settings,
            mailer,
            http,
            secret: None,
            quiet: Default::default(),
        })
    }

    /// The same notifier with the panel secret (`security.secret_key`) that opens the owner's
    /// alert channels.
    pub fn with_secret(mut self, secret: [u8; 32]) -> Notifier {
        self.secret = Some(Arc::new(secret));
        self
    }

    /// Sends `text` to the configured `channel` now, outside the outbox (the pages' test
    /// button): `Err` with what went wrong (no channel, a refused token, a timeout).
    pub async fn send_now(&self, channel: AlertChannel, text: &str) -> Result<(), String> {
        let configs = self
            .store
            .alert_channels()
            .await
            .map_err(|e| e.to_string())?;
        self.to_channel(&configs, channel, text)
            .await
            .map_err(|(why, _)| why)
    }

    /// Sends `text` to `channel` as `configs` set it up; an unconfigured channel or a missing
    /// panel secret fails for good.
    async fn to_channel(
        &self,
        configs: &[AlertChannelConfig],
        channel: AlertChannel,
        text: &str,
    ) -> Result<(), AttemptError> {
        let config = configs
            .iter()
            .find(|c| c.channel == channel)
            .ok_or_else(|| (format!("{} is not set up", channel.title()), true))?;
        let secret = self
            .secret
            .as_deref()
            .ok_or_else(|| ("the panel secret is not configured".to_string(), true))?;
        channels::send(
            &self.http,
            config,
            secret,
            &self.settings.telegram_api,
            text,
        )
        .await
    }

    /// Whether e-mail deliveries are created.
    pub fn email_enabled(&self) -> bool {
        self.mailer.is_some()
    }
}

/// Counters of one run (the job's report): `notified`, `alerts`, `sent`, `retried`, `failed`,
/// and [`HELD_BACK`].
pub type Report = BTreeMap<String, i64>;

/// The report's `held_back`: 1 when a transaction in flight still held new feed rows back
/// after the run waited its 1 s to settle, so rows committed behind it are left for a later
/// run (`notifications.deliver` then runs again at once: `smmd_jobs::jobs`); else 0.
pub const HELD_BACK: &str = "held_back";

/// Delays before the 2nd, 3rd… attempt of a delivery; after the last, it fails.
pub const RETRY_DELAYS_MS: [i64; 5] = [30_000, 120_000, 600_000, 3_600_000, 21_600_000];

/// When to try again after attempt number `attempts` (1-based) failed, or `None` to give up
/// (after `RETRY_DELAYS_MS.len() + 1` attempts: about 7 hours and 12 minutes in all).
pub fn retry_at(attempts: i64, now: i64) -> Option<i64> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    RETRY_DELAYS_MS.get(index).map(|d| now + d)
}

/// One run of `notifications.deliver`: collect, then send what is due.
pub async fn run(n: &Notifier) -> StoreResult<Report> {
    let mut report = Report::new();
    // Events committed a moment ago by a transaction that ended behind another one are read in
    // this run rather than the next (the cursors never pass them either way).
    let held = !n.store.feed_settled(SETTLE).await?;
    if held {
        tracing::info!("notifications: a transaction in flight holds back new events; they are read in a later run");
    }
    report.insert(HELD_BACK.into(), i64::from(held));
    let notified = collect_events(n).await?;
    report.insert("notified".into(), notified as i64);
    let (alerts, alert_messages) = collect_alerts(n).await?;
    report.insert("alerts".into(), alerts as i64);
    report.insert("alert_messages".into(), alert_messages as i64);
    let billing = collect_billing(n).await?;
    report.insert("billing".into(), billing as i64);
    for (k, v) in deliver(n).await? {
        report.insert(k, v);
    }
    Ok(report)
}

/// Turns new order events into notifications, window by window; returns how many were written.
/// A window with nothing to notify moves the stored cursor only when [`QUIET_RECORD_MS`]
/// passed since this process last moved it ([`Quiet`]); the next window with something to
/// notify moves it from where it is stored, over both, in one compare-and-set.
pub async fn collect_events(n: &Notifier) -> StoreResult<u64> {
    let store = &n.store;
    let mut cursor = store.notify_cursor("order_events").await?;
    let mut read = n.quiet(|q| q.read_from(cursor));
    let mut written = 0;
    loop {
        let (events, to) = store.notifiable_events(read, n.settings.batch).await?;
        let now = n.clock.now_ms();
        let due = n.quiet(|q| q.record_due(now));
        if to == read && (read == cursor || !due) {
            n.quiet(|q| q.seen = Some((cursor, read)));
            return Ok(written);
        }
        if to != read && events.is_empty() && !due {
            read = to;
            continue;
        }
        // From the stored cursor to `to`: the quiet stretch read before, and this window.
        let batch = NotificationBatch {
            cursor: "order_events",
            from: cursor,
            to,
            items: events
                .iter()
                .map(|e| compose::order_notification(e, &n.settings, n.email_enabled()))
                .collect(),
            channel_messages: Vec::new(),
        };
        match store.record_notifications(&batch, now).await? {
            Some(count) => written += count,
            // Another run moved the cursor: it owns this window and the ones after it.
            None => {
                n.quiet(|q| q.seen = None);
                return Ok(written);
            }
        }
        n.quiet(|q| q.recorded_at = now);
        cursor = to;
        read = to;
    }
}

impl Notifier {
    /// This process's memory of the quiet stretch ([`Quiet`]), for `f`.
    fn quiet<T>(&self, f: impl FnOnce(&mut Quiet) -> T) -> T {
        f(&mut self
            .quiet
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl Quiet {
    /// Where to read order events from: past the quiet stretch this process saw, if it was
    /// measured from the cursor stored now (else another instance moved it: from there).
    fn read_from(&self, stored: FeedPos) -> FeedPos {
        match self.seen {
            Some((from, read)) if from == stored && read > stored => read,
            _ => stored,
        }
    }

    /// Whether a quiet stretch is to be stored now (epoch ms).
    fn record_due(&self, now: i64) -> bool {
        now - self.recorded_at >= QUIET_RECORD_MS
    }
}

/// Turns new billing notices into notifications for their renters; returns how many were
/// written.
pub async fn collect_billing(n: &Notifier) -> StoreResult<u64> {
    let store = &n.store;
    let mut cursor = store.notify_cursor("billing_notices").await?;
    let mut written = 0;
    loop {
        let (notices, to) = store
            .billing_notices_after(cursor, n.settings.batch)
            .await?;
        if to == cursor {
            return Ok(written);
        }
        let batch = NotificationBatch {
            cursor: "billing_notices",
            from: cursor,
            to,
            items: notices
                .iter()
                .map(|b| compose::billing_notification(b, &n.settings, n.email_enabled()))
                .collect(),
            channel_messages: Vec::new(),
        };
        match store.record_notifications(&batch, n.clock.now_ms()).await? {
            Some(count) => written += count,
            None => return Ok(written),
        }
        cursor = to;
    }
}

/// Turns new admin alerts into one notification per admin, and one message per owner alert
/// channel that hears the alert's kind; returns how many notifications and channel messages
/// were written.
pub async fn collect_alerts(n: &Notifier) -> StoreResult<(u64, u64)> {
    let store = &n.store;
    let mut cursor = store.notify_cursor("alerts").await?;
    let (mut written, mut messages) = (0, 0);
    loop {
        let (alerts, last) = store.alerts_after(cursor, n.settings.batch).await?;
        if alerts.is_empty() {
            return Ok((written, messages));
        }
        let admins = store.alert_recipients().await?;
        let channels = store.alert_channels().await?;
        let channel_messages: Vec<ChannelMessage> = alerts
            .iter()
            .flat_map(|a| {
                let kind = AlertKind::parse(&a.kind);
                channels
                    .iter()
                    .filter(move |c| kind.is_some_and(|k| c.hears(k)))
                    .map(move |c| ChannelMessage {
                        alert_id: a.id,
                        channel: c.channel,
                        target: match c.channel {
                            AlertChannel::Telegram => c.chat_id.clone(),
                            AlertChannel::Discord => "discord".into(),
                        },
                        text: compose::alert_channel_text(a, c.channel, &n.settings),
                    })
            })
            .collect();
        let items = alerts
            .iter()
            .flat_map(|a| {
                admins.iter().map(move |to| {
                    compose::alert_notification(a, to, &n.settings, n.email_enabled())
                })
            })
            .collect();
        let batch = NotificationBatch {
            cursor: "alerts",
            from: cursor,
            to: last,
            items,
            channel_messages,
        };
        match store.record_notifications(&batch, n.clock.now_ms()).await? {
            Some(count) => {
                written += count;
                messages += batch.channel_messages.len() as u64;
            }
            None => return Ok((written, messages)),
        }
        cursor = last;
    }
}

/// Sends due deliveries, a claimed batch at a time, `concurrency` at once.
pub async fn deliver(n: &Notifier) -> StoreResult<Report> {
    let mut report = Report::new();
    let mut done = 0;
    while done < n.settings.max_per_run {
        let claim = (n.settings.max_per_run - done).min(100) as i64;
        let claimed = n
            .store
            .claim_deliveries(n.clock.now_ms(), n.settings.lease_ms, claim)
            .await?;
        if claimed.is_empty() {
            break;
        }
        done += claimed.len();
        // The owner's channels are read once per claim that has messages for them.
        let configs: Vec<AlertChannelConfig> = if claimed
            .iter()
            .any(|d| matches!(d.channel, Channel::Alert(_)))
        {
            n.store.alert_channels().await?
        } else {
            Vec::new()
        };
        let configs = &configs;
        let outcomes: Vec<(i64, DeliveryOutcome)> = futures::stream::iter(claimed)
            .map(|d| async move { (d.id, attempt(n, &d, configs).await) })
            .buffer_unordered(n.settings.concurrency.max(1))
            .collect()
            .await;
        for (id, outcome) in outcomes {
            let key = match &outcome {
                DeliveryOutcome::Sent => "sent",
                DeliveryOutcome::Retry { .. } => "retried",
                DeliveryOutcome::Failed { .. } => "failed",
            };
            *report.entry(key.into()).or_insert(0) += 1;
            n.store
                .finish_delivery(id, &outcome, n.clock.now_ms())
                .await?;
        }
    }
    Ok(report)
}

/// What a failed attempt becomes: a retry while attempts remain, else a failure.
fn failed(d: &Delivery, error: String, permanent: bool, now: i64) -> DeliveryOutcome {
    match retry_at(d.attempts, now) {
        Some(at) if !permanent => DeliveryOutcome::Retry { at, error },
        _ => DeliveryOutcome::Failed { error },
    }
}

async fn attempt(n: &Notifier, d: &Delivery, configs: &[AlertChannelConfig]) -> DeliveryOutcome {
    let result = match d.channel {
        Channel::Alert(channel) => n.to_channel(configs, channel, &d.payload).await,
        Channel::Email => send_email(n, d).await,
        Channel::Webhook => {
            webhook::send(
                &n.http,
                d,
                n.clock.now_ms() / 1000,
                n.settings.allow_private_webhooks,
            )
            .await
        }
    };
    match result {
        Ok(()) => DeliveryOutcome::Sent,
        Err((error, permanent)) => {
            tracing::warn!(delivery = d.id, channel = d.channel.as_str(), %error, "delivery failed");
            failed(d, error, permanent, n.clock.now_ms())
        }
    }
}

/// An attempt's error text and whether trying again cannot help.
pub type AttemptError = (String, bool);

async fn send_email(n: &Notifier, d: &Delivery) -> Result<(), AttemptError> {
    let Some((transport, from)) = &n.mailer else {
        return Err(("e-mail is not configured".into(), true));
    };
    let to: Mailbox = d
        .target
        .parse()
        .map_err(|_| (format!("invalid address {:?}", d.target), true))?;
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&d.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(d.payload.clone())
        .map_err(|e| (e.to_string(), true))?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e: SmtpError| (e.to_string(), e.is_permanent()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_give_up() {
        assert_eq!(retry_at(1, 0), Some(30_000));
        assert_eq!(retry_at(2, 0), Some(120_000));
        assert_eq!(retry_at(5, 1), Some(21_600_001));
        assert_eq!(retry_at(6, 0), None, "six attempts in all");
        assert_eq!(retry_at(0, 0), None);
        assert_eq!(retry_at(-3, 0), None);
    }
}
