//! The admin pages (`/admin/*`): dashboard, orders (review queue, actions, CSV export),
//! services and categories, providers (with an import preview), jobs, users, payments, billing
//! (plans and rentals), affiliates (runs, payouts, methods, flagged referrals) and the audit log. Every page checks the admin role on the server ([`AdminPage`]; others get 404).
//!
//! The pages only read. Their actions are forms marked `data-api="METHOD"` whose `action` is the
//! admin REST endpoint (`/api/admin/*`): `app.js` sends the fields as JSON with the session's
//! CSRF token, so a page action and an API call are one code path with one set of checks,
//! state-machine rules, ledger keys and audit entries.

use smmd_domain::Money;

use super::orders::when;
use super::*;

mod affiliates;
mod alerts;
mod billing;
mod catalog;
mod currencies;
mod customers;
mod jobs;
mod orders;
mod panels;
mod people;
mod site;
mod tickets;

/// The admin menu (see `CUSTOMER_NAV`).
pub(super) const NAV: [(&str, &str, &str); 13] = [
    ("admin", "/admin", "nav-dashboard"),
    ("admin-orders", "/admin/orders", "nav-orders"),
    ("admin-services", "/admin/services", "nav-services"),
    ("admin-providers", "/admin/providers", "nav-providers"),
    ("admin-jobs", "/admin/jobs", "nav-jobs"),
    ("admin-users", "/admin/users", "nav-users"),
    ("admin-payments", "/admin/payments", "nav-payments"),
    ("admin-tickets", "/admin/tickets", "nav-tickets"),
    ("admin-billing", "/admin/billing", "nav-billing"),
    ("admin-panels", "/admin/panels", "nav-panels"),
    ("admin-affiliates", "/admin/affiliates", "nav-affiliates"),
    ("admin-site", "/admin/site", "nav-storefront"),
    ("admin-audit", "/admin/audit", "nav-audit"),
];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard))
        .route("/admin/orders", get(orders::orders_page))
        .route("/admin/orders.csv", get(orders::orders_csv))
        .route("/admin/stuck", get(orders::stuck_page))
        .route("/admin/services", get(catalog::services_page))
        .route("/admin/providers", get(catalog::providers_page))
        .route("/admin/providers/{id}/import", get(catalog::import_preview))
        .route("/admin/jobs", get(jobs::jobs_page))
        .route("/admin/jobs/{name}", get(jobs::job_page))
        .route("/admin/users", get(customers::users_page))
        .route("/admin/users/{id}", get(customers::user_page))
        .route("/admin/payments", get(people::payments_page))
        .route("/admin/audit", get(people::audit_page))
        .route("/admin/billing", get(billing::billing_page))
        .route("/admin/panels", get(panels::panels_page))
        .route("/admin/archive", get(panels::archive))
        .route("/admin/affiliates", get(affiliates::affiliates_page))
        .route("/admin/site", get(site::site_page))
        .route("/admin/alerts", get(alerts::alerts_page))
        .route("/admin/currencies", get(currencies::currencies_page))
        .route("/admin/tickets", get(tickets::tickets_page))
        .route("/admin/tickets/{id}", get(tickets::ticket_page))
}

/// A signed-in admin on a page. Anyone else signed in gets 404 (the admin area is not
/// advertised); nobody signed in is sent to `/login`.
pub(super) struct AdminPage(pub PageUser);

impl FromRequestParts<AppState> for AdminPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let u = PageUser::from_request_parts(parts, st).await?;
        if u.user.role != smmd_store::Role::Admin {
            return Err(html_response(
                StatusCode::NOT_FOUND,
                layout(
                    st,
                    &u,
                    &t("not-found-title"),
                    "",
                    html! { div.card { h1 { (t("not-found-title")) } p { (t("adm-there-is-no-such-page")) } } },
                ),
            ));
        }
        if smmd_app::security::admin_gate(st.policy().await, &u.user).is_err() {
            // The owner requires two-factor of admins: set it up first, then come back.
            return Err(
                axum::response::Redirect::to("/settings/security?required=1").into_response(),
            );
        }
        Ok(AdminPage(u))
    }
}

