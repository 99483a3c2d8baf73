//! Wake-ups ahead of the calendar: a [`Wake`] is how the rest of a panel (an order just placed,
//! a run that changed orders) asks its engine to run a schedule now instead of at its next
//! tick. The engine takes the wanted names at its next pass and brings each schedule's cursor
//! forward in the store ([`smmd_store::SchedulerStore::bring_forward`]), so the run that follows
//! is an ordinary tick: claimed once across instances, leased, recorded. A schedule with a run
//! waiting or in flight stays wanted until that run ends, so nothing asked for is lost and a
//! burst of wakes costs one run, not one per wake.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// A cheap, clonable handle to one engine's wake-ups. Waking a schedule the engine does not
/// run, or with no engine running, does nothing harmful (the names wait, unread).
#[derive(Clone, Default)]
pub struct Wake {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    wanted: Mutex<BTreeSet<String>>,
    notify: Notify,
}

impl std::fmt::Debug for Wake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wake")
            .field("wanted", &self.wanted())
            .finish()
    }
}

impl Wake {
    pub fn new() -> Wake {
        Wake::default()
    }

    /// Asks for a run of schedule `name` (e.g. `orders.dispatch`) as soon as the engine can
    /// start one. Never blocks; repeated wakes before the engine looks are one wake.
    pub fn wake(&self, name: &str) {
        let added = self
            .inner
            .wanted
            .lock()
            .map(|mut w| w.insert(name.to_string()))
            .unwrap_or(false);
        if added {
            self.inner.notify.notify_one();
        }
    }

    /// Asks the engine for a pass now without bringing any schedule forward: something it
    /// reads changed here (a run queued by "run now", an edited or paused schedule), so it
    /// need not wait for its next tick or poll to see it. Never blocks.
    pub fn nudge(&self) {
        self.inner.notify.notify_one();
    }

    /// The names waiting for the engine (sorted).
    pub fn wanted(&self) -> Vec<String> {
        self.inner
            .wanted
            .lock()
            .map(|w| w.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Takes every wanted name (the engine's side).
    pub(crate) fn take(&self) -> Vec<String> {
        self.inner
            .wanted
            .lock()
            .map(|mut w| std::mem::take(&mut *w).into_iter().collect())
            .unwrap_or_default()
    }

    /// Puts back names the engine could not act on yet (their schedule is busy), without
    /// waking it: it looks again when a run ends.
    pub(crate) fn keep(&self, names: Vec<String>) {
        if let Ok(mut w) = self.inner.wanted.lock() {
            w.extend(names);
        }
    }

    /// Completes when a name is added or the engine is nudged (or was, since the last wait).
    pub(crate) async fn notified(&self) {
        self.inner.notify.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_coalesce_and_kept_names_do_not_wake_again() {
        let w = Wake::new();
        w.wake("orders.dispatch");
        w.wake("orders.dispatch");
        w.wake("notifications.deliver");
        // One stored permit: the first wait completes at once.
        tokio::time::timeout(std::time::Duration::from_millis(100), w.notified())
            .await
            .expect("woken");
        assert_eq!(w.take(), vec!["notifications.deliver", "orders.dispatch"]);
        assert!(w.take().is_empty());
        w.keep(vec!["orders.dispatch".into()]);
        assert_eq!(w.wanted(), vec!["orders.dispatch"]);
        let again = tokio::time::timeout(std::time::Duration::from_millis(50), w.notified()).await;
        assert!(
            again.is_err(),
            "a kept name waits for a run's end, not a wake"
        );
        // Waking a name already wanted adds nothing and wakes nobody.
        w.wake("orders.dispatch");
        let again = tokio::time::timeout(std::time::Duration::from_millis(50), w.notified()).await;
        assert!(again.is_err());
        // A nudge wakes the engine and wants nothing more.
        w.nudge();
        tokio::time::timeout(std::time::Duration::from_millis(100), w.notified())
            .await
            .expect("nudged");
        assert_eq!(w.wanted(), vec!["orders.dispatch"]);
    }
}
