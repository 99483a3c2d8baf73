//! The customer's Billing page (`/billing`): their rentals with this month's cost against the
//! cap, the hourly burn, the runway and any dues (with a link to add funds), and the plans they
//! can rent, each stating how it bills in one sentence from the charging function. Renting and
//! cancelling are plain forms (CSRF-checked) over `smmd_app::billing`. Monthly statements are
//! listed there, each with a printable page (`/billing/statements/{id}`) and its CSV.

use smmd_app::UseCaseError;
use smmd_store::StatementStatus;

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
    let statements = match smmd_app::statements::mine(st.app(), u.user.id).await {
        Ok(s) => s,
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
        @if !statements.is_empty() {
            div.card #statements {
                h2 { "Statements" }
                table {
                    thead { tr { th { "Month" } th { "Statement" } th { "Charged" } th { "Credited" } th { "Unpaid" } th {} } }
                    tbody { @for s in statements.iter().filter(|s| s.status != StatementStatus::Void) {
                        tr {
                            td data-label="Month" { (crate::http::statements::month_label(s.month)) }
                            td data-label="Statement" { span {
                                @match &s.number { Some(n) => { (n) }, None => { span.hint { "draft" } } }
                            } }
                            td data-label="Charged" { (s.charged) " " (cur) }
                            td data-label="Credited" { (s.credited) }
                            td data-label="Unpaid" { (s.due) }
                            td { a href=(format!("/billing/statements/{}", s.id)) { "View" } " · "
                                 a href=(format!("/api/billing/statements/{}/csv", s.id)) { "CSV" } }
                        }
                    } }
                }
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

/// `/billing/statements/{id}`: one statement, printable (the customer's own; admins any).
pub(super) async fn statement_page(
    State(st): State<AppState>,
    u: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(StatusCode::NOT_FOUND.into_response());
    };
    let s = match u.user.role {
        smmd_store::Role::Admin => smmd_app::statements::statement(st.app(), id).await?,
        _ => smmd_app::statements::my_statement(st.app(), u.user.id, id).await?,
    };
    let cur = &st.config.panel.currency;
    let owner = st
        .store
        .user(s.user_id)
        .await?
        .map(|o| o.email)
        .unwrap_or_default();
    let net = smmd_domain::Money::from_micros(s.charged.micros() - s.credited.micros());
    let grace_days = st.store.billing_settings().await?.statement_grace_days;
    // The owner's routes check ownership; an admin reading another's uses the admin's.
    let api = match s.user_id == u.user.id {
        true => "/api/billing/statements",
        false => "/api/admin/billing/statements",
    };
    let content = html! {
        div.card.statement {
            div.card-head {
                h1 { "Statement " (s.number.clone().unwrap_or_else(|| "(draft)".into())) }
                span { (status_badge(s.status.as_str())) }
            }
            p { (st.config.panel.name) " · " (owner) " · " b { (crate::http::statements::month_label(s.month)) } " (UTC)" }
            @if s.status == StatementStatus::Draft {
                p.hint { "A draft: it becomes final, with its number, " (grace_days) " days into the next month." }
            }
            @if let Some(reason) = &s.void_reason { p.flash.err { "Void: " (reason) } }
            table {
                thead { tr { th { "Rental" } th { "Plan" } th { "Hours" } th { "Free" } th { "Waived" } th { "Paid" } th { "Setup fee" } th { "Credited" } th { "Unpaid" } } }
                tbody { @for l in &s.lines {
                    tr {
                        td data-label="Rental" { "#" (l.rental_id) }
                        td data-label="Plan" { (l.plan_name) }
                        td data-label="Hours" { (l.hours_billed) }
                        td data-label="Free" { (l.free_hours) }
                        td data-label="Waived" { (l.waived_hours) }
                        td data-label="Paid" { (l.paid) }
                        td data-label="Setup fee" { (l.setup_fee) }
                        td data-label="Credited" { (l.credited) }
                        td data-label="Unpaid" { (l.due) @if l.written_off.is_positive() { br; span.hint { (l.written_off) " written off" } } }
                    }
                } }
            }
            div.stats {
                div.stat { span.label { "Charged" } span.value #charged { (s.charged) " " (cur) } }
                div.stat { span.label { "Credited" } span.value { (s.credited) } }
                div.stat { span.label { "Net" } span.value #net { (net) } }
                div.stat { span.label { "Unpaid" } span.value { (s.due) } }
            }
            p.hint.no-print {
                a href=(format!("{api}/{}/csv", s.id)) { "Download CSV" } " · "
                a href=(format!("{api}/{}", s.id)) { "JSON" } " · "
                "Print this page for a paper copy."
            }
        }
    };
    let title = format!("Statement {}", s.number.clone().unwrap_or_default());
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, &title, "billing", content),
    ))
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
