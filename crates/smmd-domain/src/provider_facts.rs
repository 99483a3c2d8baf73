//! What a provider says about an order, checked against the order before anything is stored
//! (issue 15, "numbers stored as sent").
//!
//! A provider is untrusted: `remains` above the quantity or negative, a negative charge or start
//! count, or an order id such as `"-5"` would skew profit, refunds and what the customer sees.
//! Each fact is kept, clamped or dropped here, with a sentence for the order's note saying what
//! was wrong. Two quirks of real panels are handled on purpose:
//! - `remains: 0` on an order still Pending/In progress (nothing delivered yet) is not plausible
//!   and counts as unknown;
//! - `Partial` with `remains: 0` (or none) says nothing was left undelivered, so there is nothing
//!   to refund and no way to tell: the order goes to review instead of ending silently.

use crate::money::Money;
use crate::order::ProviderStatus;

/// The facts of one upstream `status` entry (API v2 `action=status`), already decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reported {
    pub status: ProviderStatus,
    pub start_count: Option<i64>,
    pub remains: Option<i64>,
    /// The provider's charge in panel money (micro-units), if it sent one.
    pub charge: Option<Money>,
}

/// The facts to store, and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub start_count: Option<i64>,
    /// Undelivered units, within `0..=total_quantity`; `None` = unknown.
    pub remains: Option<i64>,
    pub charge: Option<Money>,
    /// Sentences for the order note about facts that were clamped or dropped.
    pub notes: Vec<String>,
    /// Set when the status cannot be applied as reported and an admin must decide.
    pub review: Option<String>,
}

/// Checks `r` against an order of `total_quantity` units (quantity × runs for drip-feed).
pub fn check_status(total_quantity: i64, r: &Reported) -> Checked {
    let mut notes = Vec::new();
    let start_count = match r.start_count {
        Some(c) if c < 0 => {
            notes.push(format!("The provider sent start count {c}; ignored."));
            None
        }
        other => other,
    };
    let charge = match r.charge {
        Some(c) if c.is_negative() => {
            notes.push(format!(
                "The provider sent a negative charge ({c}); ignored."
            ));
            None
        }
        other => other,
    };
    let final_status = matches!(r.status, ProviderStatus::Partial | ProviderStatus::Canceled);
    let remains = match r.remains {
        None => None,
        Some(n) if n < 0 => {
            notes.push(format!("The provider sent remains {n}; ignored."));
            None
        }
        Some(n) if n > total_quantity => {
            if final_status {
                notes.push(format!(
                    "The provider sent remains {n} on an order of {total_quantity}; kept {total_quantity}."
                ));
                Some(total_quantity)
            } else {
                notes.push(format!(
                    "The provider sent remains {n} on an order of {total_quantity}; ignored."
                ));
                None
            }
        }
        // Nothing left to deliver on an order that is not done: implausible, so unknown.
        Some(0)
            if matches!(
                r.status,
                ProviderStatus::Pending | ProviderStatus::Processing | ProviderStatus::InProgress
            ) =>
        {
            None
        }
        Some(n) => Some(n),
    };
    let review = (r.status == ProviderStatus::Partial && remains.unwrap_or(0) == 0).then(|| {
        "The provider reports Partial but says nothing was left undelivered (remains 0): \
         check with the provider, then set the remains (refund) or mark it delivered."
            .to_string()
    });
    Checked {
        start_count,
        remains,
        charge,
        notes,
        review,
    }
}

/// Whether `id` is a usable provider order id (API v2 `add` → `order`): 1–64 characters of
/// ASCII letters, digits, `-`, `_`, `.`, `:`, not starting with `-`, and not zero.
/// Errors: a sentence for the order note.
pub fn check_provider_order_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        && id.bytes().any(|b| b != b'0');
    if ok {
        Ok(())
    } else {
        let shown: String = id.chars().take(40).flat_map(char::escape_debug).collect();
        Err(format!(
            "the provider answered with order id \"{shown}\", which is not a valid id"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProviderStatus as P;

    fn rep(status: P, remains: Option<i64>) -> Reported {
        Reported {
            status,
            start_count: Some(10),
            remains,
            charge: Some(Money::from_micros(500_000)),
        }
    }

    #[test]
    fn remains_above_the_quantity_is_clamped_when_final_and_dropped_otherwise() {
        let c = check_status(100, &rep(P::Partial, Some(1000)));
        assert_eq!(c.remains, Some(100));
        assert_eq!(c.review, None);
        assert!(c.notes[0].contains("remains 1000"), "{:?}", c.notes);
        let c = check_status(100, &rep(P::Canceled, Some(i64::MAX)));
        assert_eq!(c.remains, Some(100));
        let c = check_status(100, &rep(P::InProgress, Some(1000)));
        assert_eq!(c.remains, None);
        assert_eq!(c.notes.len(), 1);
    }

    #[test]
    fn negative_numbers_are_dropped_with_a_note() {
        let c = check_status(
            100,
            &Reported {
                status: P::InProgress,
                start_count: Some(-3),
                remains: Some(-1),
                charge: Some(Money::from_micros(-1)),
            },
        );
        assert_eq!((c.start_count, c.remains, c.charge), (None, None, None));
        assert_eq!(c.notes.len(), 3);
    }

    #[test]
    fn zero_remains_while_not_done_is_unknown() {
        for s in [P::Pending, P::Processing, P::InProgress] {
            let c = check_status(100, &rep(s, Some(0)));
            assert_eq!(c.remains, None, "{s:?}");
            assert!(c.notes.is_empty());
        }
        assert_eq!(
            check_status(100, &rep(P::InProgress, Some(40))).remains,
            Some(40)
        );
        assert_eq!(
            check_status(100, &rep(P::Completed, Some(0))).remains,
            Some(0)
        );
    }

    #[test]
    fn partial_with_nothing_undelivered_goes_to_review() {
        assert!(check_status(100, &rep(P::Partial, Some(0)))
            .review
            .is_some());
        assert!(check_status(100, &rep(P::Partial, None)).review.is_some());
        assert!(check_status(100, &rep(P::Partial, Some(-4)))
            .review
            .is_some());
        assert!(check_status(100, &rep(P::Partial, Some(30)))
            .review
            .is_none());
        assert!(check_status(100, &rep(P::Canceled, Some(0)))
            .review
            .is_none());
    }

    #[test]
    fn provider_order_ids_are_checked() {
        for good in ["1", "123456", "a1b2-c3", "ord_77", "9.1:2"] {
            assert_eq!(check_provider_order_id(good), Ok(()), "{good}");
        }
        for bad in ["", "-5", "0", "000", "1 2", "<b>", "٣", &"9".repeat(65)] {
            assert!(check_provider_order_id(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(check_provider_order_id("-5"), Err(e) if e.contains("\"-5\"")));
    }
}
