//! Order use cases of customers and resellers: place one order (with an optional request key
//! that makes retries return the first order), place a mass order line by line, cancel, and
//! ask for a refill. The checks are the domain's (`validate_order`, `check_cancel`,
//! `check_refill`); the store applies each in one transaction with its ledger entry.

use smmd_domain::cancel::{check_cancel, CancelFacts};
use smmd_domain::refill::{check_refill, RefillFacts};
use smmd_domain::service::{validate_order, OrderError, OrderInput};
use smmd_domain::{Money, OrderId, ServiceId, UserId};
use smmd_store::{
    CancelError, CancelOutcome, Order, PlaceOrderError, Placement, Refill, RefillRequestError,
    StoreError,
};

use crate::error::UseCaseError;
use crate::App;

/// Places an order for `user` on service `service_id` from raw input: the service must exist
/// and be enabled, the input must validate for its type (domain), then the store debits and
/// records it in one transaction. `request_key` is stored on the order (unique per user); see
/// [`place_order_once`] for retries.
///
/// Errors: the domain's [`OrderError`] (PerfectPanel texts: `Incorrect service ID`, `Not
/// enough funds on balance`, …) or a store failure; nothing written.
pub async fn place_order(
    app: App<'_>,
    user: UserId,
    service_id: i64,
    input: &OrderInput,
    placement: Placement<'_>,
) -> Result<Order, PlaceOrderError> {
    // The service and what prices it for this user, read in one go.
    let context = app.store.order_context(user, ServiceId(service_id)).await?;
    let service = context
        .service
        .filter(|s| s.enabled)
        .ok_or(OrderError::IncorrectService)?;
    // The user's price (a reseller tier's discount, a custom rate), by the one pricing function.
    let book = crate::pricing::book(&context.live, context.custom);
    let service = crate::pricing::priced(&book, &service);
    let spec = validate_order(&service.rules(), input)?;
    // The panel's maximum order amount (`[panel] max_order_amount`).
    if spec.charge > app.limits.max_order_amount {
        return Err(OrderError::AmountTooLarge.into());
    }
    // The rent reserve (`docs/billing.md`): an order may not eat the hours kept for the
    // user's rentals. A soft guard read before the debit (only for users who rent
    // something: the common order pays no extra read); the debit never goes below zero.
    let reserve = match book.rents_anything() {
        true => app.store.rent_reserve(user).await?,
        false => None,
    };
    if let Some((keep, hours, balance)) = reserve {
        let left = balance.micros().saturating_sub(spec.charge.micros());
        // Short of the charge itself: the store answers "Not enough funds on balance".
        if left >= 0 && left < keep.micros() {
            let left = Money::from_micros(left);
            return Err(OrderError::RentReserve { keep, hours, left }.into());
        }
    }
    let order = app
        .store
        .place_order(user, &service, &spec, placement, app.now())
        .await?;
    if let Some(wake) = app.wake {
        wake.wake(smmd_jobs::jobs::DISPATCH);
    }
    Ok(order)
}

/// A placement under a request key.
#[derive(Clone, Debug)]
pub enum Placed {
    /// Placed now.
    New(Order),
    /// The key was used before: the order its first request placed (nothing new written).
    Replayed(Order),
}

impl Placed {
    pub fn order(&self) -> &Order {
        match self {
            Placed::New(o) | Placed::Replayed(o) => o,
        }
    }
}

/// Most characters of a request key ([`request_key`]).
pub const REQUEST_KEY_MAX: usize = 200;

/// A request key as a client sends it (REST `Idempotency-Key`, API v2 `add`'s `request_id`):
/// trimmed, 1 to [`REQUEST_KEY_MAX`] visible ASCII characters; `None` for anything else.
pub fn request_key(raw: &str) -> Option<&str> {
    let key = raw.trim();
    (!key.is_empty() && key.len() <= REQUEST_KEY_MAX && key.bytes().all(|b| b.is_ascii_graphic()))
        .then_some(key)
}

