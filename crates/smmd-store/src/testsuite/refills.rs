//! Conformance cases — Refills: the eligibility rules.

use crate::*;
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::refill::{RefillError, RefillStatus};
use smmd_domain::RefillId;
use std::sync::Arc;

use super::*;

pub async fn refills_follow_the_eligibility_rules(store: Arc<dyn Store>) {
    let u = user(&store, "f@x.io", "1").await;
    let svc = followers(&store).await;
    let o = place(&store, u.id, &svc, "https://instagram.com/f", 100)
        .await
        .expect("placed");
    let early = store.request_refill(u.id, o.id, NOW).await;
    assert!(
        matches!(
            early,
            Err(RefillRequestError::Ineligible(RefillError::NotCompleted))
        ),
        "{early:?}"
    );
    accept(&store, &o).await;
    store
        .apply_order_update(update(
            &o,
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            Some(0),
        ))
        .await
        .expect("complete");
    let stranger = user(&store, "g@x.io", "0").await;
    assert!(matches!(
        store.request_refill(stranger.id, o.id, NOW).await,
        Err(RefillRequestError::NotFound)
    ));
    let r = store
        .request_refill(u.id, o.id, NOW + 120_000)
        .await
        .expect("refill");
    assert_eq!((r.status, r.order_id), (RefillStatus::Pending, o.id));
    let dup = store.request_refill(u.id, o.id, NOW + 130_000).await;
    assert!(
        matches!(
            dup,
            Err(RefillRequestError::Ineligible(RefillError::AlreadyActive))
        ),
        "{dup:?}"
    );
    store
        .set_refill_status(r.id, RefillStatus::Completed, NOW + 200_000)
        .await
        .expect("status");
    let seen = store
        .refills_of_user(u.id, &[r.id, RefillId(77_777)])
        .await
        .expect("read");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].status, RefillStatus::Completed);
    assert!(store
        .refills_of_user(stranger.id, &[r.id])
        .await
        .expect("read")
        .is_empty());
    store
        .request_refill(u.id, o.id, NOW + 300_000)
        .await
        .expect("a new refill after the first ended");
    let late = store
        .request_refill(u.id, o.id, NOW + 60_000 + 31 * 86_400_000)
        .await;
    assert!(
        matches!(late, Err(RefillRequestError::Ineligible(_))),
        "{late:?}"
    );
    assert_ledger_consistent(&store).await;
}
