//! `orders.dispatch` (architecture §2 step 2): send queued orders to their provider offer, at
//! most once per offer.
//!
//! 1. Orders left `submitting` longer than `stale_submitting_ms` were interrupted mid-call (the
//!    process died): they go to `needs_review` — the provider may have them.
//! 2. Per enabled provider, in its own lane ([`crate::lanes`]): claim a batch no larger than
//!    what can be in flight at once to it (its `max_concurrency`): the orders become
//!    `submitting` and are committed *before* any call, so a crash leaves at most one batch per
//!    provider to review, and a hung provider holds up only its own orders. Orders whose offer
//!    is failing move to another offer before any call ([`crate::failover`]); orders below the
//!    margin move or are held ([`crate::margin`]).
//! 3. One `add` per order, concurrently (each provider's client bounds its own concurrency):
//!    - accepted → `processing` with the provider order id;
//!    - refused (the provider said no) → a later offer of the service if there is one (the
//!      healthiest first, [`crate::failover`]), else `canceled` with a full refund, the
//!      provider's message kept on the order;
//!    - not executed (connect failure, 429, open circuit, bad key) → another offer that is not
//!      failing if the service has one, else back to `queued` on the same offer with an admin
//!      alert, retried by the next run (never again within this one);
//!    - ambiguous (timeout, 5xx, HTML or an unreadable answer after sending) → `needs_review`
//!      with an admin alert. Never resent automatically: API v2 has no idempotency key.
//!
//! An smmd upstream (a hosted child's parent, [`crate::clients::PARENT_URL`]) places an order
//! once per `request_id` (our `/api/v2` extension), so orders sent to it carry one
//! ([`upstream_request_id`]), and there an ambiguous answer or an interrupted call puts the
//! order back in the queue instead: the repeat is answered with the first order, never a
//! second one.

use std::collections::{HashMap, HashSet};

use futures::stream::{self, StreamExt};
use smmd_domain::alert::{order_subject, provider_subject, AlertKind};
use smmd_domain::order::{OrderEvent, OrderStatus};
use smmd_domain::service::ServiceType;
use smmd_domain::ServiceId;
use smmd_provider::{ProviderError, RejectKind};
use smmd_store::{Order, OrderUpdate, Provider, UpdateOutcome};

use crate::failover::{self, Board};
use crate::params::add_params;
use crate::{bump, lanes, Fulfil, Report};

/// What happened to one order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sent {
    Accepted,
    NextOffer,
    Rerouted,
    Canceled,
    Requeued,
    Review,
    Stale,
}

/// Runs one dispatch pass. Counters: `claimed`, `accepted`, `next_offer` (refused, moved to
/// a later offer), `rerouted` (moved off a failing offer before or instead of a call),
/// `margin_held`, `canceled`,
/// `requeued`, `needs_review`, `recovered` (interrupted orders sent to review), `errors`, and
/// the lane counters of [`lanes::per_provider`]: each enabled provider is dispatched in its own
/// lane, so a provider that hangs delays only its own orders.
pub async fn run(f: &Fulfil) -> anyhow::Result<Report> {
    let mut report = Report::new();
    recover_interrupted(f, &mut report).await?;
    let parts = lanes::per_enabled_provider(f, "dispatch", |f, p| async move {
        dispatch_provider(&f, &p).await
    })
    .await?;
    crate::merge(&mut report, parts);
    Ok(report)
}

/// One provider's part: batches no larger than what can be in flight at once to it (its
/// `max_concurrency`), so a crash leaves at most that many orders `submitting` (then in review)
/// and no claimed order waits behind another call.
async fn dispatch_provider(f: &Fulfil, p: &Provider) -> anyhow::Result<Report> {
    let mut report = Report::new();
    let mut types: HashMap<ServiceId, ServiceType> = HashMap::new();
    let batch = p.max_concurrency.clamp(1, f.settings.dispatch_batch.max(1));
    for _ in 0..f.settings.dispatch_max_batches.max(1) {
        let claimed = f
            .store
            .claim_dispatch(Some(p.id), batch, f.clock.now_ms())
            .await?;
        bump(&mut report, "claimed", claimed.len() as i64);
        if claimed.is_empty() {
            break;
        }
        let full = claimed.len() as i64 >= batch;
        for o in &claimed {
            if let std::collections::hash_map::Entry::Vacant(e) = types.entry(o.service_id) {
                if let Some(s) = f.store.service(o.service_id).await? {
                    e.insert(s.service_type);
                }
            }
        }
        let board = Board::load(f).await?;
        let packages: HashSet<ServiceId> = types
            .iter()
            .filter(|(_, t)| t.is_package())
            .map(|(id, _)| *id)
            .collect();
        let claimed =
            crate::failover::before_send(f, &board, p, claimed, &packages, &mut report).await?;
        let claimed = crate::margin::guard(f, &board, p, claimed, &types, &mut report).await?;
        let board = &board;
        let results: Vec<anyhow::Result<Sent>> = stream::iter(claimed)
            .map(|o| {
                let ty = types.get(&o.service_id).copied();
                send_one(f, board, o, ty, Some(p))
            })
            .buffer_unordered(batch as usize)
            .collect()
            .await;
        let mut requeued = false;
        for r in results {
            match r {
                Ok(sent) => {
                    requeued |= sent == Sent::Requeued;
                    bump(&mut report, counter(sent), 1);
                }
                Err(e) => {
                    tracing::error!(error = %e, "dispatch: storing an outcome failed");
                    bump(&mut report, "errors", 1);
                }
            }
        }
        // A provider that could not take orders (down, rate limiting, refusing our key) gets
        // them again at the next run, not in a loop within this one.
        if !full || requeued {
            break;
        }
    }
    Ok(report)
}

