//! The one vocabulary of error codes every interface answers with.
//!
//! [`ErrorCode`] is the closed list of stable, machine-readable codes (`insufficient_funds`),
//! each with the HTTP status REST answers it with and a one-line meaning; the OpenAPI document's
//! code table is generated from [`ErrorCode::ALL`]. Every use case error implements [`Coded`]
//! (its code) and `Display` (the message a client may see), so an interface maps any of them
//! with one generic conversion. [`ErrorCode::Internal`] errors carry their cause only for the
//! log: interfaces send the fixed text "Internal server error" and log the cause once.

use smmd_domain::refill::RefillError;
use smmd_domain::service::OrderError;
use smmd_store::{
    BalanceError, BillingError, CancelError, PaymentError, PayoutError, PlaceOrderError,
    RefillRequestError, StoreError,
};

macro_rules! codes {
    ($($variant:ident = ($text:literal, $status:literal, $meaning:literal),)*) => {
        /// A stable error code: its text never changes once published (REST clients match on it).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $meaning] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order of the documented table.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The snake_case text sent as `error.code`.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $text,)* }
            }

            /// The HTTP status REST answers with (a 3-digit number; no HTTP crate here).
            pub const fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }

            /// One line on when a client meets it.
            pub const fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => $meaning,)* }
            }
        }
    };
}

