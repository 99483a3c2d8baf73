//! `/admin/orders`: every user's orders with filters (status, user, service, provider, link),
//! the needs-review queue with its resolutions (attach the provider's order id, send again,
//! cancel and refund), refund / cancel / set partial with a reason, and the CSV export of the
//! same filters (`/admin/orders.csv`).

use std::fmt::Write as _;

use smmd_domain::{ProviderId, ServiceId, UserId};
use smmd_store::{OrderQuery, MAX_PAGE};

use super::*;

/// The admin order filters of a query string; unknown or unreadable values are ignored (the
/// page shows what it understood in the filter form).
fn filters(q: &HashMap<String, String>, limit: i64) -> OrderQuery {
    let num = |k: &str| q.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    OrderQuery {
        user: num("user").map(UserId),
        status: q.get("status").and_then(|s| OrderStatus::parse(s)),
        service: num("service").map(ServiceId),
        provider: num("provider").map(ProviderId),
        link: q
            .get("q")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        created_from: None,
        created_to: None,
        before: num("before").map(OrderId),
        limit,
        active: false,
    }
}

/// The query string of `query` without its page cursor.
fn filter_params(query: &OrderQuery) -> Vec<(&'static str, String)> {
    let mut p = Vec::new();
    if let Some(s) = query.status {
        p.push(("status", s.as_str().to_string()));
    }
    if let Some(u) = query.user {
        p.push(("user", u.0.to_string()));
    }
    if let Some(s) = query.service {
        p.push(("service", s.0.to_string()));
    }
    if let Some(pr) = query.provider {
        p.push(("provider", pr.0.to_string()));
    }
    if let Some(l) = &query.link {
        p.push(("q", l.clone()));
    }
    p
}

const STATUSES: [&str; 8] = [
    "needs_review",
    "queued",
    "submitting",
    "processing",
    "in_progress",
    "completed",
    "partial",
    "canceled",
];

