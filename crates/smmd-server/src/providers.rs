//! Provider administration shared by the CLI, the demo and the admin interfaces: adding a
//! provider from operator input (validated, key sealed), and resolving orders that need review
//! (attach the provider's order id, resend, or cancel with a full refund), and the other admin
//! order actions (cancel and refund, end as partial) — each through the order state machine and
//! the ledger, with the reason kept on the order's note.

use smmd_domain::order::{OrderEvent, OrderStatus};
use smmd_domain::{Clock, Money, OrderId};
use smmd_fulfil::Clients;
use smmd_store::{NewProvider, Order, OrderUpdate, Provider, Store, StoreError, UpdateOutcome};

/// What an operator types to add a provider.
#[derive(Clone, Debug)]
pub struct ProviderInput {
    pub name: String,
    /// The exact API v2 URL (`https://panel.example/api/v2`).
    pub url: String,
    pub key: String,
    /// ISO code of the provider's account currency.
    pub currency: String,
    /// Panel currency per one provider currency unit, a decimal (`"1"`, `"0.011"`).
    pub exchange_rate: String,
    /// Alert when the provider balance is below this (provider currency), a decimal.
    pub alert_below: Option<String>,
    pub timeout_ms: i64,
    pub max_concurrency: i64,
    pub rate_per_sec: Option<i64>,
}

/// Why a provider input or a review action was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("a provider with this name exists")]
    NameTaken,
    #[error("no such order")]
    NoOrder,
    #[error("order #{0} is {1}, not waiting for review")]
    NotInReview(i64, OrderStatus),
    /// The order state machine forbids the action in the order's current state.
    #[error("{0}")]
    NotAllowed(String),
    #[error("give a reason of 1 to 500 characters")]
    ReasonRequired,
    #[error("remains must be 0 to {0}")]
    BadRemains(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(msg: impl Into<String>) -> AdminError {
    AdminError::Invalid(msg.into())
}

/// Validates `input`, seals the key and stores the provider. Writes nothing on a bad input.
pub async fn add_provider(
    store: &dyn Store,
    clients: &Clients,
    clock: &dyn Clock,
    input: ProviderInput,
) -> Result<Provider, AdminError> {
    let name = input.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(invalid("the name must have 1 to 100 characters"));
    }
    let url = url::Url::parse(input.url.trim())
        .map_err(|e| invalid(format!("the URL is not valid: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid("the URL must be http(s)://host/…"));
    }
    if input.key.trim().is_empty() {
        return Err(invalid("the API key is empty"));
    }
    let currency = input.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid("the currency must be a 3-letter ISO code"));
    }
    let rate = Money::parse(&input.exchange_rate)
        .ok()
        .filter(|m| m.is_positive())
        .ok_or_else(|| {
            invalid("the exchange rate must be a positive decimal with at most 6 decimals")
        })?;
    let alert_below = match input.alert_below.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(
            Money::parse(t)
                .ok()
                .filter(|m| !m.is_negative())
                .ok_or_else(|| invalid("the alert threshold must be a non-negative decimal"))?,
        ),
    };
    if !(100..=600_000).contains(&input.timeout_ms) {
        return Err(invalid("the timeout must be between 100 and 600000 ms"));
    }
    if !(1..=256).contains(&input.max_concurrency) {
        return Err(invalid("the concurrency must be between 1 and 256"));
    }
    if input
        .rate_per_sec
        .is_some_and(|r| !(1..=100_000).contains(&r))
    {
        return Err(invalid(
            "the rate limit must be between 1 and 100000 requests per second",
        ));
    }
    store
        .create_provider(
            NewProvider {
                name: name.to_string(),
                url: url.to_string(),
                currency,
                exchange_rate: rate.micros(),
                api_key_enc: clients.seal_key(input.key.trim()),
                timeout_ms: input.timeout_ms,
                max_concurrency: input.max_concurrency,
                rate_per_sec: input.rate_per_sec,
                balance_alert_below: alert_below,
            },
            clock.now_ms(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict("providers.name") => AdminError::NameTaken,
            e => AdminError::Store(e),
        })
}

