//! Support tickets on SQL ([`smmd_store::TicketStore`], migration 0023): tickets and their
//! threads, read marks as message ids, canned replies. A write locks its ticket row (a guarded
//! `UPDATE … WHERE status = expected`), and raises or resolves `ticket_waiting` and writes the
//! customer's `ticket.replied` notice in the same transaction.

use smmd_domain::alert::{ticket_subject, AlertKind};
use smmd_domain::ticket::{TicketStatus, TicketTopic};
use smmd_domain::{OrderId, UserId};
use smmd_store::*;

use crate::queries::{Arg, Filter};
use crate::rows::get;
use crate::{flag, SqlResultExt, SqlStore};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

const TICKET_COLS: &str = "t.id, t.user_id, u.email AS user_email, t.topic, t.subject, t.status, \
     t.order_ids, t.created_at, t.updated_at, \
     CASE WHEN t.last_customer_msg > t.admin_seen_msg THEN 1 ELSE 0 END AS unread_admin, \
     CASE WHEN t.last_admin_msg > t.customer_seen_msg THEN 1 ELSE 0 END AS unread_customer, \
     (SELECT COUNT(*) FROM ticket_messages m WHERE m.ticket_id = t.id AND m.internal = 0) AS messages";

fn bad(what: &str, text: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("unknown ticket {what} {text:?}"))
}

fn ticket(row: &sqlx::any::AnyRow) -> StoreResult<Ticket> {
    let topic: String = get(row, "topic")?;
    let status: String = get(row, "status")?;
    let orders: String = get(row, "order_ids")?;
    Ok(Ticket {
        id: get(row, "id")?,
        user_id: UserId(get(row, "user_id")?),
        user_email: get(row, "user_email")?,
        topic: TicketTopic::parse(&topic).ok_or_else(|| bad("topic", &topic))?,
        subject: get(row, "subject")?,
        status: TicketStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
        order_ids: orders
            .split(',')
            .filter_map(|id| id.parse().ok().map(OrderId))
            .collect(),
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        unread_by_admin: get::<i64>(row, "unread_admin")? != 0,
        unread_by_customer: get::<i64>(row, "unread_customer")? != 0,
        messages: get(row, "messages")?,
    })
}

fn message(row: &sqlx::any::AnyRow) -> StoreResult<TicketMessage> {
    Ok(TicketMessage {
        id: get(row, "id")?,
        ticket_id: get(row, "ticket_id")?,
        author_id: get::<Option<i64>>(row, "author_id")?.map(UserId),
        author: get(row, "author")?,
        from_admin: get::<i64>(row, "from_admin")? != 0,
        internal: get::<i64>(row, "internal")? != 0,
        body: get(row, "body")?,
        created_at: get(row, "created_at")?,
    })
}

