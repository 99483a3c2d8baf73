//! Admin pages about money and accountability: payment requests (approve or reject with a
//! reason) and the audit log of every admin action. Users are `customers`.

use super::*;

/// `/admin/payments`: manual payment requests (`?status=pending|approved|rejected`, default
/// pending), with approve and reject forms (`POST /api/admin/payments/{id}/approve|reject`).
pub(super) async fn payments_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let status = match q.get("status").map(String::as_str) {
        Some("all") => None,
        Some(s @ ("approved" | "rejected")) => Some(s),
        _ => Some("pending"),
    };
    let requests = match st.store.payment_requests(None, status, 200).await {
        Ok(list) => list,
        Err(e) => return page_error(e),
    };
    let cur = &st.config.panel.currency;
    let tab = status.unwrap_or("all");
    let content = html! {
        div.card {
            div.card-head { h1 { "Payment requests" } }
            nav.filters {
                @for (value, label) in [("pending", "Pending"), ("approved", "Approved"), ("rejected", "Rejected"), ("all", "All")] {
                    a class=[(value == tab).then_some("active")] href=(format!("/admin/payments?status={value}")) { (label) }
                }
            }
            @if requests.is_empty() { p.empty { "No requests here." } }
            @else {
                table.admin {
                    thead { tr { th { "Request" } th { "User" } th { "Amount" } th { "Method and reference" } th { "Status" } } }
                    tbody { @for r in &requests {
                        tr #(format!("p-{}", r.id)) {
                            td data-label="Request" { "#" (r.id) br; span.hint { (when(&st, r.created_at)) } }
                            td data-label="User" { a href=(format!("/admin/orders?user={}", r.user_id.0)) { "#" (r.user_id.0) } }
                            td data-label="Amount" { b { (r.amount) " " (cur) } }
                            td data-label="Method and reference" { (r.method) br; span.hint { (r.note) } }
                            td data-label="Status" {
                                @if r.status == "pending" {
                                    (api_form("POST", &format!("/api/admin/payments/{}/approve", r.id), "Payment approved: funds added", html! {
                                        (reason_field("Reason, e.g. bank ref checked"))
                                        (super::super::code_field(&st, &u, true))
                                        button.small type="submit" { "Approve" }
                                    }))
                                    (api_form("POST", &format!("/api/admin/payments/{}/reject", r.id), "Payment rejected", html! {
                                        (reason_field("Why it is refused"))
                                        (super::super::code_field(&st, &u, true))
                                        button.small.danger type="submit" { "Reject" }
                                    }))
                                } @else {
                                    (status_badge(&r.status))
                                    @if !r.reason.is_empty() { br; span.hint { (r.reason) } }
                                }
                            }
                        }
                    } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Payments", "admin-payments", content),
    )
}

/// `/admin/audit`: every admin action, newest first, 100 a page (`?before=ID`).
pub(super) async fn audit_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let before = q.get("before").and_then(|b| b.parse::<i64>().ok());
    let entries = match st.store.audit_log(before, 100).await {
        Ok(list) => list,
        Err(e) => return page_error(e),
    };
    let content = html! {
        div.card {
            div.card-head { h1 { "Audit log" } }
            @if entries.is_empty() { p.empty { "No admin actions yet." } }
            @else {
                table.admin {
                    thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Subject" } th { "Detail" } } }
                    tbody { @for e in &entries {
                        tr {
                            td data-label="When" { (when(&st, e.created_at)) }
                            td data-label="Who" { (e.actor) }
                            td data-label="Action" { code { (e.action) } }
                            td data-label="Subject" { (e.subject) }
                            td data-label="Detail" { (e.detail) }
                        }
                    } }
                }
                @if entries.len() == 100 {
                    @if let Some(last) = entries.last() { p { a href=(format!("/admin/audit?before={}", last.id)) { "Older entries →" } } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Audit log", "admin-audit", content),
    )
}
