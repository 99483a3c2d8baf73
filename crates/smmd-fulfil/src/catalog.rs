//! `services.sync`: bring a provider's catalog into ours.
//!
//! Pricing (architecture §3): selling rate = provider rate (rounded up to a micro-unit) ×
//! exchange rate (rounded up) × (1 + markup), markup = the service's, else its category's, else
//! the panel default (50 %). New upstream services are created in a category of the upstream
//! category's name; changed ones are updated field by field; ones gone upstream are disabled.
//! Fields an admin set by hand (`Service::overrides`) are never overwritten. A sync that would
//! disable more than `max_disable_pct` of the provider's enabled services at once is refused
//! whole and alerted: a truncated `services` answer must not empty the catalog. A provider rate
//! that moves beyond the provider's `price_jump_pct` factor (either way) is held, alerted and
//! shown in the import preview until an admin approves it. Every change lands in the service
//! change log, in one transaction.

use std::collections::{HashMap, HashSet};

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use smmd_domain::alert::{provider_subject, AlertKind};
use smmd_domain::margin::{effective_margin, MarginAction};
use smmd_domain::service::ServiceType;
use smmd_domain::{Money, ProviderId};
use smmd_provider::UpstreamService;
use smmd_store::{FieldChange, Provider, Service, ServiceDraft, ServiceSyncOp};

use crate::{bump, Fulfil, Report};

/// Why a sync did not apply.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("provider {0} does not exist")]
    NoProvider(i64),
    #[error("refused: the sync would disable {disable} of {enabled} services (limit {limit_pct} %); the provider's answer may be truncated")]
    TooManyDisabled {
        disable: usize,
        enabled: usize,
        limit_pct: u32,
    },
    #[error(transparent)]
    Provider(#[from] smmd_provider::ProviderError),
    #[error(transparent)]
    Store(#[from] smmd_store::StoreError),
}

/// A provider rate (decimal, per 1000) as exact micro-units, rounded up.
pub fn cost_micros(rate: &Decimal) -> Option<Money> {
    let scaled = (rate * Decimal::from(1_000_000)).ceil();
    scaled.to_i64().map(Money::from_micros)
}

/// The selling rate for a provider rate, or `None` on overflow.
pub fn sell_rate(provider_rate: Money, exchange_rate: i64, markup_bp: i64) -> Option<Money> {
    provider_rate
        .convert_up(exchange_rate)?
        .apply_markup_bp(markup_bp)
}

/// Syncs every enabled provider (`provider` = one only). Counters: `created`, `updated`,
/// `disabled`, `unchanged`, `skipped` (unknown types or unreadable entries), `refused`,
/// `provider_errors`.
pub async fn run(f: &Fulfil, provider: Option<ProviderId>) -> anyhow::Result<Report> {
    let mut report = Report::new();
    for p in f.store.providers().await? {
        if provider.is_some_and(|id| id != p.id) || (provider.is_none() && !p.enabled) {
            continue;
        }
        match sync_provider(f, &p, false).await {
            Ok(r) => crate::merge(&mut report, r),
            Err(e @ SyncError::TooManyDisabled { .. }) => {
                let _ = f
                    .store
                    .raise_alert(
                        AlertKind::ServicesSyncRefused,
                        &provider_subject(p.id),
                        &format!("Service sync from {} {e}", p.name),
                        f.clock.now_ms(),
                    )
                    .await;
                bump(&mut report, "refused", 1);
            }
            Err(e) => {
                tracing::warn!(provider = p.id.0, error = %e, "services sync failed");
                if let SyncError::Provider(pe) = &e {
                    crate::alert_provider_error(f, &p, pe).await;
                }
                bump(&mut report, "provider_errors", 1);
            }
        }
    }
    Ok(report)
}

/// A provider rate change a sync holds for the admin's approval
/// ([`smmd_domain::catalog::is_price_jump`] beyond the provider's `price_jump_pct`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceJump {
    pub service_id: smmd_domain::ServiceId,
    pub name: String,
    /// Provider rate per 1000 now, provider currency.
    pub old_cost: Money,
    /// Provider rate per 1000 the provider now answers, provider currency.
    pub new_cost: Money,
}