/// Places an order at most once per `(user, key)`: a key seen before returns its first order,
/// also when two requests with it race (the loser reads the winner's order). This is REST's
/// `Idempotency-Key`, API v2's `request_id` and the mass order's per-line key. `panel`: the
/// hosted child whose `/api/v2` key places it ([`Placement::panel`]).
pub async fn place_order_once(
    app: App<'_>,
    user: UserId,
    service_id: i64,
    input: &OrderInput,
    key: &str,
    panel: Option<i64>,
) -> Result<Placed, PlaceOrderError> {
    if let Some(first) = app.store.order_by_request_key(user, key).await? {
        return Ok(Placed::Replayed(first));
    }
    let placement = Placement {
        request_key: Some(key),
        panel,
    };
    match place_order(app, user, service_id, input, placement).await {
        Ok(o) => Ok(Placed::New(o)),
        Err(PlaceOrderError::Store(StoreError::Conflict("orders.request_key"))) => app
            .store
            .order_by_request_key(user, key)
            .await?
            .map(Placed::Replayed)
            .ok_or_else(|| {
                PlaceOrderError::Store(StoreError::Other(anyhow::anyhow!(
                    "request key conflict without an order"
                )))
            }),
        Err(e) => Err(e),
    }
}

/// Whether a replayed order is what a new request with the same key asks for: the same
/// service, link (trimmed) and quantity (when given). A key reused for something else must be
/// refused, not answered with the wrong order.
pub fn asks_for_same(first: &Order, service_id: i64, input: &OrderInput) -> bool {
    first.service_id.0 == service_id
        && first.link.as_deref().map(str::trim) == input.link.as_deref().map(str::trim)
        && input
            .quantity
            .as_deref()
            .is_none_or(|q| q.trim().parse::<i64>().ok() == Some(first.quantity))
}

/// Most lines one mass order takes.
pub const MASS_ORDER_MAX_LINES: usize = 100;

/// One readable line of a mass order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MassLine {
    /// 1-based line number in the submitted text (blank lines count).
    pub line: usize,
    pub service: i64,
    pub link: String,
    pub quantity: String,
}

/// A mass-order line read, or its 1-based number and why it could not be.
pub type MassLineResult = Result<MassLine, (usize, String)>;

/// Reads a mass order: one `service | link | quantity` per line (the PerfectPanel format),
/// blank lines skipped. Each line is read on its own: an unreadable line gives its 1-based
/// number and why, and does not stop the others. Errors: more than
/// [`MASS_ORDER_MAX_LINES`] orders, or none.
pub fn parse_mass_order(text: &str) -> Result<Vec<MassLineResult>, &'static str> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let n = i + 1;
        out.push(match parts.as_slice() {
            [service, link, quantity] => match service.parse::<i64>() {
                Ok(service) if service > 0 => {
                    if link.is_empty() {
                        Err((n, "the link is empty".to_string()))
                    } else {
                        Ok(MassLine {
                            line: n,
                            service,
                            link: link.to_string(),
                            quantity: quantity.to_string(),
                        })
                    }
                }
                _ => Err((n, format!("`{service}` is not a service id"))),
            },
            _ => Err((n, "write it as: service id | link | quantity".to_string())),
        });
        if out.len() > MASS_ORDER_MAX_LINES {
            return Err("at most 100 orders at once");
        }
    }
    if out.is_empty() {
        return Err("write one order per line: service id | link | quantity");
    }
    Ok(out)
}

/// The outcome of one mass-order line: its number and order, or its number and why not.
pub type MassOutcome = Result<(usize, Order), (usize, String)>;

/// Places a mass order: each readable line by the rules of a single order, under the request
/// key `mass:<batch>:<line>`, so the same form sent twice (a double click, a reload) places
/// nothing twice and shows the first orders. `batch` is the form's random token.
///
/// Errors: the whole text refused (no lines, too many) as `Ok(Err(why))`; a store failure.
pub async fn place_mass_order(
    app: App<'_>,
    user: UserId,
    text: &str,
    batch: &str,
) -> Result<Result<Vec<MassOutcome>, &'static str>, StoreError> {
    let lines = match parse_mass_order(text) {
        Ok(l) => l,
        Err(why) => return Ok(Err(why)),
    };
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let l = match line {
            Ok(l) => l,
            Err(bad) => {
                out.push(Err(bad));
                continue;
            }
        };
        let input = OrderInput {
            link: Some(l.link.clone()),
            quantity: Some(l.quantity.clone()),
            ..Default::default()
        };
        let key = format!("mass:{batch}:{}", l.line);
        out.push(
            match place_order_once(app, user, l.service, &input, &key, None).await {
                Ok(p) => Ok((l.line, p.order().clone())),
                Err(PlaceOrderError::Rejected(e)) => Err((l.line, e.to_string())),
                Err(PlaceOrderError::Store(e)) => return Err(e),
            },
        );
    }
    Ok(Ok(out))
}

/// Cancels order `id` of `user` (the domain's cancel rule): canceled and refunded at once when
/// never sent, else the provider is asked. Another user's order is `NotFound`.
pub async fn cancel_order(
    app: App<'_>,
    user: UserId,
    id: OrderId,
) -> Result<CancelOutcome, UseCaseError> {
    cancel_as(app, user, id, None).await
}

