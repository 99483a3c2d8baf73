//! Records of notifications and of the live feed: a user's notification settings, the in-app
//! notifications, the outbox of e-mails and webhooks (`deliveries`) that
//! `notifications.deliver` sends with retries, and the items the WebSocket hub pushes as they
//! commit. The methods are on [`crate::Store`]; times are epoch ms, money micro-units.

use crate::*;
use async_trait::async_trait;
use serde::Serialize;
use smmd_domain::{Money, OrderId, UserId};

use crate::{Order, StoreResult};

/// What a user wants to hear about finished orders and refills (page "Settings", REST).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotificationSettings {
    /// E-mail when an order completes, ends partial or canceled, or a refill finishes.
    pub email: bool,
    /// `https://` (or `http://`) URL that receives the same events as signed webhooks.
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 key of the webhook signature; set together with the URL.
    pub webhook_secret: Option<String>,
    /// The language of the user's pages and e-mails (`en`, `es`, `ru`, `ar`, checked by the
    /// use case); `None`: the browser's for pages, English for e-mails.
    pub language: Option<String>,
}

/// An order event worth notifying (an order reached completed, partial or canceled; a refill
/// reached completed or rejected), with what a message about it needs.
#[derive(Clone, Debug)]
pub struct NotifiableEvent {
    /// `order_events.id`.
    pub event_id: i64,
    /// [`EventKind::Status`](smmd_domain::order::EventKind) or `Refill`.
    pub kind: smmd_domain::order::EventKind,
    /// The order's new status, or the refill's for `refill`.
    pub status: String,
    /// The refund this change paid, if any.
    pub amount: Option<Money>,
    pub detail: String,
    pub created_at: i64,
    pub order: Order,
    pub service_name: String,
    pub user_email: String,
    pub settings: NotificationSettings,
}

/// A billing notice for its renter (`rental.activated`, `rental.past_due`,
/// `rental.suspended`, `rental.resumed`, `rental.terminated`, `rental.runway_low`), written by
/// the billing engine in the transaction of its change, with what a message about it needs.
#[derive(Clone, Debug)]
pub struct BillingNotice {
    pub id: i64,
    pub user_id: UserId,
    pub kind: String,
    /// The rental it is about (none for `rental.runway_low`, which is about the wallet).
    pub rental_id: Option<i64>,
    pub plan_name: Option<String>,
    /// `rental.runway_low`: the runway in whole hours and the threshold it fell below.
    pub runway_hours: Option<i64>,
    pub threshold: Option<i64>,
    pub detail: String,
    pub created_at: i64,
    pub user_email: String,
    pub settings: NotificationSettings,
}

/// A recipient of admin alerts.
#[derive(Clone, Debug)]
pub struct AlertRecipient {
    pub user_id: UserId,
    pub email: String,
    pub settings: NotificationSettings,
}

/// One notification to write, with the deliveries it starts.
#[derive(Clone, Debug)]
pub struct NewNotification {
    pub user_id: UserId,
    /// What it is about, unique per user: `event:<id>` or `alert:<id>`.
    pub source: String,
    /// `order.completed`, `order.partial`, `order.canceled`, `refill.completed`,
    /// `refill.rejected`, `alert.<kind>`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub order_id: Option<OrderId>,
    pub created_at: i64,
    /// E-mail to this address (subject = title, text = `email_text`).
    pub email: Option<String>,
    pub email_text: String,
    /// POST this JSON body to this URL.
    pub webhook: Option<(String, String)>,
}

/// Notifications made from one source read: written together, and the source's cursor moves
/// from `from` to `to` in the same transaction. If another run already moved it, nothing is
/// written ([`crate::Store::record_notifications`] returns `None`).
#[derive(Clone, Debug)]
pub struct NotificationBatch {
    /// `order_events` or `alerts`.
    pub cursor: &'static str,
    /// Where the cursor is (the write is refused if it moved), and where it moves to, in feed
    /// order ([`FeedPos`]).
    pub from: FeedPos,
    pub to: FeedPos,
    pub items: Vec<NewNotification>,
    /// Messages for the owner's alert channels (alerts only; empty for other sources).
    pub channel_messages: Vec<crate::ChannelMessage>,
}