/// What a sync would do for one provider: the changes, the counters, and the rate changes held
/// back (their services keep their current rates; every other field still syncs).
#[derive(Debug)]
pub struct Plan {
    pub ops: Vec<ServiceSyncOp>,
    pub report: Report,
    pub held: Vec<PriceJump>,
    /// Every readable upstream rate (per 1000, provider currency): the live costs the margin
    /// guard checks, held jumps included.
    pub costs: Vec<(String, Money)>,
}

/// The plan for one provider, without applying it (for an admin preview). Rate changes beyond
/// the provider's jump factor are held unless `approve_price_jumps`.
pub async fn plan(f: &Fulfil, p: &Provider, approve_price_jumps: bool) -> Result<Plan, SyncError> {
    let client = f.clients.get(p)?;
    let (upstream, unreadable) = client.services().await?;
    let existing = f.store.provider_services(p.id).await?;
    let markups: HashMap<String, Option<i64>> = f
        .store
        .list_categories()
        .await?
        .into_iter()
        .map(|c| (c.name, c.markup_bp))
        .collect();
    let mut report = Report::new();
    bump(&mut report, "skipped", unreadable.len() as i64);
    let by_upstream: HashMap<&str, &Service> = existing
        .iter()
        .filter_map(|s| s.provider_service_id.as_deref().map(|id| (id, s)))
        .collect();
    let ids: Vec<smmd_domain::ServiceId> = existing.iter().map(|s| s.id).collect();
    let terms = f.store.margin_terms(&ids).await?;
    let mut ops = Vec::new();
    let mut held = Vec::new();
    let mut costs = Vec::with_capacity(upstream.len());
    let mut seen = HashSet::new();
    for u in &upstream {
        let Some(ty) = u.service_type else {
            bump(&mut report, "skipped", 1);
            continue;
        };
        let Some(cost) = cost_micros(&u.rate) else {
            bump(&mut report, "skipped", 1);
            continue;
        };
        seen.insert(u.id.as_str());
        costs.push((u.id.clone(), cost));
        match by_upstream.get(u.id.as_str()) {
            None => {
                let markup = markups
                    .get(u.category.trim())
                    .copied()
                    .flatten()
                    .unwrap_or(f.settings.default_markup_bp);
                let Some(rate) = sell_rate(cost, p.exchange_rate, markup) else {
                    bump(&mut report, "skipped", 1);
                    continue;
                };
                ops.push(ServiceSyncOp::Create(new_draft(f, p, u, ty, cost, rate)));
            }
            Some(cur) => {
                let live = cost;
                let cost = match cur.provider_rate {
                    Some(old)
                        if !approve_price_jumps
                            && smmd_domain::catalog::is_price_jump(
                                old,
                                cost,
                                p.limits.price_jump_pct,
                            ) =>
                    {
                        held.push(PriceJump {
                            service_id: cur.id,
                            name: cur.name.clone(),
                            old_cost: old,
                            new_cost: cost,
                        });
                        bump(&mut report, "held_price_jumps", 1);
                        old
                    }
                    _ => cost,
                };
                let markup = cur
                    .markup_bp
                    .or(markups.get(&cur.category).copied().flatten())
                    .unwrap_or(f.settings.default_markup_bp);
                let Some(rate) = sell_rate(cost, p.exchange_rate, markup) else {
                    bump(&mut report, "skipped", 1);
                    continue;
                };
                let guarded = repriced(f, p, cur, terms.get(&cur.id), live, rate, markup);
                if guarded.is_some() {
                    bump(&mut report, "margin_repriced", 1);
                }
                let (draft, changes) = updated_draft(cur, u, ty, cost, rate, guarded, &p.currency);
                if changes.is_empty() {
                    bump(&mut report, "unchanged", 1);
                } else {
                    ops.push(ServiceSyncOp::Update {
                        id: cur.id,
                        draft,
                        changes,
                    });
                }
            }
        }
    }
    let enabled = existing.iter().filter(|s| s.enabled).count();
    let gone: Vec<&Service> = existing
        .iter()
        .filter(|s| s.enabled && !s.overrides.iter().any(|o| o == "enabled"))
        .filter(|s| {
            s.provider_service_id
                .as_deref()
                .is_some_and(|id| !seen.contains(id))
        })
        .collect();
    let limit = enabled * f.settings.max_disable_pct as usize / 100;
    if gone.len() > limit.max(1) || (!gone.is_empty() && gone.len() == enabled) {
        return Err(SyncError::TooManyDisabled {
            disable: gone.len(),
            enabled,
            limit_pct: f.settings.max_disable_pct,
        });
    }
    ops.extend(gone.iter().map(|s| ServiceSyncOp::Disable { id: s.id }));
    Ok(Plan {
        ops,
        report,
        held,
        costs,
    })
}

