//! `/admin/currencies`: the exchange rates customers' display currencies use — the ECB feed's
//! (with its date), the ones pinned by hand (with the feed's beside them), a form to pin a
//! rate, unpin buttons, and the `rates.ecb` job's link. Actions are `data-api` forms on
//! `/api/admin/currency-rates/*`. Money is never converted: only what customers see.

use smmd_domain::Money;

use super::*;

pub(super) async fn currencies_page(
    State(st): State<AppState>,
    AdminPage(u): AdminPage,
) -> PageResult {
    let rates = smmd_app::currencies::rates(st.app()).await?;
    let panel = &st.config.panel.currency;
    let conv = smmd_app::currencies::Converter::new(panel, &rates);
    let feed = st.config.currencies.feed_url.trim();
    let content = html! {
        div.card #currencies {
            div.card-head { h1 { "Display currencies" } a href="/admin/jobs/rates.ecb" { "Job, runs and schedule →" } }
            p.hint {
                "Customers may see prices and balances also in another currency, converted at these rates and marked ≈. "
                "Charges, balances and the ledger stay in " b { (panel) } ". Rates are units per one euro. "
                @if feed.is_empty() { "No feed is set (currencies.feed_url): pin each rate by hand." }
                @else { "The rates.ecb job reads the ECB's daily rates on working days; a rate moving more than "
                    (Money::from_micros(st.config.currencies.max_jump_bp * 100)) " % in a day is held and alerts." }
            }
            @if conv.choices().is_empty() {
                p.flash.err #no-choices { "No display currency can be offered: " (panel) " itself has no rate yet. Pin it below, or wait for the feed." }
            } @else {
                p #choices { "Customers can choose: " (conv.choices().join(", ")) }
            }
            @if rates.is_empty() {
                p.empty { "No rate yet." }
            } @else {
                table.admin #rates {
                    thead { tr { th { "Currency" } th { "Per EUR" } th { "Source" } th { "Feed" } th {} } }
                    tbody { @for r in &rates {
                        tr #(format!("rate-{}", r.currency)) {
                            td data-label="Currency" { b { (r.currency) } @if &r.currency == panel { " " span.hint { "panel" } } }
                            td data-label="Per EUR" { (Money::from_micros(r.per_eur)) }
                            td data-label="Source" {
                                @if r.pinned { span.status.s-pending { "Pinned" } } @else { span.status.s-completed { "ECB" } }
                            }
                            td data-label="Feed" {
                                @match (&r.feed_per_eur, &r.feed_date) {
                                    (Some(f), Some(d)) => { (Money::from_micros(*f)) " " span.hint { (d) } },
                                    _ => span.muted { "—" },
                                }
                            }
                            td.actions {
                                @if r.pinned {
                                    (api_form("DELETE", &format!("/api/admin/currency-rates/{}", r.currency), &format!("{} unpinned", r.currency), html! {
                                        button.secondary.small type="submit" { "Unpin" }
                                    }))
                                }
                            }
                        }
                    } }
                }
            }
        }
        div.card #pin-rate {
            h2 { "Pin a rate" }
            p.hint { "A pinned rate stays until you unpin it, whatever the feed says: for a currency the ECB does not quote, or to hold one steady." }
            form #pin-form data-api="PUT" data-done="Rate pinned" action="/api/admin/currency-rates/" {
                div.row {
                    div {
                        label for="pin-currency" { "Currency" }
                        input #pin-currency type="text" name="currency" maxlength="3" required placeholder="RUB" data-path;
                    }
                    div {
                        label for="pin-rate-value" { "Units per EUR" }
                        input #pin-rate-value type="text" name="rate" inputmode="decimal" maxlength="24" required placeholder="98.50";
                    }
                }
                p.form-error {}
                p { button type="submit" { "Pin" } }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, "Display currencies", "admin-site", content),
    ))
}
