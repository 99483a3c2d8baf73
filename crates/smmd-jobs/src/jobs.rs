//! The jobs this build has. Each is a plain async function behind [`Job`], registered by name;
//! later issues add dispatch, status sync, refills, services sync, balances and notifications.

use std::sync::Arc;

use async_trait::async_trait;
use smmd_domain::Clock;
use smmd_store::Store;

use crate::engine::{Counters, Engine, Job, JobContext, JobError};

/// Finished runs kept this long (ms): 30 days.
pub const RUN_RETENTION_MS: i64 = 30 * 86_400_000;
/// Rows deleted per statement, so pruning never holds a long lock.
const BATCH: i64 = 1_000;

/// `maintenance.cleanup`: prunes finished schedule runs past retention and expired sessions,
/// in batches.
pub struct Cleanup {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl Job for Cleanup {
    async fn run(&self, _ctx: JobContext) -> Result<Counters, JobError> {
        let now = self.clock.now_ms();
        let mut runs = 0;
        loop {
            let n = self
                .store
                .prune_schedule_runs(now - RUN_RETENTION_MS, BATCH)
                .await
                .map_err(|e| JobError::Transient(e.to_string()))?;
            runs += n;
            if n < BATCH as u64 {
                break;
            }
        }
        let mut sessions = 0;
        loop {
            let n = self
                .store
                .prune_sessions(now, BATCH)
                .await
                .map_err(|e| JobError::Transient(e.to_string()))?;
            sessions += n;
            if n < BATCH as u64 {
                break;
            }
        }
        Ok(Counters::from([
            (
                "runs_pruned".to_string(),
                i64::try_from(runs).unwrap_or(i64::MAX),
            ),
            (
                "sessions_pruned".to_string(),
                i64::try_from(sessions).unwrap_or(i64::MAX),
            ),
        ]))
    }
}

/// Registers every job of this build on `engine`.
pub fn register_all(engine: &mut Engine, store: Arc<dyn Store>, clock: Arc<dyn Clock>) {
    engine.register("maintenance.cleanup", Arc::new(Cleanup { store, clock }));
}
