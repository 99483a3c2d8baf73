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
            div.card-head { h1 { (t("adm-support-tickets")) } span.hint { (open) " " (t("adm-open")) " " (unread_count) " " (t("adm-unread")) } }
            nav.filters {
                (filter(&t("ticket-status-open"), "/admin/tickets?status=open", status == Some(TicketStatus::Open) && !unread))
                (filter(&t("adm-unread-2"), "/admin/tickets?unread=1", unread))
                (filter(&t("ticket-status-waiting"), "/admin/tickets?status=waiting", status == Some(TicketStatus::Waiting)))
                (filter(&t("ticket-status-closed"), "/admin/tickets?status=closed", status == Some(TicketStatus::Closed)))
                (filter(&t("filter-all"), "/admin/tickets", status.is_none() && !unread))
            }
            @if list.is_empty() {
                p.muted { (t("adm-no-tickets-here")) }
            } @else {
                table.admin {
                    thead { tr { th { (t("ticket")) } th { (t("adm-customer")) } th { (t("subject")) } th { (t("status")) } th { (t("last-change")) } } }
                    tbody { @for ticket in &list {
                        tr {
                            td data-label=(t("ticket")) { a href=(format!("/admin/tickets/{}", ticket.id)) { "#" (ticket.id) } }
                            td data-label=(t("adm-customer")) { a href=(format!("/admin/users/{}", ticket.user_id.0)) { (ticket.user_email) } }
                            td data-label=(t("subject")) {
                                a href=(format!("/admin/tickets/{}", ticket.id)) { (ticket.subject) }
                                br; span.hint { (super::super::tickets::topic_label(ticket.topic)) }
                                @if ticket.unread_by_admin { " " span.status.s-pending { (t("adm-unread-2")) } }
                            }
                            td data-label=(t("status")) { (ticket_status(ticket.status)) }
                            td data-label=(t("last-change")) { (when(&st, ticket.updated_at)) }
                        }
                    } }
                }
            }
        }
        div.card #canned-replies {
            div.card-head { h2 { (t("adm-canned-replies")) } span.hint { (t("adm-start-an-answer-from-one")) } }
            @for c in &canned {
                div.canned {
                    b { (c.title) } p.hint { (c.body) }
                    (api_form("DELETE", &format!("/api/admin/canned-replies/{}", c.id), &t("adm-canned-reply-deleted"), html! {
                        button.secondary.small type="submit" { (t("adm-delete")) }
                    }))
                }
            }
            (api_form("POST", "/api/admin/canned-replies", &t("adm-canned-reply-saved"), html! {
                label for="canned-title" { (t("adm-title")) }
                input #canned-title type="text" name="title" maxlength="80" required;
                label for="canned-body" { (t("adm-text")) }
                textarea #canned-body name="body" rows="3" maxlength="5000" required {}
                button #save-canned type="submit" { (t("adm-add-the-canned-reply")) }
            }))
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, &t("adm-support-tickets"), "admin-tickets", content),
    ))
}

pub(super) async fn ticket_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Path(id): Path<String>,
) -> PageResult {
    let (ticket, messages, orders) = load(&st, &u.user, &id).await?;
    let canned = smmd_app::support::canned_replies(st.app()).await?;
    let url = format!("/api/admin/tickets/{}", ticket.id);
    let content = html! {
        div.card #ticket {
            div.card-head {
                h1 { "#" (ticket.id) " " (ticket.subject) }
                (ticket_status(ticket.status))
            }
            p.hint {
                (super::super::tickets::topic_label(ticket.topic)) " · "
                a href=(format!("/admin/users/{}", ticket.user_id.0)) { (ticket.user_email) }
            }
            @if !orders.is_empty() {
                table.admin #ticket-orders {
                    thead { tr { th { (t("ledger-charge")) } th { (t("status")) } th { (t("charge")) } th { (t("remains")) } } }
                    tbody { @for o in &orders {
                        tr {
                            td data-label=(t("ledger-charge")) { a href=(format!("/admin/orders?q={}", o.id.0)) { "#" (o.id.0) } br; span.hint { (o.reference) } }
                            td data-label=(t("status")) { (status_badge(o.status.as_str())) }
                            td data-label=(t("charge")) { (o.charge) }
                            td data-label=(t("remains")) { (o.remains.map_or_else(|| "—".to_string(), |r| r.to_string())) }
                        }
                    } }
                }
            }
            (thread(&st, &ticket, &messages))
            (api_form("POST", &format!("{url}/messages"), &t("adm-sent"), html! {
                @if !canned.is_empty() {
                    label for="canned" { (t("adm-start-from-a-canned-reply")) }
                    select #canned data-fill="reply" {
                        option value="" { "—" }
                        @for c in &canned { option value=(c.body) { (c.title) } }
                    }
                }
                label for="reply" { (t("adm-answer")) }
                textarea #reply name="message" rows="5" maxlength="5000" required {}
                label.check { input #internal type="checkbox" name="internal"; " " (t("adm-internal-note-only-admins-see")) }
                button #send-reply type="submit" { (t("send")) }
            }))
            div.actions {
                @if ticket.status == TicketStatus::Closed {
                    (api_form("POST", &format!("{url}/reopen"), &t("adm-ticket-reopened"), html! {
                        button.secondary #reopen-ticket type="submit" { (t("adm-reopen")) }
                    }))
                } @else {
                    (api_form("POST", &format!("{url}/close"), &t("adm-ticket-closed"), html! {
                        button.secondary #close-ticket type="submit" { (t("adm-close")) }
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
            &ta("ticket-n", &[("n", ticket.id.into())]),
            "admin-tickets",
            content,
        ),
    ))
}