/// An action form: `app.js` sends its fields to `url` as JSON (`method`), then reloads the page
/// and shows `done`. Field types come from `data-type` (`int`, `bool`, `percent` → basis points);
/// empty non-text fields are left out.
pub(super) fn api_form(method: &str, url: &str, done: &str, fields: Markup) -> Markup {
    html! {
        form.api method="post" action=(url) data-api=(method) data-done=(done) {
            (fields)
            output.form-error {}
        }
    }
}

/// A required reason field (1–500 characters, kept in the audit log or on the ledger row).
pub(super) fn reason_field(placeholder: &str) -> Markup {
    html! {
        input type="text" name="reason" required maxlength="500" placeholder=(placeholder) aria-label=(t("adm-reason"));
    }
}

/// Basis points as a percentage (`2500` → `25 %`).
pub(super) fn percent(bp: i64) -> String {
    format!("{} %", percent_value(bp))
}

/// Basis points as the number a percent field holds (`2500` → `25`, `1250` → `12.5`); `app.js`
/// reads it back with `data-type="percent"`.
pub(super) fn percent_value(bp: i64) -> String {
    let text = format!("{}.{:02}", bp / 100, (bp % 100).abs());
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The start of today in the panel's time zone, epoch ms.
fn start_of_today(st: &AppState) -> i64 {
    let tz: chrono_tz::Tz = st.config.panel.timezone.parse().unwrap_or(chrono_tz::UTC);
    let now = st.clock.now_ms();
    chrono::DateTime::from_timestamp_millis(now)
        .map(|t| t.with_timezone(&tz).date_naive())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|midnight| midnight.and_local_timezone(tz).earliest())
        .map(|t| t.timestamp_millis())
        .unwrap_or(now - now.rem_euclid(86_400_000))
}

