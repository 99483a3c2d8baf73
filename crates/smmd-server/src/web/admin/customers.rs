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
            div.card-head { h1 { "Users" } }
            form.search.wide #user-search method="get" action="/admin/users" {
                input #user-q type="search" name="q" value=(text.as_deref().unwrap_or("")) placeholder="E-mail or #id" aria-label="Search users";
                select name="role" aria-label="Role" {
                    option value="" { "Any role" }
                    option value="user" selected[role == Some(Role::User)] { "Customers" }
                    option value="admin" selected[role == Some(Role::Admin)] { "Admins" }
                }
                select name="state" aria-label="State" {
                    option value="" { "Any state" }
                    option value="active" selected[state == "active"] { "Active" }
                    option value="disabled" selected[state == "disabled"] { "Disabled" }
                }
                button.secondary type="submit" { "Search" }
            }
            @if found.is_empty() { p.empty { "No account matches." } }
            @else {
                table.admin #users {
                    thead { tr { th { "User" } th { "Role" } th { "Balance" } th { "Orders" } th { "State" } } }
                    tbody { @for x in &found {
                        tr #(format!("u-{}", x.user.id.0)) {
                            td data-label="User" {
                                a href=(format!("/admin/users/{}", x.user.id.0)) { (x.user.email) }
                                br; span.hint { "#" (x.user.id.0) " · since " (when(&st, x.user.created_at)) }
                            }
                            td data-label="Role" {
                                (if x.user.role == Role::Admin { "Admin" } else { "Customer" })
                                @if x.user.two_factor { " " span.status.s-completed { "2FA" } }
                            }
                            td data-label="Balance" { b { (x.user.balance) " " (cur) } }
                            td data-label="Orders" { (x.orders) }
                            td data-label="State" {
                                @if x.blocked_at.is_some() { span.status.s-canceled { "Disabled" } }
                                @else { span.status.s-completed { "Active" } }
                            }
                        }
                    } }
                }
                @if found.len() as i64 == PAGE {
                    @if let Some(last) = found.last() { p { a href=(more(last.user.id.0)) { "More users →" } } }
                }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, "Users", "admin-users", content),
    ))
}