/// An in-app notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub id: i64,
    pub user_id: UserId,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub order_id: Option<OrderId>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Delivery channel: a user's e-mail or webhook, or one of the owner's alert channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Email,
    Webhook,
    Alert(smmd_domain::alert::AlertChannel),
}

impl Channel {
    /// The stored text: `email`, `webhook`, `telegram`, `discord`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Alert(c) => c.as_str(),
        }
    }

    /// The channel stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<Channel> {
        match text {
            "email" => Some(Channel::Email),
            "webhook" => Some(Channel::Webhook),
            other => smmd_domain::alert::AlertChannel::parse(other).map(Channel::Alert),
        }
    }
}

/// A claimed delivery: send it, then report with [`crate::Store::finish_delivery`].
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: i64,
    pub notification_id: i64,
    pub user_id: UserId,
    pub channel: Channel,
    /// E-mail address, webhook URL, Telegram chat id or `discord`.
    pub target: String,
    /// E-mail subject (empty for the other channels).
    pub subject: String,
    /// E-mail text, webhook JSON body, or an alert channel's message text.
    pub payload: String,
    /// Attempts including this one.
    pub attempts: i64,
    /// The user's current webhook secret (webhooks only).
    pub secret: Option<String>,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent,
    /// Try again at `at` (epoch ms).
    Retry {
        at: i64,
        error: String,
    },
    /// Give up.
    Failed {
        error: String,
    },
}

/// A delivery as the admin and the user's settings page see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliveryRecord {
    pub id: i64,
    pub notification_id: i64,
    pub channel: &'static str,
    pub target: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_at: i64,
    pub last_error: Option<String>,
    pub finished_at: Option<i64>,
}

/// Where a reader is in one feed source: the last row it has read, in feed order.
///
/// Feed order is `(tx, id)`: on PostgreSQL `tx` is the id of the transaction that wrote the row
/// (`pg_current_xact_id()`), so that a reader can take rows in the order their transactions
/// became safe to read (see [`FeedStore::feed_after`]); on SQLite, where one writer commits at a
/// time and ids are commit order, `tx` is always 0. Text form: `id` when `tx` is 0, else
/// `tx:id`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedPos {
    pub tx: i64,
    pub id: i64,
}

impl FeedPos {
    /// The position of row `id` written by transaction `tx`.
    pub const fn new(tx: i64, id: i64) -> Self {
        FeedPos { tx, id }
    }
}

impl std::fmt::Display for FeedPos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.tx {
            0 => write!(f, "{}", self.id),
            tx => write!(f, "{tx}:{}", self.id),
        }
    }
}

impl std::str::FromStr for FeedPos {
    type Err = ();

    /// `id` or `tx:id`, each a non-negative integer without sign.
    fn from_str(s: &str) -> Result<Self, ()> {
        let num = |p: &str| {
            p.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0 && !p.starts_with('+'))
                .ok_or(())
        };
        match s.split_once(':') {
            None => Ok(FeedPos::new(0, num(s)?)),
            Some((tx, id)) => Ok(FeedPos::new(num(tx)?, num(id)?)),
        }
    }
}

/// How far the live feed has read each source.
///
/// Its text form, `events.ledger.notifications.alerts` with each part a [`FeedPos`] (e.g.
/// `120.88.7.0` on SQLite, `7301:120.7288:88.7290:7.0` on PostgreSQL), is what a page embeds
/// and a WebSocket client sends back (`/ws?after=…`) to have what it missed replayed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedCursor {
    pub events: FeedPos,
    pub ledger: FeedPos,
    pub notifications: FeedPos,
    pub alerts: FeedPos,
}

/// The table a feed row comes from; on the wire its one-letter tag (`src`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum FeedSource {
    /// `order_events`.
    #[serde(rename = "e")]
    Events,
    /// `ledger`.
    #[serde(rename = "l")]
    Ledger,
    /// `notifications`.
    #[serde(rename = "n")]
    Notifications,
    /// `alerts`.
    #[serde(rename = "a")]
    Alerts,
}

