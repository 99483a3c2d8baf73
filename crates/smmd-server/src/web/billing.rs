//! The customer's Billing page (`/billing`): their rentals with this month's cost against the
//! cap, the hourly burn, the runway and any dues (with a link to add funds), and the plans they
//! can rent, each stating how it bills in one sentence from the charging function. Renting and
//! cancelling are plain forms (CSRF-checked) over `smmd_app::billing`.

use smmd_app::UseCaseError;

use super::*;

pub(super) async fn billing_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let o = match smmd_app::billing::overview(st.app(), u.user.id).await {
        Ok(o) => o,
        Err(e) => return page_error(e),
    };
    let cur = &st.config.panel.currency;
    let live: Vec<_> = o
        .rentals
        .iter()
        .filter(|r| !r.rental.state.is_final())
        .collect();
    let ended: Vec<_> = o
        .rentals
        .iter()
        .filter(|r| r.rental.state.is_final())
        .collect();
    let content = html! {
        (flash(&q))
        div.card {
            div.card-head { h1 { "Billing" } }
            div.stats {
                div.stat { span.label { "Balance" } span.value data-balance { (o.balance) } }
                div.stat { span.label { "Per hour now" } span.value #hourly { (o.hourly) } }
                div.stat { span.label { "Runway" } span.value #runway {
                    @match o.runway_hours {
                        Some(h) => { (runway(h)) }
                        None => { "—" }
                    }
                } }
                div.stat { span.label { "Dues" } span.value #dues { (o.dues) } }
            }
            @if o.dues.is_positive() {
                p.flash.err { "Some hours are unpaid. " a href="/funds" { "Add funds" } " and they are paid at once, oldest first." }
            } @else if o.runway_hours.is_some_and(|h| h < 72) {
                p.flash.err { "Your balance pays less than three days of rent. " a href="/funds" { "Add funds" } }
            }
            @if live.is_empty() {
                p.empty { "You rent nothing yet." }
            } @else {
                table {
                    thead { tr { th { "Plan" } th { "State" } th { "This month" } th { "Per hour" } th { "Since" } th {} } }
                    tbody { @for r in &live {
                        tr #(format!("r-{}", r.rental.id)) {
                            td data-label="Plan" { span { (r.plan.as_ref().map(|p| p.name.as_str()).unwrap_or("?")) " " span.hint { "#" (r.rental.id) } } }
                            td data-label="State" { span { (status_badge(r.rental.state.as_str()))
                                @if let Some(reason) = r.rental.state.reason() { " " span.hint { (status_label(reason.as_str())) } } } }
                            td data-label="This month" { span {
                                b { (r.month_cost) } " of " (r.plan.as_ref().map(|p| p.price.to_string()).unwrap_or_default()) " " (cur)
                                @if r.dues.is_positive() { br; span.hint { (r.hours_due) " h unpaid: " (r.dues) } }
                            } }
                            td data-label="Per hour" { (r.hourly) }
                            td data-label="Since" { (super::orders::when(&st, r.rental.created_at)) }
                            td {
                                form method="post" action=(format!("/billing/{}/cancel", r.rental.id)) {
                                    input type="hidden" name="csrf_token" value=(u.csrf);
                                    button.secondary.small type="submit" { "Cancel" }
                                }
                            }
                        }
                    } }
                }
            }
        }
        div.card {
            h2 { "Plans" }
            @if !o.settings.enabled {
                p.empty { "Renting is not open on this panel yet." }
            } @else if o.settings.pause.is_some() {
                p.empty { "Billing is paused for maintenance: renting opens again shortly." }
            } @else if o.plans.is_empty() {
                p.empty { "No plans are offered yet." }
            } @else {
                div.plans { @for (p, preview) in &o.plans {
                    div.plan #(format!("plan-{}", p.code)) {
                        h3 { (p.name) }
                        p.price { b { (p.price) " " (cur) } " / month" }
                        @if !p.description.is_empty() { p.muted { (p.description) } }
                        p { "Billed hourly, " b { (preview.first_hour) "/h" } ", never more than " (p.price) " " (cur) " per calendar month." }
                        p.hint { "To start: " (preview.due_now) " " (cur)
                            @if p.setup_fee.is_positive() { " (setup fee " (p.setup_fee) " and the first hour)" }
                            @else { " (the first hour)" } }
                        form method="post" action="/billing/rent" {
                            input type="hidden" name="csrf_token" value=(u.csrf);
                            input type="hidden" name="plan_id" value=(p.id);
                            button type="submit" { "Rent " (p.name) }
                        }
                    }
                } }
            }
        }
        @if !ended.is_empty() {
            div.card {
                h2 { "Ended rentals" }
                ul.plain { @for r in &ended {
                    li { (r.plan.as_ref().map(|p| p.name.as_str()).unwrap_or("?")) " #" (r.rental.id) " · " (status_badge(r.rental.state.as_str())) " " span.hint { (super::orders::when(&st, r.rental.state_at)) } }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Billing", "billing", content),
    )
}

/// "3 d 4 h" / "5 h".
fn runway(hours: i64) -> String {
    match hours {
        h if h >= 48 => format!("{} d {} h", h / 24, h % 24),
        h => format!("{h} h"),
    }
}

pub(super) async fn rent(State(st): State<AppState>, PageForm(u, f): PageForm) -> PageResult {
    let Some(plan_id) = f.get("plan_id").and_then(|p| p.parse::<i64>().ok()) else {
        return Ok(to("/billing", "err", "Choose a plan"));
    };
    match smmd_app::billing::rent(st.app(), u.user.id, plan_id).await {
        Ok(r) => Ok(to(
            "/billing",
            "ok",
            &format!("Rental #{} is active: its first hour is paid.", r.id),
        )),
        Err(UseCaseError::Refused(r)) => Ok(to("/billing", "err", &r.message)),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn cancel(
    State(st): State<AppState>,
    Path(id): Path<String>,
    PageForm(u, _): PageForm,
) -> PageResult {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    match smmd_app::billing::cancel(st.app(), u.user.id, id).await {
        Ok(r) => Ok(to(
            "/billing",
            "ok",
            &format!("Rental #{} is canceled; the current hour stays paid.", r.id),
        )),
        Err(UseCaseError::Refused(r)) => Ok(to("/billing", "err", &r.message)),
        Err(e) => Err(e.into()),
    }
}
