//! Support tickets (issue 18): customers open a ticket about an order, a payment, a refill or
//! anything else, naming their own orders, and talk with the admins in its thread; admins work
//! a queue (open, waiting for the customer, closed; unread first), answer, write internal notes
//! customers never see, use canned replies, and close or reopen. The same ownership rule as
//! orders: another customer's ticket is `not_found`. State moves follow
//! [`smmd_domain::ticket::next_status`]; the store raises and resolves the admins'
//! `ticket_waiting` alert and writes the customer's `ticket.replied` notice in the same
//! transaction as the message.

use smmd_domain::ticket::{
    next_status, parse_order_ids, TicketAction, TicketStatus, TicketTopic, MAX_BODY, MAX_SUBJECT,
};
use smmd_domain::OrderId;
use smmd_store::{
    CannedReply, NewTicket, Role, Ticket, TicketMessage, TicketPost, TicketQuery, TicketWrite, User,
};

use crate::error::{ErrorCode, UseCaseError};
use crate::{Actor, App};

/// Most characters of a canned reply's title.
pub const MAX_CANNED_TITLE: usize = 80;
/// Tickets a list shows per page.
pub const PAGE: i64 = 50;

fn invalid(message: impl Into<String>) -> UseCaseError {
    UseCaseError::refused(ErrorCode::InvalidTicket, message)
}

fn not_found() -> UseCaseError {
    UseCaseError::refused(ErrorCode::NotFound, "No such ticket")
}

/// The ticket `id` if `viewer` may see it: an admin any, a customer their own; else
/// `not_found` (the same answer whether it exists or not, as for orders).
async fn visible(app: App<'_>, viewer: &User, id: i64) -> Result<Ticket, UseCaseError> {
    app.store
        .ticket(id)
        .await?
        .filter(|t| viewer.role == Role::Admin || t.user_id == viewer.id)
        .ok_or_else(not_found)
}

/// `text` trimmed, 1 to `max` characters without control characters (line breaks allowed
/// when `lines`), else `None`.
fn clean(text: &str, max: usize, lines: bool) -> Option<&str> {
    let t = text.trim();
    let ok = !t.is_empty()
        && t.chars().count() <= max
        && t.chars()
            .all(|c| !c.is_control() || (lines && (c == '\n' || c == '\r' || c == '\t')));
    ok.then_some(t)
}

/// What a customer sends to open a ticket.
#[derive(Clone, Debug, Default)]
pub struct TicketInput {
    /// `order`, `payment`, `refill` or `other`.
    pub topic: String,
    pub subject: String,
    /// Order ids as typed (`"123, #124"`).
    pub orders: String,
    pub body: String,
}

/// Opens a ticket for `user`.
///
/// Errors: `invalid_ticket` (unknown topic, empty or long subject or message, an order id that
/// is not one of the user's: the same answer whether it exists or not); nothing written.
pub async fn open_ticket(
    app: App<'_>,
    user: &User,
    input: &TicketInput,
) -> Result<Ticket, UseCaseError> {
    let topic = TicketTopic::parse(input.topic.trim())
        .ok_or_else(|| invalid("Choose what the ticket is about"))?;
    let subject = clean(&input.subject, MAX_SUBJECT, false)
        .ok_or_else(|| invalid(format!("The subject has 1 to {MAX_SUBJECT} characters")))?;
    let body = clean(&input.body, MAX_BODY, true)
        .ok_or_else(|| invalid(format!("The message has 1 to {MAX_BODY} characters")))?;
    let mut orders = Vec::new();
    for id in parse_order_ids(&input.orders).map_err(invalid)? {
        match app.store.order(OrderId(id)).await? {
            Some(o) if o.user_id == user.id => orders.push(o.id),
            _ => return Err(invalid(format!("Order #{id} is not one of your orders"))),
        }
    }
    Ok(app
        .store
        .open_ticket(&NewTicket {
            user_id: user.id,
            author: user.email.clone(),
            topic,
            subject: subject.to_string(),
            order_ids: orders,
            body: body.to_string(),
            now: app.now(),
        })
        .await?)
}

/// The ticket `id` as `viewer` may see it: a customer only their own (else `not_found`)
/// without internal notes; an admin any, with them. Marks it read for the viewer's side.
pub async fn ticket(
    app: App<'_>,
    viewer: &User,
    id: i64,
) -> Result<(Ticket, Vec<TicketMessage>), UseCaseError> {
    let admin = viewer.role == Role::Admin;
    let t = visible(app, viewer, id).await?;
    let messages = app.store.ticket_messages(id, admin).await?;
    app.store.mark_ticket_read(id, admin, app.now()).await?;
    Ok((t, messages))
}

/// A customer's tickets, newest first (a page of [`PAGE`] before `before`).
pub async fn my_tickets(
    app: App<'_>,
    user: &User,
    before: Option<i64>,
) -> Result<Vec<Ticket>, UseCaseError> {
    Ok(app
        .store
        .tickets(&TicketQuery {
            user: Some(user.id),
            before,
            limit: PAGE,
            ..Default::default()
        })
        .await?)
}

/// The admins' queue: tickets in `status` (any when `None`), only those with unread customer
/// messages when `unread`, newest first.
pub async fn queue(
    app: App<'_>,
    status: Option<TicketStatus>,
    unread: bool,
    before: Option<i64>,
) -> Result<Vec<Ticket>, UseCaseError> {
    Ok(app
        .store
        .tickets(&TicketQuery {
            user: None,
            status,
            unread_by_admin: unread,
            before,
            limit: PAGE,
        })
        .await?)
}

