//! Cancel eligibility (architecture §2 step 6): what a cancel asked by a customer, or by an
//! admin on their behalf, does to an order. One pure rule, used by the store when it applies a
//! cancel and by the pages and APIs when they decide whether to offer one.
//!
//! - Never sent upstream (`queued`, or parked in `needs_review`): cancel here and refund in
//!   full ([`CancelPath::Local`]).
//! - Already at an outcome (`completed`, `partial`, `canceled`): refused.
//! - Sent, and the service allows cancel, and no cancel asked yet: ask the provider
//!   ([`CancelPath::Upstream`]); the refund follows the outcome the status sync sees.

use crate::order::OrderStatus;

/// The facts of an order the cancel rule reads.
#[derive(Clone, Copy, Debug)]
pub struct CancelFacts {
    pub status: OrderStatus,
    /// The service's cancel flag, copied onto the order at purchase.
    pub service_cancel: bool,
    /// A cancel was already asked of the provider.
    pub cancel_requested: bool,
}

/// How a cancel proceeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelPath {
    /// Cancel now with a full refund; nothing was sent upstream.
    Local,
    /// Ask the provider (`action=cancel`); refund when the sync sees the outcome.
    Upstream,
}

/// Why a cancel is refused. The texts are the PerfectPanel ones API v2 clients know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CancelRefusal {
    #[error("Cancel is not available for this service")]
    NotCancelable,
    #[error("Order is already completed")]
    AlreadyFinished,
    #[error("Cancel is already requested")]
    AlreadyRequested,
}

/// Decides a cancel, in the order a customer would want to hear the reasons.
pub fn check_cancel(f: &CancelFacts) -> Result<CancelPath, CancelRefusal> {
    match f.status {
        OrderStatus::Queued | OrderStatus::NeedsReview => Ok(CancelPath::Local),
        s if s.is_terminal() => Err(CancelRefusal::AlreadyFinished),
        _ if !f.service_cancel => Err(CancelRefusal::NotCancelable),
        _ if f.cancel_requested => Err(CancelRefusal::AlreadyRequested),
        _ => Ok(CancelPath::Upstream),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_flag_combination_has_one_answer() {
        for status in OrderStatus::ALL {
            for service_cancel in [false, true] {
                for cancel_requested in [false, true] {
                    let got = check_cancel(&CancelFacts {
                        status,
                        service_cancel,
                        cancel_requested,
                    });
                    let want = match status {
                        OrderStatus::Queued | OrderStatus::NeedsReview => Ok(CancelPath::Local),
                        OrderStatus::Completed | OrderStatus::Partial | OrderStatus::Canceled => {
                            Err(CancelRefusal::AlreadyFinished)
                        }
                        _ if !service_cancel => Err(CancelRefusal::NotCancelable),
                        _ if cancel_requested => Err(CancelRefusal::AlreadyRequested),
                        _ => Ok(CancelPath::Upstream),
                    };
                    assert_eq!(got, want, "{status} {service_cancel} {cancel_requested}");
                }
            }
        }
        // `submitting` may be in flight upstream: never canceled locally.
        assert_eq!(
            check_cancel(&CancelFacts {
                status: OrderStatus::Submitting,
                service_cancel: true,
                cancel_requested: false,
            }),
            Ok(CancelPath::Upstream)
        );
    }
}
