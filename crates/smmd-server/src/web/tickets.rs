//! Support pages for customers (issue 18): `/tickets` lists their tickets and opens a new one
//! (what it is about, their order ids, the message); `/tickets/{id}` shows the thread with a
//! reply form and Close. Another customer's ticket is the not-found page. Forms post to the
//! page routes, which call `smmd_app::support`; the thread's markup is shared with the admin's
//! ticket page ([`thread`]).

use smmd_app::UseCaseError;
use smmd_domain::ticket::{TicketStatus, TicketTopic};
use smmd_store::{Ticket, TicketMessage};

use super::*;

/// A ticket's state as a badge.
pub(super) fn ticket_status(s: TicketStatus) -> Markup {
    let class = match s {
        TicketStatus::Open => "status s-pending",
        TicketStatus::Waiting => "status s-in_progress",
        TicketStatus::Closed => "status s-completed",
    };
    html! { span class=(class) { (t(&format!("ticket-status-{}", s.as_str()))) } }
}

/// What a ticket is about, in the page's language.
pub(super) fn topic_label(topic: TicketTopic) -> String {
    t(&format!("topic-{}", topic.as_str()))
}

/// The thread, oldest first: the customer's messages, the admins' answers and (for admins)
/// their internal notes, each with who and when.
pub(super) fn thread(st: &AppState, ticket: &Ticket, messages: &[TicketMessage]) -> Markup {
    html! {
        ol.thread #thread {
            @for m in messages {
                li class=(if m.internal { "note" } else if m.from_admin { "admin" } else { "customer" }) {
                    div.meta {
                        b { @if m.internal { (t("internal-note")) " · " (m.author) } @else if m.from_admin { (t("nav-support")) } @else { (ticket.user_email) } }
                        " · " span.hint { (super::orders::when(st, m.created_at)) }
                    }
                    p.body { (m.body) }
                }
            }
        }
    }
}

pub(super) async fn tickets_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let list = smmd_app::support::my_tickets(st.app(), &u.user, None).await?;
    let mine = html! {
        div.card #tickets {
            h1 { (t("your-tickets")) }
                table {
                    thead { tr { th { (t("ticket")) } th { (t("subject")) } th { (t("status")) } th { (t("last-change")) } } }
                    tbody { @for ticket in &list {
                        tr {
                            td data-label=(t("ticket")) { a href=(format!("/tickets/{}", ticket.id)) { "#" (ticket.id) } }
                            td data-label=(t("subject")) {
                                a href=(format!("/tickets/{}", ticket.id)) { (ticket.subject) }
                                @if ticket.unread_by_customer { " " span.status.s-in_progress { (t("new-answer")) } }
                            }
                            td data-label=(t("status")) { (ticket_status(ticket.status)) }
                            td data-label=(t("last-change")) { (super::orders::when(&st, ticket.updated_at)) }
                        }
                    } }
                }
        }
    };
    let content = html! {
        (flash(&q))
        // People coming back look for their tickets first; a first visit for the form.
        @if !list.is_empty() { (mine) }
        div.card #new-ticket {
            @if list.is_empty() { h1 { (t("nav-support")) } } @else { h2 { (t("open-new-ticket")) } }
            p.hint { (t("ticket-intro")) }
            form method="post" action="/tickets" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                div.row {
                    div {
                        label for="ticket-topic" { (t("about")) }
                        select #ticket-topic name="topic" {
                            @for topic in TicketTopic::ALL { option value=(topic.as_str()) selected[q.get("topic").map(String::as_str) == Some(topic.as_str())] { (topic_label(topic)) } }
                        }
                    }
                    div {
                        label for="ticket-orders" { (t("order-ids")) " " span.hint { (t("order-ids-hint")) } }
                        input #ticket-orders name="orders" type="text" maxlength="200" value=[q.get("orders")] placeholder="1234";
                    }
                }
                label for="ticket-subject" { (t("subject")) }
                input #ticket-subject name="subject" type="text" maxlength="120" required;
                label for="ticket-message" { (t("message")) }
                textarea #ticket-message name="message" rows="5" maxlength="5000" required {}
                p { button #open-ticket type="submit" { (t("open-ticket")) } }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-support"), "support", content),
    ))
}

