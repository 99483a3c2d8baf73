//! The admin's customers (issue 18): `/admin/users` searches accounts (e-mail or id, role,
//! state) and `/admin/users/{id}` shows one: facts, disable/enable, end sessions, role and
//! balance, custom rates, notes, recent orders, the ledger and live sessions. Every action is
//! an admin REST call (`api_form`); the use cases are `smmd_app::people`.

use smmd_domain::custom_rate::CustomPrice;
use smmd_domain::UserId;
use smmd_store::{Role, UserQuery};

use super::*;

const PAGE: i64 = 50;

/// `/admin/users?q=&role=&state=&before=`: accounts, newest first.
pub(super) async fn users_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let text = q
        .get("q")
        .map(|t| t.trim().chars().take(254).collect::<String>());
    let role = q.get("role").and_then(|r| Role::parse(r));
    let state = q.get("state").map(String::as_str).unwrap_or("");
    let blocked = match state {
        "disabled" => Some(true),
        "active" => Some(false),
        _ => None,
    };
    let found = smmd_app::people::search(
        st.app(),
        &UserQuery {
            text: text.clone().filter(|t| !t.is_empty()),
            role,
            blocked,
            before: q.get("before").and_then(|b| b.parse().ok()).map(UserId),
            limit: PAGE,
        },
    )
    .await?;
    let cur = &st.config.panel.currency;
    let more = |before: i64| {
        let mut params: Vec<(&str, String)> = vec![("before", before.to_string())];
        if let Some(t) = text.as_deref().filter(|t| !t.is_empty()) {
            params.push(("q", t.to_string()));
        }
        if let Some(r) = role {
            params.push(("role", r.as_str().to_string()));
        }
        if !state.is_empty() {
            params.push(("state", state.to_string()));
        }
        format!(
            "/admin/users?{}",
            serde_urlencoded::to_string(params).unwrap_or_default()
        )
    };
    let content = html! {
        div.card {
            div.card-head { h1 { (t("nav-users")) } }
            form.search.wide #user-search method="get" action="/admin/users" {
                input #user-q type="search" name="q" value=(text.as_deref().unwrap_or("")) placeholder=(t("adm-e-mail-or-id")) aria-label=(t("adm-search-users"));
                select name="role" aria-label=(t("adm-role")) {
                    option value="" { (t("adm-any-role")) }
                    option value="user" selected[role == Some(Role::User)] { (t("adm-customers")) }
                    option value="admin" selected[role == Some(Role::Admin)] { (t("adm-admins")) }
                }
                select name="state" aria-label=(t("state")) {
                    option value="" { (t("adm-any-state")) }
                    option value="active" selected[state == "active"] { (t("status-active")) }
                    option value="disabled" selected[state == "disabled"] { (t("adm-disabled")) }
                }
                button.secondary type="submit" { (t("search")) }
            }
            @if found.is_empty() { p.empty { (t("adm-no-account-matches")) } }
            @else {
                table.admin #users {
                    thead { tr { th { (t("adm-user")) } th { (t("adm-role")) } th { (t("balance")) } th { (t("nav-orders")) } th { (t("state")) } } }
                    tbody { @for x in &found {
                        tr #(format!("u-{}", x.user.id.0)) {
                            td data-label=(t("adm-user")) {
                                a href=(format!("/admin/users/{}", x.user.id.0)) { (x.user.email) }
                                br; span.hint { "#" (x.user.id.0) " " (t("adm-since")) " " (when(&st, x.user.created_at)) }
                            }
                            td data-label=(t("adm-role")) {
                                (if x.user.role == Role::Admin { t("nav-admin") } else { t("adm-customer") })
                                @if x.user.two_factor { " " span.status.s-completed { "2FA" } }
                            }
                            td data-label=(t("balance")) { b { (x.user.balance) " " (cur) } }
                            td data-label=(t("nav-orders")) { (x.orders) }
                            td data-label=(t("state")) {
                                @if x.blocked_at.is_some() { span.status.s-canceled { (t("adm-disabled")) } }
                                @else { span.status.s-completed { (t("status-active")) } }
                            }
                        }
                    } }
                }
                @if found.len() as i64 == PAGE {
                    @if let Some(last) = found.last() { p { a href=(more(last.user.id.0)) { (t("adm-more-users")) } } }
                }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-users"), "admin-users", content),
    ))
}

fn price_text(p: &CustomPrice, cur: &str) -> String {
    match p {
        CustomPrice::Discount(bp) => ta("adm-off-list-rate", &[("percent", percent(*bp).into())]),
        CustomPrice::Fixed(m) => ta(
            "adm-fixed-per-1000",
            &[("amount", m.to_string().into()), ("currency", cur.into())],
        ),
    }
}