impl FeedCursor {
    /// The position read of `source`.
    pub fn of(&self, source: FeedSource) -> FeedPos {
        match source {
            FeedSource::Events => self.events,
            FeedSource::Ledger => self.ledger,
            FeedSource::Notifications => self.notifications,
            FeedSource::Alerts => self.alerts,
        }
    }

    /// The position of `source`, to move it.
    pub fn of_mut(&mut self, source: FeedSource) -> &mut FeedPos {
        match source {
            FeedSource::Events => &mut self.events,
            FeedSource::Ledger => &mut self.ledger,
            FeedSource::Notifications => &mut self.notifications,
            FeedSource::Alerts => &mut self.alerts,
        }
    }

    /// Whether every source of `self` is at or behind `other`'s.
    pub fn is_behind_or_at(&self, other: &FeedCursor) -> bool {
        self.events <= other.events
            && self.ledger <= other.ledger
            && self.notifications <= other.notifications
            && self.alerts <= other.alerts
    }
}

impl std::fmt::Display for FeedCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}.{}.{}",
            self.events, self.ledger, self.notifications, self.alerts
        )
    }
}

impl std::str::FromStr for FeedCursor {
    type Err = String;

    /// Parses `events.ledger.notifications.alerts`: four positions, each `id` or `tx:id` with
    /// non-negative integers.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "a feed cursor is four positions (id or tx:id, non-negative integers) joined by dots, not {s:?}"
            )
        };
        let mut parts = s.split('.').map(|p| p.parse::<FeedPos>().ok());
        let mut next = || parts.next().flatten().ok_or_else(bad);
        let cursor = FeedCursor {
            events: next()?,
            ledger: next()?,
            notifications: next()?,
            alerts: next()?,
        };
        match parts.next() {
            None => Ok(cursor),
            Some(_) => Err(bad()),
        }
    }
}

/// What one [`FeedStore::feed_after`] read returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedRead {
    /// The rows read, per source in feed order.
    pub items: Vec<FeedItem>,
    /// The cursor after them.
    pub next: FeedCursor,
    /// Whether a source has rows committed after `next` that are held back because an older
    /// transaction is still in flight: read again shortly, they become readable when it ends.
    pub held: bool,
}

/// One thing the WebSocket hub pushes: to the owner (`user_id`), or to every admin (`None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedItem {
    pub user_id: Option<UserId>,
    pub message: FeedMessage,
    /// When the change was committed (its `created_at`, epoch ms).
    pub at: i64,
    /// The row it was read from: its table, and its position in that source's feed order.
    pub source: FeedSource,
    pub pos: FeedPos,
}

/// The payload of a [`FeedItem`], serialized as the WebSocket message (`{"type":…}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedMessage {
    /// An order event (placed, status, cancel requested, refill), with what the order page
    /// shows of the order as the feed read it: everything a live page needs to look as a
    /// reload would.
    Order {
        order_id: OrderId,
        reference: String,
        event: String,
        status: String,
        remains: Option<i64>,
        /// The provider's start count, once it gave one.
        start_count: Option<i64>,
        /// The order's refunds so far (panel currency, as text); `None` once archived.
        refunded: Option<String>,
        /// This event's wallet effect (panel currency, as text): `-charge` when placed, the
        /// refund a status change paid.
        amount: Option<String>,
        /// The provider message, review or admin reason (the timeline's detail), or "".
        detail: String,
        /// How the user's count of active (not terminal) orders changed: `1` when placed, `-1`
        /// when the order ended, else `0` (the dashboard's "Active orders" card).
        active: i64,
        at: i64,
    },
    /// The balance after a ledger entry (as text, panel currency).
    Balance {
        balance: String,
        amount: String,
        at: i64,
    },
    Notification {
        id: i64,
        kind: String,
        title: String,
        body: String,
        order_id: Option<OrderId>,
        at: i64,
    },
    /// An admin alert (admins only).
    Alert {
        id: i64,
        kind: String,
        subject: String,
        message: String,
        at: i64,
    },
}

