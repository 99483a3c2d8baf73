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
            div.card-head { h1 { (t("nav-billing")) } }
            div.stats {
                div.stat { span.label { (t("balance")) } span.value data-balance { (o.balance) } }
                div.stat { span.label { (t("per-hour-now")) } span.value #hourly { (o.hourly) } }
                div.stat { span.label { (t("runway")) } span.value #runway {
                    @match o.runway_hours {
                        Some(h) => { (runway(h)) }
                        None => { "—" }
                    }
                } }
                div.stat { span.label { (t("dues")) } span.value #dues { (o.dues) } }
            }
            @if o.dues.is_positive() {
                p.flash.err { (t("hours-unpaid")) " " a href="/funds" { (t("nav-funds")) } }
            } @else if o.runway_hours.is_some_and(|h| h < 72) {
                p.flash.err { (t("runway-short")) " " a href="/funds" { (t("nav-funds")) } }
            }
            @if live.is_empty() {
                p.empty { (t("rent-nothing")) }
            } @else {
                table {
                    thead { tr { th { (t("plan")) } th { (t("state")) } th { (t("this-month")) } th { (t("per-hour")) } th { (t("since")) } th {} } }
                    tbody { @for r in &live {
                        tr #(format!("r-{}", r.rental.id)) {
                            td data-label=(t("plan")) { span { (r.plan.as_ref().map(|p| p.name.as_str()).unwrap_or("?")) " " span.hint { "#" (r.rental.id) } } }
                            td data-label=(t("state")) { span { (status_badge(r.rental.state.as_str()))
                                @if let Some(reason) = r.rental.state.reason() { " " span.hint { (status_label(reason.as_str())) } } } }
                            td data-label=(t("this-month")) { span {
                                b { (r.month_cost) } " / " (r.plan.as_ref().map(|p| p.price.to_string()).unwrap_or_default()) " " (cur)
                                @if r.dues.is_positive() { br; span.hint { (ta("hours-unpaid-amount", &[("hours", r.hours_due.into()), ("amount", r.dues.to_string().into())])) } }
                            } }
                            td data-label=(t("per-hour")) { (r.hourly) }
                            td data-label=(t("since")) { (super::orders::when(&st, r.rental.created_at)) }
                            td {
                                form method="post" action=(format!("/billing/{}/cancel", r.rental.id)) {
                                    input type="hidden" name="csrf_token" value=(u.csrf);
                                    button.secondary.small type="submit" { (t("cancel")) }
                                }
                            }
                        }
                    } }
                }
            }
        }
        div.card {
            h2 { (t("plans")) }
            @if !o.settings.enabled {
                p.empty { (t("renting-closed")) }
            } @else if o.settings.pause.is_some() {
                p.empty { (t("billing-paused")) }
            } @else if o.plans.is_empty() {
                p.empty { (t("no-plans")) }
            } @else {
                @if o.plans.iter().any(|(p, _)| p.entitlement == "child_panel") {
                    p.hint { (t("panels-intro")) " " a href="/panels" { (t("nav-panels")) } }
                }
                div.plans { @for (p, preview) in o.plans.iter().filter(|(p, _)| p.entitlement != "child_panel") {
                    div.plan #(format!("plan-{}", p.code)) {
                        h3 { (p.name) }
                        p.price { b { (p.price) " " (cur) } " / " (t("month-lower")) }
                        @if !p.description.is_empty() { p.muted { (p.description) } }
                        p { (ta("billed-hourly", &[("hour", preview.first_hour.to_string().into()), ("cap", p.price.to_string().into()), ("currency", cur.as_str().into())])) }
                        p.hint { (ta("to-start", &[("amount", preview.due_now.to_string().into()), ("currency", cur.as_str().into())])) " "
                            @if p.setup_fee.is_positive() { (ta("setup-and-first-hour", &[("fee", p.setup_fee.to_string().into())])) }
                            @else { (t("first-hour")) } }
                        form method="post" action="/billing/rent" {
                            input type="hidden" name="csrf_token" value=(u.csrf);
                            input type="hidden" name="plan_id" value=(p.id);
                            button type="submit" { (ta("rent-plan", &[("plan", p.name.as_str().into())])) }
                        }
                    }
                } }
            }
        }
        @if !statements.is_empty() {
            div.card #statements {
                h2 { (t("statements")) }
                table {
                    thead { tr { th { (t("month")) } th { (t("statement")) } th { (t("charged")) } th { (t("credited")) } th { (t("unpaid")) } th {} } }
                    tbody { @for s in statements.iter().filter(|s| s.status != StatementStatus::Void) {
                        tr {
                            td data-label=(t("month")) { (crate::http::statements::month_label(s.month)) }
                            td data-label=(t("statement")) { span {
                                @match &s.number { Some(n) => { (n) }, None => { span.hint { "draft" } } }
                            } }
                            td data-label=(t("charged")) { (s.charged) " " (cur) }
                            td data-label=(t("credited")) { (s.credited) }
                            td data-label=(t("unpaid")) { (s.due) }
                            td { a href=(format!("/billing/statements/{}", s.id)) { (t("view")) } " · "
                                 a href=(format!("/api/billing/statements/{}/csv", s.id)) { "CSV" } }
                        }
                    } }
                }
            }
        }
        @if !ended.is_empty() {
            div.card {
                h2 { (t("ended-rentals")) }
                ul.plain { @for r in &ended {
                    li { (r.plan.as_ref().map(|p| p.name.as_str()).unwrap_or("?")) " #" (r.rental.id) " · " (status_badge(r.rental.state.as_str())) " " span.hint { (super::orders::when(&st, r.rental.state_at)) } }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-billing"), "billing", content),
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
                h1 { (ta("statement-n", &[("n", s.number.clone().unwrap_or_else(|| t("draft-paren")).into())])) }
                span { (status_badge(s.status.as_str())) }
            }
            p { (st.config.panel.name) " · " (owner) " · " b { (crate::http::statements::month_label(s.month)) } " (UTC)" }
            @if s.status == StatementStatus::Draft {
                p.hint { (ta("draft-hint", &[("days", grace_days.into())])) }
            }
            @if let Some(reason) = &s.void_reason { p.flash.err { (t("void")) ": " (reason) } }
            table {
                thead { tr { th { (t("rental")) } th { (t("plan")) } th { (t("hours")) } th { (t("free")) } th { (t("waived")) } th { (t("paid")) } th { (t("setup-fee")) } th { (t("credited")) } th { (t("unpaid")) } } }
                tbody { @for l in &s.lines {
                    tr {
                        td data-label=(t("rental")) { "#" (l.rental_id) }
                        td data-label=(t("plan")) { (l.plan_name) }
                        td data-label=(t("hours")) { (l.hours_billed) }
                        td data-label=(t("free")) { (l.free_hours) }
                        td data-label=(t("waived")) { (l.waived_hours) }
                        td data-label=(t("paid")) { (l.paid) }
                        td data-label=(t("setup-fee")) { (l.setup_fee) }
                        td data-label=(t("credited")) { (l.credited) }
                        td data-label=(t("unpaid")) { (l.due) @if l.written_off.is_positive() { br; span.hint { (ta("written-off", &[("amount", l.written_off.to_string().into())])) } } }
                    }
                } }
            }
            div.stats {
                div.stat { span.label { (t("charged")) } span.value #charged { (s.charged) " " (cur) } }
                div.stat { span.label { (t("credited")) } span.value { (s.credited) } }
                div.stat { span.label { (t("net")) } span.value #net { (net) } }
                div.stat { span.label { (t("unpaid")) } span.value { (s.due) } }
            }
            p.hint.no-print {
                a href=(format!("{api}/{}/csv", s.id)) { (t("download-csv")) } " · "
                a href=(format!("{api}/{}", s.id)) { "JSON" } " · "
                (t("print-hint"))
            }
        }
    };
    let title = ta(
        "statement-n",
        &[("n", s.number.clone().unwrap_or_default().into())],
    );
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, &title, "billing", content),
    ))
}

/// "3 d 4 h" / "5 h".
fn runway(hours: i64) -> String {
    match hours {
        h if h >= 48 => format!(
            "{} {}",
            ta("dur-d", &[("n", (h / 24).into())]),
            ta("dur-h", &[("n", (h % 24).into())])
        ),
        h => ta("dur-h", &[("n", h.into())]),
    }
}

pub(super) async fn rent(State(st): State<AppState>, PageForm(u, f): PageForm) -> PageResult {
    let Some(plan_id) = f.get("plan_id").and_then(|p| p.parse::<i64>().ok()) else {
        return Ok(to("/billing", "err", &t("choose-plan")));
    };
    match smmd_app::billing::rent(st.app(), u.user.id, plan_id).await {
        Ok(r) => Ok(to(
            "/billing",
            "ok",
            &ta("rental-active", &[("n", r.id.into())]),
        )),
        Err(UseCaseError::Refused(r)) => Ok(to("/billing", "err", &say(r.code, &r.message))),
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
            &ta("rental-canceled", &[("n", r.id.into())]),
        )),
        Err(UseCaseError::Refused(r)) => Ok(to("/billing", "err", &say(r.code, &r.message))),
        Err(e) => Err(e.into()),
    }
}
