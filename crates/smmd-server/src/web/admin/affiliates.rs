//! `/admin/affiliates`: the affiliate program at a glance — the last 30 days' report, the
//! payout runs with their counts (and a button to run today's now), pending payouts to mark
//! paid or reject, payout methods to review, flagged referrals to clear, commissions in review
//! to approve or void in bulk. Every action is a
//! `data-api` form on `/api/admin/affiliates/*`.

use smmd_domain::affiliate::calendar::Date;
use smmd_domain::affiliate::PayoutStatus;
use smmd_store::PayoutQuery;

use super::*;

/// Commissions in review the page lists (oldest first) for one bulk decision.
const REVIEW_ROWS: i64 = 200;

pub(super) async fn affiliates_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
) -> Response {
    let now = st.clock.now_ms();
    let pending = PayoutQuery {
        status: Some(PayoutStatus::Pending),
        limit: 200,
        ..PayoutQuery::default()
    };
    let recent = PayoutQuery {
        limit: 20,
        ..PayoutQuery::default()
    };
    let (settings, runs, open, latest, methods, flagged, review, report) = match tokio::try_join!(
        st.store.affiliate_settings(),
        st.store.payout_runs(None, 12),
        st.store.payouts(&pending),
        st.store.payouts(&recent),
        st.store.submitted_payout_methods(100),
        st.store.flagged_referrals(100),
        st.store.commissions_in_review(REVIEW_ROWS),
        st.store.affiliate_report(now - 30 * 86_400_000, now + 1),
    ) {
        Ok(x) => x,
        Err(e) => return page_error(e),
    };
    let decided: Vec<_> = latest
        .iter()
        .filter(|p| p.status != PayoutStatus::Pending)
        .collect();
    let content = html! {
        div.card #affiliates-report {
            div.card-head {
                h1 { "Affiliates" }
                a href="/admin/jobs/affiliates.payouts_all" { "Payout jobs →" }
            }
            p.muted {
                "Commission " (percent(settings.rate_bp)) " of net spend, held " (settings.hold_days)
                " days; payouts from " (settings.min_payout) " on the first Monday (everyone) and the first Monday after the 15th (returning affiliates)."
                @if !settings.enabled { " The program is off." }
            }
            div.stats {
                div.stat { span.label { "Approved (30 days)" } span.value { (report.approved) } }
                div.stat { span.label { "Clawed back" } span.value { (report.clawed_back) } }
                div.stat { span.label { "Paid" } span.value { (report.paid) } }
                div.stat { span.label { "Cost of revenue" } span.value {
                    @match report.cost_bp { Some(bp) => { (percent(bp)) }, None => { "—" } }
                } span.hint { "of " (report.net_revenue) " net" } }
            }
            div.stats {
                div.stat { span.label { "Pending payouts" } span.value #pending-total { (report.pending_now) } }
                div.stat { span.label { "Balances" } span.value { (report.balances_now) } }
                div.stat { span.label { "Transferred" } span.value { (report.transferred) } }
                div.stat { span.label { "Forfeited" } span.value { (report.forfeited) } }
            }
        }
        div.card #payout-runs {
            div.card-head {
                h2 { "Payout runs" }
                div.quick {
                    (api_form("POST", "/api/admin/affiliates/runs", "Today's run is done", html! {
                        input type="hidden" name="kind" value="all";
                        button #run-payouts type="submit" { "Run today's payout now" }
                    }))
                }
            }
            @if runs.is_empty() { p.empty { "No run yet. The next one is on " (Date::of(smmd_domain::affiliate::calendar::next_run(now, true).1)) "." } } @else {
                table {
                    thead { tr { th { "Run" } th { "Kind" } th { "Status" } th { "Candidates" } th { "Payouts" } th { "Total" } } }
                    tbody { @for r in &runs {
                        tr {
                            td data-label="Run" { (r.date) }
                            td data-label="Kind" { (r.kind.as_str()) }
                            td data-label="Status" { span class=(format!("status r-{}", r.status.as_str())) { (r.status.as_str()) } @if !r.note.is_empty() { br; span.hint { (r.note) } } }
                            td data-label="Candidates" { (r.candidates) }
                            td data-label="Payouts" { (r.payouts) }
                            td data-label="Total" { (r.total) }
                        }
                    } }
                }
            }
        }
        div.card #pending-payouts {
            div.card-head {
                h2 { "Pending payouts" }
                a href="/api/admin/affiliates/payouts/pending.csv" { "CSV for mass payment" }
            }
            @if open.is_empty() { p.empty { "Nothing to pay." } } @else {
                table {
                    thead { tr { th { "Payout" } th { "User" } th { "Amount" } th { "To" } th { "Decision" } } }
                    tbody { @for p in &open {
                        tr {
                            td data-label="Payout" { "#" (p.id) br; span.hint { (Date::of(p.created_at)) } }
                            td data-label="User" { "#" (p.user_id) }
                            td data-label="Amount" { (p.amount) }
                            td data-label="To" { (p.method_kind) " " code { (p.masked()) } }
                            td data-label="Decision" {
                                (api_form("POST", &format!("/api/admin/affiliates/payouts/{}", p.id), "Marked paid", html! {
                                    input type="hidden" name="decision" value="mark_paid";
                                    input type="text" name="text" required maxlength="500" placeholder="Payment reference" aria-label="Payment reference";
                                    button.small type="submit" { "Mark paid" }
                                }))
                                (api_form("POST", &format!("/api/admin/affiliates/payouts/{}", p.id), "Rejected; the amount is back on the balance", html! {
                                    input type="hidden" name="decision" value="reject_return";
                                    input type="text" name="text" required maxlength="500" placeholder="Why" aria-label="Why it is rejected";
                                    button.small.secondary type="submit" { "Reject & return" }
                                }))
                            }
                        }
                    } }
                }
            }
        }
        @if !decided.is_empty() {
            div.card #decided-payouts {
                h2 { "Recent decisions" }
                table {
                    thead { tr { th { "Payout" } th { "User" } th { "Amount" } th { "Status" } th { "Reference" } } }
                    tbody { @for p in &decided {
                        tr {
                            td data-label="Payout" { "#" (p.id) @if let Some(n) = p.number { br; span.hint { "No. " (n) } } }
                            td data-label="User" { "#" (p.user_id) }
                            td data-label="Amount" { (p.amount) }
                            td data-label="Status" { (p.status.as_str()) }
                            td data-label="Reference" { (p.reference.clone().unwrap_or_else(|| p.reason.clone())) }
                        }
                    } }
                }
            }
        }
        div.card #payout-methods {
            h2 { "Payout methods to review" }
            @if methods.is_empty() { p.empty { "None waiting." } } @else {
                table {
                    thead { tr { th { "User" } th { "Method" } th { "Details" } th { "Decision" } } }
                    tbody { @for m in &methods {
                        tr {
                            td data-label="User" { "#" (m.user_id) br; span.hint { (Date::of(m.created_at)) } }
                            td data-label="Method" { (m.kind.title()) }
                            td data-label="Details" { code { (m.details) } }
                            td data-label="Decision" {
                                (api_form("POST", &format!("/api/admin/affiliates/methods/{}", m.id), "Approved", html! {
                                    input type="hidden" name="approve" value="true" data-type="bool";
                                    button.small type="submit" { "Approve" }
                                }))
                                (api_form("POST", &format!("/api/admin/affiliates/methods/{}", m.id), "Rejected", html! {
                                    input type="hidden" name="approve" value="false" data-type="bool";
                                    (reason_field("Why"))
                                    button.small.secondary type="submit" { "Reject" }
                                }))
                            }
                        }
                    } }
                }
            }
        }
        div.card #flagged-referrals {
            h2 { "Flagged referrals" }
            p.muted { "Their commissions wait for review. Clearing one sends them back on hold; they are approved at their date." }
            @if flagged.is_empty() { p.empty { "None." } } @else {
                table {
                    thead { tr { th { "Referred" } th { "Affiliate" } th { "Signals" } th { "" } } }
                    tbody { @for r in &flagged {
                        tr {
                            td data-label="Referred" { "#" (r.user_id) br; span.hint { (Date::of(r.created_at)) } }
                            td data-label="Affiliate" { "#" (r.affiliate_id) }
                            td data-label="Signals" { (r.flags.join(", ")) @if let Some(ip) = &r.ip { br; span.hint { (ip) } } }
                            td { (api_form("POST", &format!("/api/admin/affiliates/referrals/{}/clear", r.user_id), "Cleared", html! {
                                button.small type="submit" { "Clear" }
                            })) }
                        }
                    } }
                }
            }
        }
        div.card #commissions-review {
            h2 { "Commissions in review" }
            p.muted { "Commissions of flagged referrals. Approving sends them back on hold (approved at their date); voiding ends them and credits nothing." }
            @if review.is_empty() { p.empty { "None waiting." } } @else {
                (api_form("POST", "/api/admin/affiliates/commissions/review", "Decided", html! {
                    table {
                        thead { tr { th { "" } th { "Commission" } th { "Affiliate" } th { "Referred" } th { "Order" } th { "Amount" } } }
                        tbody { @for c in &review {
                            tr {
                                td data-label="Select" { input type="checkbox" name="ids" value=(c.id) data-type="ids" checked aria-label=(format!("Commission #{}", c.id)); }
                                td data-label="Commission" { "#" (c.id) br; span.hint { (Date::of(c.created_at)) } }
                                td data-label="Affiliate" { "#" (c.affiliate_id) }
                                td data-label="Referred" { "#" (c.referred_id) }
                                td data-label="Order" { "#" (c.order_id) br; span.hint { (c.charge) " charged, " (c.refunded) " refunded" } }
                                td data-label="Amount" { (c.amount) }
                            }
                        } }
                    }
                    @if review.len() as i64 == REVIEW_ROWS { p.hint { "The oldest " (REVIEW_ROWS) " are shown; decide these to see more." } }
                    div.quick {
                        button #approve-commissions type="submit" name="decision" value="approve" { "Approve selected" }
                        button.secondary #void-commissions type="submit" name="decision" value="void" { "Void selected" }
                    }
                }))
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Affiliates", "admin-affiliates", content),
    )
}
