//! The Add funds page: the balance, a manual payment request (method, amount, reference) that an
//! admin approves, the user's requests with their status, and — only where `[payments]
//! test_top_up` is on, as in `smmd demo` — an instant test top-up.

use smmd_app::UseCaseError;

use super::*;

pub(super) async fn funds_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let requests = match st.store.payment_requests(Some(u.user.id), None, 50).await {
        Ok(r) => r,
        Err(e) => return page_error(e),
    };
    let p = &st.config.payments;
    let cur = &st.config.panel.currency;
    let content = html! {
        (flash(&q))
        div.card {
            div.card-head {
                h1 { (t("nav-funds")) }
                div.big-balance { span data-balance { (u.user.balance) } " " (cur) (approx_balance(&u)) }
            }
            @if p.test_top_up {
                div.demo {
                    p { b { (t("demo-panel")) } " " (t("demo-funds-text")) }
                    form method="post" action="/funds/test" {
                        input type="hidden" name="csrf_token" value=(u.csrf);
                        button #test-top-up type="submit" { (ta("add-test-funds", &[("currency", cur.as_str().into())])) }
                    }
                }
            }
            p.muted { (p.instructions) }
            form method="post" action="/funds" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                div.row {
                    div {
                        label for="amount" { (t("amount")) " (" (cur) ")" span.hint { " " (p.min_amount) " – " (p.max_amount) } }
                        input #amount name="amount" type="text" inputmode="decimal" required placeholder="25.00";
                    }
                    div {
                        label for="method" { (t("paid-with")) }
                        select #method name="method" { @for m in &p.methods { option value=(m) { (m) } } }
                    }
                }
                label for="note" { (t("payment-reference")) span.hint { " " (t("payment-reference-hint")) } }
                input #note name="note" type="text" maxlength="200";
                p { button type="submit" { (t("request-funds")) } }
            }
        }
        @if !requests.is_empty() {
            div.card {
                h2 { (t("your-requests")) }
                table {
                    thead { tr { th { (t("request")) } th { (t("amount")) } th { (t("method")) } th { (t("reference")) } th { (t("status")) } } }
                    tbody { @for r in &requests {
                        tr {
                            td data-label=(t("request")) { "#" (r.id) br; span.hint { (super::orders::when(&st, r.created_at)) } }
                            td data-label=(t("amount")) { (r.amount) " " (cur) }
                            td data-label=(t("method")) { (r.method) }
                            td data-label=(t("reference")) { (r.note) }
                            td data-label=(t("status")) {
                                (status_badge(&r.status))
                                @if !r.reason.is_empty() { br; span.hint { (r.reason) } }
                            }
                        }
                    } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-funds"), "funds", content),
    )
}

pub(super) async fn request_funds(
    State(st): State<AppState>,
    PageForm(u, f): PageForm,
) -> PageResult {
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let terms = st.config.payments.terms();
    let requested = smmd_app::wallet::request_payment(
        st.app(),
        terms,
        u.user.id,
        field("amount"),
        field("method"),
        field("note"),
    )
    .await;
    match requested {
        Ok(p) => Ok(to(
            "/funds",
            "ok",
            &ta(
                "funds-request-sent",
                &[
                    ("n", p.id.into()),
                    ("amount", p.amount.to_string().into()),
                    ("currency", st.config.panel.currency.as_str().into()),
                ],
            ),
        )),
        Err(UseCaseError::Refused(r)) => Ok(to("/funds", "err", &say(r.code, &r.message))),
        Err(e) => Err(e.into()),
    }
}

/// The demo's instant top-up (404 unless `[payments] test_top_up`), through the wallet's use
/// case like every other credit.
pub(super) async fn test_top_up(
    State(st): State<AppState>,
    PageForm(u, _): PageForm,
) -> PageResult {
    if !st.config.payments.test_top_up {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let e = smmd_app::wallet::test_top_up(st.app(), u.user.id).await?;
    Ok(to(
        "/funds",
        "ok",
        &ta(
            "test-funds-added",
            &[
                ("balance", e.balance_after.to_string().into()),
                ("currency", st.config.panel.currency.as_str().into()),
            ],
        ),
    ))
}
