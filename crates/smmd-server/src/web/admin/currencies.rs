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
            div.card-head { h1 { (t("adm-display-currencies")) } a href="/admin/jobs/rates.ecb" { (t("adm-job-runs-and-schedule")) } }
            p.hint {
                (t("adm-customers-may-see-prices-and")) " "
                (t("adm-charges-balances-and-the-ledger")) " " b { (panel) } ". Rates are units per one euro. "
                @if feed.is_empty() { (t("adm-no-feed-is-set-currencies")) }
                @else { (t("adm-the-rates-ecb-job-reads")) " "
                    (Money::from_micros(st.config.currencies.max_jump_bp * 100)) " " (t("adm-in-a-day-is-held")) }
            }
            @if conv.choices().is_empty() {
                p.flash.err #no-choices { (t("adm-no-display-currency-can-be")) " " (panel) " " (t("adm-itself-has-no-rate-yet")) }
            } @else {
                p #choices { (t("adm-customers-can-choose")) " " (conv.choices().join(", ")) }
            }
            @if rates.is_empty() {
                p.empty { (t("adm-no-rate-yet")) }
            } @else {
                table.admin #rates {
                    thead { tr { th { (t("adm-currency")) } th { (t("adm-per-eur")) } th { (t("adm-source")) } th { (t("adm-feed")) } th {} } }
                    tbody { @for r in &rates {
                        tr #(format!("rate-{}", r.currency)) {
                            td data-label=(t("adm-currency")) { b { (r.currency) } @if &r.currency == panel { " " span.hint { (t("adm-panel")) } } }
                            td data-label=(t("adm-per-eur")) { (Money::from_micros(r.per_eur)) }
                            td data-label=(t("adm-source")) {
                                @if r.pinned { span.status.s-pending { (t("adm-pinned")) } } @else { span.status.s-completed { "ECB" } }
                            }
                            td data-label=(t("adm-feed")) {
                                @match (&r.feed_per_eur, &r.feed_date) {
                                    (Some(f), Some(d)) => { (Money::from_micros(*f)) " " span.hint { (d) } },
                                    _ => span.muted { "—" },
                                }
                            }
                            td {
                                @if r.pinned {
                                    (api_form("DELETE", &format!("/api/admin/currency-rates/{}", r.currency), &format!("{} unpinned", r.currency), html! {
                                        button.secondary.small type="submit" { (t("adm-unpin")) }
                                    }))
                                }
                            }
                        }
                    } }
                }
            }
        }
        div.card #pin-rate {
            h2 { (t("adm-pin-a-rate")) }
            p.hint { (t("adm-a-pinned-rate-stays-until")) }
            form #pin-form data-api="PUT" data-done=(t("adm-rate-pinned")) action="/api/admin/currency-rates/" {
                div.row {
                    div {
                        label for="pin-currency" { (t("adm-currency")) }
                        input #pin-currency type="text" name="currency" maxlength="3" required placeholder="RUB" data-path;
                    }
                    div {
                        label for="pin-rate-value" { (t("adm-units-per-eur")) }
                        input #pin-rate-value type="text" name="rate" inputmode="decimal" maxlength="24" required placeholder="98.50";
                    }
                }
                p.form-error {}
                p { button type="submit" { (t("adm-pin")) } }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, &t("adm-display-currencies"), "admin-site", content),
    ))
}