fn counter(s: Sent) -> &'static str {
    match s {
        Sent::Accepted => "accepted",
        Sent::NextOffer => "next_offer",
        Sent::Rerouted => "rerouted",
        Sent::Canceled => "canceled",
        Sent::Requeued => "requeued",
        Sent::Review => "needs_review",
        Sent::Stale => "stale",
    }
}

/// Whether provider `p` places an order at most once per `request_id` (API v2 `add`, our
/// extension): an smmd upstream, which a hosted child's parent always is.
pub fn takes_request_id(p: &Provider) -> bool {
    p.url == crate::clients::PARENT_URL
}

/// The `request_id` order `o` is sent under to a provider that [`takes_request_id`]: its id
/// and its random reference (`smmd-42-9f86d081884c`), unique among this panel's orders and,
/// by the reference's 48 random bits, among the other panels buying on the same upstream
/// account.
pub fn upstream_request_id(o: &Order) -> String {
    format!("smmd-{}-{}", o.id.0, o.reference)
}

async fn recover_interrupted(f: &Fulfil, report: &mut Report) -> anyhow::Result<()> {
    let now = f.clock.now_ms();
    let stale = f
        .store
        .stale_submitting(now - f.settings.stale_submitting_ms, 1_000)
        .await?;
    let providers = match stale.is_empty() {
        true => Vec::new(),
        false => f.store.providers().await?,
    };
    for o in stale {
        let again = providers
            .iter()
            .any(|p| Some(p.id) == o.provider_id && takes_request_id(p));
        if again {
            // Sent under its request id: the repeat gets the first order back, if any.
            let mut u = OrderUpdate::new(
                o.id,
                OrderStatus::Submitting,
                OrderEvent::ProviderRejected { next_offer: true },
                now,
            );
            u.note = Some(
                "Dispatch was interrupted during the provider call; sent again under its request id"
                    .into(),
            );
            if let UpdateOutcome::Applied { .. } = f.store.apply_order_update(u).await? {
                bump(report, "recovered", 1);
            }
            continue;
        }
        let mut u = OrderUpdate::new(o.id, OrderStatus::Submitting, OrderEvent::Ambiguous, now);
        u.note = Some(
            "Dispatch was interrupted during the provider call; the provider may have received \
             the order. Check the provider panel, then attach its order id, resend, or cancel."
                .into(),
        );
        if let UpdateOutcome::Applied { .. } = f.store.apply_order_update(u).await? {
            review_alert(f, o.id.0, "dispatch interrupted").await;
            bump(report, "recovered", 1);
        }
    }
    Ok(())
}

async fn review_alert(f: &Fulfil, order: i64, why: &str) {
    let subject = order_subject(smmd_domain::OrderId(order));
    let msg = format!("Order #{order} needs review: {why}");
    if let Err(e) = f
        .store
        .raise_alert(
            AlertKind::OrderNeedsReview,
            &subject,
            &msg,
            f.clock.now_ms(),
        )
        .await
    {
        tracing::warn!(error = %e, "raising an alert failed");
    }
}

async fn send_one(
    f: &Fulfil,
    board: &Board<'_>,
    o: Order,
    ty: Option<ServiceType>,
    provider: Option<&Provider>,
) -> anyhow::Result<Sent> {
    let now = || f.clock.now_ms();
    let (Some(ty), Some(provider), Some(psid)) = (ty, provider, o.provider_service_id.clone())
    else {
        // Claimed orders always have these; a vanished service or provider row goes to review.
        return settle(
            f,
            board,
            &o,
            false,
            Outcome::Ambiguous("service or provider missing".into()),
            now(),
        )
        .await;
    };
    let again = takes_request_id(provider);
    let mut params = add_params(&o, &psid, ty);
    if again {
        params.push(("request_id", upstream_request_id(&o)));
    }
    let outcome = match f.clients.get(provider) {
        Err(e) => Outcome::NotSent(e.to_string()),
        Ok(client) => match client.add(&params).await {
            // An id such as "-5" cannot be tracked; the order may exist upstream: review.
            Ok(pid) => match smmd_domain::provider_facts::check_provider_order_id(&pid) {
                Ok(()) => Outcome::Accepted(pid),
                Err(why) => Outcome::Ambiguous(why),
            },
            Err(ProviderError::Rejected { kind, message }) => Outcome::Refused(kind, message),
            // Lost in transit: under its request id, asking again is safe.
            Err(ProviderError::Ambiguous(m)) if again => Outcome::NotSent(m),
            Err(ProviderError::Ambiguous(m)) => Outcome::Ambiguous(m),
            Err(
                e @ (ProviderError::Transient(_)
                | ProviderError::Auth(_)
                | ProviderError::Config(_)),
            ) => Outcome::NotSent(e.to_string()),
            // The client reports every unreadable `add` answer as ambiguous; be safe anyway.
            Err(e) => Outcome::Ambiguous(e.to_string()),
        },
    };
    if matches!(outcome, Outcome::Accepted(_)) && provider.out_of_funds_at.is_some() {
        // It takes orders again: offers on it stop counting as out of funds.
        f.store.set_provider_out_of_funds(provider.id, None).await?;
    }
    settle(f, board, &o, ty.is_package(), outcome, now()).await
}

