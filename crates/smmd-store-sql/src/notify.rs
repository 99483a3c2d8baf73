//! Notifications on SQL: settings on `users`, the `notifications` and `deliveries` (outbox)
//! tables with `notify_cursors`. The live feed over them is [`crate::feed`].

use smmd_domain::{Money, OrderId, UserId};
use smmd_store::{
    AlertRecipient, BillingNotice, Channel, Delivery, DeliveryOutcome, DeliveryRecord, FeedPos,
    NotifiableEvent, Notification, NotificationBatch, NotificationSettings, StoreError,
    StoreResult,
};

use crate::feed;
use crate::rows::{self, get, qualified, ORDER_COLS};
use crate::{found, Dialect, Row, SqlResultExt, SqlStore};

fn settings(row: &Row) -> StoreResult<NotificationSettings> {
    Ok(NotificationSettings {
        email: get::<i64>(row, "email_notifications")? != 0,
        webhook_url: get(row, "webhook_url")?,
        webhook_secret: get(row, "webhook_secret")?,
        language: get(row, "language")?,
    })
}

pub(crate) async fn notification_settings(
    s: &SqlStore,
    user: UserId,
) -> StoreResult<NotificationSettings> {
    let row = sqlx::query(
        "SELECT email_notifications, webhook_url, webhook_secret, language FROM users WHERE id = $1",
    )
    .bind(user.0)
    .fetch_optional(&s.read)
    .await
    .db()?
    .ok_or(StoreError::NotFound)?;
    settings(&row)
}

pub(crate) async fn set_notification_settings(
    s: &SqlStore,
    user: UserId,
    n: &NotificationSettings,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "UPDATE users SET email_notifications = $1, webhook_url = $2, webhook_secret = $3, \
         language = $4 WHERE id = $5",
    )
    .bind(i64::from(n.email))
    .bind(n.webhook_url.as_deref())
    .bind(n.webhook_secret.as_deref())
    .bind(n.language.as_deref())
    .bind(user.0)
    .execute(&mut *tx)
    .await
    .db()?;
    found(&done)?;
    s.commit(tx).await
}

pub(crate) async fn notify_cursor(s: &SqlStore, cursor: &str) -> StoreResult<FeedPos> {
    let row = sqlx::query("SELECT last_tx, last_id FROM notify_cursors WHERE name = $1")
        .bind(cursor)
        .fetch_optional(&s.read)
        .await
        .db()?;
    row.map(|r| Ok(FeedPos::new(get(&r, "last_tx")?, get(&r, "last_id")?)))
        .transpose()
        .map(Option::unwrap_or_default)
}

/// The position of the last readable row of the first `limit` of `table` (alias `a`) after
/// `after` in feed order; `after` if none.
async fn window_end(s: &SqlStore, table: &str, after: FeedPos, limit: i64) -> StoreResult<FeedPos> {
    let horizon = feed::horizon(s).await?;
    let sql = feed::source_sql(s.dialect, "w.id", &format!("{table} w"), "w", None);
    let (rows, next, _) =
        feed::read_source(s, &sql, after, limit, None, horizon, |_, _| Ok(())).await?;
    // With nothing read the cursor stays put: moving it to the horizon alone is a write for
    // nothing.
    Ok(if rows.is_empty() { after } else { next })
}

