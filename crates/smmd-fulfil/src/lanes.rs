//! One lane per (job, provider): a hung provider delays only its own orders (issue 15).
//!
//! A job run hands each provider's part to its own task and waits for all of them up to
//! [`crate::Settings::provider_wait_ms`]. A part still running then is left to finish on its own
//! (its orders are already claimed and committed, so nothing is lost or sent twice) and keeps
//! its lane: the next runs skip that provider until it is done, and go on with the others. Each
//! part keeps the provider client's own limits (concurrency, rate, circuit breaker).

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smmd_domain::ProviderId;
use smmd_store::Provider;

use crate::{bump, merge, Fulfil, Report};

/// The lanes in use in this process. Cheap to clone.
#[derive(Clone, Default)]
pub struct Lanes {
    busy: Arc<Mutex<HashSet<(&'static str, ProviderId)>>>,
}

/// Holds a lane until dropped.
struct Held {
    lanes: Lanes,
    key: (&'static str, ProviderId),
}

impl Drop for Held {
    fn drop(&mut self) {
        self.lanes
            .busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

impl Lanes {
    fn enter(&self, job: &'static str, provider: ProviderId) -> Option<Held> {
        let key = (job, provider);
        let fresh = self
            .busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
        fresh.then(|| Held {
            lanes: self.clone(),
            key,
        })
    }

    /// Whether `job`'s part for `provider` is still running (for tests and health pages).
    pub fn is_busy(&self, job: &'static str, provider: ProviderId) -> bool {
        self.busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&(job, provider))
    }
}

/// Runs `work` for each provider in its own task and merges the reports of the parts that end
/// within the wait. Counters added: `provider_errors` (a part failed), `providers_busy` (skipped:
/// its previous part is still running), `providers_still_running` (left to finish after the
/// wait).
pub async fn per_provider<F, Fut>(
    f: &Fulfil,
    job: &'static str,
    providers: Vec<Provider>,
    work: F,
) -> Report
where
    F: Fn(Fulfil, Provider) -> Fut,
    Fut: Future<Output = anyhow::Result<Report>> + Send + 'static,
{
    let mut report = Report::new();
    let mut parts = Vec::new();
    for p in providers {
        let Some(held) = f.lanes.enter(job, p.id) else {
            bump(&mut report, "providers_busy", 1);
            continue;
        };
        let id = p.id;
        let part = work(f.clone(), p);
        parts.push((
            id,
            tokio::spawn(async move {
                let _held = held;
                let r = part.await;
                if let Err(e) = &r {
                    tracing::warn!(job, provider = id.0, error = %e, "a provider's part failed");
                }
                r
            }),
        ));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_millis(f.settings.provider_wait_ms);
    for (id, mut part) in parts {
        match tokio::time::timeout_at(deadline, &mut part).await {
            Ok(Ok(Ok(r))) => merge(&mut report, r),
            Ok(Ok(Err(_))) => bump(&mut report, "provider_errors", 1),
            Ok(Err(e)) => {
                tracing::error!(job, provider = id.0, error = %e, "a provider's part panicked");
                bump(&mut report, "errors", 1);
            }
            Err(_) => {
                tracing::info!(job, provider = id.0, "a provider's part is still running");
                bump(&mut report, "providers_still_running", 1);
            }
        }
    }
    report
}

/// [`per_provider`] over every enabled provider.
pub async fn per_enabled_provider<F, Fut>(
    f: &Fulfil,
    job: &'static str,
    work: F,
) -> anyhow::Result<Report>
where
    F: Fn(Fulfil, Provider) -> Fut,
    Fut: Future<Output = anyhow::Result<Report>> + Send + 'static,
{
    let providers: Vec<Provider> = f
        .store
        .providers()
        .await?
        .into_iter()
        .filter(|p| p.enabled)
        .collect();
    Ok(per_provider(f, job, providers, work).await)
}
