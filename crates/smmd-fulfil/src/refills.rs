//! Refills (architecture §2 step 5): `refills.dispatch` sends pending refill requests
//! (`action=refill`, one per order, stamped before the call), `refills.sync_status` polls
//! `action=refill_status` in batches of up to 100 per provider, and `refills.auto` requests
//! refills without a user for auto-refill services inside the guarantee when the link's current
//! count shows a drop of at least `auto_refill_drop_pct` of what was delivered.
//!
//! The current count of a link comes from `Settings::link_count_url`, a URL template with
//! `{link}` (URL-encoded) answering `{"count": N}` — `smmd-sim` serves one at `/_sim/link`; a
//! panel owner points it at whatever service reads public counts. Without it `refills.auto`
//! does nothing.

use std::collections::HashMap;

use futures::stream::{self, StreamExt};
use smmd_domain::refill::RefillStatus;
use smmd_domain::{ProviderId, RefillId};
use smmd_provider::{Item, ProviderError, RefillState};
use smmd_store::{Provider, RefillTask};

use crate::{bump, lanes, merge, Fulfil, Report};

/// Most refill ids per `refill_status` call.
pub const BATCH: usize = 100;

/// `refills.dispatch`. Counters: `claimed`, `sent`, `refused`, `retry` (not sent, tried again
/// by a later run), `errors`, and the lane counters: each provider's refills are sent in its
/// own lane ([`lanes::per_provider`]), so a hung provider does not hold up the others.
pub async fn dispatch(f: &Fulfil) -> anyhow::Result<Report> {
    let mut report = Report::new();
    let now = f.clock.now_ms();
    let providers: HashMap<ProviderId, Provider> = f
        .store
        .providers()
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let tasks = f
        .store
        .claim_refills(500, now - f.settings.stale_submitting_ms, now)
        .await?;
    bump(&mut report, "claimed", tasks.len() as i64);
    let mut by_provider: HashMap<ProviderId, Vec<RefillTask>> = HashMap::new();
    for t in tasks {
        by_provider.entry(t.provider_id).or_default().push(t);
    }
    let mut groups: HashMap<ProviderId, Vec<RefillTask>> = HashMap::new();
    let mut with_provider = Vec::new();
    for (id, ts) in by_provider {
        match providers.get(&id) {
            Some(p) => {
                with_provider.push(p.clone());
                groups.insert(id, ts);
            }
            None => {
                for t in ts {
                    tracing::warn!(refill = t.id.0, "refill request not sent: provider missing");
                    bump(&mut report, "retry", 1);
                }
            }
        }
    }
    let groups = std::sync::Arc::new(std::sync::Mutex::new(groups));
    let parts = lanes::per_provider(f, "refills_dispatch", with_provider, |f, p| {
        let tasks = groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&p.id)
            .unwrap_or_default();
        async move { send_refills(&f, &p, tasks).await }
    })
    .await;
    merge(&mut report, parts);
    Ok(report)
}

/// Sends one provider's claimed refills (a claim left unsent goes stale and is retried).
async fn send_refills(f: &Fulfil, p: &Provider, tasks: Vec<RefillTask>) -> anyhow::Result<Report> {
    let mut report = Report::new();
    let client = f.clients.get(p);
    let results: Vec<(RefillTask, Result<String, ProviderError>)> = stream::iter(tasks)
        .map(|t| {
            let client = client.clone();
            async move {
                let r = match client {
                    Ok(c) => c.refill(&t.provider_order_id).await,
                    Err(e) => Err(e),
                };
                (t, r)
            }
        })
        .buffer_unordered(p.max_concurrency.clamp(1, 256) as usize)
        .collect()
        .await;
    for (t, r) in results {
        let answer = match r {
            Ok(pid) => {
                bump(&mut report, "sent", 1);
                Ok(pid)
            }
            Err(ProviderError::Rejected { message, .. }) => {
                bump(&mut report, "refused", 1);
                Err(format!("Refused by the provider: {message}"))
            }
            Err(e) => {
                // Not known to have reached the provider: the claim goes stale and is retried.
                tracing::warn!(refill = t.id.0, error = %e, "refill request not sent");
                bump(&mut report, "retry", 1);
                continue;
            }
        };
        f.store
            .record_refill_sent(t.id, answer, f.clock.now_ms())
            .await?;
    }
    Ok(report)
}