pub(crate) async fn notifiable_events(
    s: &SqlStore,
    after: FeedPos,
    limit: i64,
) -> StoreResult<(Vec<NotifiableEvent>, FeedPos)> {
    let to = window_end(s, "order_events", after, limit).await?;
    if to == after {
        return Ok((Vec::new(), after));
    }
    let sql = format!(
        "SELECT e.id AS event_id, e.kind AS event_kind, e.status AS event_status, \
         e.amount AS event_amount, e.detail AS event_detail, e.created_at AS event_at, {}, \
         sv.name AS service_name, u.email AS user_email, u.email_notifications, u.webhook_url, \
         u.webhook_secret, u.language \
         FROM order_events e JOIN orders o ON o.id = e.order_id \
         JOIN services sv ON sv.id = o.service_id JOIN users u ON u.id = e.user_id \
         WHERE {} AND ((e.kind = 'status' AND e.status IN \
         ('completed', 'partial', 'canceled')) OR (e.kind = 'refill' AND e.status IN \
         ('completed', 'rejected')) OR (e.kind = 'stuck' AND e.status = 'ticket')) ORDER BY {}",
        qualified(ORDER_COLS, "o"),
        feed::range_sql(s.dialect, "e", 1),
        feed::order_sql(s.dialect, "e"),
    );
    let rows = feed::bind_range(sqlx::query(&sql), s.dialect, after, to)
        .fetch_all(&s.read)
        .await
        .db()?;
    let events = rows
        .iter()
        .map(|row| {
            Ok(NotifiableEvent {
                event_id: get(row, "event_id")?,
                kind: crate::rows::event_kind(&get::<String>(row, "event_kind")?)?,
                status: get(row, "event_status")?,
                amount: get::<Option<i64>>(row, "event_amount")?.map(Money::from_micros),
                detail: get(row, "event_detail")?,
                created_at: get(row, "event_at")?,
                order: rows::order(row)?,
                service_name: get(row, "service_name")?,
                user_email: get(row, "user_email")?,
                settings: settings(row)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((events, to))
}

pub(crate) async fn alerts_after(
    s: &SqlStore,
    after: FeedPos,
    limit: i64,
) -> StoreResult<(Vec<smmd_store::Alert>, FeedPos)> {
    let horizon = feed::horizon(s).await?;
    let cols = qualified(rows::ALERT_COLS, "a");
    let sql = feed::source_sql(s.dialect, &cols, "alerts a", "a", None);
    let (alerts, next, _) = feed::read_source(s, &sql, after, limit, None, horizon, |row, _| {
        rows::alert(row)
    })
    .await?;
    Ok(if alerts.is_empty() {
        (alerts, after)
    } else {
        (alerts, next)
    })
}

pub(crate) async fn billing_notices_after(
    s: &SqlStore,
    after: FeedPos,
    limit: i64,
) -> StoreResult<(Vec<BillingNotice>, FeedPos)> {
    let to = window_end(s, "billing_notices", after, limit).await?;
    if to == after {
        return Ok((Vec::new(), after));
    }
    let sql = format!(
        "SELECT n.id, n.user_id, n.kind, n.rental_id, n.runway_hours, n.threshold, n.detail, \
         n.created_at, p.name AS plan_name, u.email AS user_email, u.email_notifications, \
         u.webhook_url, u.webhook_secret, u.language \
         FROM billing_notices n JOIN users u ON u.id = n.user_id \
         LEFT JOIN rentals r ON r.id = n.rental_id LEFT JOIN plans p ON p.id = r.plan_id \
         WHERE {} ORDER BY {}",
        feed::range_sql(s.dialect, "n", 1),
        feed::order_sql(s.dialect, "n"),
    );
    let rows = feed::bind_range(sqlx::query(&sql), s.dialect, after, to)
        .fetch_all(&s.read)
        .await
        .db()?;
    let notices = rows
        .iter()
        .map(|row| {
            Ok(BillingNotice {
                id: get(row, "id")?,
                user_id: UserId(get(row, "user_id")?),
                kind: get(row, "kind")?,
                rental_id: get(row, "rental_id")?,
                plan_name: get(row, "plan_name")?,
                runway_hours: get(row, "runway_hours")?,
                threshold: get(row, "threshold")?,
                detail: get(row, "detail")?,
                created_at: get(row, "created_at")?,
                user_email: get(row, "user_email")?,
                settings: settings(row)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((notices, to))
}

pub(crate) async fn alert_recipients(s: &SqlStore) -> StoreResult<Vec<AlertRecipient>> {
    let rows = sqlx::query(
        "SELECT id, email, email_notifications, webhook_url, webhook_secret, language FROM users \
         WHERE role = 'admin' ORDER BY id",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|row| {
            Ok(AlertRecipient {
                user_id: UserId(get(row, "id")?),
                email: get(row, "email")?,
                settings: settings(row)?,
            })
        })
        .collect()
}

pub(crate) async fn record_notifications(
    s: &SqlStore,
    batch: &NotificationBatch,
    now: i64,
) -> StoreResult<Option<u64>> {
    let mut tx = s.begin().await?;
    let moved = sqlx::query(
        "UPDATE notify_cursors SET last_tx = $1, last_id = $2 \
             WHERE name = $3 AND last_tx = $4 AND last_id = $5",
    )
    .bind(batch.to.tx)
    .bind(batch.to.id)
    .bind(batch.cursor)
    .bind(batch.from.tx)
    .bind(batch.from.id)
    .execute(&mut *tx)
    .await
    .db()?;
    if moved.rows_affected() == 0 {
        return Ok(None);
    }
    let mut written = 0;
    for n in &batch.items {
        let id: Option<i64> = sqlx::query(
            "INSERT INTO notifications (user_id, source, kind, title, body, order_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, source) DO NOTHING RETURNING id",
        )
        .bind(n.user_id.0)
        .bind(&n.source)
        .bind(&n.kind)
        .bind(&n.title)
        .bind(&n.body)
        .bind(n.order_id.map(|o| o.0))
        .bind(n.created_at)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .map(|r| get(&r, "id"))
        .transpose()?;
        let Some(id) = id else { continue };
        written += 1;
        let email = n.email.as_ref().map(|to| {
            (
                Channel::Email,
                to.as_str(),
                n.title.as_str(),
                n.email_text.as_str(),
            )
        });
        let hook = n
            .webhook
            .as_ref()
            .map(|(url, body)| (Channel::Webhook, url.as_str(), "", body.as_str()));
        for (channel, target, subject, payload) in email.into_iter().chain(hook) {
            sqlx::query(
                "INSERT INTO deliveries (notification_id, user_id, channel, target, subject, payload, \
                 next_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(id)
            .bind(n.user_id.0)
            .bind(channel.as_str())
            .bind(target)
            .bind(subject)
            .bind(payload)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
        }
    }
    // Owner alert channels: once per alert and channel (user 0, notification −alert id, which
    // no in-app notification and no account e-mail of the same channel uses).
    for m in &batch.channel_messages {
        sqlx::query(
            "INSERT INTO deliveries (notification_id, user_id, channel, target, subject, payload, \
             next_at, created_at) VALUES ($1, 0, $2, $3, '', $4, $5, $5) \
             ON CONFLICT (notification_id, channel) DO NOTHING",
        )
        .bind(-m.alert_id)
        .bind(m.channel.as_str())
        .bind(&m.target)
        .bind(&m.text)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    s.commit(tx).await?;
    Ok(Some(written))
}

const DELIVERY_COLS: &str = "d.id, d.notification_id, d.user_id, d.channel, d.target, d.subject, \
     d.payload, d.attempts, d.status, d.next_at, d.last_error, d.finished_at";

fn channel(text: &str) -> StoreResult<Channel> {
    Channel::parse(text)
        .ok_or_else(|| StoreError::Other(anyhow::anyhow!("unknown delivery channel {text:?}")))
}

pub(crate) async fn claim_deliveries(
    s: &SqlStore,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> StoreResult<Vec<Delivery>> {
    let skip = match s.dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let mut tx = s.begin().await?;
    let ids: Vec<i64> = sqlx::query(&format!(
        "SELECT id FROM deliveries WHERE status = 'pending' AND next_at <= $1 \
         ORDER BY next_at, id LIMIT $2{skip}"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await
    .db()?
    .iter()
    .map(|r| get(r, "id"))
    .collect::<StoreResult<_>>()?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = s.dialect.id_list(ids.iter().copied());
    sqlx::query(&format!(
        "UPDATE deliveries SET attempts = attempts + 1, next_at = $1 WHERE {}",
        s.dialect.id_in("id", 2)
    ))
    .bind(now + lease_ms)
    .bind(&list)
    .execute(&mut *tx)
    .await
    .db()?;
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLS}, u.webhook_secret FROM deliveries d LEFT JOIN users u ON u.id = d.user_id \
         WHERE {} ORDER BY d.id",
        s.dialect.id_in("d.id", 1)
    ))
    .bind(&list)
    .fetch_all(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await?;
    rows.iter()
        .map(|row| {
            let channel = channel(&get::<String>(row, "channel")?)?;
            Ok(Delivery {
                id: get(row, "id")?,
                notification_id: get(row, "notification_id")?,
                user_id: UserId(get(row, "user_id")?),
                channel,
                target: get(row, "target")?,
                subject: get(row, "subject")?,
                payload: get(row, "payload")?,
                attempts: get(row, "attempts")?,
                secret: match channel {
                    Channel::Webhook => get(row, "webhook_secret")?,
                    Channel::Email | Channel::Alert(_) => None,
                },
            })
        })
        .collect()
}

pub(crate) async fn finish_delivery(
    s: &SqlStore,
    id: i64,
    outcome: &DeliveryOutcome,
    now: i64,
) -> StoreResult<()> {
    let (status, next_at, error, finished) = match outcome {
        DeliveryOutcome::Sent => ("sent", now, None, Some(now)),
        DeliveryOutcome::Retry { at, error } => ("pending", *at, Some(error.as_str()), None),
        DeliveryOutcome::Failed { error } => ("failed", now, Some(error.as_str()), Some(now)),
    };
    // An account e-mail (password reset, confirmation: notification_id < 0) carries a live
    // token: its text is not kept once the delivery has ended.
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "UPDATE deliveries SET status = $1, next_at = $2, last_error = COALESCE($3, last_error), \
         finished_at = $4, \
         payload = CASE WHEN notification_id < 0 AND $1 <> 'pending' THEN '' ELSE payload END \
         WHERE id = $5 AND status = 'pending'",
    )
    .bind(status)
    .bind(next_at)
    .bind(error)
    .bind(finished)
    .bind(id)
    .execute(&mut *tx)
    .await
    .db()?;
    found(&done)?;
    s.commit(tx).await
}

pub(crate) async fn deliveries_of_user(
    s: &SqlStore,
    user: UserId,
    limit: i64,
) -> StoreResult<Vec<DeliveryRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLS} FROM deliveries d WHERE d.user_id = $1 ORDER BY d.id DESC LIMIT $2"
    ))
    .bind(user.0)
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|row| {
            Ok(DeliveryRecord {
                id: get(row, "id")?,
                notification_id: get(row, "notification_id")?,
                channel: channel(&get::<String>(row, "channel")?)?.as_str(),
                target: get(row, "target")?,
                status: get(row, "status")?,
                attempts: get(row, "attempts")?,
                next_at: get(row, "next_at")?,
                last_error: get(row, "last_error")?,
                finished_at: get(row, "finished_at")?,
            })
        })
        .collect()
}

pub(crate) const NOTIFICATION_COLS: &str =
    "id, user_id, kind, title, body, order_id, created_at, read_at";

pub(crate) fn notification(row: &Row) -> StoreResult<Notification> {
    Ok(Notification {
        id: get(row, "id")?,
        user_id: UserId(get(row, "user_id")?),
        kind: get(row, "kind")?,
        title: get(row, "title")?,
        body: get(row, "body")?,
        order_id: get::<Option<i64>>(row, "order_id")?.map(OrderId),
        created_at: get(row, "created_at")?,
        read_at: get(row, "read_at")?,
    })
}

pub(crate) async fn notifications_of_user(
    s: &SqlStore,
    user: UserId,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<Notification>> {
    let rows = sqlx::query(&format!(
        "SELECT {NOTIFICATION_COLS} FROM notifications WHERE user_id = $1 AND id < $2 \
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(user.0)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(notification).collect()
}

pub(crate) async fn unread_notifications(s: &SqlStore, user: UserId) -> StoreResult<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user.0)
    .fetch_one(&s.read)
    .await
    .db()?;
    get(&row, "n")
}

pub(crate) async fn mark_notifications_read(
    s: &SqlStore,
    user: UserId,
    up_to: i64,
    now: i64,
) -> StoreResult<u64> {
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND id <= $3 AND read_at IS NULL",
    )
    .bind(now)
    .bind(user.0)
    .bind(up_to)
    .execute(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await?;
    Ok(done.rows_affected())
}

pub(crate) async fn prune_notifications(s: &SqlStore, before: i64, batch: i64) -> StoreResult<u64> {
    let mut tx = s.begin().await?;
    // Finished alert-channel messages have no notification to go with; they go by age.
    sqlx::query(
        "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries \
         WHERE channel IN ('telegram', 'discord') AND status <> 'pending' AND created_at < $1 \
         ORDER BY id LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(&mut *tx)
    .await
    .db()?;
    let ids: Vec<i64> = sqlx::query(
        "SELECT n.id FROM notifications n WHERE n.created_at < $1 AND NOT EXISTS \
         (SELECT 1 FROM deliveries d WHERE d.notification_id = n.id AND d.status = 'pending') \
         ORDER BY n.id LIMIT $2",
    )
    .bind(before)
    .bind(batch)
    .fetch_all(&mut *tx)
    .await
    .db()?
    .iter()
    .map(|r| get(r, "id"))
    .collect::<StoreResult<_>>()?;
    if ids.is_empty() {
        s.commit(tx).await?;
        return Ok(0);
    }
    let list = s.dialect.id_list(ids.iter().copied());
    for delete in [
        format!(
            "DELETE FROM deliveries WHERE {}",
            s.dialect.id_in("notification_id", 1)
        ),
        format!(
            "DELETE FROM notifications WHERE {}",
            s.dialect.id_in("id", 1)
        ),
    ] {
        sqlx::query(&delete)
            .bind(&list)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    s.commit(tx).await?;
    Ok(ids.len() as u64)
}

/// The [`NotificationStore`](smmd_store::NotificationStore) section on SQL: each method is one of the functions above.
mod section {

    use smmd_domain::UserId;
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl NotificationStore for SqlStore {
        async fn notification_settings(&self, user: UserId) -> StoreResult<NotificationSettings> {
            crate::notify::notification_settings(self, user).await
        }

        async fn set_notification_settings(
            &self,
            user: UserId,
            settings: &NotificationSettings,
        ) -> StoreResult<()> {
            crate::notify::set_notification_settings(self, user, settings).await
        }

        async fn notify_cursor(&self, cursor: &str) -> StoreResult<FeedPos> {
            crate::notify::notify_cursor(self, cursor).await
        }

        async fn notifiable_events(
            &self,
            after: FeedPos,
            limit: i64,
        ) -> StoreResult<(Vec<NotifiableEvent>, FeedPos)> {
            crate::notify::notifiable_events(self, after, limit).await
        }

        async fn alerts_after(
            &self,
            after: FeedPos,
            limit: i64,
        ) -> StoreResult<(Vec<Alert>, FeedPos)> {
            crate::notify::alerts_after(self, after, limit).await
        }

        async fn billing_notices_after(
            &self,
            after: FeedPos,
            limit: i64,
        ) -> StoreResult<(Vec<BillingNotice>, FeedPos)> {
            crate::notify::billing_notices_after(self, after, limit).await
        }

        async fn alert_recipients(&self) -> StoreResult<Vec<AlertRecipient>> {
            crate::notify::alert_recipients(self).await
        }

        async fn record_notifications(
            &self,
            batch: &NotificationBatch,
            now: i64,
        ) -> StoreResult<Option<u64>> {
            crate::notify::record_notifications(self, batch, now).await
        }

        async fn claim_deliveries(
            &self,
            now: i64,
            lease_ms: i64,
            limit: i64,
        ) -> StoreResult<Vec<Delivery>> {
            crate::notify::claim_deliveries(self, now, lease_ms, limit).await
        }

        async fn finish_delivery(
            &self,
            id: i64,
            outcome: &DeliveryOutcome,
            now: i64,
        ) -> StoreResult<()> {
            crate::notify::finish_delivery(self, id, outcome, now).await
        }

        async fn deliveries_of_user(
            &self,
            user: UserId,
            limit: i64,
        ) -> StoreResult<Vec<DeliveryRecord>> {
            crate::notify::deliveries_of_user(self, user, limit).await
        }

        async fn notifications_of_user(
            &self,
            user: UserId,
            before: Option<i64>,
            limit: i64,
        ) -> StoreResult<Vec<Notification>> {
            crate::notify::notifications_of_user(self, user, before, limit).await
        }

        async fn unread_notifications(&self, user: UserId) -> StoreResult<i64> {
            crate::notify::unread_notifications(self, user).await
        }

        async fn mark_notifications_read(
            &self,
            user: UserId,
            up_to: i64,
            now: i64,
        ) -> StoreResult<u64> {
            crate::notify::mark_notifications_read(self, user, up_to, now).await
        }

        async fn prune_notifications(&self, before: i64, batch: i64) -> StoreResult<u64> {
            crate::notify::prune_notifications(self, before, batch).await
        }
    }
}