/// Wakes the live feed when rows it reads may have been committed: by this instance (at once)
/// or, on PostgreSQL, by any instance (`LISTEN smmd_feed`).
#[async_trait]
pub trait FeedSignal: Send {
    /// Returns after the next commit that may have added feed rows (possibly spuriously).
    async fn changed(&mut self) -> StoreResult<()>;
}

/// Notifications: settings, the collection of notifiable events and alerts, the delivery outbox and the in-app inbox.
#[async_trait::async_trait]
pub trait NotificationStore: Send + Sync {
    /// The user's notification settings (defaults: e-mail on, no webhook).
    async fn notification_settings(&self, user: UserId) -> StoreResult<NotificationSettings>;

    /// Replaces them. `NotFound` for an unknown user.
    async fn set_notification_settings(
        &self,
        user: UserId,
        settings: &NotificationSettings,
    ) -> StoreResult<()>;

    /// The `cursor` (`order_events` or `alerts`) of `notifications.deliver`.
    async fn notify_cursor(&self, cursor: &str) -> StoreResult<FeedPos>;

    /// Order events after `after` (up to `limit` read, in feed order) that are worth notifying,
    /// with the position of the last event read (`after` if none) to move the cursor to.
    /// Commit-ordered as [`FeedStore::feed_after`]: an event of a transaction still in flight
    /// ends the window, so the cursor never passes an event that commits later.
    async fn notifiable_events(
        &self,
        after: FeedPos,
        limit: i64,
    ) -> StoreResult<(Vec<NotifiableEvent>, FeedPos)>;

    /// Alerts created after `after`, in feed order (up to `limit`, commit-ordered as
    /// [`FeedStore::feed_after`]), and the position of the last one (`after` if none).
    async fn alerts_after(&self, after: FeedPos, limit: i64) -> StoreResult<(Vec<Alert>, FeedPos)>;

    /// Billing notices written after `after`, in feed order (up to `limit`, commit-ordered as
    /// [`FeedStore::feed_after`]), and the position after them (`after` if none).
    async fn billing_notices_after(
        &self,
        after: FeedPos,
        limit: i64,
    ) -> StoreResult<(Vec<BillingNotice>, FeedPos)>;

    /// Admins with their settings: who hears admin alerts.
    async fn alert_recipients(&self) -> StoreResult<Vec<AlertRecipient>>;

    /// Writes a batch's notifications and deliveries (each once per user and source) and moves
    /// its cursor, in one transaction; `None` if the cursor was not at `batch.from` (another run
    /// wrote them), else the number of new notifications.
    async fn record_notifications(
        &self,
        batch: &NotificationBatch,
        now: i64,
    ) -> StoreResult<Option<u64>>;

