//! Catalog use cases: an admin's edit of a service's selling terms and a category's markup,
//! from REST, the pages or the CLI, checked by the domain's catalog bounds and audited with the
//! change.

use smmd_domain::catalog::{check_markup, check_service_terms};
use smmd_domain::{Money, ServiceId};
use smmd_store::{Service, ServiceEdit, StoreError};

use crate::audit::Actor;
use crate::error::{ErrorCode, Refusal, UseCaseError};
use crate::App;

/// Fields to change on a service; `None` keeps the current value. `name`, `rate`, `min`, `max`
/// and `enabled` become overrides that the services sync leaves alone.
#[derive(Clone, Debug, Default)]
pub struct ServicePatch {
    /// 1 to 200 characters (trimmed).
    pub name: Option<String>,
    /// Selling rate per 1000, a decimal string in the panel currency.
    pub rate: Option<String>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub enabled: Option<bool>,
    /// `Some(None)` clears the service's markup (the category's or panel's applies); basis
    /// points 0–100000.
    pub markup_bp: Option<Option<i64>>,
    pub auto_refill: Option<bool>,
    /// What customers read on the services page and the order form; at most 5000 characters.
    pub description: Option<String>,
    /// The refill guarantee in days, 0–365, copied onto each order at purchase.
    pub guarantee_days: Option<i64>,
}

fn terms(e: smmd_domain::catalog::TermsError) -> Refusal {
    use smmd_domain::catalog::TermsError;
    let code = match e {
        TermsError::Markup => ErrorCode::InvalidMarkup,
        _ => ErrorCode::InvalidServiceEdit,
    };
    Refusal::new(code, e.to_string())
}

/// Edits service `id` as a whole: the merged terms must pass
/// [`smmd_domain::catalog::check_service_terms`]. Each changed field goes to the service's
/// change history under the actor's name, and the audit line `service.edit` lists them.
///
/// Errors: `not_found`, `invalid_service_edit`, `invalid_markup`; nothing written.
pub async fn edit_service(
    app: App<'_>,
    actor: &Actor,
    id: ServiceId,
    p: ServicePatch,
) -> Result<Service, UseCaseError> {
    let current = app.store.service(id).await?.ok_or(StoreError::NotFound)?;
    let rate = p
        .rate
        .as_deref()
        .map(|r| Money::parse(r.trim()))
        .transpose()
        .map_err(|e| Refusal::new(ErrorCode::InvalidServiceEdit, format!("rate: {e}")))?;
    let name = p.name.as_deref().map(str::trim);
    check_service_terms(
        name.unwrap_or(&current.name),
        rate.unwrap_or(current.rate),
        p.min.unwrap_or(current.min),
        p.max.unwrap_or(current.max),
    )
    .map_err(terms)?;
    check_markup(p.markup_bp.flatten()).map_err(terms)?;
    let description = p.description.as_deref().map(str::trim);
    smmd_domain::catalog::check_service_text(description, p.guarantee_days).map_err(terms)?;
    // A markup edit reprices the service at once, with the sync's pricing function.
    let priced_rate = match (p.markup_bp, rate) {
        (Some(markup), None) => repriced(app, &current, markup).await?,
        _ => None,
    };
    let edit = ServiceEdit {
        name: name.map(str::to_string),
        rate,
        min: p.min,
        max: p.max,
        enabled: p.enabled,
        markup_bp: p.markup_bp,
        auto_refill: p.auto_refill,
        description: description.map(str::to_string),
        guarantee_days: p.guarantee_days,
        priced_rate,
    };
    let now = app.now();
    let source = change_source(actor);
    // An empty detail is filled by the store with the fields that changed.
    let audit = actor.audit(
        "service.edit",
        format!("service:{}", id.0),
        String::new(),
        now,
    );
    app.store
        .edit_service(id, edit, &source, now, Some(audit))
        .await
        .map_err(|e| match e {
            StoreError::Conflict("services.terms") => UseCaseError::refused(
                ErrorCode::InvalidServiceEdit,
                "The service changed meanwhile and the terms no longer hold; look at it again",
            ),
            e => e.into(),
        })
}

