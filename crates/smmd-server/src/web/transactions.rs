//! `/transactions`: the customer's ledger as a page (top-ups, charges, refunds, rent,
//! transfers, adjustments; newest first, 50 a page, with the order each belongs to) and as CSV
//! (`/transactions.csv`, every row, oldest last, spreadsheet-safe cells). Amounts are the panel
//! currency, signed: what the wallet gained or lost.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use smmd_domain::OrderId;
use smmd_store::{LedgerEntry, LedgerKind};

use super::orders::when;
use super::{flash, html_response, layout, page_error, t, ta, PageUser};
use crate::state::AppState;

const PAGE: i64 = 50;
/// Rows read per store call while writing the CSV.
const CSV_BATCH: i64 = 1_000;

/// What a ledger row is, as the customer reads it.
pub(super) fn kind_label(kind: LedgerKind) -> String {
    t(match kind {
        LedgerKind::Deposit => "ledger-deposit",
        LedgerKind::Adjustment => "ledger-adjustment",
        LedgerKind::Charge => "ledger-charge",
        LedgerKind::Refund => "ledger-refund",
        LedgerKind::Rent => "ledger-rent",
        LedgerKind::RentCredit => "ledger-rent-credit",
        LedgerKind::AffiliateTransfer => "ledger-affiliate",
    })
}

pub(super) async fn transactions_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let before = q.get("before").and_then(|b| b.parse::<i64>().ok());
    let rows = match st.store.ledger(u.user.id, before, PAGE).await {
        Ok(r) => r,
        Err(e) => return page_error(e),
    };
    let ids: Vec<OrderId> = rows.iter().filter_map(|r| r.order_id).collect();
    let orders = match st.store.orders_of_user(u.user.id, &ids).await {
        Ok(o) => o,
        Err(e) => return page_error(e),
    };
    let reference = |id: OrderId| {
        orders
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.reference.as_str())
    };
    let cur = &st.config.panel.currency;
    let next = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let content = html! {
        (flash(&q))
        div.card {
            div.card-head {
                h1 { (t("nav-transactions")) }
                a.button.secondary href="/transactions.csv" download { (t("export-csv")) }
            }
            p.hint { (ta("transactions-intro", &[("currency", cur.as_str().into())])) }
            @if rows.is_empty() {
                p.empty { (t("transactions-empty")) " " a href="/funds" { (t("nav-funds")) } }
            } @else {
                table.ledger {
                    thead { tr { th { (t("when")) } th { (t("what")) } th { (t("order")) } th { (t("amount")) } th { (t("balance")) } th { (t("note")) } } }
                    tbody { @for r in &rows {
                        tr #(format!("t-{}", r.id)) {
                            td data-label=(t("when")) { (when(&st, r.created_at)) }
                            td data-label=(t("what")) { (kind_label(r.kind)) }
                            td data-label=(t("order")) {
                                @match (r.order_id, r.order_id.and_then(reference)) {
                                    (Some(id), Some(refr)) => { a href=(format!("/orders/{refr}")) { "#" (id.0) } },
                                    (Some(id), None) => { "#" (id.0) },
                                    _ => { span.muted { "—" } },
                                }
                            }
                            td.amount data-label=(t("amount")) class=(if r.amount.is_negative() { "debit" } else { "credit" }) {
                                @if r.amount.is_positive() { "+" } (r.amount)
                            }
                            td data-label=(t("balance")) { (r.balance_after) }
                            td data-label=(t("note")) { span.hint { (r.reason) } }
                        }
                    } }
                }
                @if let Some(n) = next { p { a.button.secondary href=(format!("/transactions?before={n}")) { (t("older-plain")) } } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-transactions"), "transactions", content),
    )
}

/// The whole ledger of the signed-in customer as CSV.
pub(super) async fn transactions_csv(State(st): State<AppState>, u: PageUser) -> Response {
    let user = u.user.id;
    let currency = st.config.panel.currency.clone();
    super::csv_export::paged_csv(
        &format!("transactions-{}", user.0),
        &[
            "id",
            "created_at",
            "kind",
            "amount",
            "balance_after",
            "currency",
            "order_id",
            "note",
        ],
        CSV_BATCH,
        |before| st.store.ledger(user, before, CSV_BATCH),
        |r: &LedgerEntry| r.id,
        |r| {
            vec![
                r.id.to_string(),
                super::csv_export::rfc3339(r.created_at),
                r.kind.as_str().to_string(),
                r.amount.to_string(),
                r.balance_after.to_string(),
                currency.clone(),
                r.order_id.map(|o| o.0.to_string()).unwrap_or_default(),
                r.reason.clone(),
            ]
        },
    )
    .await
}
