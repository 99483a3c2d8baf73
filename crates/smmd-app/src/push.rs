//! Provider status pushes (issue 20, provider webhooks): a provider that sends status updates
//! posts them to `/hooks/providers/{id}`, each signed like smmd's own webhooks
//! (`X-Smmd-Timestamp`, `X-Smmd-Signature: sha256=HMAC-SHA256(secret, "{timestamp}.{body}")`,
//! `X-Smmd-Delivery`), with a per-provider secret the owner sets (the one an upstream smmd panel
//! gave our account) or generates (to give a provider). A push is accepted only with a valid
//! signature and a timestamp within [`PUSH_WINDOW_S`] of now; a delivery id already applied is
//! acknowledged and changes nothing; the status goes through exactly the status sync's checks,
//! guarded update and refund ([`smmd_fulfil::sync::apply_pushed`]), so a forged, replayed, late
//! or repeated push can do nothing a sync could not. Polling stays as the safety net: a pushed
//! order's `checked_at` moves, so the sync (oldest-checked first) asks for it last.

use smmd_domain::ProviderId;
use smmd_fulfil::{Clients, Fulfil};

use crate::audit::Actor;
use crate::error::{ErrorCode, Refusal, UseCaseError};
use crate::{secrets, App};

/// How far a push's timestamp may be from now, seconds (5 minutes, either way).
pub const PUSH_WINDOW_S: i64 = 300;

/// Shortest and longest secret accepted, characters.
pub const SECRET_MIN: usize = 16;
pub const SECRET_MAX: usize = 256;

/// One push as it arrived: the three headers (absent ones `None`) and the raw body.
#[derive(Clone, Copy, Debug)]
pub struct Push<'a> {
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub delivery: Option<&'a str>,
    pub body: &'a str,
}

/// What a valid push did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PushOutcome {
    /// The order changed (status, counts, refund), exactly as a sync would have changed it.
    Applied,
    /// Nothing to change (the same status, or one the order has moved past).
    Unchanged,
    /// This delivery id was applied before.
    Duplicate,
    /// No active order of this provider has that id (ended, or not ours): ignored.
    UnknownOrder,
}

/// Sets (`Some`, 16–256 printable characters) or clears (`None`: pushes refused) provider
/// `id`'s push secret, sealed at rest, audited as `provider.push_secret`.
///
/// Errors: `invalid_push_secret`, `not_found`; nothing written.
pub async fn set_secret(
    app: App<'_>,
    clients: &Clients,
    actor: &Actor,
    id: ProviderId,
    secret: Option<&str>,
) -> Result<(), UseCaseError> {
    let sealed = match secret.map(str::trim) {
        None => String::new(),
        Some(s)
            if (SECRET_MIN..=SECRET_MAX).contains(&s.chars().count())
                && !s.chars().any(char::is_control) =>
        {
            clients.seal_key(s)
        }
        Some(_) => {
            return Err(Refusal::new(
                ErrorCode::InvalidPushSecret,
                "a push secret is 16 to 256 printable characters",
            )
            .into())
        }
    };
    let detail = if sealed.is_empty() { "off" } else { "set" };
    let audit = actor.audit(
        "provider.push_secret",
        format!("provider:{}", id.0),
        detail.to_string(),
        app.now(),
    );
    app.store
        .set_provider_push_secret(id, &sealed, Some(audit))
        .await?;
    Ok(())
}

/// Generates a new push secret for provider `id` (to give the provider), stores it as
/// [`set_secret`] does, and returns it (shown once).
///
/// Errors: `not_found`.
pub async fn generate_secret(
    app: App<'_>,
    clients: &Clients,
    actor: &Actor,
    id: ProviderId,
) -> Result<String, UseCaseError> {
    let secret = secrets::new_webhook_secret();
    set_secret(app, clients, actor, id, Some(&secret)).await?;
    Ok(secret)
}

/// Receives one push for provider `id`.
///
/// Errors: `not_found` (no such provider, or it has no push secret), `invalid_signature`
/// (signature missing or wrong, timestamp missing or outside [`PUSH_WINDOW_S`]),
/// `invalid_push` (no delivery id, or a body that is not a status); nothing written.
pub async fn receive(
    f: &Fulfil,
    id: ProviderId,
    push: Push<'_>,
) -> Result<PushOutcome, UseCaseError> {
    let not_found =
        || UseCaseError::from(Refusal::new(ErrorCode::NotFound, "no such push endpoint"));
    let p = f.store.provider(id).await?.ok_or_else(not_found)?;
    if p.push_secret_enc.is_empty() {
        return Err(not_found());
    }
    let secret = f
        .clients
        .open_key(&p.push_secret_enc)
        .map_err(|_| not_found())?;
    let bad = |m: &str| UseCaseError::from(Refusal::new(ErrorCode::InvalidSignature, m));
    let timestamp = push
        .timestamp
        .and_then(|t| t.trim().parse::<i64>().ok())
        .ok_or_else(|| bad("X-Smmd-Timestamp is missing or not Unix seconds"))?;
    let signature = push
        .signature
        .ok_or_else(|| bad("X-Smmd-Signature is missing"))?;
    let now_s = f.clock.now_ms().div_euclid(1000);
    if !smmd_notify::webhook::verify(
        &secret,
        timestamp,
        push.body,
        signature.trim(),
        now_s,
        PUSH_WINDOW_S,
    ) {
        return Err(bad(
            "the signature does not match, or the timestamp is outside the 5-minute window",
        ));
    }
    let invalid = |m: String| UseCaseError::from(Refusal::new(ErrorCode::InvalidPush, m));
    let delivery = push
        .delivery
        .map(str::trim)
        .filter(|d| !d.is_empty() && d.len() <= 200)
        .ok_or_else(|| {
            invalid("X-Smmd-Delivery is missing or longer than 200 characters".into())
        })?;
    let value: serde_json::Value = serde_json::from_str(push.body)
        .map_err(|e| invalid(format!("the body is not JSON: {e}")))?;
    let (order_id, status) = smmd_provider::decode::push_from(&value)
        .map_err(|e| invalid(format!("the body is not an order status: {e}")))?;
    if f.store.push_seen(id, delivery).await? {
        return Ok(PushOutcome::Duplicate);
    }
    let Some(target) = f.store.push_target(id, &order_id).await? else {
        f.store
            .record_push(id, delivery, None, f.clock.now_ms())
            .await?;
        return Ok(PushOutcome::UnknownOrder);
    };
    let report = smmd_fulfil::sync::apply_pushed(f, &target, &status)
        .await
        .map_err(|e| UseCaseError::Store(smmd_store::StoreError::Other(e)))?;
    // Recorded after the change: a push that fails half-way is applied when it is sent again,
    // and one applied twice at once changes nothing the second time (the guarded update).
    let first = f
        .store
        .record_push(id, delivery, Some(target.id), f.clock.now_ms())
        .await?;
    Ok(match (report.contains_key("changed"), first) {
        (true, _) => PushOutcome::Applied,
        (false, false) => PushOutcome::Duplicate,
        (false, true) => PushOutcome::Unchanged,
    })
}