/// The cancel of [`cancel_order`], optionally audited as an admin's (written with it).
pub(crate) async fn cancel_as(
    app: App<'_>,
    user: UserId,
    id: OrderId,
    audit: Option<smmd_store::NewAudit>,
) -> Result<CancelOutcome, UseCaseError> {
    let mut out = app
        .store
        .cancel_orders(user, &[id], app.now(), audit)
        .await?;
    wake_cancels(app, &out);
    match out.pop() {
        Some((_, Ok(outcome))) => Ok(outcome),
        Some((_, Err(e))) => Err(cancel_refusal(e)),
        None => Err(anyhow::anyhow!("cancel returned nothing").into()),
    }
}

fn cancel_refusal(e: CancelError) -> UseCaseError {
    use crate::error::Coded;
    UseCaseError::refused(e.code(), e.to_string())
}

/// Cancels several orders of `user` at once (API v2 `action=cancel`, multi form); each id gets
/// its own outcome and transaction.
pub async fn cancel_orders(
    app: App<'_>,
    user: UserId,
    ids: &[OrderId],
) -> Result<Vec<(OrderId, Result<CancelOutcome, CancelError>)>, StoreError> {
    let out = app.store.cancel_orders(user, ids, app.now(), None).await?;
    wake_cancels(app, &out);
    Ok(out)
}

/// A cancel the provider must be asked for is sent by `orders.sync_status`: on a panel that
/// runs on demand, run it now.
fn wake_cancels(app: App<'_>, out: &[(OrderId, Result<CancelOutcome, CancelError>)]) {
    if let Some(wake) = app.wake {
        if out
            .iter()
            .any(|(_, r)| matches!(r, Ok(CancelOutcome::Requested)))
        {
            wake.wake(smmd_jobs::jobs::SYNC_STATUS);
        }
    }
}

/// Whether a cancel of `o` would be taken now (to show or hide the button).
pub fn can_cancel(o: &Order) -> bool {
    check_cancel(&CancelFacts {
        status: o.status,
        service_cancel: o.cancel,
        cancel_requested: o.cancel_requested,
    })
    .is_ok()
}

/// Asks for a refill of order `id` of `user` (the domain's refill rules).
pub async fn request_refill(
    app: App<'_>,
    user: UserId,
    id: OrderId,
) -> Result<Refill, RefillRequestError> {
    let refill = app.store.request_refill(user, id, app.now()).await?;
    if let Some(wake) = app.wake {
        wake.wake(smmd_jobs::jobs::REFILLS_DISPATCH);
    }
    Ok(refill)
}

/// Whether a refill of `o` would be taken at `now` (epoch ms), given whether one is active.
pub fn can_refill(o: &Order, has_active_refill: bool, now: i64) -> bool {
    check_refill(&RefillFacts {
        service_refill: o.refill,
        status: o.status,
        completed_at_ms: o.completed_at,
        guarantee_days: o.guarantee_days,
        has_active_refill,
        now_ms: now,
    })
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_is_read_on_its_own() {
        let text = "1 | https://x.io/a | 100\n\n  2|https://x.io/b|  50 \nabc | https://x.io/c | 5\n3 | https://x.io/d\n4 |  | 10\n";
        let got = parse_mass_order(text).expect("readable");
        assert_eq!(
            got[0],
            Ok(MassLine {
                line: 1,
                service: 1,
                link: "https://x.io/a".into(),
                quantity: "100".into()
            })
        );
        assert_eq!(
            got[1]
                .as_ref()
                .map(|l| (l.line, l.service, l.quantity.as_str())),
            Ok((3, 2, "50"))
        );
        assert_eq!(got[2], Err((4, "`abc` is not a service id".into())));
        assert!(matches!(&got[3], Err((5, m)) if m.contains("service id | link | quantity")));
        assert_eq!(got[4], Err((6, "the link is empty".into())));
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn empty_or_oversized_orders_are_refused_whole() {
        assert!(parse_mass_order(" \n\n").is_err());
        let many: String = (0..=MASS_ORDER_MAX_LINES)
            .map(|i| format!("1 | https://x.io/{i} | 100\n"))
            .collect();
        assert_eq!(parse_mass_order(&many), Err("at most 100 orders at once"));
        let enough: String = (0..MASS_ORDER_MAX_LINES)
            .map(|i| format!("1 | https://x.io/{i} | 100\n"))
            .collect();
        assert_eq!(parse_mass_order(&enough).map(|v| v.len()), Ok(100));
    }
}