fn price_text(p: &CustomPrice, cur: &str) -> String {
    match p {
        CustomPrice::Discount(bp) => format!("{} off the list rate", percent(*bp)),
        CustomPrice::Fixed(m) => format!("{m} {cur} per 1000"),
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
            .map_or_else(|| format!("Service {sid}"), |s| s.name.clone())
    };
    let cur = &st.config.panel.currency;
    let x = &d.summary.user;
    let disabled = d.summary.blocked_at.is_some();
    let content = html! {
        div.card #customer {
            div.card-head {
                h1 { (x.email) }
                span.hint { "#" (x.id.0) " · since " (when(&st, x.created_at)) }
            }
            div.service-info {
                div { b { "Balance" } (x.balance) " " (cur) }
                div { b { "Role" } (if x.role == Role::Admin { "Admin" } else { "Customer" }) }
                div { b { "Orders" } (d.summary.orders) }
                div { b { "Two-factor" } (if x.two_factor { "On" } else { "Off" }) }
                div #customer-state { b { "State" }
                    @if let Some(at) = d.summary.blocked_at { span.status.s-canceled { "Disabled" } " since " (when(&st, at)) }
                    @else { span.status.s-completed { "Active" } }
                }
            }
            div.actions {
                (api_form("POST", &format!("/api/admin/users/{}/block", x.id.0),
                    if disabled { "Account enabled" } else { "Account disabled: its sessions ended and its API key stopped" }, html! {
                    input type="hidden" name="blocked" data-type="bool" value=(if disabled { "false" } else { "true" });
                    @if disabled { button #enable-user .secondary type="submit" { "Enable the account" } }
                    @else { button #disable-user .danger type="submit" { "Disable the account" } }
                }))
                (api_form("POST", &format!("/api/admin/users/{}/sessions/end", x.id.0), "Sessions ended", html! {
                    button.secondary type="submit" { "End every session (" (d.sessions.len()) ")" }
                }))
            }
            div.row {
                div {
                    h3 { "Role" }
                    (api_form("POST", &format!("/api/admin/users/{}/role", x.id.0), "Role changed", html! {
                        select name="role" aria-label="Role" {
                            option value="user" selected[x.role == Role::User] { "Customer" }
                            option value="admin" selected[x.role == Role::Admin] { "Admin" }
                        }
                        button.secondary.small type="submit" { "Set" }
                    }))
                }
                div {
                    h3 { "Adjust the balance" }
                    (api_form("POST", &format!("/api/admin/users/{}/balance", x.id.0), "Balance adjusted", html! {
                        input type="hidden" name="request_id" value=(format!("page:{}", auth::random_hex(12)));
                        input.narrow type="text" name="amount" required inputmode="decimal" placeholder="+10.00 or -2.50" aria-label="Amount";
                        (reason_field("Reason"))
                        (super::super::code_field(&st, &u, true))
                        button.small type="submit" { "Apply" }
                    }))
                }
            }
        }
        div.card #custom-rates {
            h2 { "Custom rates" }
            p.hint { "What this customer pays instead of the list rate: a discount on every service or one service, or a fixed rate per 1000 for one service. Every page, the REST API and " code { "/api/v2" } " services show it, and orders are charged by it." }
            @if d.rates.is_empty() { p.empty { "None: list prices (and any reseller tier they rent)." } }
            @else {
                table.admin {
                    thead { tr { th { "Service" } th { "Price" } th { "" } } }
                    tbody { @for r in &d.rates {
                        tr {
                            td data-label="Service" { (r.service_id.map_or_else(|| "Every service".to_string(), &service_name)) }
                            td data-label="Price" { (price_text(&r.price, cur)) }
                            td data-label="" {
                                (api_form("PUT", &format!("/api/admin/users/{}/rates", x.id.0), "Custom rate removed", html! {
                                    @if let Some(sid) = r.service_id { input type="hidden" name="service_id" data-type="int" value=(sid); }
                                    button.small.secondary type="submit" { "Remove" }
                                }))
                            }
                        }
                    } }
                }
            }
            (api_form("PUT", &format!("/api/admin/users/{}/rates", x.id.0), "Custom rate saved", html! {
                div.row {
                    div {
                        label for="rate-service" { "Service" }
                        select #rate-service name="service_id" data-type="int" {
                            option value="" { "Every service (discount only)" }
                            @for s in services.iter().filter(|s| s.enabled) {
                                option value=(s.id.0) { "#" (s.id.0) " " (s.name) " — " (s.rate) " " (cur) }
                            }
                        }
                    }
                    div {
                        label for="rate-discount" { "Discount %" }
                        input.narrow #rate-discount type="text" name="discount_percent" inputmode="decimal" placeholder="10";
                    }
                    div {
                        label for="rate-fixed" { "or fixed rate per 1000" }
                        input.narrow #rate-fixed type="text" name="rate" inputmode="decimal" placeholder="0.50";
                    }
                }
                button #save-rate type="submit" { "Save the rate" }
            }))
        }
        div.card #notes {
            h2 { "Notes" }
            p.hint { "For admins only: the customer never sees them." }
            (api_form("POST", &format!("/api/admin/users/{}/notes", x.id.0), "Note added", html! {
                textarea #note-body name="body" rows="2" maxlength="2000" required placeholder="What happened, what was agreed" {}
                button.small type="submit" { "Add the note" }
            }))
            @for n in &d.notes {
                div.note { p { (n.body) } p.hint { (n.author) " · " (when(&st, n.created_at)) } }
            }
        }
        div.card {
            div.card-head { h2 { "Recent orders" } a href=(format!("/admin/orders?user={}", x.id.0)) { "All orders →" } }
            @if d.orders.is_empty() { p.empty { "No orders yet." } }
            @else {
                table.admin {
                    thead { tr { th { "Order" } th { "Service" } th { "Status" } th { "Charge" } } }
                    tbody { @for o in &d.orders {
                        tr {
                            td data-label="Order" { "#" (o.id.0) br; span.hint { (when(&st, o.created_at)) } }
                            td data-label="Service" { (service_name(o.service_id.0)) br; span.hint.link { (o.link.as_deref().unwrap_or("")) } }
                            td data-label="Status" { (status_badge(o.status.as_str())) }
                            td data-label="Charge" { (o.charge) " " (cur) }
                        }
                    } }
                }
            }
        }
        div.card {
            h2 { "Ledger" }
            @if d.ledger.is_empty() { p.empty { "No balance changes yet." } }
            @else {
                table.admin {
                    thead { tr { th { "When" } th { "Kind" } th { "Amount" } th { "Balance after" } th { "Reason" } } }
                    tbody { @for e in &d.ledger {
                        tr {
                            td data-label="When" { (when(&st, e.created_at)) }
                            td data-label="Kind" { (e.kind.as_str()) }
                            td data-label="Amount" { b { (e.amount) } }
                            td data-label="Balance after" { (e.balance_after) }
                            td data-label="Reason" { (e.reason) }
                        }
                    } }
                }
            }
        }
        div.card {
            h2 { "Sessions" }
            @if d.sessions.is_empty() { p.empty { "No live session." } }
            @else {
                table.admin {
                    thead { tr { th { "Since" } th { "Until" } th { "Two-factor" } } }
                    tbody { @for s in &d.sessions {
                        tr {
                            td data-label="Since" { (when(&st, s.created_at)) }
                            td data-label="Until" { (when(&st, s.expires_at)) }
                            td data-label="Two-factor" {
                                @if s.pending_factor { "waiting for the code" }
                                @else if let Some(at) = s.factor_at { "passed " (when(&st, at)) }
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