/// `/admin`: orders by status, today's revenue, cost and profit, provider balances, job health,
/// open alerts and the review queue.
async fn dashboard(State(st): State<AppState>, AdminPage(u): AdminPage) -> Response {
    let since = start_of_today(&st);
    let now = st.clock.now_ms();
    let loaded = async {
        let stats = st.store.order_stats(since).await?;
        let providers = st.store.providers().await?;
        let review = st.store.orders_needing_review(10).await?;
        let alerts = st.store.open_alerts().await?;
        let payments = st.store.payment_requests(None, Some("pending"), 10).await?;
        Ok::<_, smmd_store::StoreError>((stats, providers, review, alerts, payments))
    }
    .await;
    let (stats, providers, review, alerts, payments) = match loaded {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    let jobs = match smmd_jobs::control::list(st.store.as_ref(), now).await {
        Ok(j) => j,
        Err(e) => return page_error(e),
    };
    let cur = &st.config.panel.currency;
    // Provider costs are in each provider's currency: convert with its exchange rate.
    let mut cost = Money::ZERO;
    for (pid, c) in &stats.cost_by_provider {
        let rate = providers
            .iter()
            .find(|p| p.id == *pid)
            .map_or(1_000_000, |p| p.exchange_rate);
        cost = cost
            .checked_add(c.convert_up(rate).unwrap_or(*c))
            .unwrap_or(cost);
    }
    let profit = stats.revenue.checked_sub(cost).unwrap_or(Money::ZERO);
    let unhealthy: Vec<_> = jobs.iter().filter(|j| !j.healthy).collect();
    let content = html! {
        div.card {
            div.card-head { h1 { (t("nav-dashboard")) } span.hint { (t("adm-today-since")) " " (when(&st, since)) } }
            div.stats {
                div.stat { span.label { (t("adm-orders-today")) } span.value { (stats.placed) } }
                div.stat { span.label { (t("adm-revenue")) } span.value { (stats.revenue) " " (cur) } }
                div.stat { span.label { (t("adm-provider-cost")) } span.value { (cost) " " (cur) } }
                div.stat { span.label { (t("adm-profit")) } span.value { (profit) " " (cur) } }
            }
            h2 { (t("adm-orders-by-status")) }
            div.chips {
                @for (status, n) in &stats.by_status {
                    a.chip href=(format!("/admin/orders?status={}", status.as_str())) {
                        (status_badge(status.as_str())) " " b { (n) }
                    }
                }
                @if stats.by_status.is_empty() { span.muted { (t("no-orders-yet")) } }
            }
        }
        div.grid2 {
            div.card {
                div.card-head { h2 { (t("status-needs_review")) } a href="/admin/orders?status=needs_review" { (t("adm-review-queue")) } }
                @if review.is_empty() { p.muted { (t("adm-nothing-to-review")) } }
                @else {
                    ul.plain { @for o in &review {
                        li { a href=(format!("/admin/orders?status=needs_review#o-{}", o.reference)) { (o.reference) } " — " (o.note.as_deref().unwrap_or(&t("adm-no-answer-from-the-provider"))) }
                    } }
                }
            }
            div.card {
                div.card-head { h2 { (t("adm-alerts")) } a href="/admin/alerts" { (t("adm-telegram-discord")) } }
                @if alerts.is_empty() { p.muted { (t("adm-no-open-alerts")) } }
                @else {
                    ul.plain { @for a in &alerts { li { b { (status_label(&a.kind)) } br; (a.message) br; span.hint { (when(&st, a.created_at)) } } } }
                }
            }
            div.card {
                div.card-head { h2 { (t("adm-provider-balances")) } a href="/admin/providers" { (t("adm-providers-2")) } }
                table { tbody { @for p in &providers {
                    tr {
                        td { (p.name) @if !p.enabled { " " span.status.s-canceled { (t("adm-disabled-2")) } } }
                        td {
                            @match p.balance {
                                Some(b) => {
                                    (b) " " (p.currency)
                                    @if p.balance_alert_below.is_some_and(|low| b < low) { " " span.status.s-needs_review { (t("adm-low")) } }
                                }
                                None => span.muted { (t("adm-not-checked")) },
                            }
                        }
                    }
                } } }
            }
            div.card {
                div.card-head { h2 { (t("nav-jobs")) } a href="/admin/jobs" { (t("adm-all-jobs-2")) } }
                @if jobs.is_empty() { p.muted { (t("adm-the-scheduler-has-no-jobs")) } }
                @else if unhealthy.is_empty() { p { span.status.s-completed { (t("adm-healthy")) } " " (t("adm-all")) " " (jobs.len()) " " (t("adm-jobs-ran-as-scheduled")) } }
                @else {
                    ul.plain { @for j in &unhealthy {
                        li { a href=(format!("/admin/jobs/{}", j.schedule.name)) { (j.schedule.name) } " " span.status.s-canceled { (t("adm-unhealthy-2")) } }
                    } }
                }
            }
            div.card {
                div.card-head { h2 { (t("adm-payment-requests")) } a href="/admin/payments" { (t("adm-payments")) } }
                @if payments.is_empty() { p.muted { (t("adm-none-pending")) } }
                @else { ul.plain { @for p in &payments { li { "#" (p.id) " — " (p.amount) " " (cur) " " (t("adm-by")) " " (p.method) } } } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("mail-admin-dashboard"), "admin", content),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basis_points_read_as_percentages() {
        assert_eq!(percent(2500), "25 %");
        assert_eq!(percent(1250), "12.5 %");
        assert_eq!(percent(5), "0.05 %");
        assert_eq!(percent(0), "0 %");
        assert_eq!(percent_value(100_000), "1000");
        assert_eq!(percent_value(1010), "10.1");
    }
}