/// Writes a message on ticket `id`: the owner's message (reopens it), an admin's reply
/// (hands it to the customer) or, with `internal`, an admin's note. Retried when another
/// write moved the ticket meanwhile.
///
/// Errors: `not_found` (no such ticket, or another customer's), `invalid_ticket` (an empty or
/// long message, a customer asking for an internal note); nothing written.
pub async fn post_message(
    app: App<'_>,
    viewer: &User,
    id: i64,
    body: &str,
    internal: bool,
) -> Result<Ticket, UseCaseError> {
    let admin = viewer.role == Role::Admin;
    let body = clean(body, MAX_BODY, true)
        .ok_or_else(|| invalid(format!("The message has 1 to {MAX_BODY} characters")))?;
    if internal && !admin {
        return Err(invalid("Only admins write internal notes"));
    }
    let action = match (admin, internal) {
        (true, true) => TicketAction::AdminNote,
        (true, false) => TicketAction::AdminReply,
        (false, _) => TicketAction::CustomerMessage,
    };
    for _ in 0..3 {
        let t = visible(app, viewer, id).await?;
        let next = next_status(t.status, action).ok_or_else(|| state(t.status))?;
        let write = app
            .store
            .post_ticket_message(&TicketPost {
                ticket_id: id,
                author_id: viewer.id,
                author: viewer.email.clone(),
                from_admin: admin,
                internal,
                body: body.to_string(),
                expected: t.status,
                next,
                now: app.now(),
            })
            .await?;
        match write {
            TicketWrite::Done(t) => return Ok(t),
            TicketWrite::NotFound => return Err(not_found()),
            TicketWrite::Moved(_) => continue,
        }
    }
    Err(UseCaseError::refused(
        ErrorCode::TicketState,
        "The ticket kept changing; try again",
    ))
}

fn state(now: TicketStatus) -> UseCaseError {
    UseCaseError::refused(
        ErrorCode::TicketState,
        match now {
            TicketStatus::Closed => "The ticket is already closed",
            _ => "The ticket is not closed",
        },
    )
}

/// Closes the ticket (its owner or an admin; an admin's close is audited as `ticket.close`),
/// or reopens a closed one (admins, `ticket.reopen`).
///
/// Errors: `not_found`; `ticket_state` when it is already closed (or, to reopen, not closed);
/// `admin_only` for a customer reopening.
pub async fn set_closed(
    app: App<'_>,
    viewer: &User,
    id: i64,
    close: bool,
) -> Result<Ticket, UseCaseError> {
    let admin = viewer.role == Role::Admin;
    if !close && !admin {
        return Err(UseCaseError::refused(
            ErrorCode::AdminOnly,
            "Only admins reopen a ticket; write a message to open it again",
        ));
    }
    let t = visible(app, viewer, id).await?;
    let action = if close {
        TicketAction::Close
    } else {
        TicketAction::Reopen
    };
    let next = next_status(t.status, action).ok_or_else(|| state(t.status))?;
    let now = app.now();
    let audit = admin.then(|| {
        Actor::admin(viewer).audit(
            if close {
                "ticket.close"
            } else {
                "ticket.reopen"
            },
            format!("ticket:{id}"),
            t.subject.clone(),
            now,
        )
    });
    match app
        .store
        .set_ticket_status(id, t.status, next, now, audit)
        .await?
    {
        TicketWrite::Done(t) => Ok(t),
        TicketWrite::NotFound => Err(not_found()),
        TicketWrite::Moved(now) => Err(state(now)),
    }
}

/// The canned replies, by title.
pub async fn canned_replies(app: App<'_>) -> Result<Vec<CannedReply>, UseCaseError> {
    Ok(app.store.canned_replies().await?)
}

/// Creates (`id` None) or edits a canned reply.
///
/// Errors: `invalid_canned_reply`; `not_found` for an unknown id.
pub async fn save_canned_reply(
    app: App<'_>,
    id: Option<i64>,
    title: &str,
    body: &str,
) -> Result<CannedReply, UseCaseError> {
    let bad = || {
        UseCaseError::refused(
            ErrorCode::InvalidCannedReply,
            format!("A canned reply has a title of 1 to {MAX_CANNED_TITLE} characters and a text of 1 to {MAX_BODY}"),
        )
    };
    let title = clean(title, MAX_CANNED_TITLE, false).ok_or_else(bad)?;
    let body = clean(body, MAX_BODY, true).ok_or_else(bad)?;
    Ok(app
        .store
        .save_canned_reply(id, title, body, app.now())
        .await?)
}

/// Deletes a canned reply. Errors: `not_found`.
pub async fn delete_canned_reply(app: App<'_>, id: i64) -> Result<(), UseCaseError> {
    if app.store.delete_canned_reply(id).await? {
        Ok(())
    } else {
        Err(UseCaseError::refused(
            ErrorCode::NotFound,
            "No such canned reply",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(clean("  hi  ", 10, false), Some("hi"));
        assert_eq!(clean("   ", 10, false), None);
        assert_eq!(clean("abcdef", 5, false), None);
        assert_eq!(clean("a\nb", 5, false), None);
        assert_eq!(clean("a\nb", 5, true), Some("a\nb"));
        assert_eq!(clean("a\u{0}b", 5, true), None);
    }
}