/// `/admin/users/{id}`: one customer.
pub(super) async fn user_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
    Path(id): Path<i64>,
) -> PageResult {
    let d = smmd_app::people::customer(st.app(), UserId(id)).await?;
    let services = st.store.list_services(false).await?;
    let service_name = |sid: i64| {
        services
            .iter()
            .find(|s| s.id.0 == sid)
            .map_or_else(|| ta("service-n", &[("n", sid.into())]), |s| s.name.clone())
    };
    let cur = &st.config.panel.currency;
    let x = &d.summary.user;
    let disabled = d.summary.blocked_at.is_some();
    let content = html! {
        div.card #customer {
            div.card-head {
                h1 { (x.email) }
                span.hint { "#" (x.id.0) " " (t("adm-since")) " " (when(&st, x.created_at)) }
            }
            div.service-info {
                div { b { (t("balance")) } (x.balance) " " (cur) }
                div { b { (t("adm-role")) } (if x.role == Role::Admin { t("nav-admin") } else { t("adm-customer") }) }
                div { b { (t("nav-orders")) } (d.summary.orders) }
                div { b { (t("adm-two-factor")) } (if x.two_factor { t("on") } else { t("off") }) }
                div #customer-state { b { (t("state")) }
                    @if let Some(at) = d.summary.blocked_at { span.status.s-canceled { (t("adm-disabled")) } " " (t("adm-since-2")) " " (when(&st, at)) }
                    @else { span.status.s-completed { (t("status-active")) } }
                }
            }
            div.actions {
                (api_form("POST", &format!("/api/admin/users/{}/block", x.id.0),
                    &if disabled { t("adm-account-enabled") } else { t("adm-account-disabled-its-sessions-ended") }, html! {
                    input type="hidden" name="blocked" data-type="bool" value=(if disabled { "false" } else { "true" });
                    @if disabled { button #enable-user .secondary type="submit" { (t("adm-enable-the-account")) } }
                    @else { button #disable-user .danger type="submit" { (t("adm-disable-the-account")) } }
                }))
                (api_form("POST", &format!("/api/admin/users/{}/sessions/end", x.id.0), &t("adm-sessions-ended"), html! {
                    button.secondary type="submit" { (t("adm-end-every-session")) (d.sessions.len()) ")" }
                }))
            }
            div.row {
                div {
                    h3 { (t("adm-role")) }
                    (api_form("POST", &format!("/api/admin/users/{}/role", x.id.0), &t("adm-role-changed"), html! {
                        select name="role" aria-label=(t("adm-role")) {
                            option value="user" selected[x.role == Role::User] { (t("adm-customer")) }
                            option value="admin" selected[x.role == Role::Admin] { (t("nav-admin")) }
                        }
                        button.secondary.small type="submit" { (t("adm-set")) }
                    }))
                }
                div {
                    h3 { (t("adm-adjust-the-balance")) }
                    (api_form("POST", &format!("/api/admin/users/{}/balance", x.id.0), &t("adm-balance-adjusted"), html! {
                        input type="hidden" name="request_id" value=(format!("page:{}", auth::random_hex(12)));
                        input.narrow type="text" name="amount" required inputmode="decimal" placeholder=(t("adm-10-00-or-2-50")) aria-label=(t("amount"));
                        (reason_field(&t("adm-reason")))
                        (super::super::code_field(&st, &u, true))
                        button.small type="submit" { (t("adm-apply")) }
                    }))
                }
            }
        }
        div.card #custom-rates {
            h2 { (t("adm-custom-rates")) }
            p.hint { (t("adm-what-this-customer-pays-instead")) " " code { "/api/v2" } " " (t("adm-services-show-it-and-orders")) }
            @if d.rates.is_empty() { p.empty { (t("adm-none-list-prices-and-any")) } }
            @else {
                table.admin {
                    thead { tr { th { (t("service")) } th { (t("price")) } th { "" } } }
                    tbody { @for r in &d.rates {
                        tr {
                            td data-label=(t("service")) { (r.service_id.map_or_else(|| (t("adm-every-service")).to_string(), &service_name)) }
                            td data-label=(t("price")) { (price_text(&r.price, cur)) }
                            td data-label="" {
                                (api_form("PUT", &format!("/api/admin/users/{}/rates", x.id.0), &t("adm-custom-rate-removed"), html! {
                                    @if let Some(sid) = r.service_id { input type="hidden" name="service_id" data-type="int" value=(sid); }
                                    button.small.secondary type="submit" { (t("adm-remove")) }
                                }))
                            }
                        }
                    } }
                }
            }
            (api_form("PUT", &format!("/api/admin/users/{}/rates", x.id.0), &t("adm-custom-rate-saved"), html! {
                div.row {
                    div {
                        label for="rate-service" { (t("service")) }
                        select #rate-service name="service_id" data-type="int" {
                            option value="" { (t("adm-every-service-discount-only")) }
                            @for s in services.iter().filter(|s| s.enabled) {
                                option value=(s.id.0) { "#" (s.id.0) " " (s.name) " — " (s.rate) " " (cur) }
                            }
                        }
                    }
                    div {
                        label for="rate-discount" { (t("adm-discount")) }
                        input.narrow #rate-discount type="text" name="discount_percent" inputmode="decimal" placeholder="10";
                    }
                    div {
                        label for="rate-fixed" { (t("adm-or-fixed-rate-per-1000")) }
                        input.narrow #rate-fixed type="text" name="rate" inputmode="decimal" placeholder="0.50";
                    }
                }
                button #save-rate type="submit" { (t("adm-save-the-rate")) }
            }))
        }
        div.card #notes {
            h2 { (t("adm-notes")) }
            p.hint { (t("adm-for-admins-only-the-customer")) }
            (api_form("POST", &format!("/api/admin/users/{}/notes", x.id.0), &t("adm-note-added"), html! {
                textarea #note-body name="body" rows="2" maxlength="2000" required placeholder=(t("adm-what-happened-what-was-agreed")) {}
                button.small type="submit" { (t("adm-add-the-note")) }
            }))
            @for n in &d.notes {
                div.note { p { (n.body) } p.hint { (n.author) " · " (when(&st, n.created_at)) } }
            }
        }
        div.card {
            div.card-head { h2 { (t("recent-orders")) } a href=(format!("/admin/orders?user={}", x.id.0)) { (t("all-orders")) } }
            @if d.orders.is_empty() { p.empty { (t("no-orders-yet")) } }
            @else {
                table.admin {
                    thead { tr { th { (t("ledger-charge")) } th { (t("service")) } th { (t("status")) } th { (t("charge")) } } }
                    tbody { @for o in &d.orders {
                        tr {
                            td data-label=(t("ledger-charge")) { "#" (o.id.0) br; span.hint { (when(&st, o.created_at)) } }
                            td data-label=(t("service")) { (service_name(o.service_id.0)) br; span.hint.link { (o.link.as_deref().unwrap_or("")) } }
                            td data-label=(t("status")) { (status_badge(o.status.as_str())) }
                            td data-label=(t("charge")) { (o.charge) " " (cur) }
                        }
                    } }
                }
            }
        }
        div.card {
            h2 { (t("adm-ledger")) }
            @if d.ledger.is_empty() { p.empty { (t("adm-no-balance-changes-yet")) } }
            @else {
                table.admin {
                    thead { tr { th { (t("when")) } th { (t("adm-kind")) } th { (t("amount")) } th { (t("adm-balance-after")) } th { (t("adm-reason")) } } }
                    tbody { @for e in &d.ledger {
                        tr {
                            td data-label=(t("when")) { (when(&st, e.created_at)) }
                            td data-label=(t("adm-kind")) { (e.kind.as_str()) }
                            td data-label=(t("amount")) { b { (e.amount) } }
                            td data-label=(t("adm-balance-after")) { (e.balance_after) }
                            td data-label=(t("adm-reason")) { (e.reason) }
                        }
                    } }
                }
            }
        }
        div.card {
            h2 { (t("adm-sessions")) }
            @if d.sessions.is_empty() { p.empty { (t("adm-no-live-session")) } }
            @else {
                table.admin {
                    thead { tr { th { (t("since")) } th { (t("adm-until")) } th { (t("adm-two-factor")) } } }
                    tbody { @for s in &d.sessions {
                        tr {
                            td data-label=(t("since")) { (when(&st, s.created_at)) }
                            td data-label=(t("adm-until")) { (when(&st, s.expires_at)) }
                            td data-label=(t("adm-two-factor")) {
                                @if s.pending_factor { (t("adm-waiting-for-the-code")) }
                                @else if let Some(at) = s.factor_at { (t("adm-passed")) " " (when(&st, at)) }
                                @else { "—" }
                            }
                        }
                    } }
                }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, &x.email, "admin-users", content),
    ))
}
