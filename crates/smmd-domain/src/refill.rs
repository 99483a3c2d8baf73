//! Refill rules: when a customer may ask for a refill, and the refill state names.
//!
//! Eligibility (architecture §2 step 5): the service offers refill, the order ended `Completed`
//! or `Partial`, the request falls inside the guarantee copied onto the order at purchase
//! (`completed_at + guarantee_days`), and the order has no refill still active.

use serde::{Deserialize, Serialize};

use crate::clock::DAY_MS;
use crate::order::OrderStatus;

/// A refill request's state. Stored as the snake_case name; API v2 shows [`RefillStatus::wire`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefillStatus {
    /// Waiting to be sent upstream.
    Pending,
    /// Sent upstream and being worked on.
    InProgress,
    Completed,
    Rejected,
}

impl RefillStatus {
    pub const ALL: [RefillStatus; 4] = [
        RefillStatus::Pending,
        RefillStatus::InProgress,
        RefillStatus::Completed,
        RefillStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefillStatus::Pending => "pending",
            RefillStatus::InProgress => "in_progress",
            RefillStatus::Completed => "completed",
            RefillStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<RefillStatus> {
        RefillStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// API v2 `refill_status` string (spec §5.2).
    pub fn wire(self) -> &'static str {
        match self {
            RefillStatus::Pending => "Pending",
            RefillStatus::InProgress => "In progress",
            RefillStatus::Completed => "Completed",
            RefillStatus::Rejected => "Rejected",
        }
    }

    /// Pending and In progress block a second refill of the same order.
    pub fn is_active(self) -> bool {
        matches!(self, RefillStatus::Pending | RefillStatus::InProgress)
    }
}

/// Facts about an order that decide refill eligibility.
#[derive(Clone, Copy, Debug)]
pub struct RefillFacts {
    pub service_refill: bool,
    pub status: OrderStatus,
    /// Epoch ms of the terminal status; `None` if not finished.
    pub completed_at_ms: Option<i64>,
    /// Guarantee copied onto the order at purchase.
    pub guarantee_days: i64,
    pub has_active_refill: bool,
    pub now_ms: i64,
}

/// Why a refill cannot be requested. `Display` is the customer-facing and API v2 error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefillError {
    #[error("Refill is not available for this service")]
    NotRefillable,
    #[error("Order is not completed yet")]
    NotCompleted,
    #[error("Refill guarantee period has expired")]
    GuaranteeExpired,
    #[error("A refill for this order is already in progress")]
    AlreadyActive,
}

/// Checks every refill rule, in the order a customer would want to hear them.
pub fn check_refill(f: &RefillFacts) -> Result<(), RefillError> {
    if !f.service_refill || f.guarantee_days <= 0 {
        return Err(RefillError::NotRefillable);
    }
    if !matches!(f.status, OrderStatus::Completed | OrderStatus::Partial) {
        return Err(RefillError::NotCompleted);
    }
    let completed = f.completed_at_ms.ok_or(RefillError::NotCompleted)?;
    let deadline = completed.saturating_add(f.guarantee_days.saturating_mul(DAY_MS));
    if f.now_ms > deadline {
        return Err(RefillError::GuaranteeExpired);
    }
    if f.has_active_refill {
        return Err(RefillError::AlreadyActive);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> RefillFacts {
        RefillFacts {
            service_refill: true,
            status: OrderStatus::Completed,
            completed_at_ms: Some(1_000),
            guarantee_days: 30,
            has_active_refill: false,
            now_ms: 1_000 + 29 * DAY_MS,
        }
    }

    #[test]
    fn completed_or_partial_inside_the_guarantee_is_eligible() {
        assert_eq!(check_refill(&facts()), Ok(()));
        assert_eq!(
            check_refill(&RefillFacts {
                status: OrderStatus::Partial,
                ..facts()
            }),
            Ok(())
        );
        assert_eq!(
            check_refill(&RefillFacts {
                now_ms: 1_000 + 30 * DAY_MS,
                ..facts()
            }),
            Ok(()),
            "last instant"
        );
    }

    #[test]
    fn each_rule_rejects_on_its_own() {
        assert_eq!(
            check_refill(&RefillFacts {
                service_refill: false,
                ..facts()
            }),
            Err(RefillError::NotRefillable)
        );
        assert_eq!(
            check_refill(&RefillFacts {
                guarantee_days: 0,
                ..facts()
            }),
            Err(RefillError::NotRefillable)
        );
        for s in OrderStatus::ALL {
            let r = check_refill(&RefillFacts {
                status: s,
                ..facts()
            });
            assert_eq!(
                r.is_ok(),
                matches!(s, OrderStatus::Completed | OrderStatus::Partial),
                "{s}"
            );
        }
        assert_eq!(
            check_refill(&RefillFacts {
                completed_at_ms: None,
                ..facts()
            }),
            Err(RefillError::NotCompleted)
        );
        assert_eq!(
            check_refill(&RefillFacts {
                now_ms: 1_001 + 30 * DAY_MS,
                ..facts()
            }),
            Err(RefillError::GuaranteeExpired)
        );
        assert_eq!(
            check_refill(&RefillFacts {
                has_active_refill: true,
                ..facts()
            }),
            Err(RefillError::AlreadyActive)
        );
    }

    #[test]
    fn refill_status_names_round_trip() {
        for s in RefillStatus::ALL {
            assert_eq!(RefillStatus::parse(s.as_str()), Some(s));
        }
        assert!(RefillStatus::Pending.is_active() && !RefillStatus::Rejected.is_active());
    }
}