async fn ticket_in(tx: &mut Tx, id: i64) -> StoreResult<Option<Ticket>> {
    let row = sqlx::query(&format!(
        "SELECT {TICKET_COLS} FROM tickets t JOIN users u ON u.id = t.user_id WHERE t.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    row.as_ref().map(ticket).transpose()
}

/// Writes one message; returns its id.
#[allow(clippy::too_many_arguments)]
async fn insert_message(
    tx: &mut Tx,
    ticket_id: i64,
    author_id: Option<UserId>,
    author: &str,
    from_admin: bool,
    internal: bool,
    body: &str,
    now: i64,
) -> StoreResult<i64> {
    let row = sqlx::query(
        "INSERT INTO ticket_messages (ticket_id, author_id, author, from_admin, internal, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(ticket_id)
    .bind(author_id.map(|u| u.0))
    .bind(author)
    .bind(flag(from_admin))
    .bind(flag(internal))
    .bind(body)
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .db()?;
    get(&row, "id")
}

/// The `ticket_waiting` alert's text for a customer's message.
fn waiting(id: i64, author: &str, subject: &str) -> String {
    format!("Ticket #{id} from {author}: {subject}")
}

/// The customer wrote message `msg` on ticket `id`: their read mark moves past it and the
/// admins' `ticket_waiting` alert is raised (or refreshed).
async fn customer_wrote(
    tx: &mut Tx,
    id: i64,
    msg: i64,
    author: &str,
    subject: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE tickets SET last_customer_msg = $1, customer_seen_msg = $1 WHERE id = $2")
        .bind(msg)
        .bind(id)
        .execute(&mut **tx)
        .await
        .db()?;
    crate::fulfil::raise_alert_in(
        tx,
        AlertKind::TicketWaiting.as_str(),
        &ticket_subject(id),
        &waiting(id, author, subject),
        now,
    )
    .await?;
    Ok(())
}

/// An admin answered ticket `t` with message `msg`: the admins' read mark moves past it, the
/// alert resolves, and the customer's `ticket.replied` notice is written.
async fn admin_answered(tx: &mut Tx, t: &Ticket, msg: i64, now: i64) -> StoreResult<()> {
    sqlx::query("UPDATE tickets SET last_admin_msg = $1, admin_seen_msg = $1 WHERE id = $2")
        .bind(msg)
        .bind(t.id)
        .execute(&mut **tx)
        .await
        .db()?;
    crate::fulfil::resolve_alert_in(
        tx,
        AlertKind::TicketWaiting.as_str(),
        &ticket_subject(t.id),
        now,
    )
    .await?;
    crate::billing::runway::notice(
        tx,
        t.user_id,
        "ticket.replied",
        None,
        None,
        &format!("Ticket #{}: {}", t.id, t.subject),
        now,
    )
    .await
}

async fn open_ticket(s: &SqlStore, t: &NewTicket) -> StoreResult<Ticket> {
    let mut tx = s.begin().await?;
    let orders = t
        .order_ids
        .iter()
        .map(|o| o.0.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let row = sqlx::query(
        "INSERT INTO tickets (user_id, topic, subject, status, order_ids, created_at, updated_at) \
         VALUES ($1, $2, $3, 'open', $4, $5, $5) RETURNING id",
    )
    .bind(t.user_id.0)
    .bind(t.topic.as_str())
    .bind(&t.subject)
    .bind(orders)
    .bind(t.now)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    let id: i64 = get(&row, "id")?;
    let msg = insert_message(
        &mut tx,
        id,
        Some(t.user_id),
        &t.author,
        false,
        false,
        &t.body,
        t.now,
    )
    .await?;
    customer_wrote(&mut tx, id, msg, &t.author, &t.subject, t.now).await?;
    let opened = ticket_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
    s.commit(tx).await?;
    Ok(opened)
}

/// Moves the ticket from `expected` to `next` inside `tx`: `Moved` or `NotFound` when it was
/// not there to move.
async fn move_ticket(
    tx: &mut Tx,
    id: i64,
    expected: TicketStatus,
    next: TicketStatus,
    now: i64,
) -> StoreResult<Option<TicketWrite>> {
    let moved = sqlx::query(
        "UPDATE tickets SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
    )
    .bind(next.as_str())
    .bind(now)
    .bind(id)
    .bind(expected.as_str())
    .execute(&mut **tx)
    .await
    .db()?;
    if moved.rows_affected() == 1 {
        return Ok(None);
    }
    Ok(Some(match ticket_in(tx, id).await? {
        Some(t) => TicketWrite::Moved(t.status),
        None => TicketWrite::NotFound,
    }))
}

async fn post_ticket_message(s: &SqlStore, p: &TicketPost) -> StoreResult<TicketWrite> {
    let mut tx = s.begin().await?;
    if let Some(refused) = move_ticket(&mut tx, p.ticket_id, p.expected, p.next, p.now).await? {
        return Ok(refused);
    }
    let msg = insert_message(
        &mut tx,
        p.ticket_id,
        Some(p.author_id),
        &p.author,
        p.from_admin,
        p.internal,
        &p.body,
        p.now,
    )
    .await?;
    let t = ticket_in(&mut tx, p.ticket_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    match (p.from_admin, p.internal) {
        // A note is the admins' own: nothing moves for the customer.
        (true, true) => {}
        (true, false) => admin_answered(&mut tx, &t, msg, p.now).await?,
        (false, _) => customer_wrote(&mut tx, t.id, msg, &p.author, &t.subject, p.now).await?,
    }
    let t = ticket_in(&mut tx, p.ticket_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    s.commit(tx).await?;
    Ok(TicketWrite::Done(t))
}

async fn set_ticket_status(
    s: &SqlStore,
    id: i64,
    expected: TicketStatus,
    next: TicketStatus,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<TicketWrite> {
    let mut tx = s.begin().await?;
    if let Some(refused) = move_ticket(&mut tx, id, expected, next, now).await? {
        return Ok(refused);
    }
    if next == TicketStatus::Closed {
        crate::fulfil::resolve_alert_in(
            &mut tx,
            AlertKind::TicketWaiting.as_str(),
            &ticket_subject(id),
            now,
        )
        .await?;
    }
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    let t = ticket_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
    s.commit(tx).await?;
    Ok(TicketWrite::Done(t))
}

async fn one_ticket(s: &SqlStore, id: i64) -> StoreResult<Option<Ticket>> {
    let row = sqlx::query(&format!(
        "SELECT {TICKET_COLS} FROM tickets t JOIN users u ON u.id = t.user_id WHERE t.id = $1"
    ))
    .bind(id)
    .fetch_optional(&s.read)
    .await
    .db()?;
    row.as_ref().map(ticket).transpose()
}

async fn tickets(s: &SqlStore, q: &TicketQuery) -> StoreResult<Vec<Ticket>> {
    let mut f = Filter::default();
    f.int("t.user_id = ?", q.user.map(|u| u.0));
    if let Some(status) = q.status {
        f.push("t.status = ?", Arg::Text(status.as_str().to_string()));
    }
    if q.unread_by_admin {
        f.raw("t.last_customer_msg > t.admin_seen_msg");
    }
    f.int("t.id < ?", q.before);
    let sql = format!(
        "SELECT {TICKET_COLS} FROM tickets t JOIN users u ON u.id = t.user_id WHERE {} \
         ORDER BY t.id DESC LIMIT {}",
        f.sql(),
        q.limit.clamp(1, 200)
    );
    let rows = f.bind(sqlx::query(&sql)).fetch_all(&s.read).await.db()?;
    rows.iter().map(ticket).collect()
}

async fn ticket_messages(s: &SqlStore, id: i64, internal: bool) -> StoreResult<Vec<TicketMessage>> {
    let rows = sqlx::query(
        "SELECT id, ticket_id, author_id, author, from_admin, internal, body, created_at \
         FROM ticket_messages WHERE ticket_id = $1 AND (internal = 0 OR $2 = 1) ORDER BY id",
    )
    .bind(id)
    .bind(flag(internal))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(message).collect()
}

async fn mark_ticket_read(s: &SqlStore, id: i64, by_admin: bool) -> StoreResult<()> {
    let column = if by_admin {
        "admin_seen_msg"
    } else {
        "customer_seen_msg"
    };
    let mut tx = s.begin().await?;
    sqlx::query(&format!(
        "UPDATE tickets SET {column} = (SELECT COALESCE(MAX(m.id), 0) FROM ticket_messages m \
         WHERE m.ticket_id = tickets.id) WHERE id = $1"
    ))
    .bind(id)
    .execute(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await
}

async fn ticket_counts(s: &SqlStore) -> StoreResult<(i64, i64)> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM tickets WHERE status = 'open') AS open, \
         (SELECT COUNT(*) FROM tickets WHERE last_customer_msg > admin_seen_msg) AS unread",
    )
    .fetch_one(&s.read)
    .await
    .db()?;
    Ok((get(&row, "open")?, get(&row, "unread")?))
}

fn canned(row: &sqlx::any::AnyRow) -> StoreResult<CannedReply> {
    Ok(CannedReply {
        id: get(row, "id")?,
        title: get(row, "title")?,
        body: get(row, "body")?,
        updated_at: get(row, "updated_at")?,
    })
}

async fn canned_replies(s: &SqlStore) -> StoreResult<Vec<CannedReply>> {
    let rows =
        sqlx::query("SELECT id, title, body, updated_at FROM canned_replies ORDER BY title, id")
            .fetch_all(&s.read)
            .await
            .db()?;
    rows.iter().map(canned).collect()
}

async fn save_canned_reply(
    s: &SqlStore,
    id: Option<i64>,
    title: &str,
    body: &str,
    now: i64,
) -> StoreResult<CannedReply> {
    let mut tx = s.begin().await?;
    let row = match id {
        None => sqlx::query(
            "INSERT INTO canned_replies (title, body, updated_at) VALUES ($1, $2, $3) \
             RETURNING id, title, body, updated_at",
        )
        .bind(title)
        .bind(body)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .db()?,
        Some(id) => sqlx::query(
            "UPDATE canned_replies SET title = $1, body = $2, updated_at = $3 WHERE id = $4 \
             RETURNING id, title, body, updated_at",
        )
        .bind(title)
        .bind(body)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .ok_or(StoreError::NotFound)?,
    };
    let saved = canned(&row)?;
    s.commit(tx).await?;
    Ok(saved)
}

async fn delete_canned_reply(s: &SqlStore, id: i64) -> StoreResult<bool> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("DELETE FROM canned_replies WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
    s.commit(tx).await?;
    Ok(done.rows_affected() == 1)
}

mod imp {
    use super::*;

    #[async_trait::async_trait]
    impl TicketStore for SqlStore {
        async fn open_ticket(&self, t: &NewTicket) -> StoreResult<Ticket> {
            super::open_ticket(self, t).await
        }

        async fn post_ticket_message(&self, p: &TicketPost) -> StoreResult<TicketWrite> {
            super::post_ticket_message(self, p).await
        }

        async fn set_ticket_status(
            &self,
            id: i64,
            expected: TicketStatus,
            next: TicketStatus,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<TicketWrite> {
            super::set_ticket_status(self, id, expected, next, now, audit).await
        }

        async fn ticket(&self, id: i64) -> StoreResult<Option<Ticket>> {
            super::one_ticket(self, id).await
        }

        async fn tickets(&self, q: &TicketQuery) -> StoreResult<Vec<Ticket>> {
            super::tickets(self, q).await
        }

        async fn ticket_messages(
            &self,
            id: i64,
            internal: bool,
        ) -> StoreResult<Vec<TicketMessage>> {
            super::ticket_messages(self, id, internal).await
        }

        async fn mark_ticket_read(&self, id: i64, by_admin: bool, _now: i64) -> StoreResult<()> {
            super::mark_ticket_read(self, id, by_admin).await
        }

        async fn ticket_counts(&self) -> StoreResult<(i64, i64)> {
            super::ticket_counts(self).await
        }

        async fn canned_replies(&self) -> StoreResult<Vec<CannedReply>> {
            super::canned_replies(self).await
        }

        async fn save_canned_reply(
            &self,
            id: Option<i64>,
            title: &str,
            body: &str,
            now: i64,
        ) -> StoreResult<CannedReply> {
            super::save_canned_reply(self, id, title, body, now).await
        }

        async fn delete_canned_reply(&self, id: i64) -> StoreResult<bool> {
            super::delete_canned_reply(self, id).await
        }
    }
}
