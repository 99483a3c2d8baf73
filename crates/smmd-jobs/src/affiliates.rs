//! `affiliates.release` (`docs/affiliates.md`, Commission on net spend): once a day, pending
//! commissions of final orders are settled (held until their approval date, or sent to review
//! for a flagged referral) and held ones whose date has come are approved and credited to the
//! affiliate ledger. Each store call is one short transaction of at most [`STEP`] commissions,
//! so the database is free between them; repeats and several instances change nothing twice
//! (guarded updates, the ledger's `commission:<id>` key).

use std::sync::Arc;

use async_trait::async_trait;
use smmd_domain::Clock;
use smmd_store::{ReleaseReport, Store};

use crate::engine::{Counters, Job, JobContext, JobError};

/// The job's schedule name.
pub const AFFILIATES_RELEASE: &str = "affiliates.release";

/// Commissions per store call (one transaction each step).
pub const STEP: i64 = 500;

/// Releases everything due at `now`: the summed report of as many passes as it takes.
pub async fn release(store: &dyn Store, now: i64) -> Result<ReleaseReport, JobError> {
    let mut total = ReleaseReport::default();
    loop {
        let r = store
            .release_commissions(now, STEP)
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
        total.add(&r);
        if !r.more {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// The job: [`release`] at the run's time. Counters: `settled`, `to_review`, `approved`,
/// `voided`, `credited_micros`.
pub struct Release {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl Job for Release {
    async fn run(&self, _ctx: JobContext) -> Result<Counters, JobError> {
        let r = release(self.store.as_ref(), self.clock.now_ms()).await?;
        Ok(Counters::from([
            ("settled".to_string(), r.settled),
            ("to_review".to_string(), r.to_review),
            ("approved".to_string(), r.approved),
            ("voided".to_string(), r.voided),
            ("credited_micros".to_string(), r.credited.micros()),
        ]))
    }
}
