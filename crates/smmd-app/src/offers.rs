//! A service's offers (issue 20, offer failover in `smmd-fulfil`): the owner lists, adds and
//! removes the fallback providers a service's orders may go to when its own provider fails,
//! refuses, runs out of funds or drops the service. Offer 0 is the service's own mapping;
//! fallbacks follow in the order they were added.

use smmd_domain::{ProviderId, ServiceId};
use smmd_store::Offer;

use crate::audit::Actor;
use crate::error::{ErrorCode, Refusal, UseCaseError};
use crate::App;

/// Longest upstream service id accepted, characters.
pub const MAX_PROVIDER_SERVICE_ID: usize = 100;

/// Most fallback offers a service may have.
pub const MAX_FALLBACKS: usize = 10;

/// One offer of a service, as the admin sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OfferView {
    /// 0 = the service's own provider, then the fallbacks in order.
    pub index: i64,
    pub provider_id: ProviderId,
    pub provider_name: String,
    pub provider_service_id: String,
}

/// Service `id`'s offers in dispatch order. Errors: `not_found`.
pub async fn list(app: App<'_>, id: ServiceId) -> Result<Vec<OfferView>, UseCaseError> {
    if app.store.service(id).await?.is_none() {
        return Err(Refusal::new(ErrorCode::NotFound, "no such service").into());
    }
    let names: std::collections::HashMap<ProviderId, String> = app
        .store
        .providers()
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    Ok(app
        .store
        .service_offers(id)
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, o)| OfferView {
            index: i as i64,
            provider_name: names
                .get(&o.provider_id)
                .cloned()
                .unwrap_or_else(|| format!("#{}", o.provider_id.0)),
            provider_id: o.provider_id,
            provider_service_id: o.provider_service_id,
        })
        .collect())
}

/// Adds provider `provider`'s upstream service `provider_service_id` (trimmed, 1–100 printable
/// characters) as service `id`'s next fallback offer, audited as `service.offer_add`. Returns
/// its index.
///
/// Errors: `invalid_offer` (empty or too long id, already one of the service's offers, more
/// than [`MAX_FALLBACKS`]), `not_found` (service or provider); nothing written.
pub async fn add(
    app: App<'_>,
    actor: &Actor,
    id: ServiceId,
    provider: ProviderId,
    provider_service_id: &str,
) -> Result<i64, UseCaseError> {
    let psid = provider_service_id.trim();
    let refuse = |m: &str| UseCaseError::from(Refusal::new(ErrorCode::InvalidOffer, m));
    if psid.is_empty()
        || psid.chars().count() > MAX_PROVIDER_SERVICE_ID
        || psid.chars().any(char::is_control)
    {
        return Err(refuse(
            "the provider's service id is 1 to 100 printable characters",
        ));
    }
    let offers = list(app, id).await?;
    let Some(p) = app.store.provider(provider).await? else {
        return Err(Refusal::new(ErrorCode::NotFound, "no such provider").into());
    };
    if offers
        .iter()
        .any(|o| o.provider_id == provider && o.provider_service_id == psid)
    {
        return Err(refuse("this is already one of the service's offers"));
    }
    if offers.len() > MAX_FALLBACKS {
        return Err(refuse("a service has at most 10 fallback offers"));
    }
    let audit = actor.audit(
        "service.offer_add",
        format!("service:{}", id.0),
        format!("{} service {psid}", p.name),
        app.now(),
    );
    let offer = Offer {
        provider_id: provider,
        provider_service_id: psid.to_string(),
    };
    app.store.add_service_offer(id, offer, Some(audit)).await?;
    Ok(offers.len() as i64)
}

/// Removes service `id`'s fallback offer at `index` (as [`list`] numbers them), audited as
/// `service.offer_remove`. Orders already on it keep their provider.
///
/// Errors: `invalid_offer` (the service's own provider, changed by editing the service),
/// `not_found` (service or index); nothing written.
pub async fn remove(
    app: App<'_>,
    actor: &Actor,
    id: ServiceId,
    index: i64,
) -> Result<(), UseCaseError> {
    let offers = list(app, id).await?;
    let own = app
        .store
        .service(id)
        .await?
        .is_some_and(|s| s.provider_id.is_some() && s.provider_service_id.is_some());
    if own && index == 0 {
        return Err(Refusal::new(
            ErrorCode::InvalidOffer,
            "offer 0 is the service's own provider: edit the service to change it",
        )
        .into());
    }
    let Some(o) = usize::try_from(index).ok().and_then(|i| offers.get(i)) else {
        return Err(Refusal::new(ErrorCode::NotFound, "no such offer").into());
    };
    let audit = actor.audit(
        "service.offer_remove",
        format!("service:{}", id.0),
        format!("{} service {}", o.provider_name, o.provider_service_id),
        app.now(),
    );
    let offer = Offer {
        provider_id: o.provider_id,
        provider_service_id: o.provider_service_id.clone(),
    };
    app.store
        .remove_service_offer(id, &offer, Some(audit))
        .await?;
    Ok(())
}
