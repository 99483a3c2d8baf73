//! `/admin/billing`: hourly billing at a glance — on or off, paused or running, the watermark
//! and its lag, rentals by state, dues — with the switch, pause and resume; the plans with an
//! add form and deactivation; the rentals (by state) with suspend, unsuspend and terminate. Every
//! action is a `data-api` form on `/api/admin/billing/*`.

use smmd_domain::billing::{lag_hours, LAG_ALERT_HOURS};

use super::*;

pub(super) async fn billing_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let state = match q.get("state").map(String::as_str) {
        Some(s @ ("active" | "grace" | "suspended" | "terminated" | "canceled")) => Some(s),
        _ => None,
    };
    let (status, plans, rentals, statements) = match tokio::try_join!(
        st.store.billing_status(),
        st.store.plans(true),
        st.store.rentals(None, state, 200),
        st.store.statements(None, 50),
    ) {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    let cur = &st.config.panel.currency;
    let s = &status.settings;
    let lag = lag_hours(s.watermark, st.clock.now_ms());
    let plan_name = |id: i64| {
        plans
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| format!("#{id}"), |p| p.name.clone())
    };
    let content = html! {
        div.card #billing-status {
            div.card-head {
                h1 { (t("nav-billing")) }
                a href="/admin/jobs/billing.rentals" { (t("adm-job-runs-and-schedule")) }
            }
            div.stats {
                div.stat { span.label { (t("adm-hourly-billing")) } span.value { @if s.enabled { (t("on")) } @else { (t("off")) } } }
                div.stat { span.label { (t("adm-watermark")) } span.value {
                    @match s.watermark { Some(w) => { (when(&st, w)) }, None => { (t("adm-never-ran")) } }
                } @if let Some(l) = lag { span.hint { (t("adm-lag")) " " (l) " " (t("adm-h")) @if l > LAG_ALERT_HOURS { " " (t("adm-late")) } } } }
                div.stat { span.label { (t("adm-rentals")) } span.value {
                    (status.rentals_by_state.iter().filter(|(k, _)| k == "active" || k == "grace").map(|(_, n)| n).sum::<i64>()) " " (t("adm-live"))
                } span.hint { (status.rentals_by_state.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(" · ")) } }
                div.stat { span.label { (t("dues")) } span.value { (status.due_total) } span.hint { (status.hours_due) " " (t("adm-h-unpaid")) } }
            }
            @if let Some(p) = &s.pause { p.flash.err { (t("adm-billing-is-paused-since")) " " (when(&st, p.from_at)) " (" (p.reason) (t("adm-hours-are-waived-and-nothing")) } }
            div.quick {
                @if s.enabled {
                    (api_form("PATCH", "/api/admin/billing/settings", &t("adm-hourly-billing-is-off"), html! {
                        input type="hidden" name="enabled" value="false" data-type="bool";
                        button.small.secondary type="submit" { (t("adm-turn-billing-off")) }
                    }))
                } @else {
                    (api_form("PATCH", "/api/admin/billing/settings", &t("adm-hourly-billing-is-on"), html! {
                        input type="hidden" name="enabled" value="true" data-type="bool";
                        button #billing-on type="submit" { (t("adm-turn-hourly-billing-on")) }
                    }))
                }
                @if s.pause.is_some() {
                    (api_form("POST", "/api/admin/billing/resume", &t("adm-billing-resumed"), html! {
                        (reason_field(&t("adm-why-it-resumes"))) button.small type="submit" { (t("adm-resume")) }
                    }))
                } @else if s.enabled {
                    (api_form("POST", "/api/admin/billing/pause", &t("adm-billing-paused"), html! {
                        (reason_field(&t("adm-why-it-pauses"))) button.small.secondary type="submit" { (t("adm-pause")) }
                    }))
                }
            }
            @if !s.enabled { p.muted { (t("adm-nothing-can-be-rented-until")) } }
        }
        div.card #plans {
            h2 { (t("plans")) }
            @if plans.is_empty() { p.empty { (t("adm-no-plans-yet")) } } @else {
                table.admin {
                    thead { tr { th { (t("plan")) } th { (t("price")) } th { (t("adm-cap")) } th { (t("adm-entitlement")) } th { (t("state")) } } }
                    tbody { @for p in &plans {
                        tr #(format!("plan-{}", p.id)) {
                            td data-label=(t("plan")) { b { (p.name) } br; span.hint { code { (p.code) } } }
                            td data-label=(t("price")) { (p.price) " " (cur) " / " (t("month-lower"))
                                @if p.setup_fee.is_positive() { br; span.hint { (t("adm-setup")) " " (p.setup_fee) } } }
                            td data-label=(t("adm-cap")) { (p.cap_mode.as_str()) }
                            td data-label=(t("adm-entitlement")) { span { (p.entitlement) br; code.wrap { (p.settings) } } }
                            td data-label=(t("state")) {
                                @if p.active {
                                    (api_form("PATCH", &format!("/api/admin/billing/plans/{}", p.id), &t("adm-plan-deactivated"), html! {
                                        input type="hidden" name="active" value="false" data-type="bool";
                                        button.small.secondary type="submit" { (t("adm-deactivate")) }
                                    }))
                                } @else { span.status { (t("adm-inactive")) } }
                            }
                        }
                    } }
                }
            }
            details {
                summary { (t("adm-add-a-plan")) }
                (api_form("POST", "/api/admin/billing/plans", &t("adm-plan-added"), html! {
                    label { (t("code")) input type="text" name="code" required placeholder="pro" maxlength="40"; }
                    label { (t("adm-name")) input type="text" name="name" required maxlength="100"; }
                    label { (t("adm-monthly-price")) (cur) ")" input type="text" name="price" required inputmode="decimal" placeholder="25.00"; }
                    label { (t("adm-cap-mode")) select name="cap_mode" {
                        option value="h730" { (t("adm-h730-730-hours-make-a")) }
                        option value="h672" { (t("adm-h672-every-full-month-costs")) }
                        option value="calendar" { (t("adm-calendar-the-month-s-real")) }
                    } }
                    label { (t("adm-setup-fee")) (cur) ")" input type="text" name="setup_fee" inputmode="decimal" placeholder="0"; }
                    input type="hidden" name="entitlement" value="reseller_tier";
                    button type="submit" { (t("adm-add-plan")) }
                }))
            }
        }
        div.card #rentals {
            h2 { (t("adm-rentals")) }
            nav.filters {
                @for (value, label) in [("", &t("filter-all")), ("active", &t("status-active")), ("grace", &t("adm-grace")), ("suspended", &t("status-suspended")), ("terminated", &t("status-terminated")), ("canceled", &t("status-canceled"))] {
                    a class=[(state.unwrap_or("") == value).then_some("active")] href=(format!("/admin/billing?state={value}")) { (label) }
                }
            }
            @if rentals.is_empty() { p.empty { (t("adm-no-rentals-here")) } } @else {
                table.admin {
                    thead { tr { th { (t("rental")) } th { (t("adm-user")) } th { (t("plan")) } th { (t("state")) } th { (t("adm-action")) } } }
                    tbody { @for r in &rentals {
                        tr #(format!("rental-{}", r.id)) {
                            td data-label=(t("rental")) { "#" (r.id) br; span.hint { (when(&st, r.created_at)) } }
                            td data-label=(t("adm-user")) { a href=(format!("/admin/orders?user={}", r.user_id.0)) { "#" (r.user_id.0) } }
                            td data-label=(t("plan")) { (plan_name(r.plan_id)) }
                            td data-label=(t("state")) { (status_badge(r.state.as_str()))
                                @if let Some(reason) = r.state.reason() { br; span.hint { (reason.as_str()) } }
                                @if let Some(d) = r.first_due_hour { br; span.hint { (t("adm-unpaid-since")) " " (when(&st, d)) } } }
                            td data-label=(t("adm-action")) {
                                @if r.state.is_billable() {
                                    (api_form("POST", &format!("/api/admin/billing/rentals/{}/suspend", r.id), &t("adm-rental-suspended"), html! {
                                        (reason_field(&t("adm-why"))) button.small.secondary type="submit" { (t("adm-suspend")) }
                                    }))
                                }
                                @if r.state.reason() == Some(smmd_domain::billing::rental::SuspendReason::Admin) {
                                    (api_form("POST", &format!("/api/admin/billing/rentals/{}/unsuspend", r.id), &t("adm-rental-resumed"), html! {
                                        (reason_field(&t("adm-why"))) button.small type="submit" { (t("adm-unsuspend")) }
                                    }))
                                }
                                @if !r.state.is_final() {
                                    (api_form("POST", &format!("/api/admin/billing/rentals/{}/terminate", r.id), &t("adm-rental-terminated"), html! {
                                        (reason_field(&t("adm-why"))) button.small.danger type="submit" { (t("adm-terminate")) }
                                    }))
                                }
                            }
                        }
                    } }
                }
            }
        }
        div.card #statements {
            h2 { (t("statements")) }
            p.hint { (t("adm-drafted-after-each-month-final")) " " (s.statement_grace_days) " " (t("adm-days-later-a-final-statement")) }
            @if statements.is_empty() { p.empty { (t("adm-no-statements-yet")) } } @else {
                table.admin {
                    thead { tr { th { (t("statement")) } th { (t("adm-user")) } th { (t("month")) } th { (t("charged")) } th { (t("unpaid")) } th { (t("adm-action")) } } }
                    tbody { @for stmt in &statements {
                        tr #(format!("statement-{}", stmt.id)) {
                            td data-label=(t("statement")) { a href=(format!("/billing/statements/{}", stmt.id)) {
                                (stmt.number.clone().unwrap_or_else(|| ta("adm-draft-n", &[("n", stmt.id.into())]))) }
                                " " (status_badge(stmt.status.as_str())) }
                            td data-label=(t("adm-user")) { "#" (stmt.user_id.0) }
                            td data-label=(t("month")) { (crate::http::statements::month_label(stmt.month)) }
                            td data-label=(t("charged")) { (stmt.charged) " " (cur) }
                            td data-label=(t("unpaid")) { (stmt.due) }
                            td data-label=(t("adm-action")) {
                                @if stmt.status == smmd_store::StatementStatus::Final {
                                    (api_form("POST", &format!("/api/admin/billing/statements/{}/void", stmt.id), &t("adm-statement-voided-a-new-draft"), html! {
                                        (reason_field(&t("adm-why"))) button.small.danger type="submit" { (t("commission-void")) }
                                    }))
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
        layout(&st, &u, &t("nav-billing"), "admin-billing", content),
    )
}