/// Who a service change log entry names: `admin:<name>`, or the system actor's name.
fn change_source(actor: &Actor) -> String {
    match actor.id {
        Some(_) => format!("admin:{}", actor.name),
        None => actor.name.clone(),
    }
}

/// The selling rate of `s` under `markup` basis points (`None` = its category's, else the panel
/// default), by the services sync's pricing function
/// ([`smmd_fulfil::catalog::sell_rate`]: cost × exchange rate × (1 + markup), rounded up).
/// `None` for a service without a provider cost or whose provider is gone.
async fn repriced(
    app: App<'_>,
    s: &Service,
    markup: Option<i64>,
) -> Result<Option<Money>, UseCaseError> {
    let (Some(cost), Some(pid)) = (s.provider_rate, s.provider_id) else {
        return Ok(None);
    };
    let Some(provider) = app.store.provider(pid).await? else {
        return Ok(None);
    };
    let category_markup = || async {
        Ok::<_, UseCaseError>(
            app.store
                .list_categories()
                .await?
                .into_iter()
                .find(|c| c.name == s.category)
                .and_then(|c| c.markup_bp),
        )
    };
    let bp = match markup {
        Some(bp) => bp,
        None => category_markup().await?.unwrap_or(app.default_markup_bp),
    };
    Ok(smmd_fulfil::catalog::sell_rate(
        cost,
        provider.exchange_rate,
        bp,
    ))
}

/// A category by id (REST, pages) or by name (CLI).
#[derive(Clone, Copy, Debug)]
pub enum CategoryRef<'a> {
    Id(i64),
    Name(&'a str),
}

/// The category `category` names. Errors: `NotFound`.
pub(crate) async fn find_category(
    app: App<'_>,
    category: CategoryRef<'_>,
) -> Result<smmd_store::Category, StoreError> {
    app.store
        .list_categories()
        .await?
        .into_iter()
        .find(|c| match category {
            CategoryRef::Id(id) => c.id.0 == id,
            CategoryRef::Name(n) => c.name == n.trim(),
        })
        .ok_or(StoreError::NotFound)
}

/// Sets (or with `None` clears) a category's markup, basis points 0–100000, and reprices at
/// once every service of the category that has no markup of its own (and no rate set by
/// hand) with the sync's pricing function. Audited as `category.markup`.
///
/// Errors: `invalid_markup`, `not_found`; nothing written.
pub async fn set_category_markup(
    app: App<'_>,
    actor: &Actor,
    category: CategoryRef<'_>,
    markup_bp: Option<i64>,
) -> Result<(), UseCaseError> {
    check_markup(markup_bp).map_err(terms)?;
    let c = find_category(app, category).await?;
    let shown = markup_bp.map_or("default".to_string(), |b| format!("{b} bp"));
    let audit = actor.audit(
        "category.markup",
        format!("category:{}", c.id.0),
        shown,
        app.now(),
    );
    app.store
        .set_category_markup(&c.name, markup_bp, Some(audit))
        .await?;
    let source = change_source(actor);
    for s in app.store.list_services(false).await? {
        if s.category != c.name || s.markup_bp.is_some() {
            continue;
        }
        let bp = markup_bp.unwrap_or(app.default_markup_bp);
        if let Some(rate) = repriced(app, &s, Some(bp)).await?.filter(|r| *r != s.rate) {
            let edit = ServiceEdit {
                priced_rate: Some(rate),
                ..ServiceEdit::default()
            };
            app.store
                .edit_service(s.id, edit, &source, app.now(), None)
                .await?;
        }
    }
    Ok(())
}

/// The public "Updates" feed (issue 20): the newest changes of selling price and availability
/// of every service, at most `limit` (1–1000), newest first. Customers of hosted panels read it
/// to see why a price moved; the provider's cost is never part of it.
pub async fn updates(
    app: App<'_>,
    limit: i64,
) -> Result<Vec<smmd_store::CatalogUpdate>, UseCaseError> {
    Ok(app.store.catalog_updates(limit).await?)
}