enum Outcome {
    Accepted(String),
    Refused(RejectKind, String),
    NotSent(String),
    Ambiguous(String),
}

async fn settle(
    f: &Fulfil,
    board: &Board<'_>,
    o: &Order,
    package: bool,
    outcome: Outcome,
    now: i64,
) -> anyhow::Result<Sent> {
    let base = |event| OrderUpdate::new(o.id, OrderStatus::Submitting, event, now);
    let (u, sent) = match outcome {
        Outcome::Accepted(pid) => {
            let mut u = base(OrderEvent::ProviderAccepted);
            u.provider_order_id = Some(pid.clone());
            if let UpdateOutcome::Applied { .. } = f.store.apply_order_update(u).await? {
                return Ok(Sent::Accepted);
            }
            // The call outlived `stale_submitting_ms` and another pass moved the order to
            // review meanwhile: the provider's answer settles that review.
            let mut attach = OrderUpdate::new(
                o.id,
                OrderStatus::NeedsReview,
                OrderEvent::ReviewAttach,
                now,
            );
            attach.provider_order_id = Some(pid);
            attach.note = Some("Accepted by the provider after a slow answer".into());
            return Ok(match f.store.apply_order_update(attach).await? {
                UpdateOutcome::Applied { .. } => {
                    let _ = f
                        .store
                        .resolve_alert(AlertKind::OrderNeedsReview, &order_subject(o.id), now)
                        .await;
                    Sent::Accepted
                }
                _ => Sent::Stale,
            });
        }
        Outcome::Refused(kind, message) => {
            if kind == RejectKind::InsufficientFunds {
                if let Some(p) = o.provider_id {
                    f.store.set_provider_out_of_funds(p, Some(now)).await?;
                    let _ = f
                        .store
                        .raise_alert(
                            AlertKind::ProviderFunds,
                            &provider_subject(p),
                            &format!("Provider refused an order for lack of funds: {message}"),
                            now,
                        )
                        .await;
                }
            }
            if let (RejectKind::Service, Some(p), Some(id)) =
                (kind, o.provider_id, o.provider_service_id.as_deref())
            {
                f.store.mark_provider_service_missing(p, id, now).await?;
            }
            let reason = failover::refusal_reason(kind);
            match failover::after_refusal(f, board, o, package).await? {
                Some((next, offer)) => {
                    let why = format!("refused: {message}");
                    let u = failover::move_update(f, board, o, next, offer, reason, &why);
                    (u, Sent::NextOffer)
                }
                None => {
                    let mut u = base(OrderEvent::ProviderRejected { next_offer: false });
                    u.note = Some(format!("Refused by the provider: {message}"));
                    (u, Sent::Canceled)
                }
            }
        }
        Outcome::NotSent(why) => {
            if let Some(p) = o.provider_id {
                let _ = f
                    .store
                    .raise_alert(
                        AlertKind::ProviderUnavailable,
                        &provider_subject(p),
                        &format!("Orders for this provider are waiting: {why}"),
                        now,
                    )
                    .await;
            }
            // Not executed: another offer that is not failing takes it now, if there is one.
            let reason = smmd_domain::failover::Reason::ProviderUnavailable;
            let scope = smmd_domain::failover::Scope::Healthy;
            let detail = format!("not sent: {why}");
            if failover::reroute(f, board, o, package, reason, scope, &detail).await? {
                return Ok(Sent::Rerouted);
            }
            // Back to the queue on the same offer: the transition is the same as a rejection
            // that tries another offer, with no offer change.
            let mut u = base(OrderEvent::ProviderRejected { next_offer: true });
            u.note = Some(format!("Not sent, will retry: {why}"));
            (u, Sent::Requeued)
        }
        Outcome::Ambiguous(why) => {
            let mut u = base(OrderEvent::Ambiguous);
            u.note = Some(format!(
                "The provider's answer was lost or unusable ({why}); it may have the order. Check the provider \
                 panel, then attach its order id, resend, or cancel."
            ));
            (u, Sent::Review)
        }
    };
    match f.store.apply_order_update(u).await? {
        UpdateOutcome::Applied { .. } => {
            if sent == Sent::Review {
                review_alert(f, o.id.0, "the provider's answer was lost").await;
            }
            Ok(sent)
        }
        UpdateOutcome::Stale | UpdateOutcome::Illegal(_) => Ok(Sent::Stale),
    }
}
