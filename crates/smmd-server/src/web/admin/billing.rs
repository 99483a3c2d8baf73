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
                h1 { "Billing" }
                a href="/admin/jobs/billing.rentals" { "Job, runs and schedule →" }
            }
            div.stats {
                div.stat { span.label { "Hourly billing" } span.value { @if s.enabled { "On" } @else { "Off" } } }
                div.stat { span.label { "Watermark" } span.value {
                    @match s.watermark { Some(w) => { (when(&st, w)) }, None => { "Never ran" } }
                } @if let Some(l) = lag { span.hint { "lag " (l) " h" @if l > LAG_ALERT_HOURS { " — late" } } } }
                div.stat { span.label { "Rentals" } span.value {
                    (status.rentals_by_state.iter().filter(|(k, _)| k == "active" || k == "grace").map(|(_, n)| n).sum::<i64>()) " live"
                } span.hint { (status.rentals_by_state.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(" · ")) } }
                div.stat { span.label { "Dues" } span.value { (status.due_total) } span.hint { (status.hours_due) " h unpaid" } }
            }
            @if let Some(p) = &s.pause { p.flash.err { "Billing is paused since " (when(&st, p.from_at)) " (" (p.reason) "): hours are waived and nothing can be rented." } }
            div.quick {
                @if s.enabled {
                    (api_form("PATCH", "/api/admin/billing/settings", "Hourly billing is off", html! {
                        input type="hidden" name="enabled" value="false" data-type="bool";
                        button.small.secondary type="submit" { "Turn billing off" }
                    }))
                } @else {
                    (api_form("PATCH", "/api/admin/billing/settings", "Hourly billing is on", html! {
                        input type="hidden" name="enabled" value="true" data-type="bool";
                        button #billing-on type="submit" { "Turn hourly billing on" }
                    }))
                }
                @if s.pause.is_some() {
                    (api_form("POST", "/api/admin/billing/resume", "Billing resumed", html! {
                        (reason_field("Why it resumes")) button.small type="submit" { "Resume" }
                    }))
                } @else if s.enabled {
                    (api_form("POST", "/api/admin/billing/pause", "Billing paused", html! {
                        (reason_field("Why it pauses")) button.small.secondary type="submit" { "Pause" }
                    }))
                }
            }
            @if !s.enabled { p.muted { "Nothing can be rented until hourly billing is on. Turning it on later never bills a backlog." } }
        }
        div.card #plans {
            h2 { "Plans" }
            @if plans.is_empty() { p.empty { "No plans yet." } } @else {
                table.admin {
                    thead { tr { th { "Plan" } th { "Price" } th { "Cap" } th { "Entitlement" } th { "State" } } }
                    tbody { @for p in &plans {
                        tr #(format!("plan-{}", p.id)) {
                            td data-label="Plan" { b { (p.name) } br; span.hint { code { (p.code) } } }
                            td data-label="Price" { (p.price) " " (cur) " / month"
                                @if p.setup_fee.is_positive() { br; span.hint { "setup " (p.setup_fee) } } }
                            td data-label="Cap" { (p.cap_mode.as_str()) }
                            td data-label="Entitlement" { span { (p.entitlement) br; code.wrap { (p.settings) } } }
                            td data-label="State" {
                                @if p.active {
                                    (api_form("PATCH", &format!("/api/admin/billing/plans/{}", p.id), "Plan deactivated", html! {
                                        input type="hidden" name="active" value="false" data-type="bool";
                                        button.small.secondary type="submit" { "Deactivate" }
                                    }))
                                } @else { span.status { "Inactive" } }
                            }
                        }
                    } }
                }
            }
            details {
                summary { "Add a plan" }
                (api_form("POST", "/api/admin/billing/plans", "Plan added", html! {
                    label { "Code" input type="text" name="code" required placeholder="pro" maxlength="40"; }
                    label { "Name" input type="text" name="name" required maxlength="100"; }
                    label { "Monthly price (" (cur) ")" input type="text" name="price" required inputmode="decimal" placeholder="25.00"; }
                    label { "Cap mode" select name="cap_mode" {
                        option value="h730" { "h730: 730 hours make a month" }
                        option value="h672" { "h672: every full month costs the price" }
                        option value="calendar" { "calendar: the month's real hours" }
                    } }
                    label { "Setup fee (" (cur) ")" input type="text" name="setup_fee" inputmode="decimal" placeholder="0"; }
                    input type="hidden" name="entitlement" value="reseller_tier";
                    button type="submit" { "Add plan" }
                }))
            }
        }
        div.card #rentals {
            h2 { "Rentals" }
            nav.filters {
                @for (value, label) in [("", "All"), ("active", "Active"), ("grace", "Grace"), ("suspended", "Suspended"), ("terminated", "Terminated"), ("canceled", "Canceled")] {
                    a class=[(state.unwrap_or("") == value).then_some("active")] href=(format!("/admin/billing?state={value}")) { (label) }
                }
            }
            @if rentals.is_empty() { p.empty { "No rentals here." } } @else {
                table.admin {
                    thead { tr { th { "Rental" } th { "User" } th { "Plan" } th { "State" } th { "Action" } } }
                    tbody { @for r in &rentals {
                        tr #(format!("rental-{}", r.id)) {
                            td data-label="Rental" { "#" (r.id) br; span.hint { (when(&st, r.created_at)) } }
                            td data-label="User" { a href=(format!("/admin/orders?user={}", r.user_id.0)) { "#" (r.user_id.0) } }
                            td data-label="Plan" { (plan_name(r.plan_id)) }
                            td data-label="State" { (status_badge(r.state.as_str()))
                                @if let Some(reason) = r.state.reason() { br; span.hint { (reason.as_str()) } }
                                @if let Some(d) = r.first_due_hour { br; span.hint { "unpaid since " (when(&st, d)) } } }
                            td data-label="Action" {
                                @if r.state.is_billable() {
                                    (api_form("POST", &format!("/api/admin/billing/rentals/{}/suspend", r.id), "Rental suspended", html! {
                                        (reason_field("Why")) button.small.secondary type="submit" { "Suspend" }
                                    }))
                                }
                                @if r.state.reason() == Some(smmd_domain::billing::rental::SuspendReason::Admin) {
                                    (api_form("POST", &format!("/api/admin/billing/rentals/{}/unsuspend", r.id), "Rental resumed", html! {
                                        (reason_field("Why")) button.small type="submit" { "Unsuspend" }
                                    }))
                                }
                                @if !r.state.is_final() {
                                    (api_form("POST", &format!("/api/admin/billing/rentals/{}/terminate", r.id), "Rental terminated", html! {
                                        (reason_field("Why")) button.small.danger type="submit" { "Terminate" }
                                    }))
                                }
                            }
                        }
                    } }
                }
            }
        }
        div.card #statements {
            h2 { "Statements" }
            p.hint { "Drafted after each month, final (numbered) " (s.statement_grace_days) " days later. A final statement is never edited: void it and a new draft replaces it." }
            @if statements.is_empty() { p.empty { "No statements yet." } } @else {
                table.admin {
                    thead { tr { th { "Statement" } th { "User" } th { "Month" } th { "Charged" } th { "Unpaid" } th { "Action" } } }
                    tbody { @for t in &statements {
                        tr #(format!("statement-{}", t.id)) {
                            td data-label="Statement" { a href=(format!("/billing/statements/{}", t.id)) {
                                (t.number.clone().unwrap_or_else(|| format!("draft #{}", t.id))) }
                                " " (status_badge(t.status.as_str())) }
                            td data-label="User" { "#" (t.user_id.0) }
                            td data-label="Month" { (crate::http::statements::month_label(t.month)) }
                            td data-label="Charged" { (t.charged) " " (cur) }
                            td data-label="Unpaid" { (t.due) }
                            td data-label="Action" {
                                @if t.status == smmd_store::StatementStatus::Final {
                                    (api_form("POST", &format!("/api/admin/billing/statements/{}/void", t.id), "Statement voided: a new draft replaces it", html! {
                                        (reason_field("Why")) button.small.danger type="submit" { "Void" }
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
        layout(&st, &u, "Billing", "admin-billing", content),
    )
}
