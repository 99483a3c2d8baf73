//! Offer failover (issue 20): which of a service's offers an unsent order goes to when the one
//! it is on is failing, and the reason code kept on the order when it moves.
//!
//! A service has offers in the owner's order: index 0 is the service's own provider, 1… its
//! fallbacks (`service_offers.position`). Each offer is classed from its provider's figures
//! ([`OfferState::classify`]): *healthy*, *degraded* (answers, but more than
//! [`DEGRADED_ERROR_PERMILLE`] of its recent calls failed), or *failing* with a reason (the
//! breaker is open and a read probe failed, the provider said it is out of funds, the upstream
//! service is gone, the call was not executed). [`pick`] chooses the healthiest offer, the
//! owner's order breaking ties, among those that still meet the margin.
//!
//! The rule that makes failover safe is not here but in who calls it: an order moves only while
//! no provider can have it — before its `add` was sent, or after an answer that says it was not
//! executed (a refusal, a connect failure, HTTP 429, an open circuit). An order whose `add`
//! might have been accepted (timeout, 5xx, unreadable answer) goes to review, never to another
//! offer.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Share of failed calls in the provider's recent window (per mille) from which an offer is
/// *degraded*: still used, but after the healthy ones.
pub const DEGRADED_ERROR_PERMILLE: u64 = 200;

/// Calls the window must hold before its error share classes an offer (fewer say nothing).
pub const DEGRADED_MIN_CALLS: u64 = 20;

/// Why an order left an offer (`orders.route_reason`, stored as [`Reason::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The provider is failing: its circuit is open and a read probe failed too.
    ProviderFailing,
    /// This order's `add` was not executed (connect failure, HTTP 429, open circuit, key
    /// refused): another offer takes it rather than waiting for this one.
    ProviderUnavailable,
    /// The provider refused for lack of funds (now, or recently: the offer stays failing for
    /// the funds retry period or until an order is accepted there).
    OutOfFunds,
    /// The upstream service is gone or disabled (refused as an unknown service, or absent from
    /// the provider's last service list).
    ServiceDisabled,
    /// The provider refused this order for another reason (link, quantity, active order…).
    Refused,
    /// The offer's live cost leaves less than the minimum margin; another offer meets it.
    BelowMargin,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::ProviderFailing,
        Reason::ProviderUnavailable,
        Reason::OutOfFunds,
        Reason::ServiceDisabled,
        Reason::Refused,
        Reason::BelowMargin,
    ];

    /// The stored and displayed code (`provider_failing`, `out_of_funds`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::ProviderFailing => "provider_failing",
            Reason::ProviderUnavailable => "provider_unavailable",
            Reason::OutOfFunds => "out_of_funds",
            Reason::ServiceDisabled => "service_disabled",
            Reason::Refused => "refused",
            Reason::BelowMargin => "below_margin",
        }
    }

    pub fn parse(text: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How usable one offer is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferState {
    Healthy,
    /// Answers, with an error share at or above [`DEGRADED_ERROR_PERMILLE`].
    Degraded,
    Failing(Reason),
}

/// What is known of one offer's provider and upstream service, for [`OfferState::classify`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OfferFacts {
    /// The breaker is open and a read probe did not close it.
    pub provider_failing: bool,
    /// The provider refused an order for lack of funds within the funds retry period.
    pub out_of_funds: bool,
    /// The upstream service was absent from the provider's last service list.
    pub service_missing: bool,
    /// Calls in the provider's recent window, and how many of them failed.
    pub calls: u64,
    pub failed_calls: u64,
}

impl OfferState {
    /// Classes an offer: an absent service first (nothing else can fix it), then funds, then a
    /// failing provider; otherwise degraded when at least [`DEGRADED_MIN_CALLS`] recent calls
    /// hold [`DEGRADED_ERROR_PERMILLE`] or more failures.
    pub fn classify(f: OfferFacts) -> OfferState {
        if f.service_missing {
            OfferState::Failing(Reason::ServiceDisabled)
        } else if f.out_of_funds {
            OfferState::Failing(Reason::OutOfFunds)
        } else if f.provider_failing {
            OfferState::Failing(Reason::ProviderFailing)
        } else if f.calls >= DEGRADED_MIN_CALLS
            && u128::from(f.failed_calls) * 1000
                >= u128::from(DEGRADED_ERROR_PERMILLE) * u128::from(f.calls)
        {
            OfferState::Degraded
        } else {
            OfferState::Healthy
        }
    }

    /// 0 healthy, 1 degraded, 2 failing: lower is preferred.
    pub const fn rank(self) -> u8 {
        match self {
            OfferState::Healthy => 0,
            OfferState::Degraded => 1,
            OfferState::Failing(_) => 2,
        }
    }

    /// The reason to leave an offer in this state, if it is failing.
    pub const fn failing(self) -> Option<Reason> {
        match self {
            OfferState::Failing(r) => Some(r),
            _ => None,
        }
    }
}

/// One offer as [`pick`] sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The offer index (0 = the service's own provider).
    pub index: i64,
    pub state: OfferState,
    /// Whether the order's charge covers this offer's live cost plus the minimum margin;
    /// `None` when the cost is unknown.
    pub meets_margin: Option<bool>,
}

