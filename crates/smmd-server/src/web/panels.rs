//! The customer's Child panels page (`/panels`, issue 19): the `child_panel` plans with how
//! they bill, a form to rent one (domains, brand, currency, the child admin's e-mail and
//! password, markup), and the customer's children with their state — the provisioning step
//! and its error while being set up, the address to open once active. Renting is a plain form
//! (CSRF-checked) over `smmd_app::panels::rent`.

use smmd_app::UseCaseError;
use smmd_domain::panel::{PanelState, ProvisionStep};

use super::*;

pub(super) async fn panels_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let o = match smmd_app::billing::overview(st.app(), u.user.id).await {
        Ok(o) => o,
        Err(e) => return page_error(e),
    };
    let mine = match st.store.panels_of(u.user.id).await {
        Ok(p) => p,
        Err(e) => return page_error(e),
    };
    let plans: Vec<_> = o
        .plans
        .iter()
        .filter(|(p, _)| p.entitlement == "child_panel")
        .collect();
    let cur = &st.config.panel.currency;
    let setting_up = mine
        .iter()
        .any(|p| matches!(p.state(), PanelState::Provisioning { .. }));
    let scheme = match st.config.cookie_secure() {
        true => "https",
        false => "http",
    };
    // The port people reach this panel on, for the address of a child (none behind a proxy).
    let port = st
        .config
        .base_url()
        .and_then(|b| url::Url::parse(&b).ok())
        .filter(|_| st.config.public_url().is_none())
        .and_then(|u| u.port())
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    let content = html! {
        @if setting_up { meta http-equiv="refresh" content="3"; }
        (flash(&q))
        div.card {
            div.card-head { h1 { (t("nav-panels")) } }
            p.muted { (t("panels-intro")) }
            @if mine.is_empty() {
                p.empty { (t("panels-none")) }
            } @else {
                table #panels {
                    thead { tr { th { (t("panel-brand")) } th { (t("panel-hostnames")) } th { (t("state")) } th {} } }
                    tbody { @for p in &mine {
                        @let state = p.state();
                        tr #(format!("panel-{}", p.id)) {
                            td data-label=(t("panel-brand")) { span { b { (p.name) } " " span.hint { (p.currency) " · +" (super::admin::percent_value(p.markup_bp)) " %" } } }
                            td data-label=(t("panel-hostnames")) { span { @for (i, h) in p.hostnames.iter().enumerate() { @if i > 0 { ", " } code { (h) } } } }
                            td data-label=(t("state")) { span {
                                (status_badge(state.as_str()))
                                @match state {
                                    PanelState::Provisioning { step } => {
                                        br; span.hint { (ta("panel-step", &[("n", (step.number() as i64).into()), ("total", (ProvisionStep::ALL.len() as i64).into())])) }
                                    }
                                    PanelState::Suspended { reason } => { " " span.hint { (status_label(reason.as_str())) } }
                                    PanelState::Terminated { remove_at } => { br; span.hint { (t("panel-removed-on")) " " (super::orders::when(&st, remove_at)) } }
                                    _ => {}
                                }
                                @if let Some(e) = &p.error { br; span.hint.err { (e) } }
                            } }
                            td {
                                @if state.serves() {
                                    @if let Some(h) = p.hostnames.first() {
                                        a.button.small href=(format!("{scheme}://{h}{port}/login")) target="_blank" rel="noopener" { (t("panel-open")) }
                                    }
                                }
                            }
                        }
                    } }
                }
            }
        }
        div.card #rent-panel {
            h2 { (t("panels-rent")) }
            @if !o.settings.enabled || o.settings.pause.is_some() {
                p.empty { (t("renting-closed")) }
            } @else if plans.is_empty() {
                p.empty { (t("panels-no-plan")) }
            } @else {
                form method="post" action="/panels/rent" {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    label for="plan" { (t("plan")) }
                    select #plan name="plan_id" {
                        @for (p, _) in &plans { option value=(p.id) { (p.name) " — " (p.price) " " (cur) " / " (t("month-lower")) } }
                    }
                    @for (p, preview) in &plans {
                        p.hint { b { (p.name) } ": " (ta("billed-hourly", &[("hour", preview.first_hour.to_string().into()), ("cap", p.price.to_string().into()), ("currency", cur.as_str().into())])) }
                    }
                    label for="hostnames" { (t("panel-hostnames")) }
                    input #hostnames name="hostnames" required maxlength="1300" placeholder="shop.example.com" autocomplete="off";
                    p.hint { (t("panel-hostnames-hint")) }
                    label for="brand" { (t("panel-brand")) }
                    input #brand name="name" required maxlength="80";
                    div.row {
                        div { label for="currency" { (t("panel-currency")) }
                              input #currency name="currency" maxlength="3" value=(cur) required; }
                        div { label for="markup" { (t("panel-markup")) }
                              input #markup name="markup" type="number" min="0" max="1000" step="0.01" value="50" required; }
                    }
                    label for="admin_email" { (t("panel-admin-email")) }
                    input #admin_email name="admin_email" type="email" required maxlength="254" autocomplete="off";
                    label for="admin_password" { (t("panel-admin-password")) }
                    input #admin_password name="admin_password" type="password" required minlength="8" maxlength="1024" autocomplete="new-password";
                    button type="submit" { (t("panels-rent")) }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-panels"), "panels", content),
    )
}

/// `POST /panels/rent`.
pub(super) async fn rent(State(st): State<AppState>, PageForm(u, f): PageForm) -> PageResult {
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let Some(plan_id) = f.get("plan_id").and_then(|p| p.parse::<i64>().ok()) else {
        return Ok(to("/panels", "err", &t("choose-plan")));
    };
    // Markup in percent with at most two decimals → basis points.
    let markup_bp = match percent_to_bp(&field("markup")) {
        Some(bp) => bp,
        None => return Ok(to("/panels", "err", &t("error-invalid_panel"))),
    };
    let (root_currency, reserved) = st.rent_terms();
    let input = smmd_app::panels::RentInput {
        plan_id,
        hostnames: field("hostnames"),
        name: field("name"),
        currency: field("currency"),
        admin_email: field("admin_email"),
        admin_password: field("admin_password"),
        markup_bp: Some(markup_bp),
    };
    let terms = smmd_app::panels::RentTerms {
        root_currency: &root_currency,
        reserved: &reserved,
    };
    match smmd_app::panels::rent(st.app(), terms, u.user.id, &input).await {
        Ok(p) => {
            st.registry_wake.notify_one();
            Ok(to(
                "/panels",
                "ok",
                &ta("panel-rented", &[("name", p.name.as_str().into())]),
            ))
        }
        Err(UseCaseError::Refused(r)) => Ok(to("/panels", "err", &say(r.code, &r.message))),
        Err(e) => Err(e.into()),
    }
}

/// A percentage with at most two decimals (`"12.5"`) in basis points (`1250`).
fn percent_to_bp(text: &str) -> Option<i64> {
    let micros = smmd_domain::Money::parse(text.trim()).ok()?.micros();
    (micros % 10_000 == 0).then_some(micros / 10_000)
}
