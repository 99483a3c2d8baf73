//! Live updates over WebSocket (`GET /ws`, authenticated by the session cookie).
//!
//! One feed task per instance ([`run_feed`]) waits for the store's commit signal (this
//! instance's commits at once; on PostgreSQL every instance's, by `LISTEN smmd_feed`, plus a
//! 1 s safety poll), reads the rows committed after its cursor (order events, ledger,
//! notifications, alerts: [`smmd_store::FeedItem`]) and hands each to the [`Hub`], which pushes
//! the serialized message to that user's connections, and alerts to admins' connections.
//!
//! Every [`smmd_store::FeedMessage`] (`order`, `balance`, `notification`, `alert`) carries the
//! row it was read from: `"src"` (`e` order events, `l` ledger, `n` notifications, `a` alerts),
//! `"seq"` (the row id) and `"tx"` (its transaction on PostgreSQL, 0 on SQLite); `(tx, seq)` is
//! the row's [`smmd_store::FeedPos`] and grows per source in the order the feed sends. The feed
//! is commit-ordered ([`smmd_store::FeedStore::feed_after`]): a row that commits behind a later
//! one on another instance is sent when it becomes readable, never skipped. A page is rendered
//! with the feed position it reflects (`<body data-feed="events.ledger.notifications.alerts">`,
//! each part `seq` or `tx:seq`, taken before the page reads its data) and connects with
//! `/ws?after=<that position>`; on a reconnect it sends the position of the last message it
//! applied. The connection first replays what the user missed after `after` (their rows, and
//! alerts for admins), then sends `{"type":"hello","balance":…,"unread":…,"active":…}` (read after the
//! replay, so its absolute figures win), then live messages. The client skips any message whose
//! `(tx, seq)` is not beyond what it has applied of that source, so overlaps between page, replay
//! and live are harmless. When more than [`REPLAY_MAX`] of the user's rows of one source were
//! committed since `after`, the server sends `{"type":"resync"}` instead of a replay and the page
//! reloads. Without `after` (API clients)
//! nothing is replayed.
//!
//! Each connection has a bounded queue; a client too slow to drain it is disconnected (it
//! reconnects and catches up by replay), so one slow reader never holds up the others. The page
//! script reconnects with backoff; no page polls.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::Query;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use smmd_domain::UserId;
use smmd_store::{FeedCursor, FeedItem, FeedMessage, FeedSource, Role, Store, StoreResult};
use tokio::sync::mpsc;

use crate::auth::{self, session_cookie};
use crate::state::AppState;

/// Messages queued per connection before it counts as too slow and is dropped.
const QUEUE: usize = 256;
/// Rows read per source per feed pass.
const FEED_BATCH: i64 = 1_000;
/// How soon the feed reads again while rows are held back behind a transaction in flight.
const HELD_POLL: Duration = Duration::from_millis(50);
/// How long rows may stay held back before the feed logs a warning (and again as often).
const HELD_WARN: Duration = Duration::from_secs(10);
/// How often an idle connection is pinged and its session checked again.
const PING_EVERY: Duration = Duration::from_secs(30);
/// The user's rows per source a connection replays at most; beyond that the page reloads.
pub const REPLAY_MAX: i64 = 500;

struct Client {
    id: u64,
    admin: bool,
    /// The session's token hash: log-out closes its sockets.
    session: Arc<str>,
    tx: mpsc::Sender<Arc<str>>,
}

/// Something besides the connections that follows this instance's feed: called with every
/// item the feed task publishes, on that task, so it must return at once (wake something,
/// never wait). The deployment's children follow their renters' orders at the root this way
/// ([`crate::panels::Deployment::follow_renters`]).
pub type Observer = Arc<dyn Fn(&FeedItem) + Send + Sync>;

/// The connected clients of this instance, by user, and the feed's other followers.
#[derive(Default)]
pub struct Hub {
    clients: RwLock<HashMap<UserId, Vec<Client>>>,
    observers: RwLock<Vec<Observer>>,
    next_id: AtomicU64,
    connected: AtomicU64,
    /// What the feed task has read and published; `None` until it has read the head.
    position: RwLock<Option<FeedCursor>>,
}

