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
                h1 { (t("nav-affiliates")) }
                a href="/admin/jobs/affiliates.payouts_all" { (t("adm-payout-jobs")) }
            }
            p.muted {
                (t("commission")) " " (percent(settings.rate_bp)) " " (t("adm-of-net-spend-held")) " " (settings.hold_days)
                " " (t("adm-days-payouts-from")) " " (settings.min_payout) " " (t("adm-on-the-first-monday-everyone"))
                @if !settings.enabled { " " (t("adm-the-program-is-off")) }
            }
            div.stats {
                div.stat { span.label { (t("adm-approved-30-days")) } span.value { (report.approved) } }
                div.stat { span.label { (t("adm-clawed-back")) } span.value { (report.clawed_back) } }
                div.stat { span.label { (t("payout-paid")) } span.value { (report.paid) } }
                div.stat { span.label { (t("adm-cost-of-revenue")) } span.value {
                    @match report.cost_bp { Some(bp) => { (percent(bp)) }, None => { "—" } }
                } span.hint { (t("adm-of")) " " (report.net_revenue) " " (t("adm-net")) } }
            }
            div.stats {
                div.stat { span.label { (t("adm-pending-payouts")) } span.value #pending-total { (report.pending_now) } }
                div.stat { span.label { (t("adm-balances")) } span.value { (report.balances_now) } }
                div.stat { span.label { (t("adm-transferred")) } span.value { (report.transferred) } }
                div.stat { span.label { (t("adm-forfeited")) } span.value { (report.forfeited) } }
            }
        }
        div.card #payout-runs {
            div.card-head {
                h2 { (t("adm-payout-runs")) }
                div.quick {
                    (api_form("POST", "/api/admin/affiliates/runs", &t("adm-today-s-run-is-done"), html! {
                        input type="hidden" name="kind" value="all";
                        button #run-payouts type="submit" { (t("adm-run-today-s-payout-now")) }
                    }))
                }
            }
            @if runs.is_empty() { p.empty { (t("adm-no-run-yet-the-next")) " " (Date::of(smmd_domain::affiliate::calendar::next_run(now, true).1)) "." } } @else {
                table {
                    thead { tr { th { (t("adm-run")) } th { (t("adm-kind")) } th { (t("status")) } th { (t("adm-candidates")) } th { (t("payouts")) } th { (t("adm-total")) } } }
                    tbody { @for r in &runs {
                        tr {
                            td data-label=(t("adm-run")) { (r.date) }
                            td data-label=(t("adm-kind")) { (r.kind.as_str()) }
                            td data-label=(t("status")) { span class=(format!("status r-{}", r.status.as_str())) { (r.status.as_str()) } @if !r.note.is_empty() { br; span.hint { (r.note) } } }
                            td data-label=(t("adm-candidates")) { (r.candidates) }
                            td data-label=(t("payouts")) { (r.payouts) }
                            td data-label=(t("adm-total")) { (r.total) }
                        }
                    } }
                }
            }
        }
        div.card #pending-payouts {
            div.card-head {
                h2 { (t("adm-pending-payouts")) }
                a href="/api/admin/affiliates/payouts/pending.csv" { (t("adm-csv-for-mass-payment")) }
            }
            @if open.is_empty() { p.empty { (t("adm-nothing-to-pay")) } } @else {
                table {
                    thead { tr { th { (t("payout")) } th { (t("adm-user")) } th { (t("amount")) } th { (t("to")) } th { (t("adm-decision")) } } }
                    tbody { @for p in &open {
                        tr {
                            td data-label=(t("payout")) { "#" (p.id) br; span.hint { (Date::of(p.created_at)) } }
                            td data-label=(t("adm-user")) { "#" (p.user_id) }
                            td data-label=(t("amount")) { (p.amount) }
                            td data-label=(t("to")) { (p.method_kind) " " code { (p.masked()) } }
                            td data-label=(t("adm-decision")) {
                                (api_form("POST", &format!("/api/admin/affiliates/payouts/{}", p.id), &t("adm-marked-paid"), html! {
                                    input type="hidden" name="decision" value="mark_paid";
                                    input type="text" name="text" required maxlength="500" placeholder=(t("payment-reference")) aria-label=(t("payment-reference"));
                                    button.small type="submit" { (t("adm-mark-paid")) }
                                }))
                                (api_form("POST", &format!("/api/admin/affiliates/payouts/{}", p.id), &t("adm-rejected-the-amount-is-back"), html! {
                                    input type="hidden" name="decision" value="reject_return";
                                    input type="text" name="text" required maxlength="500" placeholder=(t("adm-why")) aria-label=(t("adm-why-it-is-rejected"));
                                    button.small.secondary type="submit" { (t("adm-reject-return")) }
                                }))
                            }
                        }
                    } }
                }
            }
        }
        @if !decided.is_empty() {
            div.card #decided-payouts {
                h2 { (t("adm-recent-decisions")) }
                table {
                    thead { tr { th { (t("payout")) } th { (t("adm-user")) } th { (t("amount")) } th { (t("status")) } th { (t("reference")) } } }
                    tbody { @for p in &decided {
                        tr {
                            td data-label=(t("payout")) { "#" (p.id) @if let Some(n) = p.number { br; span.hint { (t("adm-no")) " " (n) } } }
                            td data-label=(t("adm-user")) { "#" (p.user_id) }
                            td data-label=(t("amount")) { (p.amount) }
                            td data-label=(t("status")) { (p.status.as_str()) }
                            td data-label=(t("reference")) { (p.reference.clone().unwrap_or_else(|| p.reason.clone())) }
                        }
                    } }
                }
            }
        }
        div.card #payout-methods {
            h2 { (t("adm-payout-methods-to-review")) }
            @if methods.is_empty() { p.empty { (t("adm-none-waiting")) } } @else {
                table {
                    thead { tr { th { (t("adm-user")) } th { (t("method")) } th { (t("details")) } th { (t("adm-decision")) } } }
                    tbody { @for m in &methods {
                        tr {
                            td data-label=(t("adm-user")) { "#" (m.user_id) br; span.hint { (Date::of(m.created_at)) } }
                            td data-label=(t("method")) { (m.kind.title()) }
                            td data-label=(t("details")) { code { (m.details) } }
                            td data-label=(t("adm-decision")) {
                                (api_form("POST", &format!("/api/admin/affiliates/methods/{}", m.id), &t("commission-approved"), html! {
                                    input type="hidden" name="approve" value="true" data-type="bool";
                                    button.small type="submit" { (t("adm-approve")) }
                                }))
                                (api_form("POST", &format!("/api/admin/affiliates/methods/{}", m.id), &t("payout-rejected"), html! {
                                    input type="hidden" name="approve" value="false" data-type="bool";
                                    (reason_field(&t("adm-why")))
                                    button.small.secondary type="submit" { (t("adm-reject")) }
                                }))
                            }
                        }
                    } }
                }
            }
        }
        div.card #flagged-referrals {
            h2 { (t("adm-flagged-referrals")) }
            p.muted { (t("adm-their-commissions-wait-for-review")) }
            @if flagged.is_empty() { p.empty { (t("adm-none")) } } @else {
                table {
                    thead { tr { th { (t("adm-referred")) } th { (t("nav-affiliate")) } th { (t("adm-signals")) } th { "" } } }
                    tbody { @for r in &flagged {
                        tr {
                            td data-label=(t("adm-referred")) { "#" (r.user_id) br; span.hint { (Date::of(r.created_at)) } }
                            td data-label=(t("nav-affiliate")) { "#" (r.affiliate_id) }
                            td data-label=(t("adm-signals")) { (r.flags.join(", ")) @if let Some(ip) = &r.ip { br; span.hint { (ip) } } }
                            td { (api_form("POST", &format!("/api/admin/affiliates/referrals/{}/clear", r.user_id), &t("adm-cleared"), html! {
                                button.small type="submit" { (t("adm-clear")) }
                            })) }
                        }
                    } }
                }
            }
        }
        div.card #commissions-review {
            h2 { (t("adm-commissions-in-review")) }
            p.muted { (t("adm-commissions-of-flagged-referrals-approving")) }
            @if review.is_empty() { p.empty { (t("adm-none-waiting")) } } @else {
                (api_form("POST", "/api/admin/affiliates/commissions/review", &t("adm-decided"), html! {
                    table {
                        thead { tr { th { "" } th { (t("commission")) } th { (t("nav-affiliate")) } th { (t("adm-referred")) } th { (t("ledger-charge")) } th { (t("amount")) } } }
                        tbody { @for c in &review {
                            tr {
                                td data-label=(t("adm-select")) { input type="checkbox" name="ids" value=(c.id) data-type="ids" checked aria-label=(ta("adm-commission-n", &[("n", c.id.into())])); }
                                td data-label=(t("commission")) { "#" (c.id) br; span.hint { (Date::of(c.created_at)) } }
                                td data-label=(t("nav-affiliate")) { "#" (c.affiliate_id) }
                                td data-label=(t("adm-referred")) { "#" (c.referred_id) }
                                td data-label=(t("ledger-charge")) { "#" (c.order_id) br; span.hint { (c.charge) " " (t("adm-charged")) " " (c.refunded) " " (t("adm-refunded")) } }
                                td data-label=(t("amount")) { (c.amount) }
                            }
                        } }
                    }
                    @if review.len() as i64 == REVIEW_ROWS { p.hint { (t("adm-the-oldest")) " " (REVIEW_ROWS) " " (t("adm-are-shown-decide-these-to")) } }
                    div.quick {
                        button #approve-commissions type="submit" name="decision" value="approve" { (t("adm-approve-selected")) }
                        button.secondary #void-commissions type="submit" name="decision" value="void" { (t("adm-void-selected")) }
                    }
                }))
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-affiliates"), "admin-affiliates", content),
    )
}
