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
            div.card-head { h1 { (t("adm-payment-requests")) } }
            nav.filters {
                @for (value, label) in [("pending", &t("payout-pending")), ("approved", &t("commission-approved")), ("rejected", &t("payout-rejected")), ("all", &t("filter-all"))] {
                    a class=[(value == tab).then_some("active")] href=(format!("/admin/payments?status={value}")) { (label) }
                }
            }
            @if requests.is_empty() { p.empty { (t("adm-no-requests-here")) } }
            @else {
                table.admin {
                    thead { tr { th { (t("request")) } th { (t("adm-user")) } th { (t("amount")) } th { (t("adm-method-and-reference")) } th { (t("status")) } } }
                    tbody { @for r in &requests {
                        tr #(format!("p-{}", r.id)) {
                            td data-label=(t("request")) { "#" (r.id) br; span.hint { (when(&st, r.created_at)) } }
                            td data-label=(t("adm-user")) { a href=(format!("/admin/orders?user={}", r.user_id.0)) { "#" (r.user_id.0) } }
                            td data-label=(t("amount")) { b { (r.amount) " " (cur) } }
                            td data-label=(t("adm-method-and-reference")) { (r.method) br; span.hint { (r.note) } }
                            td data-label=(t("status")) {
                                @if r.status == "pending" {
                                    (api_form("POST", &format!("/api/admin/payments/{}/approve", r.id), &t("adm-payment-approved-funds-added"), html! {
                                        (reason_field(&t("adm-reason-e-g-bank-ref")))
                                        (super::super::code_field(&st, &u, true))
                                        button.small type="submit" { (t("adm-approve")) }
                                    }))
                                    (api_form("POST", &format!("/api/admin/payments/{}/reject", r.id), &t("adm-payment-rejected"), html! {
                                        (reason_field(&t("adm-why-it-is-refused")))
                                        (super::super::code_field(&st, &u, true))
                                        button.small.danger type="submit" { (t("adm-reject")) }
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
        layout(&st, &u, &t("nav-payments"), "admin-payments", content),
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
            div.card-head { h1 { (t("nav-audit")) } }
            @if entries.is_empty() { p.empty { (t("adm-no-admin-actions-yet")) } }
            @else {
                table.admin {
                    thead { tr { th { (t("when")) } th { (t("adm-who")) } th { (t("adm-action")) } th { (t("subject")) } th { (t("adm-detail")) } } }
                    tbody { @for e in &entries {
                        tr {
                            td data-label=(t("when")) { (when(&st, e.created_at)) }
                            td data-label=(t("adm-who")) { (e.actor) }
                            td data-label=(t("adm-action")) { code { (e.action) } }
                            td data-label=(t("subject")) { (e.subject) }
                            td data-label=(t("adm-detail")) { (e.detail) }
                        }
                    } }
                }
                @if entries.len() == 100 {
                    @if let Some(last) = entries.last() { p { a href=(format!("/admin/audit?before={}", last.id)) { (t("adm-older-entries")) } } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-audit"), "admin-audit", content),
    )
}