/// A feed message as sent: the message and the row it came from (`src`, and its feed position
/// `tx`, `seq`).
#[derive(Serialize)]
struct Wire<'a> {
    #[serde(flatten)]
    message: &'a FeedMessage,
    src: FeedSource,
    seq: i64,
    tx: i64,
}

/// The text of `item` as a WebSocket message.
fn wire(item: &FeedItem) -> Option<Arc<str>> {
    let w = Wire {
        message: &item.message,
        src: item.source,
        seq: item.pos.id,
        tx: item.pos.tx,
    };
    match serde_json::to_string(&w) {
        Ok(t) => Some(t.into()),
        Err(e) => {
            tracing::error!(error = %e, "feed message not serializable");
            None
        }
    }
}

/// A registered connection; unregisters itself when dropped.
pub struct Subscription {
    hub: Arc<Hub>,
    user: UserId,
    id: u64,
    pub rx: mpsc::Receiver<Arc<str>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.remove(self.user, self.id);
    }
}

impl Hub {
    /// Registers a connection of `user` signed in with the session whose token hash is
    /// `session`.
    pub fn subscribe(self: &Arc<Self>, user: UserId, admin: bool, session: &str) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(QUEUE);
        self.clients
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(user)
            .or_default()
            .push(Client {
                id,
                admin,
                session: session.into(),
                tx,
            });
        let now = self.connected.fetch_add(1, Ordering::Relaxed) + 1;
        metrics::gauge!("smmd_ws_connections").set(now as f64);
        Subscription {
            hub: self.clone(),
            user,
            id,
            rx,
        }
    }

    fn remove(&self, user: UserId, id: u64) {
        let mut clients = self.clients.write().unwrap_or_else(|e| e.into_inner());
        if let Some(list) = clients.get_mut(&user) {
            let before = list.len();
            list.retain(|c| c.id != id);
            if list.len() < before {
                let now = self.connected.fetch_sub(1, Ordering::Relaxed) - 1;
                metrics::gauge!("smmd_ws_connections").set(now as f64);
            }
            if list.is_empty() {
                clients.remove(&user);
            }
        }
    }

    /// Closes this instance's sockets of the session whose token hash is `session` (at
    /// log-out); returns how many. Sockets on other instances notice within [`PING_EVERY`],
    /// when they check the session again.
    pub fn end_session(&self, session: &str) -> usize {
        let ended: Vec<(UserId, u64)> = self
            .clients
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .flat_map(|(user, list)| {
                list.iter()
                    .filter(|c| &*c.session == session)
                    .map(move |c| (*user, c.id))
            })
            .collect();
        for (user, id) in &ended {
            // Dropping the sender closes the queue: the socket's task sends Close and ends.
            self.remove(*user, *id);
        }
        ended.len()
    }

    /// Open connections on this instance.
    pub fn connections(&self) -> u64 {
        self.connected.load(Ordering::Relaxed)
    }

    /// How far this instance's feed has published: every row at or before it was committed
    /// before this call. Pages embed it (read before they read their data) so that their
    /// socket replays whatever committed after. `None` until the feed task has started.
    pub fn position(&self) -> Option<FeedCursor> {
        *self.position.read().unwrap_or_else(|e| e.into_inner())
    }

    fn set_position(&self, cursor: FeedCursor) {
        *self.position.write().unwrap_or_else(|e| e.into_inner()) = Some(cursor);
    }

    /// Adds `observer`: from now on it sees every item published.
    pub fn observe(&self, observer: Observer) {
        self.observers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(observer);
    }

    /// Pushes `item` to its user's connections (or every admin connection for alerts), after
    /// showing it to the observers. Returns how many connections it was queued for.
    pub fn publish(&self, item: &FeedItem) -> usize {
        for o in self
            .observers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            o(item);
        }
        let Some(text) = wire(item) else {
            return 0;
        };
        let mut slow = Vec::new();
        let mut sent = 0;
        {
            let clients = self.clients.read().unwrap_or_else(|e| e.into_inner());
            let mut offer = |user: UserId, c: &Client| match c.tx.try_send(text.clone()) {
                Ok(()) => sent += 1,
                Err(mpsc::error::TrySendError::Full(_)) => slow.push((user, c.id)),
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            };
            match item.user_id {
                Some(user) => {
                    for c in clients.get(&user).into_iter().flatten() {
                        offer(user, c);
                    }
                }
                None => {
                    for (user, list) in clients.iter() {
                        for c in list.iter().filter(|c| c.admin) {
                            offer(*user, c);
                        }
                    }
                }
            }
        }
        for (user, id) in slow {
            tracing::info!(user = user.0, "live client too slow; disconnecting it");
            metrics::counter!("smmd_ws_dropped_slow_total").increment(1);
            // Removing the sender closes the connection's queue: its task ends and closes the socket.
            self.remove(user, id);
        }
        sent
    }
}