/// The price a [`MarginAction::Reprice`] service takes when its live cost (`live`, per 1000 in
/// the provider currency, a held price jump included) breaches its minimum margin over the rate
/// it would otherwise sell at (`planned`, or its hand-set rate): the markup rule on the live
/// cost, at least the floor ([`smmd_domain::margin::reprice`]). `None` = no change: a hold
/// service, no breach, or an overflow. The guard only raises what the sync would set.
fn repriced(
    f: &Fulfil,
    p: &Provider,
    cur: &Service,
    terms: Option<&smmd_store::MarginTerms>,
    live: Money,
    planned: Money,
    markup: i64,
) -> Option<Money> {
    let terms = terms.filter(|t| t.action == MarginAction::Reprice)?;
    let margin = effective_margin(
        terms.min_margin_bp,
        terms.category_margin_bp,
        f.settings.default_min_margin_bp,
    );
    let selling = match cur.overrides.iter().any(|o| o == "rate") {
        true => cur.rate,
        false => planned,
    };
    let live_rate = live.convert_up(p.exchange_rate)?;
    smmd_domain::margin::reprice(selling, live_rate, margin, markup)
}

/// Plans and applies one provider's sync. Held price jumps raise (or refresh) an admin alert;
/// a sync that holds none resolves it.
pub async fn sync_provider(
    f: &Fulfil,
    p: &Provider,
    approve_price_jumps: bool,
) -> Result<Report, SyncError> {
    let Plan {
        ops,
        mut report,
        held,
        costs,
    } = plan(f, p, approve_price_jumps).await?;
    let changed = f
        .store
        .record_provider_costs(p.id, Some(&costs), f.clock.now_ms())
        .await?;
    bump(&mut report, "costs_changed", changed as i64);
    let (created, updated, disabled) = f
        .store
        .apply_service_sync(ops, &format!("sync:{}", p.id.0), f.clock.now_ms())
        .await?;
    bump(&mut report, "created", created as i64);
    bump(&mut report, "updated", updated as i64);
    bump(&mut report, "disabled", disabled as i64);
    let now = f.clock.now_ms();
    let subject = provider_subject(p.id);
    let _ = f
        .store
        .resolve_alert(AlertKind::ServicesSyncRefused, &subject, now)
        .await;
    let _ = match held.first() {
        None => f
            .store
            .resolve_alert(AlertKind::PriceJumpHeld, &subject, now)
            .await
            .map(|_| ()),
        Some(j) => f
            .store
            .raise_alert(
                AlertKind::PriceJumpHeld,
                &subject,
                &format!(
                    "{}: {} rate change(s) beyond x{}.{:02} held for approval, e.g. {} from {} to {} {} per 1000. \
                     Review them in the import preview and apply them there if they are right.",
                    p.name,
                    held.len(),
                    p.limits.price_jump_pct / 100,
                    p.limits.price_jump_pct % 100,
                    j.name,
                    j.old_cost,
                    j.new_cost,
                    p.currency
                ),
                now,
            )
            .await
            .map(|_| ()),
    };
    Ok(report)
}

fn new_draft(
    f: &Fulfil,
    p: &Provider,
    u: &UpstreamService,
    ty: ServiceType,
    cost: Money,
    rate: Money,
) -> ServiceDraft {
    let category = if u.category.trim().is_empty() {
        p.name.clone()
    } else {
        u.category.trim().to_string()
    };
    let name = if u.name.trim().is_empty() {
        format!("{} service {}", p.name, u.id)
    } else {
        u.name.trim().to_string()
    };
    let mut d = ServiceDraft::new(&category, &name, ty, rate, u.min, u.max);
    d.refill = u.refill.unwrap_or(false);
    // The guarantee the name announces ("[60 days refill]", "R30"), else the panel's default.
    d.guarantee_days = if d.refill {
        smmd_domain::storefront::guarantee_from_name(&name)
            .unwrap_or(f.settings.default_guarantee_days)
    } else {
        0
    };
    d.cancel = u.cancel.unwrap_or(false);
    d.dripfeed = u.dripfeed.unwrap_or(false) && ty.supports_drip_feed();
    d.description = u.description.clone();
    d.provider_id = Some(p.id);
    d.provider_service_id = Some(u.id.clone());
    d.provider_rate = Some(cost);
    d.provider_currency = Some(p.currency.clone());
    d
}

