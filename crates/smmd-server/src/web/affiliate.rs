//! The affiliate program on the pages (`docs/affiliates.md`): the referral link `/?ref=CODE`
//! (a first-party cookie for `attribution_days`, first touch: an existing cookie is kept), the
//! cookie's code carried into the sign-up, and the Affiliate page (`/affiliate`) with the link,
//! clicks, sign-ups, paying referrals, commissions by status with the date each approves, the
//! balance and the next payout date, over `smmd_app::affiliates`.

use smmd_domain::affiliate::calendar::{Date, RunKind};
use smmd_domain::affiliate::commission::CommissionStatus;
use smmd_domain::affiliate::referral;

use super::*;

/// The referral cookie: the code of the link a visitor came through.
pub(super) const REF_COOKIE: &str = "smmd_ref";

pub(super) use crate::auth::cookie;

/// `/`: with `?ref=CODE` of a known affiliate and no referral cookie yet, counts the click and
/// sets the cookie (first touch); then on to the dashboard, or to sign-up for a visitor who
/// came through a link (log-in otherwise).
pub(super) async fn home(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    u: Result<PageUser, Response>,
) -> Response {
    let code = q.get("ref").and_then(|c| referral::parse_code(c));
    let mut set_cookie = None;
    if let Some(code) = &code {
        if cookie(&headers, REF_COOKIE).is_none() && u.is_err() {
            let counted = st.store.count_referral_click(code).await.unwrap_or(false);
            let days = st
                .store
                .affiliate_settings()
                .await
                .map(|s| s.attribution_days)
                .unwrap_or(30);
            if counted {
                let secure = if st.config.cookie_secure() {
                    "; Secure"
                } else {
                    ""
                };
                set_cookie = HeaderValue::from_str(&format!(
                    "{REF_COOKIE}={code}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                    days * 86_400
                ))
                .ok();
            }
        }
    }
    let to = match (&u, &code) {
        (Ok(u), _) if u.user.role == smmd_store::Role::Admin => "/admin",
        (Ok(_), _) => "/dashboard",
        (Err(_), Some(_)) => "/signup",
        // A visitor: the storefront.
        (Err(_), None) => {
            return super::storefront::home(&st)
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
    };
    let mut resp = Redirect::to(to).into_response();
    if let Some(c) = set_cookie {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    resp
}

/// Basis points as a percentage without a float: 500 → "5", 525 → "5.25".
fn percent(bp: i64) -> String {
    let whole = format!("{}.{:02}", bp / 100, bp % 100);
    whole
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

fn status_label(s: CommissionStatus) -> &'static str {
    match s {
        CommissionStatus::Pending => "Order running",
        CommissionStatus::Held => "Held",
        CommissionStatus::Review => "In review",
        CommissionStatus::Approved => "Approved",
        CommissionStatus::Void => "Void",
    }
}

pub(super) async fn affiliate_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let o = match smmd_app::affiliates::overview(st.app(), u.user.id).await {
        Ok(o) => o,
        Err(e) => return page_error(e),
    };
    let link = format!("{}/?ref={}", st.config.url_for(&headers), o.account.code);
    let total = |status: &str| {
        o.stats
            .by_status
            .iter()
            .find(|(s, _, _)| s == status)
            .map(|(_, n, amount)| (*n, *amount))
            .unwrap_or_default()
    };
    let (run, at) = o.next_payout;
    let approved = o
        .methods
        .iter()
        .find(|m| m.status == smmd_store::MethodStatus::Approved);
    let submitted = o
        .methods
        .iter()
        .find(|m| m.status == smmd_store::MethodStatus::Submitted);
    let request_id = format!("{:016x}", rand::random::<u64>());
    let content = html! {
        (flash(&q))
        div.card {
            div.card-head { h1 { "Affiliate" } span.hint { "earn " (percent(o.rate_bp)) " % of what the people you refer spend" } }
            label for="ref-link" { "Your link" }
            div.key { input #ref-link type="text" readonly value=(link) aria-label="Referral link"; }
            p.muted { "Anyone who signs up within " (o.attribution_days) " days of following it is yours. You earn on what they really spend: refunds lower the commission. Each commission is held " (o.hold_days) " days after the order ends, then it joins your balance." }
            div.stats {
                div.stat { span.label { "Clicks" } span.value #aff-clicks { (o.account.clicks) } }
                div.stat { span.label { "Sign-ups" } span.value #aff-signups { (o.stats.signups) } }
                div.stat { span.label { "Paying" } span.value #aff-paying { (o.stats.paying) } }
                div.stat { span.label { "Balance" } span.value #aff-balance { (o.account.balance) } }
            }
            div.service-info {
                div { b { "Order running" } (total("pending").1) }
                div { b { "Held" } (total("held").1) }
                div { b { "In review" } (total("review").1) }
                div { b { "Approved" } (total("approved").1) }
            }
            p #aff-next {
                "Next payout run: " strong { (Date::of(at)) }
                @if run == RunKind::All { " (first Monday of the month)" } @else { " (returning affiliates)" }
                ". A run pays the whole balance from " (o.min_payout) ", to an approved payout method."
            }
            div #aff-eligibility {
                @if o.eligibility.blockers.is_empty() {
                    p.flash.ok { "You are paid " (o.eligibility.balance) " by that run." }
                } @else {
                    p { b { "Not paid by that run yet:" } }
                    ul { @for b in &o.eligibility.blockers { li data-reason=(b.as_str()) { (b.message()) } } }
                }
            }
        }
        div.card {
            h2 { "Payout method" }
            @if let Some(m) = approved {
                p #aff-method { "Paid by " b { (m.kind.title()) } " to " code { (m.masked()) } ", approved " (Date::of(m.approved_at.unwrap_or(m.created_at))) "." }
            } @else {
                p.muted #aff-method { "No approved payout method yet." }
            }
            @if let Some(m) = submitted {
                p.muted { (m.kind.title()) " " code { (m.masked()) } " is waiting for approval." }
            }
            details {
                summary { @if approved.is_some() { "Change the payout method" } @else { "Add a payout method" } }
                p.hint { "A new method is checked by an admin and used " (o.cool_down_days) " days after its approval; it can be changed once every " (o.cool_down_days) " days." }
                form method="post" action="/affiliate/method" {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    div.row {
                        div {
                            label for="method-kind" { "Method" }
                            select #method-kind name="kind" {
                                @for k in smmd_domain::affiliate::method::MethodKind::ALL { option value=(k.as_str()) { (k.title()) } }
                            }
                        }
                        div {
                            label for="method-details" { "Details" span.hint { " e-mail, address or account" } }
                            input #method-details name="details" type="text" maxlength="500" required;
                        }
                    }
                    label for="method-password" { "Your password" }
                    input #method-password name="password" type="password" autocomplete="current-password" required;
                    (super::code_field(&st, &u, false))
                    p { button type="submit" { "Submit for approval" } }
                }
            }
        }
        div.card {
            h2 { "Move to your wallet" }
            p.muted { "Spend your affiliate balance on orders: the amount moves to your wallet at once." }
            form.row method="post" action="/affiliate/transfer" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                input type="hidden" name="request_id" value=(request_id);
                div {
                    label for="transfer-amount" { "Amount" span.hint { " up to " (o.account.balance.max(smmd_domain::Money::ZERO)) } }
                    input #transfer-amount name="amount" type="text" inputmode="decimal" required placeholder="10.00";
                }
                div { label { " " } button #transfer type="submit" { "Transfer" } }
            }
        }
        @if !o.payouts.is_empty() {
            div.card {
                h2 { "Payouts" }
                table #aff-payouts {
                    thead { tr { th { "Payout" } th { "Amount" } th { "To" } th { "Status" } } }
                    tbody { @for p in &o.payouts {
                        tr {
                            td data-label="Payout" { "#" (p.id) br; span.hint { (Date::of(p.created_at)) } }
                            td data-label="Amount" { (p.amount) }
                            td data-label="To" { (p.method_kind) " " code { (p.masked()) } }
                            td data-label="Status" {
                                span class=(format!("status p-{}", p.status.as_str())) { (payout_label(p.status)) }
                                @if let Some(n) = p.number { br; span.hint { "No. " (n) } }
                                @if !p.reason.is_empty() { br; span.hint { (p.reason) } }
                            }
                        }
                    } }
                }
            }
        }
        div.card {
            h2 { "Commissions" }
            @if o.commissions.is_empty() {
                p.empty { "No commissions yet. Share your link: when someone you referred orders, it shows here." }
            } @else {
                table #aff-commissions {
                    thead { tr { th { "Order" } th { "Spent" } th { "Commission" } th { "Status" } th { "Approves" } } }
                    tbody {
                        @for c in &o.commissions {
                            tr {
                                td { "#" (c.order_id) }
                                td { (c.charge.checked_sub(c.refunded).unwrap_or(c.charge)) }
                                td { (if c.status == CommissionStatus::Approved { c.credited } else { c.amount }) }
                                td { span class=(format!("status c-{}", c.status.as_str())) { (status_label(c.status)) } }
                                td {
                                    @match (c.status, c.approve_at, c.approved_at) {
                                        (CommissionStatus::Approved, _, Some(at)) => { (Date::of(at)) }
                                        (CommissionStatus::Held, Some(at), _) => { (Date::of(at)) }
                                        (CommissionStatus::Pending, _, _) => { span.muted { (o.hold_days) " days after the order ends" } }
                                        _ => { "—" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Affiliate", "affiliate", content),
    )
}

fn payout_label(s: smmd_domain::affiliate::PayoutStatus) -> &'static str {
    use smmd_domain::affiliate::PayoutStatus as P;
    match s {
        P::Pending => "Pending",
        P::Paid => "Paid",
        P::RejectedReturned => "Rejected, returned to balance",
        P::RejectedForfeited => "Rejected",
        P::Returned => "Returned to balance",
    }
}

/// `POST /affiliate/method`: submits a payout method (with the current password).
pub(super) async fn submit_method(
    State(st): State<AppState>,
    PageForm(u, f): PageForm,
) -> PageResult {
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    if let Err(e) = u.step_up(&st, f.get("code").map(String::as_str)).await {
        return match e {
            smmd_app::UseCaseError::Refused(r) => Ok(to("/affiliate", "err", &r.message)),
            e => Err(e.into()),
        };
    }
    match smmd_app::payouts::submit_method(
        st.app(),
        &u.user,
        field("kind"),
        field("details"),
        field("password"),
    )
    .await
    {
        Ok(m) => Ok(to(
            "/affiliate",
            "ok",
            &format!("{} {} was sent for approval.", m.kind.title(), m.masked()),
        )),
        Err(smmd_app::UseCaseError::Refused(r)) => Ok(to("/affiliate", "err", &r.message)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /affiliate/transfer`: moves an amount of the affiliate balance to the wallet, once
/// per form (its `request_id`).
pub(super) async fn transfer(State(st): State<AppState>, PageForm(u, f): PageForm) -> PageResult {
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let Ok(amount) = smmd_domain::Money::parse(field("amount").trim()) else {
        return Ok(to("/affiliate", "err", "Enter an amount such as 10.00"));
    };
    match smmd_app::payouts::transfer(st.app(), u.user.id, amount, field("request_id")).await {
        Ok((t, _)) => Ok(to(
            "/affiliate",
            "ok",
            &format!("{} moved to your wallet.", t.amount),
        )),
        Err(smmd_app::UseCaseError::Refused(r)) => Ok(to("/affiliate", "err", &r.message)),
        Err(e) => Err(e.into()),
    }
}