/// The shortest time between two reads of the feed (each read is one query per source).
const FEED_MIN_GAP: Duration = Duration::from_millis(10);

/// Reads the feed after the store's newest rows and publishes every new row until the process
/// ends, woken by the store's signal and reading at least every `poll`. Store errors are logged
/// and retried after a second; the cursor is kept, so nothing committed meanwhile is skipped.
pub async fn run_feed(store: Arc<dyn Store>, hub: Arc<Hub>, poll: Duration) {
    let mut cursor = loop {
        match store.feed_head().await {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(error = %e, "live feed: reading the head failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    hub.set_position(cursor);
    let mut signal = None;
    let mut held_since: Option<tokio::time::Instant> = None;
    let mut last_read = tokio::time::Instant::now() - FEED_MIN_GAP;
    loop {
        if signal.is_none() {
            match store.feed_signal().await {
                Ok(s) => signal = Some(s),
                Err(e) => tracing::warn!(error = %e, "live feed: listening failed; polling"),
            }
        }
        // Under a stream of commits (the group commit of `add` commits hundreds of times a
        // second), one read takes the rows of many: reads are at least FEED_MIN_GAP apart.
        // A commit after a quiet spell is read at once.
        if let Some(wait) = FEED_MIN_GAP.checked_sub(last_read.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        last_read = tokio::time::Instant::now();
        // Read first, then wait: rows committed while subscribing are not missed.
        let before = cursor;
        let (next, held) = drain(store.as_ref(), &hub, cursor).await;
        cursor = next;
        // Held back *and stuck*: under load some transaction is always in flight, and the
        // feed moves past each as it ends; only a cursor that stops moving is worth a warning.
        match (held, held_since) {
            (false, _) => held_since = None,
            (true, _) if cursor != before => held_since = Some(tokio::time::Instant::now()),
            (true, None) => held_since = Some(tokio::time::Instant::now()),
            (true, Some(since)) if since.elapsed() >= HELD_WARN => {
                tracing::warn!(
                    seconds = since.elapsed().as_secs(),
                    "live feed: rows are held back behind a transaction that stays open \
                     (PostgreSQL: see pg_stat_activity for a long transaction); they are sent \
                     when it ends"
                );
                held_since = Some(tokio::time::Instant::now());
            }
            (true, Some(_)) => {}
        }
        // Rows held back behind a transaction in flight become readable when it ends, which
        // may signal nothing (a rollback, a transaction without feed rows): look again soon.
        let wait = if held { HELD_POLL } else { poll };
        let woke = match signal.as_mut() {
            Some(s) => tokio::time::timeout(wait, s.changed()).await,
            None => {
                tokio::time::sleep(wait).await;
                Ok(Ok(()))
            }
        };
        if let Ok(Err(e)) = woke {
            tracing::warn!(error = %e, "live feed: the signal failed; listening again");
            signal = None;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Publishes every readable row after `cursor`, batch after batch; returns the cursor after
/// them and whether rows are held back behind a transaction still in flight (read again soon:
/// its end may not signal).
async fn drain(store: &dyn Store, hub: &Hub, mut cursor: FeedCursor) -> (FeedCursor, bool) {
    loop {
        match store.feed_after(cursor, FEED_BATCH).await {
            Ok(read) => {
                for item in &read.items {
                    hub.publish(item);
                }
                hub.set_position(read.next);
                metrics::counter!("smmd_ws_feed_items_total").increment(read.items.len() as u64);
                let mut per_source: HashMap<FeedSource, i64> = HashMap::new();
                for item in &read.items {
                    *per_source.entry(item.source).or_default() += 1;
                }
                cursor = read.next;
                if !per_source.values().any(|n| *n >= FEED_BATCH) {
                    return (cursor, read.held);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "live feed: reading failed");
                return (cursor, false);
            }
        }
    }
}

/// The query of `GET /ws`.
#[derive(Deserialize)]
pub struct WsQuery {
    /// The feed position the client has applied (`events.ledger.notifications.alerts`); what
    /// the user's rows committed after it are replayed first.
    after: Option<String>,
}

/// What a connection replays: the user's rows after `after` (and alerts for admins), as sent;
/// `None` when the user has [`REPLAY_MAX`] rows or more of one source after it (the client
/// should reload instead). Reads only this user's rows (`Store::feed_of_user_after`), so a
/// crowd reconnecting after a restart costs each one its own few rows.
async fn replay(
    store: &dyn Store,
    user: UserId,
    admin: bool,
    after: FeedCursor,
) -> StoreResult<Option<Vec<Arc<str>>>> {
    let items = store
        .feed_of_user_after(user, admin, after, REPLAY_MAX)
        .await?;
    let mut per_source: HashMap<FeedSource, i64> = HashMap::new();
    for item in &items {
        *per_source.entry(item.source).or_default() += 1;
    }
    if per_source.values().any(|n| *n >= REPLAY_MAX) {
        return Ok(None);
    }
    Ok(Some(items.iter().filter_map(wire).collect()))
}

/// `GET /ws[?after=events.ledger.notifications.alerts]`: upgrades a signed-in session to the
/// live feed (see the module doc for the replay). 401 without a session, 403 from another
/// origin, 400 for an `after` that is not a feed position.
pub async fn ws(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<WsQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !crate::auth::same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin WebSocket refused").into_response();
    }
    let after = match query.after.as_deref().map(str::parse::<FeedCursor>) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => return (StatusCode::BAD_REQUEST, format!("after: {e}")).into_response(),
    };
    let Some(token) = session_cookie(&headers) else {
        return (StatusCode::UNAUTHORIZED, "log in first").into_response();
    };
    let hash = auth::token_hash(&token);
    let user = match st.store.session(&hash, st.clock.now_ms()).await {
        Ok(Some(s)) if !s.pending_factor => s.user,
        Ok(_) => return (StatusCode::UNAUTHORIZED, "log in first").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "ws session lookup failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let admin = user.role == Role::Admin;
    // Subscribe before reading the replay: a row committed in between arrives twice at worst
    // (the client skips it), never not at all.
    let sub = st.live.subscribe(user.id, admin, &hash);
    let mut first: Vec<Arc<str>> = Vec::new();
    if let Some(after) = after {
        match replay(st.store.as_ref(), user.id, admin, after).await {
            Ok(Some(missed)) => {
                metrics::counter!("smmd_ws_replayed_total").increment(missed.len() as u64);
                first = missed;
            }
            Ok(None) => first.push(r#"{"type":"resync"}"#.into()),
            Err(e) => {
                tracing::error!(error = %e, "ws replay failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    }
    // Read after the replay, so the absolute figures include everything replayed.
    let (balance, unread, active) = match tokio::try_join!(
        st.store.user(user.id),
        st.store.unread_notifications(user.id),
        st.store.active_orders(user.id),
    ) {
        Ok((u, unread, active)) => (u.map_or(user.balance, |u| u.balance), unread, active),
        Err(e) => {
            tracing::error!(error = %e, "ws hello failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    first.push(
        serde_json::json!({
            "type": "hello",
            "balance": balance.to_string(),
            "unread": unread,
            "active": active,
            "admin": admin,
        })
        .to_string()
        .into(),
    );
    upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(4 * 1024)
        .max_frame_size(4 * 1024)
        .on_upgrade(move |socket| serve(st, hash, first, sub, socket))
}

async fn serve(
    st: AppState,
    session: String,
    first: Vec<Arc<str>>,
    mut sub: Subscription,
    mut socket: WebSocket,
) {
    for text in first {
        if socket
            .send(Message::Text(text.as_ref().into()))
            .await
            .is_err()
        {
            return;
        }
    }
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            msg = sub.rx.recv() => match msg {
                Some(text) => {
                    if socket.send(Message::Text(text.as_ref().into())).await.is_err() {
                        return;
                    }
                }
                // Dropped as too slow: close so the client reconnects and reloads.
                None => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                // A logged-out or expired session stops receiving.
                match st.store.session(&session, st.clock.now_ms()).await {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "ws session check failed"),
                }
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, HeaderValue};
    use smmd_store::FeedMessage;

    fn item(user: Option<i64>) -> FeedItem {
        FeedItem {
            user_id: user.map(UserId),
            at: 1,
            source: FeedSource::Ledger,
            pos: smmd_store::FeedPos::new(4410, 7),
            message: FeedMessage::Balance {
                balance: "1.00".into(),
                amount: "1.00".into(),
                at: 1,
            },
        }
    }

    #[tokio::test]
    async fn messages_reach_their_user_alerts_reach_admins_and_slow_clients_are_dropped() {
        let hub = Arc::new(Hub::default());
        let mut ann = hub.subscribe(UserId(1), false, "s-ann");
        let mut ann2 = hub.subscribe(UserId(1), false, "s-ann2");
        let mut bob = hub.subscribe(UserId(2), false, "s-bob");
        let mut admin = hub.subscribe(UserId(3), true, "s-root");
        assert_eq!(hub.connections(), 4);
        assert_eq!(hub.publish(&item(Some(1))), 2, "both of Ann's tabs");
        assert!(ann.rx.try_recv().is_ok() && ann2.rx.try_recv().is_ok());
        assert!(bob.rx.try_recv().is_err(), "Bob sees nothing of Ann's");
        assert_eq!(hub.publish(&item(None)), 1, "alerts go to admins only");
        assert!(admin.rx.try_recv().is_ok());
        assert!(ann.rx.try_recv().is_err());
        // Ann's second tab stops reading: when its queue is full it is dropped, the first stays.
        for _ in 0..QUEUE {
            hub.publish(&item(Some(1)));
            let _ = ann.rx.try_recv();
        }
        assert_eq!(hub.publish(&item(Some(1))), 1);
        assert_eq!(hub.connections(), 3);
        while ann2.rx.try_recv().is_ok() {}
        assert!(ann2.rx.recv().await.is_none(), "its queue is closed");
        drop(bob);
        assert_eq!(hub.connections(), 2);
        // Log-out closes that session's sockets only.
        assert_eq!(hub.end_session("s-root"), 1);
        assert!(
            admin.rx.recv().await.is_none(),
            "the admin's queue is closed"
        );
        assert_eq!(hub.end_session("s-root"), 0);
        assert_eq!(hub.connections(), 1);
        assert!(hub.publish(&item(Some(1))) == 1 && ann.rx.try_recv().is_ok());
    }

    #[test]
    fn a_message_names_its_type_and_the_row_it_came_from() {
        let text = wire(&item(Some(1))).expect("serializable");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            v,
            serde_json::json!({"type": "balance", "balance": "1.00", "amount": "1.00", "at": 1,
                               "src": "l", "seq": 7, "tx": 4410})
        );
    }

    #[test]
    fn only_same_origin_browsers_may_connect() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("panel.test:8080"));
        assert!(crate::auth::same_origin(&h), "no Origin: not a browser");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://panel.test:8080"),
        );
        assert!(crate::auth::same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.test"),
        );
        assert!(!crate::auth::same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!crate::auth::same_origin(&h));
    }
}
