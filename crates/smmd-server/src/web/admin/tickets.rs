//! `/admin/tickets`: the support queue (open, waiting for the customer, closed, all; unread
//! only) with the canned replies, and `/admin/tickets/{id}`: the thread with internal notes,
//! the orders it names (linked to the admin's orders search, where they are acted on), a reply
//! or note form that can start from a canned reply, and Close or Reopen. Actions are `data-api`
//! forms on `/api/admin/tickets/*` and `/api/admin/canned-replies`.

use smmd_domain::ticket::TicketStatus;

use super::super::tickets::{load, thread, ticket_status};
use super::*;

pub(super) async fn tickets_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let status = q.get("status").and_then(|s| TicketStatus::parse(s));
    let unread = q.get("unread").is_some_and(|v| v == "1");
    let list = smmd_app::support::queue(st.app(), status, unread, None).await?;
    let canned = smmd_app::support::canned_replies(st.app()).await?;
    let (open, unread_count) = st.store.ticket_counts().await?;
    let filter = |label: &str, href: &str, on: bool| {
        html! { a href=(href) class=[on.then_some("active")] { (label) } }
    };
    let content = html! {
        div.card #ticket-queue {
            div.card-head { h1 { "Support tickets" } span.hint { (open) " open · " (unread_count) " unread" } }
            nav.filters {
                (filter("Open", "/admin/tickets?status=open", status == Some(TicketStatus::Open) && !unread))
                (filter("Unread", "/admin/tickets?unread=1", unread))
                (filter("Waiting for customer", "/admin/tickets?status=waiting", status == Some(TicketStatus::Waiting)))
                (filter("Closed", "/admin/tickets?status=closed", status == Some(TicketStatus::Closed)))
                (filter("All", "/admin/tickets", status.is_none() && !unread))
            }
            @if list.is_empty() {
                p.muted { "No tickets here." }
            } @else {
                table.admin {
                    thead { tr { th { "Ticket" } th { "Customer" } th { "Subject" } th { "Status" } th { "Last change" } } }
                    tbody { @for t in &list {
                        tr {
                            td data-label="Ticket" { a href=(format!("/admin/tickets/{}", t.id)) { "#" (t.id) } }
                            td data-label="Customer" { a href=(format!("/admin/users/{}", t.user_id.0)) { (t.user_email) } }
                            td data-label="Subject" {
                                a href=(format!("/admin/tickets/{}", t.id)) { (t.subject) }
                                br; span.hint { (super::super::tickets::topic_label(t.topic)) }
                                @if t.unread_by_admin { " " span.status.s-pending { "Unread" } }
                            }
                            td data-label="Status" { (ticket_status(t.status)) }
                            td data-label="Last change" { (when(&st, t.updated_at)) }
                        }
                    } }
                }
            }
        }
        div.card #canned-replies {
            div.card-head { h2 { "Canned replies" } span.hint { "start an answer from one on a ticket's page" } }
            @for c in &canned {
                div.canned {
                    b { (c.title) } p.hint { (c.body) }
                    (api_form("DELETE", &format!("/api/admin/canned-replies/{}", c.id), "Canned reply deleted", html! {
                        button.secondary.small type="submit" { "Delete" }
                    }))
                }
            }
            (api_form("POST", "/api/admin/canned-replies", "Canned reply saved", html! {
                label for="canned-title" { "Title" }
                input #canned-title type="text" name="title" maxlength="80" required;
                label for="canned-body" { "Text" }
                textarea #canned-body name="body" rows="3" maxlength="5000" required {}
                button #save-canned type="submit" { "Add the canned reply" }
            }))
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, "Support tickets", "admin-tickets", content),
    ))
}

pub(super) async fn ticket_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Path(id): Path<String>,
) -> PageResult {
    let (t, messages, orders) = load(&st, &u.user, &id).await?;
    let canned = smmd_app::support::canned_replies(st.app()).await?;
    let url = format!("/api/admin/tickets/{}", t.id);
    let content = html! {
        div.card #ticket {
            div.card-head {
                h1 { "#" (t.id) " " (t.subject) }
                (ticket_status(t.status))
            }
            p.hint {
                (super::super::tickets::topic_label(t.topic)) " · "
                a href=(format!("/admin/users/{}", t.user_id.0)) { (t.user_email) }
            }
            @if !orders.is_empty() {
                table.admin #ticket-orders {
                    thead { tr { th { "Order" } th { "Status" } th { "Charge" } th { "Remains" } } }
                    tbody { @for o in &orders {
                        tr {
                            td data-label="Order" { a href=(format!("/admin/orders?q={}", o.id.0)) { "#" (o.id.0) } br; span.hint { (o.reference) } }
                            td data-label="Status" { (status_badge(o.status.as_str())) }
                            td data-label="Charge" { (o.charge) }
                            td data-label="Remains" { (o.remains.map_or_else(|| "—".to_string(), |r| r.to_string())) }
                        }
                    } }
                }
            }
            (thread(&st, &t, &messages))
            (api_form("POST", &format!("{url}/messages"), "Sent", html! {
                @if !canned.is_empty() {
                    label for="canned" { "Start from a canned reply" }
                    select #canned data-fill="reply" {
                        option value="" { "—" }
                        @for c in &canned { option value=(c.body) { (c.title) } }
                    }
                }
                label for="reply" { "Answer" }
                textarea #reply name="message" rows="5" maxlength="5000" required {}
                label.check { input #internal type="checkbox" name="internal"; " Internal note: only admins see it" }
                button #send-reply type="submit" { "Send" }
            }))
            div.actions {
                @if t.status == TicketStatus::Closed {
                    (api_form("POST", &format!("{url}/reopen"), "Ticket reopened", html! {
                        button.secondary #reopen-ticket type="submit" { "Reopen" }
                    }))
                } @else {
                    (api_form("POST", &format!("{url}/close"), "Ticket closed", html! {
                        button.secondary #close-ticket type="submit" { "Close" }
                    }))
                }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(
            &st,
            &u,
            &format!("Ticket #{}", t.id),
            "admin-tickets",
            content,
        ),
    ))
}
