//! Admin alert vocabulary: the kinds of alert the panel raises and the subjects they are about.
//! An alert is open per `(kind, subject)` until resolved; raising it again refreshes it. The
//! kind's text is stored and shown in notifications (`alert.<kind>`), so it never changes.

use crate::ids::{OrderId, ProviderId};

macro_rules! kinds {
    ($($variant:ident = ($text:literal, $title:literal),)*) => {
        /// What an admin alert is about.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum AlertKind {
            $(#[doc = $title] $variant,)*
        }

        impl AlertKind {
            pub const ALL: &'static [AlertKind] = &[$(AlertKind::$variant,)*];

            /// The stored snake_case text.
            pub const fn as_str(self) -> &'static str {
                match self { $(AlertKind::$variant => $text,)* }
            }

            /// A short title for notifications and pages.
            pub const fn title(self) -> &'static str {
                match self { $(AlertKind::$variant => $title,)* }
            }
        }
    };
}

kinds! {
    ProviderBalanceLow = ("provider_balance_low", "Provider balance low"),
    OrderNeedsReview = ("order_needs_review", "Order needs review"),
    JobFailed = ("job_failed", "A job is failing"),
    UnknownStatus = ("unknown_status", "Unknown provider status"),
    ProviderLostOrder = ("provider_lost_order", "Provider does not know an order"),
    ServicesSyncRefused = ("services_sync_refused", "Services sync refused"),
    ProviderFunds = ("provider_funds", "Provider out of funds"),
    ProviderUnavailable = ("provider_unavailable", "Provider unavailable"),
    ProviderAnswerTooLarge = ("provider_answer_too_large", "Provider answer too large"),
    PriceJumpHeld = ("price_jump_held", "Price changes held for approval"),
    BillingLag = ("billing_lag", "Hourly billing is behind"),
    PayoutRunSkipped = ("payout_run_skipped", "An affiliate payout run was skipped"),
    ReferralFlagged = ("referral_flagged", "A referral was flagged for review"),
    PaymentPending = ("payment_pending", "A payment awaits review"),
    OrderStuck = ("order_stuck", "An order is stuck"),
    TicketWaiting = ("ticket_waiting", "A support ticket waits for an answer"),
    RateJumpHeld = ("rate_jump_held", "An exchange rate jump was refused"),
    MarginHold = ("margin_hold", "Orders held: cost above price"),
}

impl AlertKind {
    /// The event its notifications and webhooks carry as `type`: `alert.<kind>`, except a
    /// flagged referral, which is the affiliate program's `referral.flagged`
    /// (`docs/affiliates.md`, events).
    pub fn event(self) -> String {
        match self {
            AlertKind::ReferralFlagged => "referral.flagged".to_string(),
            other => format!("alert.{}", other.as_str()),
        }
    }

    /// The kind stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<AlertKind> {
        AlertKind::ALL.iter().copied().find(|k| k.as_str() == text)
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The subject of an alert about an order: `order:<id>`.
pub fn order_subject(id: OrderId) -> String {
    format!("order:{}", id.0)
}

/// The subject of an alert about a provider: `provider:<id>`.
pub fn provider_subject(id: ProviderId) -> String {
    format!("provider:{}", id.0)
}

/// The subject of an alert about a catalog service: `service:<id>`.
pub fn service_subject(id: crate::ServiceId) -> String {
    format!("service:{}", id.0)
}

/// The subject of the hourly billing's alerts: `billing`.
pub const BILLING_SUBJECT: &str = "billing";

/// The subject of a skipped payout run's alert: `payouts:<kind>` (`all`, `returning`).
pub fn payouts_subject(kind: &str) -> String {
    format!("payouts:{kind}")
}

/// The subject of a flagged referral's alert: `referral:<referred user id>`.
pub fn referral_subject(user: crate::UserId) -> String {
    format!("referral:{}", user.0)
}

/// The subject of a payment request's alert: `payment:<id>`.
pub fn payment_subject(id: i64) -> String {
    format!("payment:{id}")
}

/// The subject of a support ticket's alert: `ticket:<id>`.
pub fn ticket_subject(id: i64) -> String {
    format!("ticket:{id}")
}

/// The subject of the exchange-rate feed's alerts: `rates:<currency>`.
pub fn rates_subject(currency: &str) -> String {
    format!("rates:{currency}")
}

/// The subject of an alert about a scheduled job: `job:<name>`.
pub fn job_subject(name: &str) -> String {
    format!("job:{name}")
}

/// Where the owner's phone hears admin alerts besides e-mail and webhooks: a Telegram chat
/// (through a bot) or a Discord channel (through its webhook). Chosen per alert kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertChannel {
    Telegram,
    Discord,
}

impl AlertChannel {
    pub const ALL: [AlertChannel; 2] = [AlertChannel::Telegram, AlertChannel::Discord];

    /// The stored text: `telegram`, `discord`.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertChannel::Telegram => "telegram",
            AlertChannel::Discord => "discord",
        }
    }

    /// The channel's name on pages: `Telegram`, `Discord`.
    pub const fn title(self) -> &'static str {
        match self {
            AlertChannel::Telegram => "Telegram",
            AlertChannel::Discord => "Discord",
        }
    }

    /// The channel stored as `text`, if it is one.
    pub fn parse(text: &str) -> Option<AlertChannel> {
        AlertChannel::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The most characters one message may have: Telegram `sendMessage` text 4,096, a Discord
    /// webhook's `content` 2,000 (each API's documented limit).
    pub const fn max_chars(self) -> usize {
        match self {
            AlertChannel::Telegram => 4_096,
            AlertChannel::Discord => 2_000,
        }
    }
}

/// `text` cut to at most `max` characters (never inside a character), ending in `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_stored_text() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.as_str()), Some(*k));
            assert!(!k.title().is_empty());
        }
        assert_eq!(AlertKind::parse("nope"), None);
        assert_eq!(order_subject(OrderId(42)), "order:42");
        assert_eq!(provider_subject(ProviderId(3)), "provider:3");
        assert_eq!(referral_subject(crate::UserId(7)), "referral:7");
        assert_eq!(AlertKind::JobFailed.event(), "alert.job_failed");
        assert_eq!(AlertKind::ReferralFlagged.event(), "referral.flagged");
        assert_eq!(payment_subject(5), "payment:5");
    }

    #[test]
    fn channels_round_trip_and_clip_within_their_limits() {
        for c in AlertChannel::ALL {
            assert_eq!(AlertChannel::parse(c.as_str()), Some(c));
        }
        assert_eq!(AlertChannel::parse("slack"), None);
        assert_eq!(clip("short", 10), "short");
        let long = "é".repeat(5_000);
        let cut = clip(&long, AlertChannel::Discord.max_chars());
        assert_eq!(cut.chars().count(), 2_000);
        assert!(cut.ends_with('…'));
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
