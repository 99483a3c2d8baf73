//! Admin pages about people and money: users (balance adjustment with a reason, role), payment
//! requests (approve or reject with a reason) and the audit log of every admin action.

use super::*;

/// `/admin/users`: users by id, 50 a page (`?after=ID`), each with a balance adjustment form
/// (`POST /api/admin/users/{id}/balance`, a fresh idempotency key per form load) and a role
/// form (`POST /api/admin/users/{id}/role`).
pub(super) async fn users_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let after = q.get("after").and_then(|a| a.parse::<i64>().ok());
    let users = match st
        .store
        .list_users(after.map(smmd_domain::UserId), 50)
        .await
    {
        Ok(list) => list,
        Err(e) => return page_error(e),
    };
    let cur = &st.config.panel.currency;
    let content = html! {
        div.card {
            div.card-head { h1 { "Users" } }
            table.admin {
                thead { tr { th { "User" } th { "Role" } th { "Balance" } th { "Adjust balance" } } }
                tbody { @for x in &users {
                    tr #(format!("u-{}", x.id.0)) {
                        td data-label="User" { (x.email) br; span.hint { "#" (x.id.0) " · since " (when(&st, x.created_at)) } }
                        td data-label="Role" {
                            (api_form("POST", &format!("/api/admin/users/{}/role", x.id.0), "Role changed", html! {
                                select name="role" aria-label="Role" {
                                    option value="user" selected[x.role == smmd_store::Role::User] { "User" }
                                    option value="admin" selected[x.role == smmd_store::Role::Admin] { "Admin" }
                                }
                                button.secondary.small type="submit" { "Set" }
                            }))
                        }
                        td data-label="Balance" { b { (x.balance) " " (cur) } }
                        td data-label="Adjust balance" {
                            (api_form("POST", &format!("/api/admin/users/{}/balance", x.id.0), "Balance adjusted", html! {
                                input type="hidden" name="request_id" value=(format!("page:{}", auth::random_hex(12)));
                                input.narrow type="text" name="amount" required inputmode="decimal" placeholder="+10.00 or -2.50" aria-label="Amount";
                                (reason_field("Reason"))
                                (super::super::code_field(&st, &u, true))
                                button.small type="submit" { "Apply" }
                            }))
                        }
                    }
                } }
            }
            @if users.len() == 50 {
                @if let Some(last) = users.last() { p { a href=(format!("/admin/users?after={}", last.id.0)) { "More users →" } } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Users", "admin-users", content),
    )
}

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