/// Which offers [`pick`] may choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Before sending, or after a call that was not executed: any other offer that is not
    /// failing and not known to be below the margin.
    Healthy,
    /// After a refusal: only offers after the current one (an order never returns to an offer
    /// that refused it), failing ones last rather than never (a refusal with nowhere to go
    /// cancels the order), none known to be below the margin.
    After,
    /// Leaving an offer below the margin: only an offer whose cost is known to meet it, and
    /// not failing.
    MeetingMargin,
}

/// The best offer for an order now on offer `current`: the lowest [`OfferState::rank`], then the
/// owner's order. `None` when no offer in `scope` qualifies (the order stays where it is).
pub fn pick(candidates: &[Candidate], current: i64, scope: Scope) -> Option<i64> {
    candidates
        .iter()
        .filter(|c| c.index != current)
        .filter(|c| match scope {
            Scope::Healthy => c.state.failing().is_none() && c.meets_margin != Some(false),
            Scope::After => c.index > current && c.meets_margin != Some(false),
            Scope::MeetingMargin => c.state.failing().is_none() && c.meets_margin == Some(true),
        })
        .min_by_key(|c| (c.state.rank(), c.index))
        .map(|c| c.index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(index: i64, state: OfferState, meets_margin: Option<bool>) -> Candidate {
        Candidate {
            index,
            state,
            meets_margin,
        }
    }

    const FAILING: OfferState = OfferState::Failing(Reason::ProviderFailing);

    #[test]
    fn reasons_round_trip_through_their_codes() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
        assert_eq!(Reason::parse("Refused"), None);
    }

    #[test]
    fn classify_puts_a_missing_service_before_funds_before_a_failing_provider() {
        let all = OfferFacts {
            provider_failing: true,
            out_of_funds: true,
            service_missing: true,
            ..OfferFacts::default()
        };
        assert_eq!(
            OfferState::classify(all),
            OfferState::Failing(Reason::ServiceDisabled)
        );
        let funds = OfferFacts {
            service_missing: false,
            ..all
        };
        assert_eq!(
            OfferState::classify(funds),
            OfferState::Failing(Reason::OutOfFunds)
        );
        let failing = OfferFacts {
            out_of_funds: false,
            ..funds
        };
        assert_eq!(OfferState::classify(failing), FAILING);
    }

    #[test]
    fn an_error_share_degrades_only_with_enough_calls() {
        let at = |calls, failed_calls| {
            OfferState::classify(OfferFacts {
                calls,
                failed_calls,
                ..OfferFacts::default()
            })
        };
        assert_eq!(at(19, 19), OfferState::Healthy, "too few calls say nothing");
        assert_eq!(at(20, 4), OfferState::Degraded, "4/20 = 200 ‰");
        assert_eq!(at(20, 3), OfferState::Healthy, "3/20 = 150 ‰");
        assert_eq!(at(u64::MAX, u64::MAX), OfferState::Degraded, "no overflow");
    }

    #[test]
    fn pick_prefers_healthy_then_the_owners_order_and_never_the_current_offer() {
        let offers = [
            c(0, FAILING, None),
            c(1, OfferState::Degraded, None),
            c(2, OfferState::Healthy, None),
            c(3, OfferState::Healthy, None),
        ];
        assert_eq!(pick(&offers, 0, Scope::Healthy), Some(2));
        assert_eq!(pick(&offers, 2, Scope::Healthy), Some(3));
        let only_degraded = [c(0, FAILING, None), c(1, OfferState::Degraded, None)];
        assert_eq!(pick(&only_degraded, 0, Scope::Healthy), Some(1));
        assert_eq!(
            pick(&only_degraded, 1, Scope::Healthy),
            None,
            "0 is failing"
        );
    }

    #[test]
    fn pick_skips_offers_known_below_the_margin() {
        let offers = [
            c(0, FAILING, Some(true)),
            c(1, OfferState::Healthy, Some(false)),
            c(2, OfferState::Degraded, None),
        ];
        assert_eq!(
            pick(&offers, 0, Scope::Healthy),
            Some(2),
            "unknown cost is allowed"
        );
        assert_eq!(
            pick(&offers, 0, Scope::MeetingMargin),
            None,
            "only a known cost"
        );
        let known = [
            c(0, OfferState::Healthy, Some(false)),
            c(1, OfferState::Degraded, Some(true)),
        ];
        assert_eq!(pick(&known, 0, Scope::MeetingMargin), Some(1));
    }

    #[test]
    fn after_a_refusal_only_later_offers_count_and_failing_ones_come_last() {
        let offers = [
            c(0, OfferState::Healthy, None),
            c(1, OfferState::Healthy, None),
            c(2, FAILING, None),
            c(3, OfferState::Degraded, None),
        ];
        assert_eq!(pick(&offers, 1, Scope::After), Some(3), "never back to 0");
        assert_eq!(pick(&offers, 3, Scope::After), None);
        let failing_only = [c(0, OfferState::Healthy, None), c(1, FAILING, None)];
        assert_eq!(
            pick(&failing_only, 0, Scope::After),
            Some(1),
            "a failing offer beats cancelling"
        );
    }
}