pub(super) async fn open_ticket(
    State(st): State<AppState>,
    PageForm(u, f): PageForm,
) -> PageResult {
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let input = smmd_app::support::TicketInput {
        topic: field("topic"),
        subject: field("subject"),
        orders: field("orders"),
        body: field("message"),
    };
    match smmd_app::support::open_ticket(st.app(), &u.user, &input).await {
        Ok(ticket) => Ok(to(
            &format!("/tickets/{}", ticket.id),
            "ok",
            &t("ticket-opened"),
        )),
        Err(UseCaseError::Refused(r)) => Ok(to("/tickets", "err", &say(r.code, &r.message))),
        Err(e) => Err(e.into()),
    }
}

/// The ticket at path segment `id` as `viewer` may see it ([`smmd_app::support::ticket`]:
/// another customer's is not found, as is a segment that is not a number), its thread, and
/// the orders it names.
pub(super) async fn load(
    st: &AppState,
    viewer: &User,
    id: &str,
) -> Result<(Ticket, Vec<TicketMessage>, Vec<Order>), PageError> {
    let id = id.parse::<i64>().map_err(|_| {
        smmd_app::UseCaseError::refused(smmd_app::ErrorCode::NotFound, "No such ticket")
    })?;
    let (ticket, messages) = smmd_app::support::ticket(st.app(), viewer, id).await?;
    let mut orders = Vec::new();
    for o in &ticket.order_ids {
        if let Some(order) = st.store.order(*o).await? {
            orders.push(order);
        }
    }
    Ok((ticket, messages, orders))
}

pub(super) async fn ticket_page(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let (ticket, messages, orders) = load(&st, &u.user, &id).await?;
    let content = html! {
        (flash(&q))
        div.card #ticket {
            div.card-head {
                h1 { "#" (ticket.id) " " (ticket.subject) }
                (ticket_status(ticket.status))
            }
            p.hint {
                (topic_label(ticket.topic))
                @if !orders.is_empty() {
                    " · " (t("orders-lower")) " "
                    @for (i, o) in orders.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href=(format!("/orders/{}", o.reference)) { "#" (o.id.0) }
                    }
                }
            }
            (thread(&st, &ticket, &messages))
            form method="post" action=(format!("/tickets/{}/messages", ticket.id)) {
                input type="hidden" name="csrf_token" value=(u.csrf);
                label for="reply" { @if ticket.status == TicketStatus::Closed { (t("write-to-reopen")) } @else { (t("your-reply")) } }
                textarea #reply name="message" rows="4" maxlength="5000" required {}
                p { button #send-reply type="submit" { (t("send")) } }
            }
            @if ticket.status != TicketStatus::Closed {
                form method="post" action=(format!("/tickets/{}/close", ticket.id)) {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    button.secondary #close-ticket type="submit" { (t("close-ticket")) }
                }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(
            &st,
            &u,
            &ta("ticket-n", &[("n", ticket.id.into())]),
            "support",
            content,
        ),
    ))
}

pub(super) async fn reply(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    PageForm(u, f): PageForm,
) -> PageResult {
    let body = f.get("message").map(String::as_str).unwrap_or("");
    let back = format!("/tickets/{id}");
    match smmd_app::support::post_message(st.app(), &u.user, id, body, false).await {
        Ok(_) => Ok(to(&back, "ok", &t("sent"))),
        Err(UseCaseError::Refused(r)) if r.code != smmd_app::ErrorCode::NotFound => {
            Ok(to(&back, "err", &say(r.code, &r.message)))
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn close(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    PageForm(u, _): PageForm,
) -> PageResult {
    let back = format!("/tickets/{id}");
    match smmd_app::support::set_closed(st.app(), &u.user, id, true).await {
        Ok(_) => Ok(to(&back, "ok", &t("ticket-closed"))),
        Err(UseCaseError::Refused(r)) if r.code != smmd_app::ErrorCode::NotFound => {
            Ok(to(&back, "err", &say(r.code, &r.message)))
        }
        Err(e) => Err(e.into()),
    }
}