/// How an admin resolves an order in `needs_review`.
#[derive(Clone, Debug)]
pub enum Resolution {
    /// The provider has it: record its order id; status sync takes over.
    Attach { provider_order_id: String },
    /// The provider does not have it: queue it for dispatch again.
    Resend,
    /// Give up: cancel and refund the whole charge.
    CancelAndRefund,
}

/// Applies `resolution` to a `needs_review` order with a guarded update; the refund of a cancel
/// is paid in the same transaction.
pub async fn resolve_review(
    store: &dyn Store,
    clock: &dyn Clock,
    id: OrderId,
    resolution: Resolution,
) -> Result<Order, AdminError> {
    let o = store.order(id).await?.ok_or(AdminError::NoOrder)?;
    if o.status != OrderStatus::NeedsReview {
        return Err(AdminError::NotInReview(id.0, o.status));
    }
    let now = clock.now_ms();
    let (event, note) = match &resolution {
        Resolution::Attach { .. } => (
            OrderEvent::ReviewAttach,
            "Provider order id attached by an admin",
        ),
        Resolution::Resend => (OrderEvent::ReviewResend, "Queued again by an admin"),
        Resolution::CancelAndRefund => {
            (OrderEvent::AdminCancel, "Canceled and refunded by an admin")
        }
    };
    let mut u = OrderUpdate::new(id, OrderStatus::NeedsReview, event, now);
    u.note = Some(note.to_string());
    if let Resolution::Attach { provider_order_id } = resolution {
        let pid = provider_order_id.trim();
        if pid.is_empty() || pid.len() > 100 {
            return Err(invalid(
                "the provider order id must have 1 to 100 characters",
            ));
        }
        u.provider_order_id = Some(pid.to_string());
    }
    match store.apply_order_update(u).await? {
        UpdateOutcome::Applied { order, .. } => {
            let _ = store
                .resolve_alert("order_needs_review", &format!("order:{}", id.0), now)
                .await;
            Ok(*order)
        }
        UpdateOutcome::Stale => {
            let now_status = store.order(id).await?.map_or(o.status, |o| o.status);
            Err(AdminError::NotInReview(id.0, now_status))
        }
        UpdateOutcome::Illegal(e) => Err(invalid(e.to_string())),
    }
}

/// An admin decision on an order outside review.
#[derive(Clone, Copy, Debug)]
pub enum OrderAction {
    /// Cancel and refund whatever was not refunded yet (from any state but canceled).
    Refund,
    /// End the order as Partial with `remains` undelivered; refunds `charge × remains / total`.
    SetPartial { remains: i64 },
}

/// Applies `action` to order `id` with a guarded update (the refund in the same transaction,
/// keyed per order so it is paid once). `reason` (1–500 characters) goes on the order's note.
pub async fn act_on_order(
    store: &dyn Store,
    clock: &dyn Clock,
    id: OrderId,
    action: OrderAction,
    reason: &str,
) -> Result<Order, AdminError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.len() > 500 {
        return Err(AdminError::ReasonRequired);
    }
    let o = store.order(id).await?.ok_or(AdminError::NoOrder)?;
    let mut u = match action {
        OrderAction::Refund => {
            OrderUpdate::new(id, o.status, OrderEvent::AdminCancel, clock.now_ms())
        }
        OrderAction::SetPartial { remains } => {
            if !(0..=o.total_quantity).contains(&remains) {
                return Err(AdminError::BadRemains(o.total_quantity));
            }
            let mut u = OrderUpdate::new(id, o.status, OrderEvent::AdminSetPartial, clock.now_ms());
            u.remains = Some(remains);
            u
        }
    };
    u.note = Some(format!("Admin: {reason}"));
    match store.apply_order_update(u).await? {
        UpdateOutcome::Applied { order, .. } => Ok(*order),
        UpdateOutcome::Stale => Err(AdminError::NotAllowed(
            "the order changed meanwhile; look at it again".into(),
        )),
        UpdateOutcome::Illegal(e) => Err(AdminError::NotAllowed(format!(
            "an order that is {} cannot take this action",
            e.from
        ))),
    }
}
