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

fn status_label(s: CommissionStatus) -> String {
    t(match s {
        CommissionStatus::Pending => "commission-pending",
        CommissionStatus::Held => "commission-held",
        CommissionStatus::Review => "commission-review",
        CommissionStatus::Approved => "commission-approved",
        CommissionStatus::Void => "commission-void",
    })
}

/// Why a run does not pay the affiliate yet, in the page's language.
fn blocker_text(b: smmd_domain::affiliate::eligibility::Blocker) -> String {
    use smmd_domain::affiliate::eligibility::Blocker as B;
    match b {
        B::AccountInactive => t("blocker-account-inactive"),
        B::FirstTimeWaitsForFirstMonday => t("blocker-first-monday"),
        B::NoApprovedMethod => t("blocker-no-method"),
        B::MethodCoolingDown => t("blocker-cooling-down"),
        B::PreviousPayoutOpen => t("blocker-previous-open"),
        B::OnHold => t("blocker-on-hold"),
        B::BelowMinimum(m) => ta(
            "blocker-below-minimum",
            &[("balance", m.to_string().into())],
        ),
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
            div.card-head { h1 { (t("nav-affiliate")) } span.hint { (ta("affiliate-earn", &[("percent", percent(o.rate_bp).into())])) } }
            label for="ref-link" { (t("your-link")) }
            div.key { input #ref-link type="text" readonly value=(link) aria-label=(t("referral-link")); }
            p.muted { (ta("affiliate-rules", &[("attribution", o.attribution_days.into()), ("hold", o.hold_days.into())])) }
            div.stats {
                div.stat { span.label { (t("clicks")) } span.value #aff-clicks { (o.account.clicks) } }
                div.stat { span.label { (t("signups")) } span.value #aff-signups { (o.stats.signups) } }
                div.stat { span.label { (t("paying")) } span.value #aff-paying { (o.stats.paying) } }
                div.stat { span.label { (t("balance")) } span.value #aff-balance { (o.account.balance) } }
            }
            div.service-info {
                div { b { (t("commission-pending")) } (total("pending").1) }
                div { b { (t("commission-held")) } (total("held").1) }
                div { b { (t("commission-review")) } (total("review").1) }
                div { b { (t("commission-approved")) } (total("approved").1) }
            }
            p #aff-next {
                (t("next-payout-run")) " " strong { (Date::of(at)) }
                " " @if run == RunKind::All { (t("run-first-monday")) } @else { (t("run-returning")) }
                ". " (ta("run-pays", &[("min", o.min_payout.to_string().into())]))
            }
            div #aff-eligibility {
                @if o.eligibility.blockers.is_empty() {
                    p.flash.ok { (ta("you-are-paid", &[("amount", o.eligibility.balance.to_string().into())])) }
                } @else {
                    p { b { (t("not-paid-yet")) } }
                    ul { @for b in &o.eligibility.blockers { li data-reason=(b.as_str()) { (blocker_text(*b)) } } }
                }
            }
        }
        div.card {
            h2 { (t("payout-method")) }
            @if let Some(m) = approved {
                p #aff-method { (t("paid-by")) " " b { (m.kind.title()) } " → " code { (m.masked()) } " · " (ta("approved-on", &[("date", Date::of(m.approved_at.unwrap_or(m.created_at)).to_string().into())])) }
            } @else {
                p.muted #aff-method { (t("no-method-yet")) }
            }
            @if let Some(m) = submitted {
                p.muted { (m.kind.title()) " " code { (m.masked()) } " — " (t("waiting-approval")) }
            }
            details {
                summary { @if approved.is_some() { (t("change-method")) } @else { (t("add-method")) } }
                p.hint { (ta("method-rules", &[("days", o.cool_down_days.into())])) }
                form method="post" action="/affiliate/method" {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    div.row {
                        div {
                            label for="method-kind" { (t("method")) }
                            select #method-kind name="kind" {
                                @for k in smmd_domain::affiliate::method::MethodKind::ALL { option value=(k.as_str()) { (k.title()) } }
                            }
                        }
                        div {
                            label for="method-details" { (t("details")) span.hint { " " (t("method-details-hint")) } }
                            input #method-details name="details" type="text" maxlength="500" required;
                        }
                    }
                    label for="method-password" { (t("your-password")) }
                    input #method-password name="password" type="password" autocomplete="current-password" required;
                    (super::code_field(&st, &u, false))
                    p { button type="submit" { (t("submit-approval")) } }
                }
            }
        }
        div.card {
            h2 { (t("move-to-wallet")) }
            p.muted { (t("move-to-wallet-text")) }
            form.row method="post" action="/affiliate/transfer" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                input type="hidden" name="request_id" value=(request_id);
                div {
                    label for="transfer-amount" { (t("amount")) span.hint { " " (ta("up-to", &[("amount", o.account.balance.max(smmd_domain::Money::ZERO).to_string().into())])) } }
                    input #transfer-amount name="amount" type="text" inputmode="decimal" required placeholder="10.00";
                }
                div { label { " " } button #transfer type="submit" { (t("transfer")) } }
            }
        }
        @if !o.payouts.is_empty() {
            div.card {
                h2 { (t("payouts")) }
                table #aff-payouts {
                    thead { tr { th { (t("payout")) } th { (t("amount")) } th { (t("to")) } th { (t("status")) } } }
                    tbody { @for p in &o.payouts {
                        tr {
                            td data-label=(t("payout")) { "#" (p.id) br; span.hint { (Date::of(p.created_at)) } }
                            td data-label=(t("amount")) { (p.amount) }
                            td data-label=(t("to")) { (p.method_kind) " " code { (p.masked()) } }
                            td data-label=(t("status")) {
                                span class=(format!("status p-{}", p.status.as_str())) { (payout_label(p.status)) }
                                @if let Some(n) = p.number { br; span.hint { (ta("payout-number", &[("n", n.to_string().into())])) } }
                                @if !p.reason.is_empty() { br; span.hint { (p.reason) } }
                            }
                        }
                    } }
                }
            }
        }
        div.card {
            h2 { (t("commissions")) }
            @if o.commissions.is_empty() {
                p.empty { (t("no-commissions")) }
            } @else {
                table #aff-commissions {
                    thead { tr { th { (t("order")) } th { (t("spent")) } th { (t("commission")) } th { (t("status")) } th { (t("approves")) } } }
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
                                        (CommissionStatus::Pending, _, _) => { span.muted { (ta("days-after-order-ends", &[("n", o.hold_days.into())])) } }
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
        layout(&st, &u, &t("nav-affiliate"), "affiliate", content),
    )
}

fn payout_label(s: smmd_domain::affiliate::PayoutStatus) -> String {
    use smmd_domain::affiliate::PayoutStatus as P;
    t(match s {
        P::Pending => "payout-pending",
        P::Paid => "payout-paid",
        P::RejectedReturned => "payout-rejected-returned",
        P::RejectedForfeited => "payout-rejected",
        P::Returned => "payout-returned",
    })
}

/// `POST /affiliate/method`: submits a payout method (with the current password).
pub(super) async fn submit_method(
    State(st): State<AppState>,
    PageForm(u, f): PageForm,
) -> PageResult {
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    if let Err(e) = u.step_up(&st, f.get("code").map(String::as_str)).await {
        return match e {
            smmd_app::UseCaseError::Refused(r) => {
                Ok(to("/affiliate", "err", &say(r.code, &r.message)))
            }
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
            &ta(
                "method-sent",
                &[(
                    "method",
                    format!("{} {}", m.kind.title(), m.masked()).into(),
                )],
            ),
        )),
        Err(smmd_app::UseCaseError::Refused(r)) => {
            Ok(to("/affiliate", "err", &say(r.code, &r.message)))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /affiliate/transfer`: moves an amount of the affiliate balance to the wallet, once
/// per form (its `request_id`).
pub(super) async fn transfer(State(st): State<AppState>, PageForm(u, f): PageForm) -> PageResult {
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let Ok(amount) = smmd_domain::Money::parse(field("amount").trim()) else {
        return Ok(to("/affiliate", "err", &t("enter-amount")));
    };
    match smmd_app::payouts::transfer(st.app(), u.user.id, amount, field("request_id")).await {
        Ok((transfer, _)) => Ok(to(
            "/affiliate",
            "ok",
            &ta(
                "moved-to-wallet",
                &[("amount", transfer.amount.to_string().into())],
            ),
        )),
        Err(smmd_app::UseCaseError::Refused(r)) => {
            Ok(to("/affiliate", "err", &say(r.code, &r.message)))
        }
        Err(e) => Err(e.into()),
    }
}