codes! {
    Unauthenticated = ("unauthenticated", 401, "No valid session cookie or Bearer API key"),
    InvalidCredentials = ("invalid_credentials", 401, "Wrong e-mail or password"),
    TwoFactorRequired = ("two_factor_required", 403, "The action needs a two-factor code (`X-2FA-Code`), or the panel requires admins to turn two-factor on first"),
    EmailUnconfirmed = ("email_unconfirmed", 403, "The account's e-mail is not confirmed yet: the link sent at sign-up confirms it"),
    TooManyAttempts = ("too_many_attempts", 429, "Too many log-in attempts for this address (Retry-After)"),
    CsrfFailed = ("csrf_failed", 403, "A cookie-authenticated write without the session's X-CSRF-Token"),
    AdminOnly = ("admin_only", 403, "The route needs an admin account"),
    NotFound = ("not_found", 404, "The resource does not exist or is not yours"),
    UnknownJob = ("unknown_job", 404, "No job with this name"),
    Conflict = ("conflict", 409, "The change collides with existing data"),
    AlreadyDecided = ("already_decided", 409, "The payment request was already approved or rejected"),
    InvalidPayment = ("invalid_payment", 422, "The amount, method or reference of a payment request is not accepted"),
    NoWebhook = ("no_webhook", 409, "A webhook secret needs a webhook URL first"),
    InvalidWebhookUrl = ("invalid_webhook_url", 422, "The webhook URL is not a public http(s) URL"),
    EmailTaken = ("email_taken", 409, "An account with this e-mail exists"),
    RequestIdReused = ("request_id_reused", 409, "A balance request id was used for another change"),
    ActiveOrderWithLink = ("active_order_with_link", 409, "An active order for this link and service exists"),
    NotCancelable = ("not_cancelable", 409, "The service does not allow cancel"),
    AlreadyFinished = ("already_finished", 409, "The order has reached its outcome"),
    CancelAlreadyRequested = ("cancel_already_requested", 409, "A cancel was already asked"),
    RefillNotAvailable = ("refill_not_available", 409, "The service has no refill"),
    OrderNotCompleted = ("order_not_completed", 409, "Refill needs a completed or partial order"),
    GuaranteeExpired = ("guarantee_expired", 409, "The refill guarantee is over"),
    RefillAlreadyActive = ("refill_already_active", 409, "A refill of this order is in progress"),
    NotInReview = ("not_in_review", 409, "The order is not waiting for review"),
    InvalidTransition = ("invalid_transition", 409, "The order state machine forbids this action now"),
    InvalidBody = ("invalid_body", 422, "The JSON body is malformed or has wrong types (415 without a JSON content type)"),
    InvalidQuery = ("invalid_query", 422, "A query parameter is malformed or unknown"),
    InvalidCursor = ("invalid_cursor", 422, "The paging cursor is not one the API gave"),
    InvalidService = ("invalid_service", 422, "No enabled service with this id"),
    InvalidLink = ("invalid_link", 422, "The link is missing or malformed"),
    InvalidQuantity = ("invalid_quantity", 422, "Quantity missing or outside the service's min/max"),
    DripfeedNotAllowed = ("dripfeed_not_allowed", 422, "The service does not support drip-feed"),
    InvalidRuns = ("invalid_runs", 422, "Drip-feed runs out of range"),
    InvalidInterval = ("invalid_interval", 422, "Drip-feed interval out of range"),
    InvalidField = ("invalid_field", 422, "A type-specific field is missing or malformed"),
    InsufficientFunds = ("insufficient_funds", 422, "The balance does not cover the charge (or the debit)"),
    AmountTooLarge = ("amount_too_large", 422, "The charge overflows"),
    InvalidIdempotencyKey = ("invalid_idempotency_key", 422, "Idempotency-Key must be 1-200 visible ASCII characters"),
    IdempotencyKeyReused = ("idempotency_key_reused", 422, "The Idempotency-Key was used for a different order"),
    InvalidEmail = ("invalid_email", 422, "Not an e-mail address"),
    WeakPassword = ("weak_password", 422, "Passwords have 8 to 1024 characters"),
    InvalidNote = ("invalid_note", 422, "A note about a customer has 1 to 2000 characters"),
    InvalidCustomRate = ("invalid_custom_rate", 422, "A custom rate is a discount of 0.01 % to 90 % or a fixed rate above 0 for one service, not both"),
    InvalidAlertChannel = ("invalid_alert_channel", 422, "An alert channel needs a Telegram bot token and chat id, or a Discord webhook address, and known alert kinds"),
    AlertChannelFailed = ("alert_channel_failed", 422, "Telegram or Discord did not take the test message; the message says what it answered"),
    InvalidTicket = ("invalid_ticket", 422, "A ticket needs a topic, a subject of 1 to 120 characters, a message of 1 to 5000 characters and only the customer's own orders (at most 20)"),
    TicketState = ("ticket_state", 409, "The ticket is not in a state that allows this (closing a closed ticket, reopening an open one)"),
    InvalidCannedReply = ("invalid_canned_reply", 422, "A canned reply has a title of 1 to 80 characters and a text of 1 to 5000"),
    InvalidDisplayCurrency = ("invalid_display_currency", 422, "The display currency has no exchange rate on this panel"),
    InvalidRate = ("invalid_rate", 422, "A pinned rate needs a three-letter currency other than EUR and a positive decimal rate per euro"),
    InvalidLanguage = ("invalid_language", 422, "The language is one smmd ships (en, es, ru, ar), or empty for the browser's"),
    InvalidCode = ("invalid_code", 422, "The two-factor code or backup code is wrong or was already used"),
    InvalidToken = ("invalid_token", 422, "The password reset or confirmation link is unknown, used or expired"),
    InvalidAmount = ("invalid_amount", 422, "Not a decimal amount, or zero"),
    AboveLimit = ("above_limit", 422, "The amount, or the balance after it, is above the panel's maximum"),
    ReasonRequired = ("reason_required", 422, "Admin money and order actions need a reason"),
    InvalidRemains = ("invalid_remains", 422, "Remains must be 0 to the order's quantity"),
    InvalidMarkup = ("invalid_markup", 422, "Markup is 0 to 100000 basis points"),
    InvalidMargin = ("invalid_margin", 422, "A minimum margin is 0 to 100000 basis points and the breach action `hold` or `reprice`"),
    InvalidHoldDecision = ("invalid_hold_decision", 422, "A held-orders decision is `release` or `refund`"),
    InvalidPushSecret = ("invalid_push_secret", 422, "A provider push secret is 16 to 256 printable characters"),
    InvalidSignature = ("invalid_signature", 401, "The push signature or its timestamp is missing, wrong or outside the 5-minute window"),
    InvalidPush = ("invalid_push", 422, "A status push needs a delivery id and an order status body"),
    InvalidOffer = ("invalid_offer", 422, "An offer is a provider and its service id (1 to 100 characters), not already one of the service's offers, at most 10 fallbacks"),
    InvalidStuckRule = ("invalid_stuck_rule", 422, "Stuck after is 100 to 10000 % of the average time and the floor 1 to 129600 minutes"),
    InvalidServiceEdit = ("invalid_service_edit", 422, "Name, min, max or rate out of range"),
    InvalidRole = ("invalid_role", 422, "Role is `user` or `admin`, and an admin cannot demote themselves"),
    InvalidProvider = ("invalid_provider", 422, "A provider's name, URL, key, currency or limits are out of range"),
    ProviderNameTaken = ("provider_name_taken", 409, "A provider with this name exists"),
    InvalidProviderOrderId = ("invalid_provider_order_id", 422, "A provider order id has 1 to 100 characters"),
    InvalidSchedule = ("invalid_schedule", 422, "The cron expression or time zone is invalid"),
    InvalidPolicy = ("invalid_policy", 422, "A job policy value is out of range"),
    InvalidRequestKey = ("invalid_request_key", 422, "A job request key has 1 to 200 characters"),
    BillingDisabled = ("billing_disabled", 409, "Hourly billing is off: nothing can be rented until the owner enables it"),
    BillingPaused = ("billing_paused", 409, "Billing is paused: nothing can be rented until it resumes"),
    PlanInactive = ("plan_inactive", 409, "The plan is no longer offered"),
    PlanCodeTaken = ("plan_code_taken", 409, "A plan with this code exists"),
    InvalidPlan = ("invalid_plan", 422, "A plan's code, name, price, cap mode, setup fee, entitlement or settings are out of range"),
    InvalidRentalAction = ("invalid_rental_action", 409, "The rental's state forbids this action (or it is on that plan already)"),
    HourNotBilled = ("hour_not_billed", 422, "A credit names an hour that was not billed and paid"),
    InvalidBillingSettings = ("invalid_billing_settings", 422, "A billing setting is out of range"),
    StatementFinal = ("statement_final", 409, "A final statement is never edited: void it and a new draft replaces it"),
    StatementNotFinal = ("statement_not_final", 409, "Only a final statement can be voided"),
    InvalidAffiliateSettings = ("invalid_affiliate_settings", 422, "An affiliate program setting is out of range"),
    InvalidPayoutMethod = ("invalid_payout_method", 422, "The payout method kind is unknown or its details do not fit it"),
    MethodCoolingDown = ("method_cooling_down", 409, "The payout method was changed fewer than cool_down_days ago"),
    InsufficientAffiliateBalance = ("insufficient_affiliate_balance", 422, "A transfer above the affiliate balance"),
    PayoutNotAllowed = ("payout_not_allowed", 409, "The payout's state forbids this decision"),
    ConfirmationRequired = ("confirmation_required", 422, "Rejecting a payout as fraud needs `confirm: true`"),
    InvalidCsv = ("invalid_csv", 422, "The CSV is malformed, or names unknown or repeated payouts (nothing was written)"),
    InvalidRating = ("invalid_rating", 422, "A rating is 1 to 5 stars with a comment of at most 500 characters, for an order that was delivered"),
    AlreadyRated = ("already_rated", 409, "The order is already rated"),
    InvalidStorefront = ("invalid_storefront", 422, "A brand value (name, tagline, colour, logo) or a page (terms, faq, contact; title, text) is not accepted"),
    InvalidPanel = ("invalid_panel", 422, "A child panel's hostnames, brand name, currency, admin e-mail, password or markup are out of range"),
    HostnameTaken = ("hostname_taken", 409, "The hostname belongs to another panel"),
    PanelSuspended = ("panel_suspended", 409, "The child panel is suspended or ended: renew its rental"),
    ProviderError = ("provider_error", 502, "The provider did not answer as API v2 should"),
    EmailUnavailable = ("email_unavailable", 409, "The panel has no SMTP server: nothing can be sent by e-mail"),
    ProvidersUnavailable = ("providers_unavailable", 503, "Provider routes need security.secret_key"),
    Internal = ("internal", 500, "An unexpected failure (logged, never detailed)"),
    Unauthorized = ("unauthorized", 401, "`/metrics` without its Bearer token"),
    MetricsUnavailable = ("metrics_unavailable", 503, "`/metrics`: another recorder is installed"),
    NotReady = ("not_ready", 503, "`/readyz`: the database cannot be reached"),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that knows its [`ErrorCode`]. `Display` is the client-safe message, except for
/// [`ErrorCode::Internal`], whose `Display` is the cause for the log only.
pub trait Coded: std::fmt::Display {
    fn code(&self) -> ErrorCode;
}

impl Coded for StoreError {
    fn code(&self) -> ErrorCode {
        match self {
            StoreError::NotFound => ErrorCode::NotFound,
            StoreError::Conflict(_) => ErrorCode::Conflict,
            StoreError::Other(_) => ErrorCode::Internal,
        }
    }
}

impl Coded for OrderError {
    fn code(&self) -> ErrorCode {
        match self {
            OrderError::IncorrectService => ErrorCode::InvalidService,
            OrderError::IncorrectLink | OrderError::Link(_) => ErrorCode::InvalidLink,
            OrderError::IncorrectQuantity
            | OrderError::QuantityBelowMin(_)
            | OrderError::QuantityAboveMax(_) => ErrorCode::InvalidQuantity,
            OrderError::DripFeedNotAllowed => ErrorCode::DripfeedNotAllowed,
            OrderError::IncorrectRuns => ErrorCode::InvalidRuns,
            OrderError::IncorrectInterval => ErrorCode::InvalidInterval,
            OrderError::IncorrectField(_) => ErrorCode::InvalidField,
            OrderError::InsufficientFunds | OrderError::RentReserve { .. } => {
                ErrorCode::InsufficientFunds
            }
            OrderError::AmountTooLarge => ErrorCode::AmountTooLarge,
            OrderError::ActiveOrderWithLink => ErrorCode::ActiveOrderWithLink,
        }
    }
}

impl Coded for PlaceOrderError {
    fn code(&self) -> ErrorCode {
        match self {
            PlaceOrderError::Rejected(e) => e.code(),
            PlaceOrderError::Store(e) => e.code(),
        }
    }
}

impl Coded for CancelError {
    fn code(&self) -> ErrorCode {
        match self {
            CancelError::NotFound => ErrorCode::NotFound,
            CancelError::NotCancelable => ErrorCode::NotCancelable,
            CancelError::AlreadyFinished => ErrorCode::AlreadyFinished,
            CancelError::AlreadyRequested => ErrorCode::CancelAlreadyRequested,
        }
    }
}

impl Coded for RefillError {
    fn code(&self) -> ErrorCode {
        match self {
            RefillError::NotRefillable => ErrorCode::RefillNotAvailable,
            RefillError::NotCompleted => ErrorCode::OrderNotCompleted,
            RefillError::GuaranteeExpired => ErrorCode::GuaranteeExpired,
            RefillError::AlreadyActive => ErrorCode::RefillAlreadyActive,
        }
    }
}

impl Coded for RefillRequestError {
    fn code(&self) -> ErrorCode {
        match self {
            RefillRequestError::NotFound => ErrorCode::NotFound,
            RefillRequestError::Ineligible(e) => e.code(),
            RefillRequestError::Store(e) => e.code(),
        }
    }
}

impl Coded for BalanceError {
    fn code(&self) -> ErrorCode {
        match self {
            BalanceError::InsufficientFunds => ErrorCode::InsufficientFunds,
            BalanceError::ZeroAmount => ErrorCode::InvalidAmount,
            BalanceError::AboveLimit { .. } => ErrorCode::AboveLimit,
            BalanceError::KeyReused => ErrorCode::RequestIdReused,
            BalanceError::UnknownUser => ErrorCode::NotFound,
            BalanceError::Store(e) => e.code(),
        }
    }
}

impl Coded for PaymentError {
    fn code(&self) -> ErrorCode {
        match self {
            PaymentError::NotFound => ErrorCode::NotFound,
            PaymentError::AlreadyDecided(_) => ErrorCode::AlreadyDecided,
            PaymentError::Store(e) => e.code(),
        }
    }
}

impl Coded for PayoutError {
    fn code(&self) -> ErrorCode {
        match self {
            PayoutError::NotFound | PayoutError::NoAccount => ErrorCode::NotFound,
            PayoutError::NotAllowed(_) => ErrorCode::PayoutNotAllowed,
            PayoutError::CoolingDown { .. } => ErrorCode::MethodCoolingDown,
            PayoutError::InsufficientBalance { .. } => ErrorCode::InsufficientAffiliateBalance,
            PayoutError::RequestReused { .. } => ErrorCode::RequestIdReused,
            PayoutError::Store(e) => e.code(),
        }
    }
}

impl Coded for smmd_jobs::control::ControlError {
    fn code(&self) -> ErrorCode {
        use smmd_jobs::control::ControlError as E;
        match self {
            E::UnknownJob(_) => ErrorCode::UnknownJob,
            E::Calendar(_) => ErrorCode::InvalidSchedule,
            E::Invalid { .. } => ErrorCode::InvalidPolicy,
            E::Store(e) => e.code(),
        }
    }
}

/// A use case error that is only a code and a client-safe message (validation and state
/// refusals that have no richer type).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

impl Coded for Refusal {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

/// The error of a use case that can be refused for a reason ([`Refusal`]) or fail in the
/// store.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Unexpected (hashing, provider client setup): logged, answered as `internal`.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl UseCaseError {
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> UseCaseError {
        UseCaseError::Refused(Refusal::new(code, message))
    }
}

impl Coded for UseCaseError {
    fn code(&self) -> ErrorCode {
        match self {
            UseCaseError::Refused(r) => r.code,
            UseCaseError::Store(e) => e.code(),
            UseCaseError::Other(_) => ErrorCode::Internal,
        }
    }
}

impl From<BalanceError> for UseCaseError {
    fn from(e: BalanceError) -> Self {
        match e {
            BalanceError::Store(e) => UseCaseError::Store(e),
            e => UseCaseError::refused(e.code(), e.to_string()),
        }
    }
}

impl From<PayoutError> for UseCaseError {
    fn from(e: PayoutError) -> Self {
        match e {
            PayoutError::Store(e) => UseCaseError::Store(e),
            PayoutError::CoolingDown { until_ms } => UseCaseError::refused(
                ErrorCode::MethodCoolingDown,
                format!(
                    "The payout method was changed recently; it can be changed again from {} UTC",
                    smmd_domain::affiliate::calendar::Date::of(until_ms)
                ),
            ),
            e => UseCaseError::refused(e.code(), e.to_string()),
        }
    }
}

impl Coded for BillingError {
    fn code(&self) -> ErrorCode {
        match self {
            BillingError::Disabled => ErrorCode::BillingDisabled,
            BillingError::Paused => ErrorCode::BillingPaused,
            BillingError::PlanNotFound | BillingError::RentalNotFound => ErrorCode::NotFound,
            BillingError::PlanInactive => ErrorCode::PlanInactive,
            BillingError::DuplicateCode => ErrorCode::PlanCodeTaken,
            BillingError::InsufficientFunds { .. } => ErrorCode::InsufficientFunds,
            BillingError::Illegal(_) | BillingError::SamePlan | BillingError::Invalid(_) => {
                ErrorCode::InvalidRentalAction
            }
            BillingError::NotBilled(_) => ErrorCode::HourNotBilled,
            BillingError::StatementNotFound => ErrorCode::NotFound,
            BillingError::StatementFinal(_) => ErrorCode::StatementFinal,
            BillingError::StatementNotFinal(_) => ErrorCode::StatementNotFinal,
            BillingError::Store(e) => e.code(),
        }
    }
}

impl From<BillingError> for UseCaseError {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::Store(e) => UseCaseError::Store(e),
            e => UseCaseError::refused(e.code(), e.to_string()),
        }
    }
}

impl From<PaymentError> for UseCaseError {
    fn from(e: PaymentError) -> Self {
        match e {
            PaymentError::Store(e) => UseCaseError::Store(e),
            e => UseCaseError::refused(e.code(), e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_is_unique_snake_case_with_an_error_status_and_a_meaning() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{text}"
            );
            assert!((400..600).contains(&code.status()), "{text}");
            assert!(!code.description().is_empty(), "{text}");
        }
        assert_eq!(seen.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn refusals_keep_their_code_and_store_failures_are_internal() {
        let r = UseCaseError::refused(ErrorCode::ReasonRequired, "Give a reason");
        assert_eq!(r.code(), ErrorCode::ReasonRequired);
        assert_eq!(r.to_string(), "Give a reason");
        let s: UseCaseError = StoreError::Other(anyhow::anyhow!("disk")).into();
        assert_eq!(s.code(), ErrorCode::Internal);
        let b: UseCaseError = BalanceError::KeyReused.into();
        assert_eq!(b.code(), ErrorCode::RequestIdReused);
        assert_eq!(ErrorCode::InsufficientFunds.status(), 422);
        assert_eq!(ErrorCode::ActiveOrderWithLink.status(), 409);
    }
}