pub(super) async fn orders_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let query = filters(&q, 50);
    let loaded = async {
        let orders = st.store.search_orders(&query).await?;
        // Only the services this page shows (a catalog can hold thousands).
        let mut services: HashMap<ServiceId, String> = HashMap::new();
        for o in &orders {
            if let std::collections::hash_map::Entry::Vacant(e) = services.entry(o.service_id) {
                let name = st.store.service(o.service_id).await?.map(|s| s.name);
                e.insert(name.unwrap_or_default());
            }
        }
        Ok::<_, smmd_store::StoreError>((orders, services, st.store.providers().await?))
    }
    .await;
    let (orders, services, providers) = match loaded {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    let cur = &st.config.panel.currency;
    let review = query.status == Some(OrderStatus::NeedsReview);
    let params = filter_params(&query);
    let qs = |extra: Option<(&'static str, String)>| {
        let mut p = params.clone();
        p.extend(extra);
        serde_urlencoded::to_string(p).unwrap_or_default()
    };
    let service_name = |id: ServiceId| {
        services
            .get(&id)
            .filter(|n| !n.is_empty())
            .cloned()
            .unwrap_or_else(|| ta("service-n", &[("n", id.0.into())]))
    };
    let provider_name = |id: Option<ProviderId>| {
        id.and_then(|id| providers.iter().find(|p| p.id == id))
            .map_or_else(|| "—".to_string(), |p| p.name.clone())
    };
    let chosen = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let content = html! {
        div.card {
            div.card-head {
                h1 { @if review { (t("adm-review-queue-2")) } @else { (t("nav-orders")) } }
                a.button.secondary href=(format!("/admin/orders.csv?{}", qs(None))) download { (t("export-csv")) }
            }
            nav.filters {
                a class=[(query.status.is_none()).then_some("active")] href="/admin/orders" { (t("filter-all")) }
                a class=[review.then_some("active")] href="/admin/orders?status=needs_review" { (t("status-needs_review")) }
                @for s in ["in_progress", "completed", "partial", "canceled"] {
                    a class=[(query.status.map(|x| x.as_str()) == Some(s)).then_some("active")]
                        href=(format!("/admin/orders?status={s}")) { (status_label(s)) }
                }
                a href="/admin/stuck" { (t("adm-stuck-queue")) }
            }
            form.search.wide method="get" action="/admin/orders" {
                select name="status" aria-label=(t("status")) {
                    option value="" { (t("adm-any-status")) }
                    @for s in STATUSES { option value=(s) selected[chosen("status") == s] { (status_label(s)) } }
                }
                input.narrow type="text" inputmode="numeric" name="user" placeholder=(t("adm-user-id")) value=(chosen("user")) aria-label=(t("adm-user-id"));
                input.narrow type="text" inputmode="numeric" name="service" placeholder=(t("adm-service-id")) value=(chosen("service")) aria-label=(t("adm-service-id"));
                select name="provider" aria-label=(t("adm-provider")) {
                    option value="" { (t("adm-any-provider")) }
                    @for p in &providers { option value=(p.id.0) selected[chosen("provider") == p.id.0.to_string()] { (p.name) } }
                }
                input type="search" name="q" placeholder=(t("adm-link-contains")) value=(chosen("q"));
                button.secondary type="submit" { (t("filter")) }
            }
            @if orders.is_empty() {
                p.empty { @if review { (t("adm-nothing-needs-review")) } @else { (t("adm-no-orders-match")) } }
            } @else {
                table.admin.orders {
                    thead { tr { th { (t("ledger-charge")) } th { (t("adm-user")) } th { (t("adm-service-and-link")) } th { (t("quantity")) } th { (t("charge")) } th { (t("adm-provider")) } th { (t("status")) } th { (t("api-actions")) } } }
                    tbody { @for o in &orders {
                        tr #(format!("o-{}", o.reference)) data-order=(o.reference) data-status=(o.status.as_str()) {
                            td data-label=(t("ledger-charge")) { b { (o.reference) } br; span.hint { "#" (o.id.0) " · " (when(&st, o.created_at)) } }
                            td data-label=(t("adm-user")) { a href=(format!("/admin/orders?user={}", o.user_id.0)) { "#" (o.user_id.0) } }
                            td.link data-label=(t("adm-service-and-link")) {
                                (service_name(o.service_id)) br;
                                span.hint title=[o.link.as_deref()] { (o.link.as_deref().unwrap_or("—")) }
                            }
                            td data-label=(t("quantity")) {
                                (o.total_quantity)
                                @if let Some(r) = o.remains { br; span.hint { (t("adm-remains")) " " (r) } }
                            }
                            td data-label=(t("charge")) {
                                (o.charge) " " (cur)
                                @if o.refunded.is_positive() { br; span.hint { (t("adm-refunded")) " " (o.refunded) } }
                            }
                            td data-label=(t("adm-provider")) {
                                (provider_name(o.provider_id))
                                @if let Some(pid) = &o.provider_order_id { br; span.hint { (t("adm-order")) " " (pid) } }
                                @if let Some(r) = o.route_reason { br; (route_badge(r)) }
                            }
                            td data-label=(t("status")) {
                                (status_badge(o.status.as_str()))
                                @if let Some(n) = &o.note { br; span.hint.clip title=(n) { (n) } }
                            }
                            td.actions data-label=(t("api-actions")) { (actions(o)) }
                        }
                    } }
                }
                @if orders.len() as i64 == query.limit {
                    @if let Some(last) = orders.last() {
                        p { a href=(format!("/admin/orders?{}", qs(Some(("before", last.id.0.to_string()))))) { (t("older-orders")) } }
                    }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-orders"), "admin-orders", content),
    )
}

/// `/admin/stuck`: the active orders on the stuck-order ladder, the counts per provider, and
/// every step each order took with what came of it (`smmd_app::stuck::queue`).
pub(super) async fn stuck_page(State(st): State<AppState>, AdminPage(u): AdminPage) -> Response {
    let queue = match smmd_app::stuck::queue(st.app()).await {
        Ok(q) => q,
        Err(e) => return page_error(e),
    };
    let cur = &st.config.panel.currency;
    let content = html! {
        div.card {
            div.card-head {
                h1 { (t("adm-stuck-queue")) }
                a href="/admin/orders" { (t("nav-orders")) }
            }
            p.hint { (t("adm-stuck-hint")) }
            @if queue.per_provider.is_empty() {
                p.empty { (t("adm-stuck-none")) }
            } @else {
                ul.chips.stuck-providers {
                    @for p in &queue.per_provider {
                        li.chip data-provider=(p.provider_id.0) { (p.name) ": " b { (p.orders) } }
                    }
                }
            }
        }
        @if !queue.orders.is_empty() {
            div.card {
                table.admin.orders.stuck {
                    thead { tr { th { (t("ledger-charge")) } th { (t("adm-provider")) } th { (t("charge")) } th { (t("status")) } th { (t("adm-stuck-steps")) } th { (t("api-actions")) } } }
                    tbody { @for e in &queue.orders {
                        @let o = &e.order;
                        tr #(format!("o-{}", o.reference)) data-order=(o.reference) data-status=(o.status.as_str()) data-steps=(e.steps.len()) {
                            td data-label=(t("ledger-charge")) { b { (o.reference) } br; span.hint { "#" (o.id.0) " · " (when(&st, o.created_at)) } }
                            td data-label=(t("adm-provider")) {
                                (e.provider_name.as_deref().unwrap_or("—"))
                                @if let Some(pid) = &o.provider_order_id { br; span.hint { (t("adm-order")) " " (pid) } }
                            }
                            td data-label=(t("charge")) { (o.charge) " " (cur) }
                            td data-label=(t("status")) {
                                (status_badge(o.status.as_str()))
                                @if let Some(r) = o.remains { br; span.hint { (t("adm-remains")) " " (r) } }
                            }
                            td data-label=(t("adm-stuck-steps")) {
                                ol.steps {
                                    @for s in &e.steps {
                                        li data-step=(s.step.as_str()) {
                                            b { (t(&format!("adm-stuck-step-{}", s.step.as_str()))) }
                                            " " span.hint { (when(&st, s.taken_at)) }
                                            @if !s.detail.is_empty() { br; span.detail { (s.detail) } }
                                        }
                                    }
                                }
                            }
                            td.actions data-label=(t("api-actions")) { (actions(o)) }
                        }
                    } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("adm-stuck-queue"), "admin-orders", content),
    )
}

/// The actions an order's state allows, each an API form with a required reason.
fn actions(o: &Order) -> Markup {
    let id = o.id.0;
    if o.status == OrderStatus::NeedsReview {
        return html! {
            details.resolve open {
                summary { (t("adm-resolve")) }
                (api_form("POST", &format!("/api/admin/orders/{id}/resolve"), &t("adm-resolved-the-provider-s-order"), html! {
                    input type="hidden" name="action" value="attach";
                    input.narrow type="text" name="provider_order_id" required maxlength="100" placeholder=(t("adm-provider-order-id")) aria-label=(t("adm-provider-order-id"));
                    (reason_field(&t("adm-reason")))
                    button.small type="submit" { (t("adm-attach")) }
                }))
                (api_form("POST", &format!("/api/admin/orders/{id}/resolve"), &t("adm-resolved-queued-again"), html! {
                    input type="hidden" name="action" value="resend";
                    (reason_field(&t("adm-reason")))
                    button.small.secondary type="submit" { (t("adm-send-again")) }
                }))
                (api_form("POST", &format!("/api/admin/orders/{id}/resolve"), &t("adm-resolved-canceled-and-refunded"), html! {
                    input type="hidden" name="action" value="cancel";
                    (reason_field(&t("adm-reason")))
                    button.small.danger type="submit" { (t("adm-cancel-and-refund")) }
                }))
            }
        };
    }
    if o.status == OrderStatus::Canceled {
        return html! { span.muted { "—" } };
    }
    html! {
        details {
            summary { (t("adm-act")) }
            @if !o.status.is_terminal() && !o.cancel_requested {
                (api_form("POST", &format!("/api/admin/orders/{id}/cancel"), &t("adm-cancel-sent"), html! {
                    (reason_field(&t("adm-reason")))
                    button.small.secondary type="submit" { (t("cancel")) }
                }))
            }
            (api_form("POST", &format!("/api/admin/orders/{id}/partial"), &t("adm-set-to-partial"), html! {
                input.narrow type="number" name="remains" data-type="int" required min="0" max=(o.total_quantity) placeholder=(t("remains")) aria-label=(t("remains"));
                (reason_field(&t("adm-reason")))
                button.small.secondary type="submit" { (t("adm-set-partial")) }
            }))
            (api_form("POST", &format!("/api/admin/orders/{id}/refund"), &t("refunded"), html! {
                (reason_field(&t("adm-reason")))
                button.small.danger type="submit" { (t("adm-refund-in-full")) }
            }))
        }
    }
}

/// `/admin/orders.csv`: the orders of the page's filters (all pages, newest first, at most
/// `CSV_MAX_ROWS`) as RFC 4180 CSV; money as decimal strings in the panel currency
/// (`provider_charge` in the provider's), times as UTC RFC 3339.
pub(super) async fn orders_csv(
    State(st): State<AppState>,
    AdminPage(_u): AdminPage,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let query = filters(&q, MAX_PAGE);
    let mut name = String::from("orders");
    if let Some(s) = query.status {
        let _ = write!(name, "-{}", s.as_str());
    }
    let header = [
        "id",
        "reference",
        "created_at",
        "user_id",
        "service_id",
        "status",
        "link",
        "quantity",
        "charge",
        "refunded",
        "start_count",
        "remains",
        "provider_id",
        "provider_order_id",
        "provider_charge",
        "completed_at",
        "note",
        "route_reason",
    ];
    let time = crate::web::csv_export::rfc3339;
    crate::web::csv_export::paged_csv(
        &name,
        &header,
        query.limit,
        |before| {
            let mut page = query.clone();
            page.before = before.map(OrderId);
            let st = st.clone();
            async move { st.store.search_orders(&page).await }
        },
        |o: &smmd_store::Order| o.id.0,
        |o| {
            let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
            vec![
                o.id.0.to_string(),
                o.reference.clone(),
                time(o.created_at),
                o.user_id.0.to_string(),
                o.service_id.0.to_string(),
                o.status.as_str().to_string(),
                o.link.clone().unwrap_or_default(),
                o.total_quantity.to_string(),
                o.charge.to_string(),
                o.refunded.to_string(),
                opt(o.start_count),
                opt(o.remains),
                opt(o.provider_id.map(|p| p.0)),
                o.provider_order_id.clone().unwrap_or_default(),
                o.provider_charge.map(|c| c.to_string()).unwrap_or_default(),
                o.completed_at.map(time).unwrap_or_default(),
                o.note.clone().unwrap_or_default(),
                o.route_reason.map_or("", |r| r.as_str()).to_string(),
            ]
        },
    )
    .await
}

/// An order's offer-failover reason as a badge: "Rerouted: out of funds" (code in
/// `data-reason`).
pub(crate) fn route_badge(r: smmd_domain::failover::Reason) -> Markup {
    html! {
        span.hint.route data-reason=(r.as_str()) { (t("adm-rerouted")) ": " (t(route_reason_key(r))) }
    }
}

/// The catalogue key of a failover reason.
pub(crate) fn route_reason_key(r: smmd_domain::failover::Reason) -> &'static str {
    use smmd_domain::failover::Reason as R;
    match r {
        R::ProviderFailing => "route-provider-failing",
        R::ProviderUnavailable => "route-provider-unavailable",
        R::OutOfFunds => "route-out-of-funds",
        R::ServiceDisabled => "route-service-disabled",
        R::Refused => "route-refused",
        R::BelowMargin => "route-below-margin",
    }
}

#[cfg(test)]
mod tests {
    use crate::http::spreadsheet_safe;

    #[test]
    fn cells_a_spreadsheet_would_evaluate_get_a_quote() {
        for (cell, want) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("\tcmd", "'\tcmd"),
            ("\rx", "'\rx"),
            ("https://x.io/a", "https://x.io/a"),
            ("1.00", "1.00"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(spreadsheet_safe(cell.to_string()), want, "{cell:?}");
        }
    }
}