    /// Claims up to `limit` pending deliveries due at `now`, oldest due first: each gets one
    /// more attempt and is hidden from other claims until `now + lease_ms`.
    async fn claim_deliveries(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>>;

    /// Records how a claimed delivery's attempt ended.
    async fn finish_delivery(
        &self,
        id: i64,
        outcome: &DeliveryOutcome,
        now: i64,
    ) -> StoreResult<()>;

    /// The deliveries of a user's notifications, newest first.
    async fn deliveries_of_user(
        &self,
        user: UserId,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRecord>>;

    /// A user's notifications, newest first, with ids below `before`.
    async fn notifications_of_user(
        &self,
        user: UserId,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Notification>>;

    /// How many of the user's notifications are unread.
    async fn unread_notifications(&self, user: UserId) -> StoreResult<i64>;

    /// Marks the user's notifications up to id `up_to` read; returns how many changed.
    async fn mark_notifications_read(&self, user: UserId, up_to: i64, now: i64)
        -> StoreResult<u64>;

    /// Deletes up to `batch` notifications created before `before` with no pending delivery,
    /// with their deliveries, and up to `batch` finished alert-channel messages created before
    /// `before`; returns how many notifications went.
    async fn prune_notifications(&self, before: i64, batch: i64) -> StoreResult<u64>;
}

/// The live feed: committed rows after a cursor, and the signal that wakes readers.
#[async_trait::async_trait]
pub trait FeedStore: Send + Sync {
    /// The newest row of every feed source: where a new hub starts.
    async fn feed_head(&self) -> StoreResult<FeedCursor>;

    /// Up to `limit` rows of each source after `cursor`, in feed order per source, and the
    /// cursor after them. Commit-ordered: a row is read only once every transaction that could
    /// still commit a row before it in feed order has ended (on PostgreSQL, rows of
    /// transactions older than the oldest one of this database in flight), so a reader that
    /// moves its cursor to `next` never skips a row that commits later. Rows committed but held
    /// back that way set [`FeedRead::held`].
    async fn feed_after(&self, cursor: FeedCursor, limit: i64) -> StoreResult<FeedRead>;

    /// The rows of `user` after `cursor` (their order events, ledger entries and
    /// notifications, and every alert when `admin`): up to `limit` per source, in feed order per
    /// source, commit-ordered as [`feed_after`](Self::feed_after). What a WebSocket that
    /// reconnects from a page's position replays.
    async fn feed_of_user_after(
        &self,
        user: UserId,
        admin: bool,
        cursor: FeedCursor,
        limit: i64,
    ) -> StoreResult<Vec<FeedItem>>;

    /// A wake-up for the feed; see [`FeedSignal`].
    async fn feed_signal(&self) -> StoreResult<Box<dyn FeedSignal>>;

    /// Waits, up to `within`, until no committed feed row is held back behind a transaction in
    /// flight (re-reading every 10 ms), so that every read after it sees each row committed
    /// before this call. Returns whether that happened in time. The notifier waits so before a
    /// run (an event committed a moment ago is notified now, not a run later); the live feed
    /// never waits, it re-reads.
    async fn feed_settled(&self, within: std::time::Duration) -> StoreResult<bool> {
        const BATCH: i64 = 1_000;
        let deadline = tokio::time::Instant::now() + within;
        let mut at = self.feed_head().await?;
        loop {
            let read = self.feed_after(at, BATCH).await?;
            at = read.next;
            if !read.held && (read.items.len() as i64) < BATCH {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            if read.held {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_cursors_round_trip_as_text_and_refuse_anything_else() {
        let c = FeedCursor {
            events: FeedPos::new(0, 120),
            ledger: FeedPos::new(0, 88),
            notifications: FeedPos::new(0, 7),
            alerts: FeedPos::new(0, 0),
        };
        assert_eq!(c.to_string(), "120.88.7.0");
        assert_eq!("120.88.7.0".parse::<FeedCursor>(), Ok(c));
        let pg = FeedCursor {
            events: FeedPos::new(7301, 120),
            ledger: FeedPos::new(7288, 88),
            notifications: FeedPos::new(0, 7),
            alerts: FeedPos::new(7290, 0),
        };
        assert_eq!(pg.to_string(), "7301:120.7288:88.7.7290:0");
        assert_eq!("7301:120.7288:88.7.7290:0".parse::<FeedCursor>(), Ok(pg));
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.-3.4",
            "1.2.x.4",
            "1..3.4",
            "+1.2.3.4",
            "1.2.3.4.",
            "99999999999999999999.0.0.0",
            "1:2:3.0.0.0",
            ":1.0.0.0",
            "1:.0.0.0",
            "-1:2.0.0.0",
            "1:+2.0.0.0",
        ] {
            assert!(bad.parse::<FeedCursor>().is_err(), "{bad:?}");
        }
        assert_eq!(c.of(FeedSource::Ledger), FeedPos::new(0, 88));
        assert!(FeedCursor::default().is_behind_or_at(&c));
        assert!(!c.is_behind_or_at(&FeedCursor::default()));
        // Feed order is (tx, id): a later transaction's row is after an earlier one's, whatever
        // the ids.
        assert!(FeedPos::new(5, 900) < FeedPos::new(6, 3));
        assert!(FeedPos::new(6, 3) < FeedPos::new(6, 4));
        assert!(c.is_behind_or_at(&pg));
    }
}