fn updated_draft(
    cur: &Service,
    u: &UpstreamService,
    ty: ServiceType,
    cost: Money,
    rate: Money,
    guarded: Option<Money>,
    currency: &str,
) -> (ServiceDraft, Vec<FieldChange>) {
    let kept = |field: &str| cur.overrides.iter().any(|o| o == field);
    let mut changes = Vec::new();
    let mut change = |field: &str, old: String, new: String| {
        if old != new {
            changes.push(FieldChange {
                field: field.into(),
                old: Some(old),
                new: Some(new),
            });
        }
    };
    let name = if kept("name") || u.name.trim().is_empty() {
        cur.name.clone()
    } else {
        u.name.trim().to_string()
    };
    change("name", cur.name.clone(), name.clone());
    // The margin guard's reprice wins over a hand-set rate: selling below cost is never kept.
    let new_rate = match guarded {
        Some(r) => r,
        None if kept("rate") => cur.rate,
        None => rate,
    };
    change("rate", cur.rate.to_string(), new_rate.to_string());
    change(
        "provider_rate",
        cur.provider_rate.map(|m| m.to_string()).unwrap_or_default(),
        cost.to_string(),
    );
    let min = if kept("min") { cur.min } else { u.min };
    let max = if kept("max") { cur.max } else { u.max.max(min) };
    change("min", cur.min.to_string(), min.to_string());
    change("max", cur.max.to_string(), max.to_string());
    change("type", cur.service_type.to_string(), ty.to_string());
    let refill = u.refill.unwrap_or(cur.refill);
    let cancel = u.cancel.unwrap_or(cur.cancel);
    let dripfeed = u.dripfeed.unwrap_or(cur.dripfeed) && ty.supports_drip_feed();
    change("refill", cur.refill.to_string(), refill.to_string());
    change("cancel", cur.cancel.to_string(), cancel.to_string());
    change("dripfeed", cur.dripfeed.to_string(), dripfeed.to_string());
    // The guarantee follows what the name announces, unless an admin set it.
    let guarantee_days = match smmd_domain::storefront::guarantee_from_name(&name) {
        Some(days) if refill && !kept("guarantee_days") => days,
        _ => cur.guarantee_days,
    };
    change(
        "guarantee_days",
        cur.guarantee_days.to_string(),
        guarantee_days.to_string(),
    );
    // Back upstream after being disabled as gone: enabled again unless an admin decided.
    let enabled = if kept("enabled") { cur.enabled } else { true };
    change("enabled", cur.enabled.to_string(), enabled.to_string());
    let d = ServiceDraft {
        category: cur.category.clone(),
        name,
        service_type: ty,
        rate: new_rate,
        min,
        max,
        refill,
        guarantee_days,
        cancel,
        dripfeed,
        link_rule: cur.link_rule,
        description: if u.description.is_empty() || kept("description") {
            cur.description.clone()
        } else {
            u.description.clone()
        },
        enabled,
        markup_bp: cur.markup_bp,
        provider_id: cur.provider_id,
        provider_service_id: cur.provider_service_id.clone(),
        provider_rate: Some(cost),
        provider_currency: Some(currency.to_string()),
    };
    (d, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selling_rates_round_up_through_exchange_and_markup() {
        let d = |s: &str| Decimal::from_str_exact(s).expect("d");
        let m = |s: &str| Money::parse(s).expect("m");
        assert_eq!(cost_micros(&d("0.08011655652")), Some(m("0.080117")));
        assert_eq!(cost_micros(&d("0.9")), Some(m("0.9")));
        assert_eq!(sell_rate(m("0.60"), 1_000_000, 5_000), Some(m("0.90")));
        // 100 RUB at 0.011 USD/RUB = 1.10 USD, +25 % = 1.375.
        assert_eq!(sell_rate(m("100"), 11_000, 2_500), Some(m("1.375")));
        assert_eq!(
            sell_rate(m("0.000001"), 1_000_000, 5_000),
            Some(m("0.000002"))
        );
    }
}