fn refill_status(s: &RefillState) -> Option<RefillStatus> {
    Some(match s {
        RefillState::Pending => RefillStatus::Pending,
        RefillState::InProgress => RefillStatus::InProgress,
        RefillState::Completed => RefillStatus::Completed,
        RefillState::Rejected => RefillStatus::Rejected,
        RefillState::Unknown(_) => return None,
    })
}

/// `refills.sync_status`. Counters: `checked`, `changed`, `status_calls`, `unknown_status`,
/// `provider_errors`.
pub async fn sync(f: &Fulfil) -> anyhow::Result<Report> {
    lanes::per_enabled_provider(f, "refills_sync", |f, p| async move {
        sync_provider(&f, &p).await
    })
    .await
}

async fn sync_provider(f: &Fulfil, p: &Provider) -> anyhow::Result<Report> {
    let mut report = Report::new();
    let client = f.clients.get(p)?;
    let targets = f.store.refill_sync_targets(p.id, i64::MAX).await?;
    for batch in targets.chunks(BATCH) {
        let ids: Vec<String> = batch.iter().map(|t| t.provider_refill_id.clone()).collect();
        bump(&mut report, "status_calls", 1);
        let answers = client.refill_statuses(&ids).await?;
        let mut changes: Vec<(RefillId, RefillStatus)> = Vec::new();
        let mut checked = Vec::new();
        for t in batch {
            bump(&mut report, "checked", 1);
            checked.push(t.id);
            if let Some(Item::Found(state)) = answers.get(&t.provider_refill_id) {
                match refill_status(state) {
                    Some(s) if s != t.status => changes.push((t.id, s)),
                    Some(_) => {}
                    None => bump(&mut report, "unknown_status", 1),
                }
            }
        }
        let changed = f
            .store
            .apply_refill_sync(&changes, &checked, f.clock.now_ms())
            .await?;
        bump(&mut report, "changed", changed as i64);
    }
    Ok(report)
}

/// Reads a link's current count from `template` (`{link}` replaced, URL-encoded).
async fn link_count(http: &reqwest::Client, template: &str, link: &str) -> anyhow::Result<i64> {
    let encoded: String = url::form_urlencoded::byte_serialize(link.as_bytes()).collect();
    let url = template.replace("{link}", &encoded);
    let v: serde_json::Value = http
        .get(&url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    v.get("count")
        .and_then(smmd_provider::decode::count)
        .ok_or_else(|| anyhow::anyhow!("no count in {v}"))
}

/// `refills.auto`. Counters: `checked`, `dropped`, `requested`, `errors`.
pub async fn auto(f: &Fulfil) -> anyhow::Result<Report> {
    let mut report = Report::new();
    let Some(template) = f.settings.link_count_url.clone() else {
        return Ok(report);
    };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()?;
    let now = f.clock.now_ms();
    for o in f.store.auto_refill_candidates(now, 10_000).await? {
        bump(&mut report, "checked", 1);
        let (Some(link), Some(start)) = (o.link.as_deref(), o.start_count) else {
            continue;
        };
        let delivered = o.total_quantity - o.remains.unwrap_or(0).clamp(0, o.total_quantity);
        let count = match link_count(&http, &template, link).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(order = o.id.0, error = %e, "reading a link count failed");
                bump(&mut report, "errors", 1);
                continue;
            }
        };
        let dropped = start + delivered - count;
        if delivered <= 0 || dropped * 100 < delivered * i64::from(f.settings.auto_refill_drop_pct)
        {
            continue;
        }
        bump(&mut report, "dropped", 1);
        match f.store.request_refill(o.user_id, o.id, now).await {
            Ok(_) => bump(&mut report, "requested", 1),
            Err(e) => {
                tracing::warn!(order = o.id.0, error = %e, "auto refill refused");
                bump(&mut report, "errors", 1);
            }
        }
    }
    Ok(report)
}
